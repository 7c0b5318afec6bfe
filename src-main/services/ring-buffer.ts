import { assert } from '../../core/util/assert'

/** A fixed-capacity FIFO: pushing beyond `capacity` drops the oldest item. */
export class RingBuffer<T> {
  private readonly items: (T | undefined)[]
  private start = 0
  private count = 0

  constructor(readonly capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity > 0, () => `ring buffer capacity ${capacity} must be a positive integer`)
    this.items = new Array<T | undefined>(capacity)
  }

  get size(): number {
    return this.count
  }

  push(item: T): void {
    const end = (this.start + this.count) % this.capacity
    this.items[end] = item
    if (this.count < this.capacity) this.count++
    else this.start = (this.start + 1) % this.capacity
  }

  /** The items oldest first, as a new array the caller owns. */
  toArray(): T[] {
    const out: T[] = []
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.start + i) % this.capacity] as T)
    return out
  }
}
