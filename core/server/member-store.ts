import { rmSync } from 'node:fs'
import Database from 'better-sqlite3'
import { decodeConfChange } from '../raft/confchange/codec'
import { ConfChangeType, EntryType, type ConfChange, type ConfState, type Entry, type HardState, type Snapshot } from '../raft/types'
import type { KvStore } from '../mvcc/kv-store'
import type { Lessor } from '../mvcc/lessor'
import type { WatchableStore } from '../mvcc/watchable-store'
import type { AlarmStore } from '../mvcc/quota'
import { NoSpaceError } from '../mvcc/errors'
import type { AlarmType } from '../mvcc/backend'
import type { MemberDb, MemberTx } from '../storage/member-db'
import { getAppliedIndex, setAppliedIndex, setConfState } from '../storage/metadata'
import { compactLog, createSnapshot, persistReady } from '../storage/raft-storage'
import { installStateImage, stateImageFilePath } from '../storage/state-snapshot'
import { decodeRaftRequest, type InternalRaftRequest } from './raft-request'
import { checkCorrupt } from './corruption'
import { decodeConfChangeContext, type Membership } from './membership'
import type { ConfChangeApplier, HostStore, ReadyWork } from './node-host'
import type { AuthApplier } from './member-auth'
import { compactionFromWire, deleteRangeFromWire, fromMvccError, id64, int64, putFromWire, txnFromWire } from './grpc/convert'

/** The outcome of one applied request, delivered to the member that proposed it (by request id). */
export interface ApplyResult {
  id: bigint
  /** The store's response (mvcc types) or undefined for requests without one. */
  value?: unknown
  /** An expected failure (etcd error), already converted for the client. */
  error?: unknown
}

/** A membership change that was applied, for the member to update its transport and state. */
export interface AppliedConfChange {
  change: ConfChange
  confState: ConfState
}

export interface MemberStoreOptions {
  db: MemberDb
  kv: KvStore
  lessor: Lessor
  /** The watchers over `kv`: after a snapshot install they re-read from the replaced backend. */
  watchable?: WatchableStore
  alarms: AlarmStore
  membership: Membership
  /** Auth checks and auth_* requests at apply (etcd authApplierV3); without it auth requests are refused. */
  auth?: AuthApplier
  /** The largest txn the server accepts (--max-txn-ops), re-checked at apply. */
  maxTxnOps: number
  /** Called after every commit with the results of requests applied in it. */
  onResults: (results: ApplyResult[]) => void
  /** Called after every commit with the membership changes applied in it. */
  onConfChanges: (changes: AppliedConfChange[]) => void
}

const ALARM_TYPES: Record<number, AlarmType> = { 1: 'NOSPACE', 2: 'CORRUPT' }

/**
 * The member's HostStore: the Raft log (core/storage) and the replicated state machine (MVCC, leases,
 * alarms, membership) in one SQLite database, each Ready in one transaction (see NodeHost).
 */
/**
 * Whether a Ready must be fsynced before its messages go out. Ported from etcd raft's MustSync (node.go,
 * Apache-2.0): new entries, a snapshot, or a changed term or vote; a hard state whose only change is the commit
 * index does not, because a lost commit index is relearned from the leader and applied state is replayed.
 */
export function mustSync(work: Pick<ReadyWork, 'entries' | 'snapshot' | 'hardState'>, previous: HardState | null): boolean {
  if (work.entries.length > 0 || work.snapshot) return true
  if (!work.hardState) return false
  return previous === null || work.hardState.term !== previous.term || work.hardState.vote !== previous.vote
}

export class MemberStore implements HostStore {
  /** The last hard state this store persisted (null until the first Ready: that one always syncs). */
  private lastHardState: HardState | null = null

  constructor(private readonly options: MemberStoreOptions) {}

  appliedIndex(): number {
    return getAppliedIndex(this.options.db)
  }

  commitReady(work: ReadyWork, applyConfChange: ConfChangeApplier): void {
    const results: ApplyResult[] = []
    const confChanges: AppliedConfChange[] = []
    const sync = mustSync(work, this.lastHardState)
    this.options.db.transaction((tx) => {
      persistReady(tx, work)
      if (work.snapshot) this.restoreSnapshot(tx, work.snapshot)
      for (const entry of work.committedEntries) {
        if (entry.type === EntryType.ConfChange) {
          confChanges.push(this.applyConfChange(tx, entry, applyConfChange))
        } else if (entry.data.length > 0) {
          results.push(this.applyRequest(tx, decodeRaftRequest(entry.data)))
        }
      }
      const last = work.committedEntries.at(-1)
      if (last) setAppliedIndex(tx, last.index)
    }, { sync, deferCommit: !sync && !work.snapshot && work.committedEntries.every((entry) => entry.type !== EntryType.ConfChange) })
    // a received image file (peer/snapshot-stream.ts) is no longer needed once installed and committed
    const imageFile = work.snapshot && stateImageFilePath(work.snapshot.data)
    if (imageFile) rmSync(imageFile, { force: true })
    if (work.hardState) this.lastHardState = work.hardState
    if (confChanges.length > 0) this.options.onConfChanges(confChanges)
    if (results.length > 0) this.options.onResults(results)
  }

