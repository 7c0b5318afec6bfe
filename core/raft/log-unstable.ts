// The tail of the log not yet persisted by the host. Ported from etcd-io/raft log_unstable.go (Apache-2.0).
import { assert } from '../util/assert'
import type { Entry, Snapshot } from './types'

/**
 * Unstable entries and snapshot, handed to the host through Ready and dropped once the host reports them
 * durable (stableTo / stableSnapTo on advance()).
 *
 *   storage: ... (first .. last]      unstable: [offset .. offset+entries.length)
 *                                              ^ offsetInProgress: entries below it were handed out in a Ready
 *
 * Invariant: offset <= offsetInProgress <= offset + entries.length; entries[i].index === offset + i.
 */
export class Unstable {
  snapshot: Snapshot | undefined
  entries: Entry[] = []
  offset: number
  offsetInProgress: number
  snapshotInProgress = false

  constructor(offset: number) {
    this.offset = offset
    this.offsetInProgress = offset
  }

  /** The first index if there is an unstable snapshot (snapshot index + 1). */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1
    return this.snapshot?.metadata.index
  }

  /** Term of entry `i` if the unstable part knows it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term
      return undefined
    }
    const last = this.maybeLastIndex()
    if (last === undefined || i > last) return undefined
    return this.entries[i - this.offset].term
  }

  /** Entries not yet handed out in a Ready. */
  nextEntries(): Entry[] {
    const inProgress = this.offsetInProgress - this.offset
    return this.entries.length === inProgress ? [] : this.entries.slice(inProgress)
  }

  /** The snapshot, if not yet handed out in a Ready. */
  nextSnapshot(): Snapshot | undefined {
    return this.snapshot && !this.snapshotInProgress ? this.snapshot : undefined
  }

  /** Marks everything currently unstable as handed out. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.offset + this.entries.length
    if (this.snapshot) this.snapshotInProgress = true
  }

  /** The host persisted entries up to (index, term): drop them, unless they were replaced meanwhile. */
  stableTo(index: number, term: number): void {
    const gt = this.maybeTerm(index)
    if (gt === undefined || index < this.offset || gt !== term) return
    this.entries = this.entries.slice(index + 1 - this.offset)
    this.offset = index + 1
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset)
  }

  stableSnapTo(index: number): void {
    if (this.snapshot && this.snapshot.metadata.index === index) {
      this.snapshot = undefined
      this.snapshotInProgress = false
    }
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1
    this.offsetInProgress = this.offset
    this.entries = []
    this.snapshot = s
    this.snapshotInProgress = false
  }

  /** Appends `entries`, truncating any unstable entries they conflict with. */
  truncateAndAppend(entries: Entry[]): void {
    const from = entries[0].index
    if (from === this.offset + this.entries.length) {
      this.entries = this.entries.concat(entries)
    } else if (from <= this.offset) {
      // Replace the whole unstable tail; the host's append will truncate storage too.
      this.entries = entries.slice()
      this.offset = from
      this.offsetInProgress = this.offset
    } else {
      this.entries = this.slice(this.offset, from).concat(entries)
      this.offsetInProgress = Math.min(this.offsetInProgress, from)
    }
  }

  /** Entries [lo, hi) from the unstable part. */
  slice(lo: number, hi: number): Entry[] {
    const upper = this.offset + this.entries.length
    assert(this.offset <= lo && lo <= hi && hi <= upper, () => `invalid unstable.slice [${lo},${hi}) of [${this.offset},${upper})`)
    return this.entries.slice(lo - this.offset, hi - this.offset)
  }
}
