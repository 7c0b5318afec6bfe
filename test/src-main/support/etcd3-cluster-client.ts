import { rootCertificates } from 'node:tls'
import * as etcd3 from 'etcd3'
import {
  ClusterCallError,
  classifyCallFailure,
  type ClusterClient,
  type ClusterClientFactory,
  type ClusterClientOptions,
} from '../../../src-main/services/cluster-client'

// A ClusterClient over the `etcd3` npm client, for service tests only (etcd3 is a dev dependency kept for
// conformance tests). The app's own factory uses core/client's EtcdClient; both go through the same
// ClusterClient interface and the same error classification.

// etcd3 turns gRPC status codes into classes; map them back so classifyCallFailure sees the code.
const CODE_BY_CLASS: [new (...args: never[]) => Error, number][] = [
  [etcd3.GRPCCancelledError, 1],
  [etcd3.GRPCDeadlineExceededError, 4],
  [etcd3.GRPCNotImplementedError, 12],
  [etcd3.GRPCInternalError, 13],
  [etcd3.GRPCUnavailableError, 14],
  [etcd3.GRPCUnauthenticatedError, 16],
]

function toCallError(error: unknown): ClusterCallError {
  const err = error instanceof Error ? error : new Error(String(error))
  if (err instanceof etcd3.GRPCProtocolError) return new ClusterCallError('protocol', err.message)
  const code = CODE_BY_CLASS.find(([cls]) => err instanceof cls)?.[1] ?? (err as { code?: unknown }).code
  return new ClusterCallError(classifyCallFailure(typeof code === 'number' ? code : undefined, err.message), err.message)
}

function etcd3Options(options: ClusterClientOptions, hosts: string[]): etcd3.IOptions {
  const tls = options.tls
  return {
    hosts,
    dialTimeout: options.callTimeoutMs,
    auth: options.username ? { username: options.username, password: options.password ?? '' } : undefined,
    credentials: hosts.some((host) => host.startsWith('https:'))
      ? {
          rootCertificate: Buffer.from(tls?.caCert || rootCertificates.join('\n')),
          privateKey: tls?.clientKey ? Buffer.from(tls.clientKey) : undefined,
          certChain: tls?.clientCert ? Buffer.from(tls.clientCert) : undefined,
        }
      : undefined,
    grpcOptions: tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : undefined,
    defaultCallOptions: () => ({ deadline: Date.now() + options.callTimeoutMs }),
  }
}

/** A ClusterClient factory backed by etcd3; per-endpoint Status uses one etcd3 instance per endpoint. */
export const etcd3ClientFactory: ClusterClientFactory = (options) => {
  const main = new etcd3.Etcd3(etcd3Options(options, options.endpoints))
  const perEndpoint = new Map<string, etcd3.Etcd3>()
  const forEndpoint = (endpoint: string) => {
    let client = perEndpoint.get(endpoint)
    if (!client) {
      client = new etcd3.Etcd3(etcd3Options(options, [endpoint]))
      perEndpoint.set(endpoint, client)
    }
    return client
  }
  const wrap = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      throw toCallError(error)
    }
  }
  const client: ClusterClient = {
    memberList: () =>
      wrap(async () => {
        const response = await main.cluster.memberList({})
        return response.members.map((member) => ({
          id: BigInt(member.ID),
          name: member.name,
          peerUrls: member.peerURLs,
          clientUrls: member.clientURLs,
          isLearner: Boolean((member as { isLearner?: boolean }).isLearner),
        }))
      }),
    status: (endpoint) =>
      wrap(async () => {
        const status = await forEndpoint(endpoint).maintenance.status()
        return {
          memberId: BigInt(status.header.member_id),
          clusterId: BigInt(status.header.cluster_id),
          leaderId: BigInt(status.leader),
          version: status.version,
          raftTerm: Number(status.raftTerm),
          raftIndex: Number(status.raftIndex),
          raftAppliedIndex: Number(status.raftAppliedIndex ?? status.raftIndex),
          dbSizeBytes: Number(status.dbSize),
          dbSizeInUseBytes: Number(status.dbSizeInUse ?? status.dbSize),
          isLearner: Boolean(status.isLearner),
          errors: status.errors ?? [],
        }
      }),
    alarms: () =>
      wrap(async () => {
        const response = await main.maintenance.alarm({ action: 'GET', memberID: '0', alarm: 'NONE' } as unknown as etcd3.IAlarmRequest)
        return (response.alarms ?? []).map((alarm) => ({ memberId: BigInt(alarm.memberID), alarm: String(alarm.alarm) }))
      }),
    healthCheck: () =>
      wrap(async () => {
        await main.get('health').serializable(true).string()
      }),
    close: async () => {
      main.close()
      for (const endpointClient of perEndpoint.values()) endpointClient.close()
    },
  }
  return client
}
