// In-memory RaftStorage for tests and simulations. Ported from etcd-io/raft storage.go MemoryStorage (Apache-2.0).
import { assert } from '../util/assert'
import { CompactedError, UnavailableError, type RaftStorage } from './storage'
import type { ConfState, Entry, HardState, Snapshot } from './types'
import { limitSize } from './util'

/** Thrown by applySnapshot/createSnapshot when the snapshot is older than what the storage already holds. */
export class SnapshotOutOfDateError extends Error {
  readonly code = 'RAFT_SNAPSHOT_OUT_OF_DATE'
  constructor(index: number, current: number) {
    super(`requested snapshot index ${index} is older than the existing snapshot ${current}`)
  }
}

/**
 * A RaftStorage kept in memory, with the write side a host needs. `ents[0]` is a dummy entry holding the
 * snapshot's (index, term); real entries follow it. Returned arrays are fresh; entries are shared and must
 * not be mutated.
 */
export class MemoryStorage implements RaftStorage {
  private hardState: HardState = { term: 0, vote: 0n, commit: 0 }
  private snap: Snapshot = {
    data: new Uint8Array(0),
    metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
  }
  private ents: Entry[] = [{ term: 0, index: 0, type: 0, data: new Uint8Array(0) }]

  /** A storage for a brand-new cluster member whose initial configuration is `voters` (and `learners`). */
  static withConfState(confState: ConfState): MemoryStorage {
    const s = new MemoryStorage()
    s.snap = { ...s.snap, metadata: { ...s.snap.metadata, confState: cloneConfState(confState) } }
    return s
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) }
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs }
  }

  /** The last HardState set (a copy). */
  getHardState(): HardState {
    return { ...this.hardState }
  }

  entries(lo: number, hi: number, maxSizeBytes: number): Entry[] {
    const offset = this.ents[0].index
    if (lo <= offset) throw new CompactedError(lo, offset + 1)
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1, this.lastIndex())
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxSizeBytes)
  }

  term(i: number): number {
    const offset = this.ents[0].index
    if (i < offset) throw new CompactedError(i, offset + 1)
    if (i - offset >= this.ents.length) throw new UnavailableError(i, this.lastIndex())
    return this.ents[i - offset].term
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1
  }

  firstIndex(): number {
    return this.ents[0].index + 1
  }

  snapshot(): Snapshot {
    return this.snap
  }

  /** Overwrites the storage with a snapshot (a follower installing MsgSnap). */
  applySnapshot(snap: Snapshot): void {
    const current = this.snap.metadata.index
    if (current >= snap.metadata.index) throw new SnapshotOutOfDateError(snap.metadata.index, current)
    this.snap = snap
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: 0, data: new Uint8Array(0) }]
  }

  /**
   * Records a snapshot of the state machine at applied index `index` (<= lastIndex) for later compaction and
   * for sending to lagging followers.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index)
    assert(index <= this.lastIndex(), () => `snapshot ${index} is out of bound lastindex(${this.lastIndex()})`)
    const offset = this.ents[0].index
    this.snap = {
      data,
      metadata: { index, term: this.ents[index - offset].term, confState: cloneConfState(confState) },
    }
    return this.snap
  }

  /** Discards entries before `compactIndex` (which becomes the dummy). compactIndex <= lastIndex. */
  compact(compactIndex: number): void {
    const offset = this.ents[0].index
    if (compactIndex <= offset) throw new CompactedError(compactIndex, offset + 1)
    assert(compactIndex <= this.lastIndex(), () => `compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`)
    const i = compactIndex - offset
    const dummy: Entry = { term: this.ents[i].term, index: this.ents[i].index, type: 0, data: new Uint8Array(0) }
    this.ents = [dummy, ...this.ents.slice(i + 1)]
  }

  /**
   * Appends entries, truncating any existing entries at and after the first new index. Entries must be
   * contiguous and must not leave a gap after lastIndex; entries at or below the snapshot are ignored.
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return
    const first = this.firstIndex()
    const last = entries[entries.length - 1].index
    if (last < first) return
    if (first > entries[0].index) entries = entries.slice(first - entries[0].index)
    const offset = entries[0].index - this.ents[0].index
    assert(offset <= this.ents.length, () => `missing log entry [last: ${this.lastIndex()}, append at: ${entries[0].index}]`)
    this.ents = this.ents.slice(0, offset).concat(entries)
  }
}

function cloneConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] }
}
