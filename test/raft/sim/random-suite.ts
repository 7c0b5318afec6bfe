// The randomised-schedule suite (STYLE §8), split into parts so that vitest can run them in parallel.
// RAFT_SEEDS (default 2000) seeds in total starting at RAFT_SEED_BASE (default 1). Odd seeds run the stormy
// profile (5 voters, many leader changes), even seeds the mixed one. A failure names its seed; replay it with
// RAFT_SEEDS=1 RAFT_SEED_BASE=<seed> (the seed then runs in part 0).
import { describe, expect, test } from 'vitest'
import { runSchedule, type RunStats } from './schedule'

const seeds = Number(process.env.RAFT_SEEDS ?? 2000)
const base = Number(process.env.RAFT_SEED_BASE ?? 1)

/** Defines the tests for part `part` of `parts`: seeds base + part, base + part + parts, ... */
export function defineRandomSuite(part: number, parts: number): void {
  const mine: number[] = []
  for (let s = base + part; s < base + seeds; s += parts) mine.push(s)

  describe(`randomised schedules, part ${part + 1}/${parts} (Raft §5.4 safety, thesis §6.4 reads, liveness)`, () => {
    test(`${mine.length} seeds: one leader per term, log matching, committed entries never change, same applied prefix, monotonic commit/applied, no stale ReadIndex, a leader after healing`, () => {
      const all = mine.map((s) => runSchedule(s))
      // The schedules must actually exercise the system, or the invariants prove nothing.
      const sum = (f: (r: RunStats) => number): number => all.reduce((a, r) => a + f(r), 0)
      if (mine.length >= 100) {
        expect(sum((r) => r.leaders)).toBeGreaterThan(2 * mine.length)
        expect(sum((r) => r.committed)).toBeGreaterThan(5 * mine.length)
        expect(sum((r) => r.readsServed)).toBeGreaterThan(mine.length / 2)
        expect(sum((r) => r.crashes)).toBeGreaterThan(mine.length)
        expect(sum((r) => r.confChanges)).toBeGreaterThan(mine.length / 10)
        expect(sum((r) => r.compactions)).toBeGreaterThan(mine.length)
      }
    }, 300_000)
  })
}
