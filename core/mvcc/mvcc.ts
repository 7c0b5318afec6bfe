// The MVCC state of one member wired together: the KV store, lessor, watch, alarms and quota over one Backend.
import type { Clock } from '../util/clock'
import type { Backend } from './backend'
import { KvStore } from './kv-store'
import { Lessor } from './lessor'
import { AlarmStore, BackendQuota } from './quota'
import { WatchableStore } from './watchable-store'

export interface MvccOptions {
  clock: Clock
  /** etcd minLeaseTTL (see minLeaseTtlSeconds); default 2. */
  minLeaseTtlSeconds?: number
  /** Lease checkpoint interval; default 5 min, 0 disables. */
  leaseCheckpointIntervalMs?: number
  /** --quota-backend-bytes; <= 0 or absent: 2 GiB. */
  quotaBackendBytes?: number
}

/** Everything the applier and the gRPC services need from the MVCC layer. */
export interface Mvcc {
  kv: KvStore
  lessor: Lessor
  watchable: WatchableStore
  alarms: AlarmStore
  quota: BackendQuota
}

/** Opens the MVCC layer over a backend (MemberDb or MemoryBackend), restoring its state. */
export function openMvcc(backend: Backend, options: MvccOptions): Mvcc {
  const kv = new KvStore(backend)
  const lessor = new Lessor(kv, {
    clock: options.clock,
    minTtlSeconds: options.minLeaseTtlSeconds,
    checkpointIntervalMs: options.leaseCheckpointIntervalMs,
  })
  return {
    kv,
    lessor,
    watchable: new WatchableStore(kv),
    alarms: new AlarmStore(backend.reader()),
    quota: new BackendQuota(backend, options.quotaBackendBytes),
  }
}
