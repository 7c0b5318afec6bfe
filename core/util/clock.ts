/** Wall time for everything outside Raft (lease expiry, compaction schedules, timeouts). Inject it; never read Date directly. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() }

/**
 * Wall time at process start plus monotonic time since: immune to wall-clock jumps (NTP steps, an admin
 * setting the date). Measure durations that must not jump with it, like lease TTLs: etcd's lessor uses Go's
 * monotonic clock reading (found by the chaos suite's clock-jump scenario, issue 14).
 */
export const monotonicClock: Clock = { now: () => performance.timeOrigin + performance.now() }

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
