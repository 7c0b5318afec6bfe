/**
 * `npm run chaos -- --scenario NAME --seed N --duration S --target etcd|quorum [--min-faults N] [--full] [--negative-control] [--out DIR]`
 *
 * Runs fault-injection scenarios against a fresh cluster each, checks every history, and writes a markdown +
 * JSON report (default test-artifacts/chaos/<timestamp>/). Exit code 0 iff every run passed; with
 * --negative-control (serializable reads labelled linearizable) iff every run was caught.
 */
import { Command, InvalidArgumentError } from 'commander'
import { join } from 'node:path'
import { DEFAULT_REPORT_DIR, verdictOf, writeReport } from './report'
import { inPrivateNetns, partitionUnsupportedReason, runInPrivateNetns } from './netns'
import { FULL_TIER, needsPartitions, runScenario, SCENARIOS, targetSupports, type ScenarioResult, type Target } from './scenario'

const integer = (value: string) => {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('not a non-negative integer')
  return n
}

const program = new Command('chaos')
  .description('fault-injection runs with linearizability, revision, watch and lease checks')
  .option('--scenario <names>', `comma-separated scenario names, or "all" (${Object.keys(SCENARIOS).join(', ')})`, 'all')
  .option('--seed <n>', 'seed for traffic and fault choices', integer, 1)
  .option('--duration <s>', 'seconds of traffic per scenario', integer, 20)
  .option('--target <name>', 'cluster to test: etcd (real etcd 3.4) or quorum (local `quorum node` members; npm run build first)', 'etcd')
  .option('--client <name>', 'client library: etcd3 (npm, independent) or core (Quorum core/client)', 'etcd3')
  .option('--min-faults <n>', 'inject at least this many faults per scenario, even past the duration', integer, 0)
  .option('--full', `the full tier: every scenario the target supports, ${FULL_TIER.durationS} s and at least ${FULL_TIER.minFaults} faults each (over 100 faults in all)`, false)
  .option('--negative-control', 'send serializable reads but record them as linearizable; the run must be caught', false)
  .option('--out <dir>', 'report directory', join(DEFAULT_REPORT_DIR, new Date().toISOString().replace(/[:.]/g, '-')))
  .action(async (opts: { scenario: string; seed: number; duration: number; target: string; client: string; minFaults: number; full: boolean; negativeControl: boolean; out: string }) => {
    if (opts.client !== 'etcd3' && opts.client !== 'core') throw new InvalidArgumentError(`unknown client ${opts.client} (etcd3 or core)`)
    if (opts.target !== 'etcd' && opts.target !== 'quorum') throw new InvalidArgumentError(`unknown target ${opts.target} (etcd or quorum)`)
    const all = Object.keys(SCENARIOS).filter((name) => targetSupports(opts.target as Target, name))
    const names = opts.full || opts.scenario === 'all' ? all : opts.scenario.split(',')
    const durationS = opts.full ? FULL_TIER.durationS : opts.duration
    const minFaults = opts.full ? FULL_TIER.minFaults : opts.minFaults
    if (names.some(needsPartitions) && !inPrivateNetns()) {
      // Partitions change nftables rules: do that only in a network namespace of our own.
      const reason = partitionUnsupportedReason()
      if (reason) throw new InvalidArgumentError(`partition scenarios cannot run here: ${reason}`)
      process.exitCode = await runInPrivateNetns()
      return
    }
    const results: ScenarioResult[] = []
    for (const scenario of names) {
      const result = await runScenario({ scenario, seed: opts.seed, durationS, target: opts.target, client: opts.client, minFaults, lieAboutSerializableReads: opts.negativeControl })
      results.push(result)
      const s = result.check.stats
      console.log(
        `${scenario}: ${verdictOf(result)}; ${s.operations} ops (${s.ok} ok, ${s.unknown} unknown, ${s.failed} failed), ${result.faults.length} faults, ` +
          `${result.check.violations.length} violations (+${result.knownViolations.length} known ${result.cluster} bugs), checks WGL ${s.wglMs.toFixed(0)} ms / revision ${s.revisionMs.toFixed(0)} ms / watch ${s.watchMs.toFixed(0)} ms${result.error ? `; ${result.error}` : ''}`,
      )
    }
    const total = (pick: (r: ScenarioResult) => number) => results.reduce((n, r) => n + pick(r), 0)
    console.log(
      `total: ${results.length} scenarios, ${total((r) => r.check.stats.operations)} ops (${total((r) => r.check.stats.ok)} ok), ${total((r) => r.faults.length)} faults, ` +
        `${total((r) => r.check.violations.length)} violations, ${results.filter((r) => verdictOf(r) !== 'pass').length} runs not passed (${results.filter((r) => verdictOf(r) !== 'pass' && SCENARIOS[r.options.scenario]?.advisory).length} advisory), ${(total((r) => r.totalMs) / 60_000).toFixed(1)} min`,
    )
    console.log(`report: ${writeReport(opts.out, results)}/report.md`)
    // Advisory scenarios (a known, reported product bug) are in the report but do not fail the run.
    const gating = results.filter((r) => opts.negativeControl || !SCENARIOS[r.options.scenario]?.advisory)
    for (const r of results) if (SCENARIOS[r.options.scenario]?.advisory && verdictOf(r) !== 'pass') console.log(`advisory ${r.options.scenario}: ${SCENARIOS[r.options.scenario].advisory}`)
    const ok = gating.every((r) => (opts.negativeControl ? r.check.violations.length > 0 : verdictOf(r) === 'pass'))
    process.exitCode = ok ? 0 : 1
  })

await program.parseAsync(process.argv)
