import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../support/temp-dir'
import { partitionUnsupportedReason } from './netns'
import { DEFAULT_REPORT_DIR, writeReport } from './report'
import { runScenario, type ScenarioResult } from './scenario'

// Smoke tier of the chaos suite against real etcd 3.4: the calibration gate (reliability-methods.md §8.6). A
// correct server must give zero violations under kill -9 and pauses; the negative control (serializable
// reads recorded as linearizable) must be caught, or the checkers prove nothing. About 10 s of traffic each.
const results: ScenarioResult[] = []

async function run(scenario: string, options: { durationS: number; negativeControl?: boolean }) {
  const result = await runScenario({ scenario, seed: 14, durationS: options.durationS, target: 'etcd', lieAboutSerializableReads: options.negativeControl })
  results.push(result)
  return result
}

function expectMeaningfulRun(result: ScenarioResult, minFaults: number) {
  expect(result.error).toBeUndefined()
  expect(result.faults.length).toBeGreaterThanOrEqual(minFaults)
  // Validity guard (as etcd robustness): a run with too little traffic proves nothing.
  expect(result.check.stats.ok).toBeGreaterThan(300)
  expect(result.check.stats.watchEvents).toBeGreaterThan(0)
  expect(result.recoveryMs).not.toBeNull()
  // Every member converged to the same keyspace (HashKV at the final revision).
  expect(result.convergence?.equal).toBe(true)
}

describe('chaos smoke tier against real etcd 3.4', () => {
  afterAll(() => {
    if (results.length > 0) writeReport(join(DEFAULT_REPORT_DIR, `smoke-${new Date().toISOString().replace(/[:.]/g, '-')}`), results)
  })

  it('kill -9 of the leader (restarted each time) loses no acknowledged write and stays linearizable', async () => {
    const result = await run('kill-leader', { durationS: 10 })
    expectMeaningfulRun(result, 2)
    expect(result.faults.every((f) => f.kind === 'kill' && f.role === 'leader')).toBe(true)
    expect(result.check.violations).toEqual([])
    expect(result.check.linearizable).toBe('yes')
  }, 90_000)

  it('SIGSTOP/SIGCONT of the leader past the election timeout gives no stale read, lost write or watch gap', async () => {
    const result = await run('pause-leader', { durationS: 10 })
    expectMeaningfulRun(result, 2)
    expect(result.check.violations).toEqual([])
    expect(result.check.linearizable).toBe('yes')
    // etcd 3.4.23 may also show etcd-io/etcd#15247 here (a resumed old leader revokes a renewed lease); the
    // lease checker reports it as a known target bug, and nothing else may be excused.
    expect(result.knownViolations.every((v) => v.code === 'lease-expired-early')).toBe(true)
  }, 90_000)

  it('kill -9 of a random member: watchers resume at last+1 without gaps or duplicates', async () => {
    const result = await run('kill-random', { durationS: 9 })
    expectMeaningfulRun(result, 2)
    expect(result.check.violations).toEqual([])
    // The killed members' watchers broke and resumed, so some stream has more than one segment.
    expect(result.history.watches.some((w) => w.segments.filter((s) => s.responses.length > 0).length > 1)).toBe(true)
  }, 90_000)

  // Partitions need a private network namespace, per-member uids and nftables, so this one goes through the
  // CLI, which re-executes itself under `unshare --net` (never touching the host's network).
  it.skipIf(partitionUnsupportedReason() !== null)(
    `isolating the leader with nftables in a private netns gives no violation${partitionUnsupportedReason() ? ` (skipped: ${partitionUnsupportedReason()})` : ''}`,
    async () => {
      const out = tempDir('quorum-chaos-partition-')
      try {
        const cli = spawnSync('npx', ['tsx', 'test/chaos/run.ts', '--scenario', 'partition-leader', '--seed', '14', '--duration', '9', '--out', out.path], { encoding: 'utf8', timeout: 80_000 })
        const [report] = JSON.parse(readFileSync(join(out.path, 'report.json'), 'utf8')) as Array<Omit<ScenarioResult, 'history'> & { verdict: string }>
        expect({ verdict: report.verdict, violations: report.check.violations, status: cli.status }).toEqual({ verdict: 'pass', violations: [], status: 0 })
        expect(report.faults.filter((f) => f.kind === 'partition').length).toBeGreaterThanOrEqual(2)
        expect(report.check.stats.ok).toBeGreaterThan(300)
        expect(report.convergence?.equal).toBe(true)
      } finally {
        out.remove()
      }
    },
    90_000,
  )

  it('negative control: serializable reads labelled linearizable are caught during pauses', async () => {
    const result = await run('pause-follower', { durationS: 7, negativeControl: true })
    expect(result.faults.length).toBeGreaterThanOrEqual(1)
    const codes = new Set(result.check.violations.map((v) => v.code))
    expect([...codes].some((c) => c === 'stale-read' || c === 'not-linearizable')).toBe(true)
    // Every violation carries the slice that shows it: the stale read and the operation it missed.
    const stale = result.check.violations.find((v) => v.code === 'stale-read')
    expect(stale?.operations.length).toBe(2)
  }, 90_000)
})
