import { ClientClosedError, EtcdClient, EtcdError, GrpcError, type EtcdClientOptions } from '../../core/client'
import {
  ClusterCallError,
  classifyCallFailure,
  type ClusterClient,
  type ClusterClientFactory,
  type ClusterClientOptions,
} from './cluster-client'

// The app's ClusterClient: a thin adapter over core/client's EtcdClient (grpc-js, etcd's protos, failover,
// auth token refresh). Status goes to each member's own client URL through one small per-endpoint client,
// since members may advertise URLs that are not among the profile's endpoints.

function toCallError(error: unknown): ClusterCallError {
  if (error instanceof EtcdError || error instanceof GrpcError) {
    const details = error instanceof GrpcError ? error.details : error.message
    return new ClusterCallError(classifyCallFailure(error.grpcCode, details), error.message)
  }
  if (error instanceof ClientClosedError) return new ClusterCallError('unavailable', error.message)
  throw error
}

async function wrap<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw toCallError(error)
  }
}

function etcdOptions(options: ClusterClientOptions, endpoints: string[], maxAttempts: number): EtcdClientOptions {
  const tls = options.tls
  return {
    endpoints,
    callTimeoutMs: options.callTimeoutMs,
    auth: options.username ? { username: options.username, password: options.password ?? '' } : undefined,
    tls: tls ? { ca: tls.caCert, cert: tls.clientCert, key: tls.clientKey, servername: tls.serverName } : undefined,
    retry: { maxAttempts, initialBackoffMs: 50, maxBackoffMs: 250 },
  }
}

/** A full EtcdClient for a profile (the key browser needs KV and leases, not just the ClusterClient view). */
export function createEtcdClient(options: ClusterClientOptions): EtcdClient {
  return new EtcdClient(etcdOptions(options, options.endpoints, Math.max(2, options.endpoints.length * 2)))
}

/** Makes ClusterClients backed by EtcdClient; used by Electron and by web mode. */
export const defaultClientFactory: ClusterClientFactory = (options) => {
  const main = createEtcdClient(options)
  const perEndpoint = new Map<string, EtcdClient>()
  const forEndpoint = (endpoint: string) => {
    let client = perEndpoint.get(endpoint)
    if (!client) {
      client = new EtcdClient(etcdOptions(options, [endpoint], 1))
      perEndpoint.set(endpoint, client)
    }
    return client
  }
  const client: ClusterClient = {
    memberList: () => wrap(async () => (await main.cluster.memberList()).members),
    status: (endpoint) =>
      wrap(async () => {
        const status = await forEndpoint(endpoint).maintenance.status()
        return {
          memberId: status.header.memberId,
          clusterId: status.header.clusterId,
          leaderId: status.leader,
          version: status.version,
          raftTerm: status.raftTerm,
          raftIndex: status.raftIndex,
          raftAppliedIndex: status.raftAppliedIndex,
          dbSizeBytes: status.dbSize,
          dbSizeInUseBytes: status.dbSizeInUse,
          isLearner: status.isLearner,
          errors: status.errors,
        }
      }),
    alarms: () => wrap(async () => (await main.maintenance.alarms()).map((alarm) => ({ memberId: alarm.memberId, alarm: alarm.alarm }))),
    healthCheck: () =>
      wrap(async () => {
        await main.kv.get('health', { serializable: true })
      }),
    close: async () => {
      main.close()
      for (const endpointClient of perEndpoint.values()) endpointClient.close()
    },
  }
  return client
}
