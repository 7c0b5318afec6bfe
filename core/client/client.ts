import { AuthClient } from './auth'
import { ClusterClient } from './cluster'
import type { Bytes } from './convert'
import { KvClient } from './kv'
import { LeaseClient } from './lease'
import { MaintenanceClient } from './maintenance'
import { Transport, type EtcdClientOptions } from './transport'
import { WatchManager, type WatchOptions, type Watcher } from './watch'

/**
 * One etcd v3 client for Quorum and real etcd alike, on @grpc/grpc-js with etcd's protos (core/proto).
 * Services hang off it as namespaces sharing one connection layer (endpoints, failover, TLS, auth token,
 * deadlines, metadata; see {@link Transport}):
 *
 *   const client = new EtcdClient({ endpoints: ['http://127.0.0.1:2379'] })
 *   await client.kv.put('a', 'b')
 *   const { members } = await client.cluster.memberList()
 *   client.close()
 *
 * Conventions: keys and values are Buffers (strings are taken as UTF-8); revisions, counts and terms are
 * numbers; member, lease and cluster IDs are bigints. Failures are EtcdError (etcd's errors, by `code`),
 * GrpcError (transport, deadline, other gRPC statuses) or ClientClosedError.
 */
export class EtcdClient {
  /** The connection layer; exposed for the current endpoint and for tests. */
  readonly transport: Transport
  readonly kv: KvClient
  readonly cluster: ClusterClient
  readonly maintenance: MaintenanceClient
  readonly lease: LeaseClient
  readonly auth: AuthClient
  private readonly watches: WatchManager

  constructor(options: EtcdClientOptions) {
    this.transport = new Transport(options)
    this.kv = new KvClient(this.transport)
    this.cluster = new ClusterClient(this.transport)
    this.maintenance = new MaintenanceClient(this.transport)
    this.lease = new LeaseClient(this.transport)
    this.auth = new AuthClient(this.transport)
    this.watches = new WatchManager(this.transport)
  }

  /**
   * Watches `key` (or a range, see {@link WatchOptions}); resolves once the server registered the watch. All
   * watches share one stream and survive reconnects (see {@link Watcher}).
   */
  watch(key: Bytes, options: WatchOptions = {}): Promise<Watcher> {
    return this.watches.watch(key, options)
  }

  /** Asks for a progress notification on the watch stream; false when no watch is open. */
  requestWatchProgress(): boolean {
    return this.watches.requestProgress()
  }

  /** Ends watches and keepalives and closes every connection; later calls fail with ClientClosedError. Idempotent. */
  close(): void {
    this.watches.close()
    this.lease.close()
    this.transport.close()
  }
}
