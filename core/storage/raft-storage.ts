// The Raft log in SQLite: the read side Raft uses (RaftStorage) and the write side the host uses after each
// Ready. Table raft_entry holds the log plus one "dummy" row at firstIndex-1 whose term is readable
// (etcd-io/raft MemoryStorage layout, ported): compaction moves the dummy forward, a snapshot replaces the log.
import { CompactedError, type RaftStorage, UnavailableError } from '../raft/storage'
import type { ConfState, Entry, HardState, Snapshot } from '../raft/types'
import { limitSize } from '../raft/util'
import { assert, safeIndex } from '../util/assert'
import type { MemberTx } from './member-db'
import type { Statements } from './statements'

/** etcd compat: DefaultSnapshotCount, applied entries between snapshots (`--snapshot-count`). */
export const DEFAULT_SNAPSHOT_COUNT = 100_000
/** etcd compat: SnapshotCatchUpEntries, entries kept behind a snapshot so slow followers can catch up. */
export const SNAPSHOT_CATCH_UP_ENTRIES = 5_000

/**
 * The end of the log kept in memory as well (etcd keeps the whole log in MemoryStorage): Raft reads terms on
 * every append response and entries for every apply and every follower a little behind, all near the end.
 */
const TAIL_MAX_ENTRIES = 4096
const TAIL_MAX_BYTES = 16 * 1024 * 1024

function entryBytes(entry: Entry): number {
  return entry.data.length + 16
}

/** Thrown by persistReady/createSnapshot for a snapshot not newer than the stored one. */
export class SnapshotOutOfDateError extends Error {
  readonly code = 'RAFT_SNAPSHOT_OUT_OF_DATE'
  constructor(index: number, current: number) {
    super(`requested snapshot index ${index} is older than the existing snapshot ${current}`)
  }
}

interface EntryRow {
  idx: number
  term: number
  type: number
  data: Buffer
}

/** @internal */
export function encodeConfState(cs: ConfState): string {
  return JSON.stringify({ voters: cs.voters.map(String), learners: cs.learners.map(String) })
}

/** @internal */
export function decodeConfState(text: string): ConfState {
  const raw = JSON.parse(text) as { voters: string[]; learners: string[] }
  return { voters: raw.voters.map((v) => BigInt(v)), learners: raw.learners.map((v) => BigInt(v)) }
}

function toEntry(row: EntryRow): Entry {
  return { index: row.idx, term: row.term, type: row.type, data: row.data }
}

/**
 * RaftStorage over a member database. Reads see committed state, or the open transaction's writes when
 * called inside one (same connection).
 */
export class SqliteRaftStorage implements RaftStorage {
  /**
   * first/last index as last read. Raft asks for them many times per message; they change only through the
   * write functions of this file, which keep them up to date (`moved`), and MemberDb.transaction forgets them
   * (invalidate) when a transaction rolls back, so a rolled-back write is never served from here (a direct
   * write to the table must call invalidate too).
   */
  private cachedBounds: { first: number; last: number } | undefined
  /**
   * The last entries written (contiguous, ending at the last index), as appendEntries wrote them; emptied
   * when a snapshot replaces the log and by invalidate.
   */
  private tail: Entry[] = []
  private tailBytes = 0

  constructor(
    private readonly s: Statements,
    private readonly storedConfState: () => ConfState | undefined,
  ) {}

