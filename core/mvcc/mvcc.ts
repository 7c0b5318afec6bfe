// The MVCC state of one member wired together: the KV store, lessor, watch, alarms and quota over one Backend.
//
// How a host uses it (see test/storage/host-loop.int.test.ts for a running example):
//   const db = MemberDb.open({ dataDir })                     // core/storage; DataDirError on a bad dir
//   const mvcc = openMvcc(db, { clock })                      // restores index, leases, alarms
//   const node = new RawNode({ id, storage: db.raftStorage, applied: getAppliedIndex(db), rand })
//   Ready:  db.transaction((tx) => persistReady(tx, rd)); send rd.messages; then apply:
//   Entry:  db.transaction((tx) => { mvcc.kv.txn(tx, req) / put / deleteRange / compact /
//             mvcc.lessor.grant|revoke|checkpoint(tx, ...) / mvcc.alarms.activate(tx, ...);
//             setAppliedIndex(tx, entry.index) })
//   Reads:  mvcc.kv.range(req); watch: mvcc.watchable.newWatchStream() + startBackgroundSync()
//   Leader: mvcc.lessor.promote(electionMs); poll lessor.expiredLeases() / dueCheckpoints() and propose
//           LeaseRevoke / LeaseCheckpoint; AutoCompactor.poll() and propose Compaction.
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
