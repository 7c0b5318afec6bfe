/** Wall time for everything outside Raft (lease expiry, compaction schedules, timeouts). Inject it; never read Date directly. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() }

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(private currentMs = 1_700_000_000_000) {}

  now(): number {
    return this.currentMs
  }

  /** Moves time forward by `ms` (never backwards unless `ms` is negative on purpose, to test clock jumps). */
  advance(ms: number): void {
    this.currentMs += ms
  }

  set(ms: number): void {
    this.currentMs = ms
  }
}
