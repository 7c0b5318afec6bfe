import type { ConfState, Entry, HardState, Snapshot } from './types'

/** Thrown by storage when the requested index was compacted away (it is behind the snapshot). */
export class CompactedError extends Error {
  readonly code = 'RAFT_COMPACTED'
  constructor(index: number, firstIndex: number) {
    super(`requested index ${index} is unavailable due to compaction (first index ${firstIndex})`)
  }
}

/** Thrown by storage when the requested entries are not in the log yet. */
export class UnavailableError extends Error {
  readonly code = 'RAFT_UNAVAILABLE'
  constructor(index: number, lastIndex: number) {
    super(`requested entry at index ${index} is unavailable (last index ${lastIndex})`)
  }
}

/** Thrown by storage when a snapshot is being prepared and cannot be returned yet; Raft retries later. */
export class SnapshotTemporarilyUnavailableError extends Error {
  readonly code = 'RAFT_SNAPSHOT_TEMPORARILY_UNAVAILABLE'
  constructor() {
    super('snapshot is temporarily unavailable')
  }
}

/**
 * The durable log as Raft reads it (etcd-io/raft's Storage). Raft only reads; the host writes (after each
 * Ready, in one transaction). Implementations: `MemoryStorage` (core/raft/memory-storage.ts) for tests and
 * the SQLite storage in core/storage.
 *
 * Layout: the log holds entries (firstIndex-1, lastIndex]; the entry at firstIndex-1 is the snapshot's
 * (index, term) "dummy" and only its term is readable.
 */
export interface RaftStorage {
  /** The saved HardState and ConfState (from the latest snapshot plus applied conf changes). */
  initialState(): { hardState: HardState; confState: ConfState }
  /**
   * Entries in [lo, hi), cut so their total byte size stays <= maxSizeBytes, but always at least one entry.
   * Throws CompactedError if lo <= snapshot index, UnavailableError if hi > lastIndex + 1.
   * The returned array is the caller's; the entries inside must not be mutated.
   */
  entries(lo: number, hi: number, maxSizeBytes: number): Entry[]
  /** Term of entry `index`, for index in [firstIndex-1, lastIndex]. Throws CompactedError / UnavailableError. */
  term(index: number): number
  /** Index of the first entry that may still be read (snapshot index + 1). */
  firstIndex(): number
  /** Index of the last entry in the log (snapshot index when the log is empty). */
  lastIndex(): number
  /** The most recent snapshot. May throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot
}
