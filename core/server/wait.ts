/**
 * The proposal wait registry: a gRPC handler registers a request id before proposing, the applier triggers it
 * with the result once the entry is applied (on the proposing member only), and the handler's promise
 * settles. Pending waits are rejected when the member stops or the leader changes so no caller hangs.
 */
export class WaitRegistry<T> {
  private readonly pending = new Map<bigint, { resolve: (value: T) => void; reject: (error: Error) => void }>()

  /** Registers `id` and returns the promise the applier will settle. An id may be registered only once. */
  register(id: bigint): Promise<T> {
    if (this.pending.has(id)) throw new Error(`duplicate request id ${id.toString(16)}`)
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
    })
  }

  /** Settles the wait for `id` with a result; returns false if nobody waits (another member proposed it). */
  trigger(id: bigint, value: T): boolean {
    const waiter = this.pending.get(id)
    if (!waiter) return false
    this.pending.delete(id)
    waiter.resolve(value)
    return true
  }

  /** Rejects the wait for `id` (proposal dropped, timed out). */
  fail(id: bigint, error: Error): boolean {
    const waiter = this.pending.get(id)
    if (!waiter) return false
    this.pending.delete(id)
    waiter.reject(error)
    return true
  }

  /** Rejects every pending wait (shutdown). */
  failAll(error: Error): void {
    const waiters = [...this.pending.values()]
    this.pending.clear()
    for (const waiter of waiters) waiter.reject(error)
  }

  /** Whether `id` is still pending. */
  isPending(id: bigint): boolean {
    return this.pending.has(id)
  }

  /** Number of pending waits (etcd_server_proposals_pending counts proposals, this counts callers). */
  get size(): number {
    return this.pending.size
  }
}

/**
 * Request ids unique across members and restarts, as etcd's pkg/idutil: the top 16 bits are the member id's
 * low 16 bits, the rest a counter seeded with the current time in ms shifted left by 8, so ids do not repeat
 * after a restart unless 256 ids per ms were issued for longer than the downtime.
 */
export class RequestIdGenerator {
  private readonly prefix: bigint
  private suffix: bigint

  constructor(memberId: bigint, nowMs: number) {
    this.prefix = (memberId & 0xffffn) << 48n
    this.suffix = (BigInt(nowMs) & 0xff_ffff_ffffn) << 8n
  }

  /** The next id. */
  next(): bigint {
    this.suffix = (this.suffix + 1n) & 0xffff_ffff_ffffn
    return this.prefix | this.suffix
  }
}
