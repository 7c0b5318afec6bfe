// Randomised schedules (STYLE §8): RAFT_SEEDS (default 2000) seeds starting at RAFT_SEED_BASE (default 1).
// Odd seeds run the stormy profile (5 voters, many leader changes), even seeds the mixed one. A failure names
// its seed; replay it with RAFT_SEEDS=1 RAFT_SEED_BASE=<seed>.
import { describe, expect, test } from 'vitest'
import { runSchedule, type RunStats } from './schedule'

const seeds = Number(process.env.RAFT_SEEDS ?? 2000)
const base = Number(process.env.RAFT_SEED_BASE ?? 1)

describe('randomised schedules (Raft §5.4 safety, thesis §6.4 reads, liveness)', () => {
  test(`${seeds} seeds: one leader per term, log matching, committed entries never change, same applied prefix, monotonic commit/applied, no stale ReadIndex, a leader after healing`, () => {
    const all: RunStats[] = []
    for (let s = base; s < base + seeds; s++) all.push(runSchedule(s))
    // The schedules must actually exercise the system, or the invariants prove nothing.
    const sum = (f: (r: RunStats) => number): number => all.reduce((a, r) => a + f(r), 0)
    if (seeds >= 100) {
      expect(sum((r) => r.leaders)).toBeGreaterThan(2 * seeds)
      expect(sum((r) => r.committed)).toBeGreaterThan(5 * seeds)
      expect(sum((r) => r.readsServed)).toBeGreaterThan(seeds / 2)
      expect(sum((r) => r.crashes)).toBeGreaterThan(seeds)
      expect(sum((r) => r.confChanges)).toBeGreaterThan(seeds / 10)
      expect(sum((r) => r.compactions)).toBeGreaterThan(seeds)
    }
  }, 180_000)

  test('negative control: a host that sends messages before persisting the Ready is caught', () => {
    let caught: unknown
    for (let s = 1; s <= 1000 && caught === undefined; s++) {
      try {
        runSchedule(s, undefined, true)
      } catch (e) {
        caught = e
      }
    }
    expect(caught).toBeInstanceOf(Error)
    expect(String(caught)).toMatch(/^\w*Error: seed \d+/)
  }, 60_000)
})