  /** HardState, and the conf state recorded by the applier (setConfState), else the snapshot's. */
  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState(), confState: this.storedConfState() ?? this.snapshot().metadata.confState }
  }

  /** The stored HardState. */
  hardState(): HardState {
    const row = this.s.hardStateGet.get() as { term: number; vote: string; commit_index: number }
    return { term: row.term, vote: BigInt(row.vote), commit: row.commit_index }
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const { first, last } = this.bounds()
    if (lo < first) throw new CompactedError(lo, first)
    if (hi > last + 1) throw new UnavailableError(hi - 1, last)
    const out: Entry[] = []
    let size = 0
    const tailFirst = this.tail.length > 0 ? this.tail[0].index : Number.POSITIVE_INFINITY
    if (lo >= tailFirst && hi <= tailFirst + this.tail.length) {
      for (let index = lo; index < hi; index++) {
        const entry = this.tail[index - tailFirst]
        size += entryBytes(entry)
        out.push(entry)
        if (size > maxSizeBytes) break
      }
      return limitSize(out, maxSizeBytes)
    }
    for (const row of this.s.entryRange.iterate(lo, hi) as IterableIterator<EntryRow>) {
      size += row.data.length + 16
      out.push(toEntry(row))
      if (size > maxSizeBytes) break
    }
    assert(out.length === hi - lo || size > maxSizeBytes, () => `log gap in [${lo}, ${hi}): read ${out.length} entries`)
    return limitSize(out, maxSizeBytes)
  }

  term(index: number): number {
    const { first, last } = this.bounds()
    if (index < first - 1) throw new CompactedError(index, first)
    if (index > last) throw new UnavailableError(index, last)
    const tailFirst = this.tail.length > 0 ? this.tail[0].index : Number.POSITIVE_INFINITY
    if (index >= tailFirst && index < tailFirst + this.tail.length) return this.tail[index - tailFirst].term
    const term = this.s.entryTerm.get(index) as number | undefined
    assert(term !== undefined, () => `log gap at ${index} [first ${first}, last ${last}]`)
    return term
  }

  firstIndex(): number {
    return this.bounds().first
  }

  lastIndex(): number {
    return this.bounds().last
  }

  snapshot(): Snapshot {
    const row = this.s.snapshotGet.get() as { idx: number; term: number; conf_state: string; data: Buffer }
    return { data: row.data, metadata: { index: row.idx, term: row.term, confState: decodeConfState(row.conf_state) } }
  }

  /** @internal Forgets everything read or recorded from the table: the bounds and the tail (a rolled-back transaction, a direct write). */
  invalidate(): void {
    this.cachedBounds = undefined
    this.forgetTail()
  }

  /** @internal The log's bounds after a write of this file (kept only if they were known before it). */
  moved(bounds: { first?: number; last: number }): void {
    if (this.cachedBounds) this.cachedBounds = { first: bounds.first ?? this.cachedBounds.first, last: bounds.last }
  }

  /** @internal Forgets the in-memory tail (a snapshot replacing the log, whose bounds the caller then sets). */
  forgetTail(): void {
    this.tail = []
    this.tailBytes = 0
  }

  /** @internal Records `entries`, just written at the end of the log replacing any suffix from their first index. */
  appendToTail(entries: Entry[]): void {
    const from = entries[0].index
    const tailFirst = this.tail.length > 0 ? this.tail[0].index : from
    if (from < tailFirst || from > tailFirst + this.tail.length) this.forgetTail()
    else if (from < tailFirst + this.tail.length) for (const dropped of this.tail.splice(from - tailFirst)) this.tailBytes -= entryBytes(dropped)
    for (const entry of entries) {
      this.tail.push(entry)
      this.tailBytes += entryBytes(entry)
    }
    if (this.tail.length <= TAIL_MAX_ENTRIES && this.tailBytes <= TAIL_MAX_BYTES) return
    // Trimmed down to three quarters of both limits at once: dropping from the front moves every kept entry,
    // so trimming one entry per append cost a 4,096-element move on every write.
    let drop = 0
    while (this.tail.length - drop > 1 && (this.tail.length - drop > (TAIL_MAX_ENTRIES * 3) / 4 || this.tailBytes > (TAIL_MAX_BYTES * 3) / 4)) {
      this.tailBytes -= entryBytes(this.tail[drop])
      drop++
    }
    this.tail.splice(0, drop)
  }

  private bounds(): { first: number; last: number } {
    if (this.cachedBounds) return this.cachedBounds
    const row = this.s.entryBounds.get() as { first: number | null; last: number | null }
    assert(row.first !== null && row.last !== null, 'raft log has no dummy entry')
    this.cachedBounds = { first: row.first + 1, last: row.last }
    return this.cachedBounds
  }
}

/** What the host persists from one Ready (etcd: raftNode saves snapshot, hard state and entries together). */
export interface ReadyToPersist {
  hardState?: HardState
  entries: Entry[]
  snapshot?: Snapshot
}

/**
 * Persists one Ready inside the caller's transaction: the snapshot first (it replaces the log), then the
 * entries (replacing any conflicting suffix), then the HardState. Messages may be sent only after the
 * transaction commits.
 */
export function persistReady(tx: MemberTx, ready: ReadyToPersist): void {
  if (ready.snapshot !== undefined && ready.snapshot.metadata.index > 0) applySnapshot(tx, ready.snapshot)
  appendEntries(tx, ready.entries)
  if (ready.hardState !== undefined) setHardState(tx, ready.hardState)
}

/** Stores the HardState. */
export function setHardState(tx: MemberTx, hs: HardState): void {
  safeIndex(hs.term, 'term')
  safeIndex(hs.commit, 'commit')
  tx.statements.hardStateSet.run(hs.term, hs.vote.toString(), hs.commit)
}