  hasDeferredCommit(): boolean {
    return this.options.db.hasDeferredCommit
  }

  commitDeferred(): void {
    this.options.db.commitDeferred()
  }

  createSnapshot(index: number, confState: ConfState, compactIndex: number): void {
    this.options.db.transaction((tx) => {
      createSnapshot(tx, index, confState, new Uint8Array())
      if (compactIndex > tx.raftStorage.firstIndex() - 1) compactLog(tx, compactIndex)
    })
  }

  /**
   * Installs a snapshot received from the leader (its log side was stored by persistReady in the same
   * transaction): replaces the state machine tables with the snapshot's image, then rebuilds the in-memory
   * views from them (etcd applySnapshot: recover the store, lessor, alarms and membership).
   */
  private restoreSnapshot(tx: MemberTx, snapshot: Snapshot): void {
    const { db, kv, lessor, alarms, membership } = this.options
    installStateImage(tx, snapshot.data, snapshot.metadata.index, snapshot.metadata.confState)
    kv.reload()
    this.options.watchable?.restore()
    lessor.reload()
    alarms.reload(db.reader())
    membership.reload(db)
    this.options.auth?.reload()
  }

  private applyConfChange(tx: MemberTx, entry: Entry, applyConfChange: ConfChangeApplier): AppliedConfChange {
    const change = decodeConfChange(entry.data)
    const confState = applyConfChange(change)
    const { membership } = this.options
    const context = decodeConfChangeContext(change.context)
    switch (change.type) {
      case ConfChangeType.AddNode:
        if (membership.has(change.nodeId)) membership.promote(change.nodeId)
        else membership.add({ id: change.nodeId, name: context.name, peerURLs: context.peerURLs, clientURLs: [], isLearner: false })
        break
      case ConfChangeType.AddLearnerNode:
        membership.add({ id: change.nodeId, name: context.name, peerURLs: context.peerURLs, clientURLs: [], isLearner: true })
        break
      case ConfChangeType.RemoveNode:
        membership.remove(change.nodeId)
        break
      case ConfChangeType.UpdateNode:
        membership.updatePeerURLs(change.nodeId, context.peerURLs)
        break
    }
    membership.save(tx)
    setConfState(tx, confState)
    return { change, confState }
  }

  private applyRequest(tx: MemberTx, request: InternalRaftRequest): ApplyResult {
    const id = BigInt(request.header.id)
    try {
      const auth = this.options.auth?.apply(tx, request)
      if (auth?.handled) return { id, value: auth.value }
      return { id, value: this.dispatch(tx, request) }
    } catch (error) {
      // A failed write of the store (a full disk, an I/O error, a corrupt page) is not this request's answer:
      // the member would go on without part of the entry and differ from the others for good. The Ready's
      // transaction is rolled back and the member stops (NodeHost.onFatal); a restart replays the entry.
      // etcd compat: its applier panics on backend errors.
      if (error instanceof Database.SqliteError) throw error
      return { id, error: fromMvccError(error) }
    }
  }

  private dispatch(tx: MemberTx, request: InternalRaftRequest): unknown {
    const { kv, lessor, alarms, membership, maxTxnOps } = this.options
    checkCorrupt(alarms, request.request)
    switch (request.request) {
      case 'put':
        if (alarms.hasNoSpace()) throw new NoSpaceError()
        return kv.put(tx, putFromWire(request.put))
      case 'delete_range':
        return kv.deleteRange(tx, deleteRangeFromWire(request.delete_range))
      case 'txn': {
        const txn = txnFromWire(request.txn, maxTxnOps)
        if (alarms.hasNoSpace() && txn.success.concat(txn.failure).some((op) => 'requestPut' in op || 'requestTxn' in op)) throw new NoSpaceError()
        return kv.txn(tx, txn)
      }
      case 'compaction':
        return kv.compact(tx, compactionFromWire(request.compaction).revision)
      case 'lease_grant':
        if (alarms.hasNoSpace()) throw new NoSpaceError()
        return lessor.grant(tx, id64(request.lease_grant.ID), int64(request.lease_grant.TTL))
      case 'lease_revoke':
        return lessor.revoke(tx, id64(request.lease_revoke.ID))
      case 'lease_checkpoint':
        for (const checkpoint of request.lease_checkpoint.checkpoints) {
          lessor.checkpoint(tx, id64(checkpoint.ID), int64(checkpoint.remaining_TTL))
        }
        return undefined
      case 'alarm': {
        const type = ALARM_TYPES[request.alarm.alarm]
        const memberId = id64(request.alarm.memberID)
        if (type === undefined) return []
        if (request.alarm.action === 1) return [alarms.activate(tx, memberId, type)]
        if (request.alarm.action === 2) {
          const removed = alarms.deactivate(tx, memberId, type)
          return removed ? [removed] : []
        }
        return alarms.list()
      }
      case 'member_attributes':
        membership.setAttributes(id64(request.member_attributes.member_id), request.member_attributes.name, request.member_attributes.client_urls)
        membership.save(tx)
        return undefined
      default:
        throw new Error(`etcdserver: ${request.request} is not supported yet`)
    }
  }
}
