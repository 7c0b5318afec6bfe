/**
 * `npm run chaos -- --scenario NAME --seed N --duration S --target etcd [--negative-control] [--out DIR]`
 *
 * Runs fault-injection scenarios against a fresh cluster each, checks every history, and writes a markdown +
 * JSON report (default test-artifacts/chaos/<timestamp>/). Exit code 0 iff every run passed; with
 * --negative-control (serializable reads labelled linearizable) iff every run was caught.
 */
import { Command, InvalidArgumentError } from 'commander'
import { join } from 'node:path'
import { DEFAULT_REPORT_DIR, verdictOf, writeReport } from './report'
import { inPrivateNetns, partitionUnsupportedReason, runInPrivateNetns } from './netns'
import { needsPartitions, runScenario, SCENARIOS, type ScenarioResult } from './scenario'

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
  .option('--negative-control', 'send serializable reads but record them as linearizable; the run must be caught', false)
  .option('--out <dir>', 'report directory', join(DEFAULT_REPORT_DIR, new Date().toISOString().replace(/[:.]/g, '-')))
  .action(async (opts: { scenario: string; seed: number; duration: number; target: string; client: string; minFaults: number; negativeControl: boolean; out: string }) => {
    if (opts.client !== 'etcd3' && opts.client !== 'core') throw new InvalidArgumentError(`unknown client ${opts.client} (etcd3 or core)`)
    if (opts.target !== 'etcd' && opts.target !== 'quorum') throw new InvalidArgumentError(`unknown target ${opts.target} (etcd or quorum)`)
    const names = opts.scenario === 'all' ? Object.keys(SCENARIOS) : opts.scenario.split(',')
    if (names.some(needsPartitions) && !inPrivateNetns()) {
      // Partitions change nftables rules: do that only in a network namespace of our own.
      const reason = partitionUnsupportedReason()
      if (reason) throw new InvalidArgumentError(`partition scenarios cannot run here: ${reason}`)
      process.exitCode = await runInPrivateNetns()
      return
    }
    const results: ScenarioResult[] = []
    for (const scenario of names) {
      const result = await runScenario({ scenario, seed: opts.seed, durationS: opts.duration, target: opts.target, client: opts.client, minFaults: opts.minFaults, lieAboutSerializableReads: opts.negativeControl })
      results.push(result)
      const s = result.check.stats
      console.log(
        `${scenario}: ${verdictOf(result)}; ${s.operations} ops (${s.ok} ok, ${s.unknown} unknown, ${s.failed} failed), ${result.faults.length} faults, ` +
          `${result.check.violations.length} violations (+${result.knownViolations.length} known ${result.cluster} bugs), checks WGL ${s.wglMs.toFixed(0)} ms / revision ${s.revisionMs.toFixed(0)} ms / watch ${s.watchMs.toFixed(0)} ms${result.error ? `; ${result.error}` : ''}`,
      )
    }
    console.log(`report: ${writeReport(opts.out, results)}/report.md`)
    const ok = results.every((r) => (opts.negativeControl ? r.check.violations.length > 0 : verdictOf(r) === 'pass'))
    process.exitCode = ok ? 0 : 1
  })

await program.parseAsync(process.argv)