/**
 * Appends entries (etcd MemoryStorage.Append): entries at or below the compaction point are ignored, an
 * existing suffix from the first new index on is replaced. Entries must be contiguous and leave no gap.
 */
export function appendEntries(tx: MemberTx, entries: Entry[]): void {
  if (entries.length === 0) return
  const storage = tx.raftStorage
  const first = storage.firstIndex()
  const last = entries[entries.length - 1].index
  if (last < first) return
  if (first > entries[0].index) entries = entries.slice(first - entries[0].index)
  const lastIndex = storage.lastIndex()
  assert(entries[0].index <= lastIndex + 1, () => `missing log entry [last: ${lastIndex}, append at: ${entries[0].index}]`)
  tx.statements.entryDeleteFrom.run(entries[0].index)
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]
    assert(e.index === entries[0].index + i, () => `entries not contiguous at ${e.index}`)
    tx.statements.entryInsert.run(safeIndex(e.index, 'index'), safeIndex(e.term, 'term'), e.type, e.data)
  }
  storage.moved({ last: entries[entries.length - 1].index })
  storage.appendToTail(entries)
}

/** Replaces the log with a snapshot received from the leader (etcd MemoryStorage.ApplySnapshot). */
export function applySnapshot(tx: MemberTx, snap: Snapshot): void {
  const current = tx.raftStorage.snapshot().metadata.index
  if (current >= snap.metadata.index) throw new SnapshotOutOfDateError(snap.metadata.index, current)
  const { index, term, confState } = snap.metadata
  tx.statements.snapshotSet.run(index, term, encodeConfState(confState), snap.data)
  tx.raftStorage.forgetTail()
  tx.statements.entryDeleteAll.run()
  tx.statements.entryInsert.run(index, term, 0, Buffer.alloc(0))
  tx.raftStorage.moved({ first: index + 1, last: index })
}

/**
 * Records a snapshot of the applied state at `index` (<= lastIndex) with its conf state. The state machine
 * lives in the same database, so `data` is whatever the host needs to rebuild a follower (may be empty).
 */
export function createSnapshot(tx: MemberTx, index: number, confState: ConfState, data: Uint8Array): Snapshot {
  const storage = tx.raftStorage
  const current = storage.snapshot().metadata.index
  if (index <= current) throw new SnapshotOutOfDateError(index, current)
  assert(index <= storage.lastIndex(), () => `snapshot ${index} is out of bound lastindex(${storage.lastIndex()})`)
  const term = storage.term(index)
  tx.statements.snapshotSet.run(index, term, encodeConfState(confState), data)
  return { data, metadata: { index, term, confState } }
}

/**
 * Discards log entries before `compactIndex`, which becomes the dummy entry (etcd MemoryStorage.Compact).
 * Throws CompactedError when already compacted there.
 */
export function compactLog(tx: MemberTx, compactIndex: number): void {
  const storage = tx.raftStorage
  const first = storage.firstIndex()
  if (compactIndex <= first - 1) throw new CompactedError(compactIndex, first)
  assert(compactIndex <= storage.lastIndex(), () => `compact ${compactIndex} is out of bound lastindex(${storage.lastIndex()})`)
  tx.statements.entryDeleteBelow.run(compactIndex)
  tx.statements.entryClearData.run(compactIndex)
  storage.moved({ first: compactIndex + 1, last: storage.lastIndex() })
}

/**
 * etcd's snapshot trigger (etcdserver triggerSnapshot + raftStorage.Compact): when `appliedIndex` is more
 * than `snapshotCount` past the last snapshot, records a snapshot at appliedIndex and compacts the log up to
 * appliedIndex - catchUpEntries. Returns the new snapshot, or undefined when none was due.
 */
export function maybeSnapshotAndCompact(
  tx: MemberTx,
  appliedIndex: number,
  confState: ConfState,
  options: { snapshotCount?: number; catchUpEntries?: number; data?: Uint8Array } = {},
): Snapshot | undefined {
  const snapshotCount = options.snapshotCount ?? DEFAULT_SNAPSHOT_COUNT
  const catchUp = options.catchUpEntries ?? SNAPSHOT_CATCH_UP_ENTRIES
  const snapIndex = tx.raftStorage.snapshot().metadata.index
  if (appliedIndex - snapIndex <= snapshotCount) return undefined
  const snap = createSnapshot(tx, appliedIndex, confState, options.data ?? new Uint8Array(0))
  const compactIndex = appliedIndex - catchUp
  if (compactIndex > tx.raftStorage.firstIndex() - 1) compactLog(tx, compactIndex)
  return snap
}
