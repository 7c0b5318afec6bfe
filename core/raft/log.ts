// The Raft log: stable storage plus the unstable tail. Ported from etcd-io/raft log.go (Apache-2.0).
import { assert } from '../util/assert'
import { Unstable } from './log-unstable'
import { CompactedError, UnavailableError, type RaftStorage } from './storage'
import type { Entry, Snapshot } from './types'
import { NO_LIMIT, limitSize } from './util'

/**
 * The log as Raft sees it.
 *
 *   snapshot | storage entries (persisted) | unstable entries (not yet persisted)
 *            ^ firstIndex                                           lastIndex ^
 *   applied <= applying <= committed <= lastIndex
 */
export class RaftLog {
  readonly unstable: Unstable
  /** Highest index known to be committed by a quorum. */
  committed: number
  /** Highest index handed to the host for applying (Ready.committedEntries). Invariant: applied <= applying. */
  applying: number
  /** Highest index the host has applied. Invariant: applied <= committed. */
  applied: number

  constructor(
    readonly storage: RaftStorage,
    readonly maxApplyingEntsSize: number,
  ) {
    const first = storage.firstIndex()
    const last = storage.lastIndex()
    this.unstable = new Unstable(last + 1)
    this.committed = first - 1
    this.applying = first - 1
    this.applied = first - 1
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex()
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex()
  }

  lastTerm(): number {
    return this.term(this.lastIndex())
  }

  /**
   * Term of entry `i`, for i in [firstIndex-1, lastIndex]. Throws CompactedError below, UnavailableError above.
   */
  term(i: number): number {
    const t = this.maybeTerm(i)
    if (t !== undefined) return t
    const dummy = this.firstIndex() - 1
    if (i < dummy) throw new CompactedError(i, dummy + 1)
    throw new UnavailableError(i, this.lastIndex())
  }

  /**
   * Term of entry `i`, or undefined when it is compacted or beyond the log. Non-throwing: this is on the hot
   * path (every appended entry is checked), and exceptions are expensive in V8.
   */
  maybeTerm(i: number): number | undefined {
    const t = this.unstable.maybeTerm(i)
    if (t !== undefined) return t
    if (i < this.firstIndex() - 1 || i > this.lastIndex()) return undefined
    return this.storage.term(i)
  }

  /** term(i), or 0 when i is compacted or beyond the log (etcd: zeroTermOnOutOfBounds). */
  termOrZero(i: number): number {
    return this.maybeTerm(i) ?? 0
  }

  matchTerm(i: number, term: number): boolean {
    return this.maybeTerm(i) === term
  }

  /**
   * The follower side of AppendEntries (Raft §5.3): if the entry at `index` has `logTerm`, append `entries`
   * after it (truncating a conflicting suffix), commit up to min(commit, last new index), and return the last
   * new index; otherwise return undefined.
   */
  maybeAppend(index: number, logTerm: number, commit: number, entries: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined
    const lastNew = index + entries.length
    const conflict = this.findConflict(entries)
    if (conflict !== 0) {
      assert(conflict > this.committed, () => `entry ${conflict} conflicts with committed entry [committed(${this.committed})]`)
      this.append(entries.slice(conflict - (index + 1)))
    }
    this.commitTo(Math.min(commit, lastNew))
    return lastNew
  }

  /** Appends entries to the unstable tail; returns the new last index. Never truncates committed entries. */
  append(entries: Entry[]): number {
    if (entries.length === 0) return this.lastIndex()
    const after = entries[0].index - 1
    assert(after >= this.committed, () => `after(${after}) is out of range [committed(${this.committed})]`)
    this.unstable.truncateAndAppend(entries)
    return this.lastIndex()
  }

  /**
   * The index of the first entry in `entries` whose term differs from our log (or which we lack), 0 if all
   * match. Entries must be contiguous.
   */
  findConflict(entries: Entry[]): number {
    for (const e of entries) if (!this.matchTerm(e.index, e.term)) return e.index
    return 0
  }

