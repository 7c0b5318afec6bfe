// The durable side of the MVCC store, as etcd's backend "key", "meta", "lease" and "alarm" buckets. The store
// keeps its key index in memory and rebuilds it from the backend on restore (etcd compat: mvcc/kvstore.go
// restore). Implementations: MemoryBackend (core/mvcc/memory-backend.ts) and the SQLite backend in core/storage.
import type { KeyValue } from './types'

/** One stored revision of a key. A tombstone carries only `kv.key` (etcd stores KeyValue{Key} for it). */
export interface KvRecord {
  main: number
  sub: number
  tombstone: boolean
  kv: KeyValue
}

/** What restoring the key index needs from a record: everything but the value. */
export interface KvIndexRecord {
  main: number
  sub: number
  tombstone: boolean
  key: Buffer
  createRevision: number
  version: number
  lease: bigint
}

/** A persisted lease (etcd leasepb.Lease). remainingTtlSeconds 0 means "not checkpointed". */
export interface LeaseRecord {
  id: bigint
  ttlSeconds: number
  remainingTtlSeconds: number
}

/** etcd AlarmType. */
export type AlarmType = 'NOSPACE' | 'CORRUPT'

export interface AlarmRecord {
  memberId: bigint
  alarm: AlarmType
}

/** Names of the integer values the store keeps in the meta table. */
export type MetaName = 'scheduledCompactRev' | 'finishedCompactRev'

/** Read access; valid outside and inside a write transaction (inside, it sees the transaction's writes). */
export interface BackendReader {
  /** The record at (main, sub), if stored. */
  getRecord(main: number, sub: number): KvRecord | undefined
  /**
   * Records with main revision in [fromMain, toMain) in revision order, at most `limit` (<= 0: no limit).
   * The returned objects are the caller's.
   */
  rangeRecords(fromMain: number, toMain: number, limit: number): KvRecord[]
  /** Calls fn on every record in revision order (hashing). */
  forEachRecord(fn: (record: KvRecord) => void): void
  /** Calls fn on every record in revision order without reading values (restoring the key index). */
  forEachIndexRecord(fn: (record: KvIndexRecord) => void): void
  getMeta(name: MetaName): number | undefined
  listLeases(): LeaseRecord[]
  listAlarms(): AlarmRecord[]
}

/**
 * Write access, valid only inside the transaction that handed it out. Every method takes effect when the
 * enclosing transaction commits (SQLite) or immediately (memory; the member stops on a failed write anyway).
 */
export interface BackendWriter extends BackendReader {
  putRecord(record: KvRecord): void
  /** Deletes the records with main <= atMain that are not in `keep` (by revisionId). Returns how many. */
  deleteRecordsUpTo(atMain: number, keep: ReadonlySet<string>): number
  putMeta(name: MetaName, value: number): void
  putLease(lease: LeaseRecord): void
  deleteLease(id: bigint): void
  putAlarm(alarm: AlarmRecord): void
  deleteAlarm(alarm: AlarmRecord): void
}

/** A backend: a reader for committed state, plus size and defragmentation for quota and maintenance. */
export interface Backend {
  reader(): BackendReader
  /** Bytes the database occupies (etcd's backend Size: file size, including free pages). */
  sizeBytes(): number
  /** Bytes actually in use (etcd's SizeInUse: size minus free pages). */
  sizeInUseBytes(): number
  /** Rewrites the database to release free pages (etcd Defragment; SQLite VACUUM). Not inside a transaction. */
  defragment(): void
}
