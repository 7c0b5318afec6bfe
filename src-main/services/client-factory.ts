import { ClusterCallError, type ClusterClient, type ClusterClientFactory } from './cluster-client'

/**
 * The ClusterClient factory the app uses. TODO(integrator): back it with core/client's EtcdClient through a
 * small adapter once it lands; until then every call fails with a clear `unavailable` error.
 */
export const defaultClientFactory: ClusterClientFactory = () => {
  const missing = () => Promise.reject(new ClusterCallError('other', 'the etcd client (core/client) is not part of this build yet'))
  const client: ClusterClient = {
    memberList: missing,
    status: missing,
    alarms: missing,
    healthCheck: missing,
    close: () => Promise.resolve(),
  }
  return client
}
