// Randomised schedules (STYLE §8): RAFT_SEEDS (default 2000) seeds starting at RAFT_SEED_BASE (default 1).
// A failure names its seed; replay it with RAFT_SEEDS=1 RAFT_SEED_BASE=<seed>.
import { describe, expect, test } from 'vitest'
import { runSchedule, type RunStats } from './schedule'

const seeds = Number(process.env.RAFT_SEEDS ?? 2000)
const base = Number(process.env.RAFT_SEED_BASE ?? 1)

describe('randomised schedules: election safety, log matching, state machine safety, linearizable reads, liveness (Raft §5.4, thesis §6.4)', () => {
  test(`${seeds} seeds keep every invariant and elect a leader after healing`, () => {
    const all: RunStats[] = []
    for (let s = base; s < base + seeds; s++) all.push(runSchedule(s))
    // The schedules must actually exercise the system, or the invariants prove nothing.
    const sum = (f: (r: RunStats) => number): number => all.reduce((a, r) => a + f(r), 0)
    expect(sum((r) => r.leaders)).toBeGreaterThan(seeds)
    expect(sum((r) => r.committed)).toBeGreaterThan(seeds * 3)
    expect(sum((r) => r.readsServed)).toBeGreaterThan(0)
    expect(sum((r) => r.crashes)).toBeGreaterThan(0)
    expect(sum((r) => r.confChanges)).toBeGreaterThan(0)
    expect(sum((r) => r.compactions)).toBeGreaterThan(0)
  }, 120_000)
})
