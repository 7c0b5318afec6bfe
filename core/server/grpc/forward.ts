import { credentials, makeClientConstructor, Metadata, type Client, type ServiceError } from '@grpc/grpc-js'
import { serviceDefinition, type ServiceName } from '../../proto/services'
import { EtcdError } from './errors'
import type { Member } from '../member'
import { TOKEN_METADATA_KEY } from './auth'

// Some calls must run on the leader (lease keep-alive and time-to-live, member promote): like etcd, a
// follower forwards them over the leader's client URL. Over https the follower presents its own client-URL
// certificate and verifies the leader's against its trusted CA (without a CA, as with --auto-tls, etcd skips
// verification between members, and so do we).

type UnaryMethod = (request: unknown, metadata: Metadata, options: { deadline: number }, callback: (error: ServiceError | null, response: unknown) => void) => void

const clients = new Map<string, Client>()

/** A cached gRPC client for `service` at the current leader's client URL; NO_LEADER when there is none. */
export function leaderClient(member: Member, service: ServiceName): Client {
  const leader = member.members().find((m) => m.id === member.leaderId)
  const url = leader?.clientURLs[0]
  if (!leader || !url) throw new EtcdError('NO_LEADER')
  const key = `${service}@${url}`
  let client = clients.get(key)
  if (!client) {
    const Constructor = makeClientConstructor(serviceDefinition(service) as never, service)
    const parsed = new URL(url)
    const files = parsed.protocol === 'https:' ? member.clientTlsFiles : null
    const channel = files
      ? credentials.createSsl(files.ca ?? null, files.key, files.cert, files.ca ? {} : { rejectUnauthorized: false })
      : credentials.createInsecure()
    client = new Constructor(parsed.host, channel) as Client
    clients.set(key, client)
  }
  return client
}

/**
 * The metadata a forwarded call carries: the caller's auth token, so the leader checks the same identity
 * (simple tokens are known to every member: they are registered by the Authenticate apply).
 */
function forwardedMetadata(from: { metadata: Metadata } | undefined): Metadata {
  const metadata = new Metadata()
  for (const token of from?.metadata.get(TOKEN_METADATA_KEY) ?? []) metadata.add(TOKEN_METADATA_KEY, token)
  return metadata
}

/**
 * Calls a unary method on the leader and resolves with its response (errors pass through as gRPC statuses).
 * `from` is the client's call whose auth token travels along.
 */
export function forwardUnary<Response>(member: Member, service: ServiceName, method: string, request: unknown, from?: { metadata: Metadata }): Promise<Response> {
  const client = leaderClient(member, service) as unknown as Record<string, UnaryMethod>
  return new Promise((resolve, reject) => {
    client[method].call(client, request, forwardedMetadata(from), { deadline: Date.now() + member.requestTimeoutMs }, (error, response) => {
      if (error) reject(error)
      else resolve(response as Response)
    })
  })
}

/** Closes the forwarding clients (member shutdown). */
export function closeForwardClients(): void {
  for (const client of clients.values()) client.close()
  clients.clear()
}
