import { InvalidArgumentError, Option, type Command } from 'commander'
import { applyDrill, drillReport, enableDrills, type DrillKind, type DrillReport, type PartitionDirection } from '../../cluster/drills'
import { ClusterOperationError, LocalCluster } from '../../cluster/launcher'
import { LinkProxyError, runLinkProxyProcess, type LinkFaultSpec } from '../../cluster/link-proxy'
import { ManifestError } from '../../cluster/manifest'
import { choiceOption, intOption, listOption } from '../options'
import { renderTable } from '../table'

// `quorum cluster drill ...`: network failure drills on a local cluster through its link proxies (issue 15),
// and the hidden `quorum cluster link-proxy` that runs the proxies (started by the launcher).

async function guardedDrill(action: () => Promise<void>): Promise<void> {
  try {
    await action()
  } catch (error) {
    if (error instanceof ClusterOperationError || error instanceof ManifestError || error instanceof LinkProxyError) {
      console.error(`quorum cluster drill: ${error.message}`)
      process.exitCode = 1
      return
    }
    throw error
  }
}

function rateOption(value: string): number {
  const rate = Number(value)
  if (!/^\d*\.?\d+$/.test(value.trim()) || rate < 0 || rate > 1) throw new InvalidArgumentError('must be a probability between 0 and 1, e.g. 0.05')
  return rate
}

function describeFault(fault: LinkFaultSpec): string {
  const parts: string[] = []
  if (fault.blocked) parts.push('BLOCKED')
  if (fault.delayMs > 0) parts.push(`+${fault.delayMs} ms`)
  if (fault.jitterMs > 0) parts.push(`±${fault.jitterMs} ms jitter`)
  if (fault.lossRate > 0) parts.push(`${Math.round(fault.lossRate * 1000) / 10}% loss`)
  return parts.join(', ')
}

function printReport(report: DrillReport, format: 'table' | 'json'): void {
  if (format === 'json') {
    console.log(JSON.stringify(report, null, 2))
    return
  }
  const rows = report.members.map((m) => [
    m.name,
    m.running ? 'running' : 'stopped',
    m.leader,
    m.raftTerm === null ? '' : String(m.raftTerm),
    m.canWrite === null ? '' : m.canWrite ? `yes (${m.writeMs} ms)` : 'NO',
    m.error,
  ])
  console.log(renderTable(['MEMBER', 'PROCESS', 'SEES LEADER', 'TERM', 'WRITE', 'ERROR'], rows))
  const faults = Object.entries(report.faults)
  if (faults.length > 0) console.log(renderTable(['LINK (bytes from>to)', 'FAULT'], faults.map(([key, fault]) => [key, describeFault(fault)])))
  else console.log('no link faults')
  console.log(report.analysis.explanation)
}

/** Adds `drill` and the hidden `link-proxy` under `quorum cluster`. */
export function registerDrillCommands(cluster: Command): void {
  cluster
    .command('link-proxy', { hidden: true })
    .description('run the link proxies of a cluster with network drills (started by the launcher)')
    .requiredOption('--dir <dir>', 'cluster directory')
    .action((options: { dir: string }) => runLinkProxyProcess(options.dir))

  const drill = cluster.command('drill').description('network failure drills without root: partition, split, slow or lossy links, heal')
  const dirOption = () => new Option('--dir <dir>', 'cluster directory').makeOptionMandatory()
  const membersOption = (text: string) => new Option('--member <names>', text).argParser(listOption)

  drill
    .command('enable')
    .description('route peer traffic through per-link proxies (restarts each running member once)')
    .addOption(dirOption())
    .action((options: { dir: string }) =>
      guardedDrill(async () => {
        await enableDrills(LocalCluster.open(options.dir), (line) => console.error(line))
        console.log('network drills enabled')
      }),
    )

  drill
    .command('status')
    .description("each member's leader and term, the link faults, and which side holds quorum")
    .addOption(dirOption())
    .option('--probe', 'send one write through each member (2 s deadline) to show who can write', false)
    .option('-w, --write-out <format>', 'output format', choiceOption(['table', 'json'] as const), 'table')
    .action((options: { dir: string; probe: boolean; writeOut: 'table' | 'json' }) =>
      guardedDrill(async () => printReport(await drillReport(LocalCluster.open(options.dir), { probeWrites: options.probe }), options.writeOut)),
    )

  const kinds: Array<[DrillKind, string, (command: Command) => Command]> = [
    [
      'partition',
      'cut members (default: the leader) off from the rest',
      (c) => c.addOption(membersOption('members to cut off, comma-separated')).option('--direction <dir>', 'both; out: their messages are lost; in: nothing reaches them', choiceOption(['both', 'in', 'out'] as const), 'both'),
    ],
    ['split', 'split the cluster in two: the given members (default: the leader) form the minority side', (c) => c.addOption(membersOption('members of the minority side'))],
    [
      'latency',
      'add round-trip latency (and jitter) between members, e.g. to imitate regions',
      (c) =>
        c
          .addOption(membersOption('two or more: links among them; one: its links; none: every link'))
          .addOption(new Option('--ms <n>', 'added round trip in ms (half each way)').argParser(intOption(0, 60_000)).makeOptionMandatory())
          .option('--jitter <n>', 'added random round-trip jitter in ms', intOption(0, 60_000), 0),
    ],
    [
      'loss',
      'lose a share of the bytes on links (TCP resends them after >= 200 ms)',
      (c) => c.addOption(membersOption('as for latency')).addOption(new Option('--rate <p>', 'probability 0..1').argParser(rateOption).makeOptionMandatory()),
    ],
    ['heal', 'remove every link fault', (c) => c],
  ]
  for (const [kind, description, options] of kinds) {
    options(drill.command(kind).description(description).addOption(dirOption())).action(
      (flags: { dir: string; member?: string[]; direction?: PartitionDirection; ms?: number; jitter?: number; rate?: number }) =>
        guardedDrill(async () => {
          const analysis = await applyDrill(LocalCluster.open(flags.dir), {
            kind,
            members: flags.member,
            direction: flags.direction,
            ms: flags.ms,
            jitterMs: flags.jitter,
            rate: flags.rate,
          })
          console.log(analysis.explanation)
        }),
    )
  }
}
