import { resolve } from 'node:path'
import type { Command } from 'commander'
import { runBench, SCENARIOS, TURNS } from '../../bench/bench'
import { runFailoverBench } from '../../bench/failover'
import { formatSnapshotTable, runSnapshotBench } from '../../bench/snapshot-bench'
import { defaultQuorumCommand } from '../../cluster/launcher'
import type { ClusterEngine } from '../../cluster/manifest'

/** `quorum bench`: the etcd-baseline.md load against a real etcd 3.4 and a Quorum cluster; prints a table. */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('benchmark Quorum against a real etcd 3.4 on this machine (same load, both clusters running, each scenario in turns)')
    .option('--size <n>', 'members per cluster', '3')
    .option('--duration <s>', 'measured seconds per scenario', '5')
    .option('--warmup <s>', 'unmeasured seconds of each scenario before its first turn on each engine (steady state: the JIT of a fresh Quorum member needs a few seconds)', '5')
    .option('--bulk-keys <n>', 'keys of the bulk-load scenario', '100000')
    .option('--engines <list>', 'engines to run, comma-separated (etcd,quorum)', 'etcd,quorum')
    .option('--scenarios <list>', `scenarios to run, comma-separated (${SCENARIOS.join(',')}); default all`, '')
    .option('--failover-trials <n>', 'failover trials per engine: kill -9 the leader of a 3-member cluster, time to the first acknowledged put (0: skip)', '3')
    .option('--election-ms <ms>', 'election timeout of the failover clusters (both engines)', '1000')
    .option('--snapshot-keys <n>', 'keys loaded before the snapshot save/restore comparison (0: skip)', '100000')
    .option('--profile-dir <dir>', 'run Quorum members under `node --cpu-prof` writing .cpuprofile files to DIR (stops them gracefully)')
    .action(async (options: { size: string; duration: string; warmup: string; bulkKeys: string; engines: string; scenarios: string; failoverTrials: string; electionMs: string; snapshotKeys: string; profileDir?: string }) => {
      const command = defaultQuorumCommand()
      if (options.profileDir) command.args.unshift('--cpu-prof', `--cpu-prof-dir=${resolve(options.profileDir)}`)
      const table = await runBench({
        size: Number(options.size),
        durationSeconds: Number(options.duration),
        warmupSeconds: Number(options.warmup),
        bulkKeys: Number(options.bulkKeys),
        engines: options.engines.split(',') as ClusterEngine[],
        scenarios: options.scenarios.split(',').filter((name) => name !== ''),
        gracefulStop: options.profileDir !== undefined,
        quorumCommand: command,
        log: (line) => console.error(line),
      })
      console.log(
        `${options.size} members per cluster (${options.engines}, running side by side); per scenario and engine: ${options.warmup} s warmup, ` +
          `then ${options.duration} s measured in ${TURNS} turns (ABBA order)\n`,
      )
      console.log(table)
      if (Number(options.failoverTrials) > 0) {
        const electionMs = Number(options.electionMs)
        const failover = await runFailoverBench({
          engines: options.engines.split(',') as ClusterEngine[],
          trials: Number(options.failoverTrials),
          electionMs,
          heartbeatMs: Math.max(10, Math.round(electionMs / 10)),
          quorumCommand: defaultQuorumCommand(),
          log: (line) => console.error(line),
        })
        console.log(`\n${failover}`)
      }
      if (Number(options.snapshotKeys) > 0) {
        const snapshots = await runSnapshotBench({
          engines: options.engines.split(',') as ClusterEngine[],
          size: Number(options.size),
          keys: Number(options.snapshotKeys),
          quorumCommand: defaultQuorumCommand(),
          log: (line) => console.error(line),
        })
        console.log(`\n${formatSnapshotTable(snapshots)}`)
      }
    })
}