  /**
   * Fast log back-off (etcd findConflictByTerm): the largest index <= `index` whose term is <= `term`, with
   * that term. Everything after it cannot match a log whose entry at `index` has term `term`.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const t = this.maybeTerm(index)
      if (t === undefined) return { index, term: 0 }
      if (t <= term) return { index, term: t }
    }
    return { index: 0, term: 0 }
  }

  /** Unstable entries not yet handed out in a Ready. */
  nextUnstableEnts(): Entry[] {
    return this.unstable.nextEntries()
  }

  hasNextUnstableEnts(): boolean {
    return this.unstable.nextEntries().length > 0
  }

  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== undefined
  }

  nextUnstableSnapshot(): Snapshot | undefined {
    return this.unstable.nextSnapshot()
  }

  private maxAppliableIndex(allowUnstable: boolean): number {
    let hi = this.committed
    if (!allowUnstable) hi = Math.min(hi, this.unstable.offset - 1)
    return hi
  }

  /**
   * Committed entries not yet handed out for applying, at most maxApplyingEntsSize bytes (at least one).
   * None while a snapshot is pending: it must be applied first.
   */
  nextCommittedEnts(allowUnstable: boolean): Entry[] {
    if (this.hasNextOrInProgressSnapshot()) return []
    const lo = this.applying + 1
    const hi = this.maxAppliableIndex(allowUnstable) + 1
    if (lo >= hi) return []
    return this.slice(lo, hi, this.maxApplyingEntsSize)
  }

  hasNextCommittedEnts(allowUnstable: boolean): boolean {
    if (this.hasNextOrInProgressSnapshot()) return false
    return this.applying + 1 < this.maxAppliableIndex(allowUnstable) + 1
  }

  /** The unstable snapshot if any, else the storage's. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot()
  }

  commitTo(toCommit: number): void {
    if (this.committed >= toCommit) return
    assert(this.lastIndex() >= toCommit, () => `tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]`)
    this.committed = toCommit
  }

  /** Leader commit rule: commit `maxIndex` only if its entry is from `term` (Raft §5.4.2). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex)
      return true
    }
    return false
  }

  acceptApplying(index: number): void {
    assert(index <= this.committed, () => `applying ${index} beyond committed ${this.committed}`)
    this.applying = Math.max(this.applying, index)
  }

  appliedTo(index: number): void {
    if (index === 0) return
    assert(this.committed >= index && index >= this.applied, () => `applied(${index}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`)
    this.applied = index
    this.applying = Math.max(this.applying, index)
  }

  acceptUnstable(): void {
    this.unstable.acceptInProgress()
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term)
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index)
  }

  /** Whether a log ending at (lastIndex, term) is at least as up-to-date as ours (Raft §5.4.1). */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm()
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex())
  }

  /** Replaces the log by a snapshot (the follower was too far behind). */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index
    this.unstable.restore(s)
  }

  /** Entries from `i` to the end, at most maxSizeBytes (at least one). */
  entries(i: number, maxSizeBytes: number): Entry[] {
    if (i > this.lastIndex()) return []
    return this.slice(i, this.lastIndex() + 1, maxSizeBytes)
  }

  /** Every entry after the snapshot (for tests and describe). */
  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), NO_LIMIT)
  }

  /** Entries [lo, hi) from storage and the unstable tail, cut to maxSizeBytes. Throws CompactedError below firstIndex. */
  slice(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const first = this.firstIndex()
    if (lo < first) throw new CompactedError(lo, first)
    const length = this.lastIndex() + 1 - first
    assert(lo <= hi && hi <= first + length, () => `slice[${lo},${hi}) out of bound [${first},${this.lastIndex()}]`)
    if (lo === hi) return []
    let result: Entry[] = []
    const offset = this.unstable.offset
    if (lo < offset) {
      result = this.storage.entries(lo, Math.min(hi, offset), maxSizeBytes)
      // Cut short by size: do not add unstable entries after a gap.
      if (result.length < Math.min(hi, offset) - lo) return result
    }
    if (hi > offset) {
      const tail = this.unstable.slice(Math.max(lo, offset), hi)
      result = result.length > 0 ? result.concat(tail) : tail
    }
    return limitSize(result, maxSizeBytes)
  }
}

