// Flow control for MsgApp. Ported from etcd-io/raft tracker/inflights.go (Apache-2.0).
import { assert } from '../../util/assert'

/**
 * A sliding window of in-flight MsgApp messages to one follower: each entry is the last index the message
 * carried and its payload size in bytes. The window is full when either `maxCount` messages or
 * `maxBytes` bytes (0 = unlimited) are outstanding. Indexes added must be increasing.
 */
export class Inflights {
  private readonly indexes: number[] = []
  private readonly sizes: number[] = []
  private bytes = 0

  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {
    assert(maxCount > 0, `maxInflightMsgs ${maxCount} must be > 0`)
  }

  /** Records a message whose last entry is `index` carrying `bytes` bytes. Precondition: !full(). */
  add(index: number, bytes: number): void {
    assert(!this.full(), 'cannot add into a full inflights window')
    const last = this.indexes[this.indexes.length - 1]
    assert(last === undefined || index > last, () => `inflight index ${index} not above last ${last}`)
    this.indexes.push(index)
    this.sizes.push(bytes)
    this.bytes += bytes
  }

  /** Frees every message whose last index is <= `to` (they were acknowledged). */
  freeLE(to: number): void {
    let n = 0
    while (n < this.indexes.length && this.indexes[n] <= to) {
      this.bytes -= this.sizes[n]
      n++
    }
    if (n > 0) {
      this.indexes.splice(0, n)
      this.sizes.splice(0, n)
    }
  }

  /** Whether no more messages may be sent. */
  full(): boolean {
    return this.indexes.length >= this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes)
  }

  count(): number {
    return this.indexes.length
  }

  /** An independent copy. */
  clone(): Inflights {
    const c = new Inflights(this.maxCount, this.maxBytes)
    c.indexes.push(...this.indexes)
    c.sizes.push(...this.sizes)
    c.bytes = this.bytes
    return c
  }

  reset(): void {
    this.indexes.length = 0
    this.sizes.length = 0
    this.bytes = 0
  }
}
