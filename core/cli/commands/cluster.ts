import { Option, type Command } from 'commander'
import { ClusterOperationError, LocalCluster } from '../../cluster/launcher'
import { ManifestError, type ManifestPrometheus } from '../../cluster/manifest'
import { isPrometheusRunning, refreshPrometheusTargets, startClusterPrometheus } from '../../cluster/prometheus'
import { PrometheusStartError } from '../../metrics/prometheus'
import { clusterStatus, type ClusterStatus } from '../../cluster/status'
import { addMember, clusterClient, moveLeader, promoteMember, removeMember } from '../../cluster/membership-ops'
import { formatId } from '../../server/ids'
import { choiceOption, intOption } from '../options'
import { humanBytes, renderTable } from '../table'
import { registerDrillCommands } from './cluster-drill'

/** Runs an action, turning expected cluster errors into a one-line message and exit code 1. */
async function guarded(action: () => Promise<void>): Promise<void> {
  try {
    await action()
  } catch (error) {
    if (error instanceof ClusterOperationError || error instanceof ManifestError || error instanceof PrometheusStartError) {
      console.error(`quorum cluster: ${error.message}`)
      process.exitCode = 1
      return
    }
    throw error
  }
}

/** Records member IDs (as the members report them) in the manifest, for `--json` and later operations. */
async function recordMemberIds(cluster: LocalCluster): Promise<void> {
  const client = clusterClient(cluster, undefined, 5000)
  try {
    const { members } = await client.cluster.memberList()
    for (const member of cluster.manifest.members) {
      const listed = members.find((m) => m.name === member.name || m.peerUrls.includes(member.peerURL))
      if (listed) member.id = formatId(listed.id)
    }
    cluster.save()
  } finally {
    client.close()
  }
}

/** The cluster's own Prometheus as `status` reports it (null: started without --prometheus). */
function prometheusStatus(prometheus: ManifestPrometheus | null | undefined): { url: string; pid: number; running: boolean } | null {
  if (!prometheus) return null
  const running = isPrometheusRunning(prometheus)
  return { url: prometheus.url, pid: running ? prometheus.pid : 0, running }
}

function printStatus(status: ClusterStatus, prometheus: ReturnType<typeof prometheusStatus>, format: 'table' | 'json'): void {
  if (format === 'json') {
    console.log(JSON.stringify({ ...status, prometheus }, null, 2))
    return
  }
  const rows = status.members.map((m) => [
    m.name,
    m.id,
    m.clientURL,
    m.role,
    m.healthy ? 'true' : 'false',
    m.raftTerm === null ? '' : String(m.raftTerm),
    m.raftIndex === null ? '' : String(m.raftIndex),
    m.appliedIndex === null ? '' : String(m.appliedIndex),
    m.dbSizeBytes === null ? '' : humanBytes(m.dbSizeBytes),
    m.errors.join(', '),
  ])
  console.log(renderTable(['NAME', 'ID', 'ENDPOINT', 'ROLE', 'HEALTHY', 'RAFT TERM', 'RAFT INDEX', 'APPLIED', 'DB SIZE', 'ERRORS'], rows))
  const missing = status.quorumSize - status.availableVoters
  const verdict = status.hasQuorum
    ? `quorum held: ${status.availableVoters} of ${status.voters} voters up (quorum ${status.quorumSize}); can lose ${status.faultTolerance} more`
    : missing > 0
      ? `QUORUM LOST: ${status.availableVoters} of ${status.voters} voters up, ${status.quorumSize} needed; writes fail until ${missing} more return`
      : `NO LEADER: ${status.availableVoters} of ${status.voters} voters up; an election should finish within an election timeout`
  console.log(verdict)
  if (prometheus) console.log(`prometheus: ${prometheus.url} (${prometheus.running ? `running, pid ${prometheus.pid}` : 'STOPPED'})`)
}

/** `quorum cluster`: launch and operate local multi-member clusters. */
export function registerClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('launch and operate local multi-member clusters')
  const dirOption = () => new Option('--dir <dir>', 'cluster directory (holds cluster.json, data dirs and logs)').makeOptionMandatory()

  cluster
    .command('up')
    .description('start a local cluster of N members on 127.0.0.1 and wait until all are healthy')
    .addOption(dirOption())
    .option('--size <n>', 'number of members (odd sizes tolerate failures best)', intOption(1, 9), 3)
    .option('--base-port <port>', 'first port: clients base+i, peers base+100+i, metrics base+200+i (0: free ports)', intOption(0, 65000), 0)
    .option('--engine <engine>', 'member server: quorum, or a real etcd for comparison', choiceOption(['quorum', 'etcd'] as const), 'quorum')
    .option('--heartbeat-interval <ms>', 'heartbeat interval of every member', intOption(1, 10_000), 100)
    .option('--election-timeout <ms>', 'election timeout of every member', intOption(5, 50_000), 1000)
    .option('--snapshot-count <n>', 'applied entries between snapshots', intOption(1), 100000)
    .option('--tls', 'client and peer TLS with client-certificate auth (CA and root client certificate under DIR/certs)', false)
    .option('--prometheus', 'also start a real Prometheus (Debian `prometheus`) scraping every member each second with the shipped alert rules', false)
    .option('--drills', 'route peer traffic through per-link proxies for network drills (`quorum cluster drill ...`)', false)
    .option('--json', 'print the members as JSON', false)
    .action((options: { dir: string; size: number; basePort: number; engine: 'quorum' | 'etcd'; heartbeatInterval: number; electionTimeout: number; snapshotCount: number; tls: boolean; prometheus: boolean; drills: boolean; json: boolean }) =>
      guarded(async () => {
        if (options.size % 2 === 0) {
          console.error(
            `warning: ${options.size} members tolerate ${options.size / 2 - 1} failure(s), no more than ${options.size - 1} would; odd sizes add fault tolerance, even sizes only add load`,
          )
        }
        const started = await LocalCluster.up({
          dir: options.dir,
          size: options.size,
          basePort: options.basePort || undefined,
          engine: options.engine,
          heartbeatMs: options.heartbeatInterval,
          electionMs: options.electionTimeout,
          snapshotCount: options.snapshotCount,
          tls: options.tls,
          linkProxies: options.drills,
          onProgress: options.json ? undefined : (line) => console.error(line),
        })
        await recordMemberIds(started)
        const prometheus = options.prometheus ? await startClusterPrometheus(started) : null
        const members = started.activeMembers().map(({ name, id, clientURL, peerURL, metricsURL, pid, dataDir }) => ({ name, id, clientURL, peerURL, metricsURL, pid, dataDir }))
        if (options.json) console.log(JSON.stringify(prometheus ? { members, prometheus: { url: prometheus.url, pid: prometheus.pid } } : { members }))
        else console.log(`cluster of ${members.length} up; endpoints: ${started.endpoints()}`)
        if (prometheus && !options.json) console.log(`prometheus: ${prometheus.url} (scraping every ${prometheus.scrapeIntervalSeconds}s with the shipped rules; alerts at ${prometheus.url}/alerts)`)
        if (started.manifest.tls && !options.json) {
          const { caFile, clientCertFile, clientKeyFile } = started.manifest.tls
          console.log(`etcdctl --endpoints ${started.endpoints()} --cacert ${caFile} --cert ${clientCertFile} --key ${clientKeyFile} member list`)
        }
      }),
    )

  cluster
    .command('status')
    .description("show each member's role, health, raft term/index, db size, and whether the cluster has quorum")
    .addOption(dirOption())
    .option('-w, --write-out <format>', 'output format', choiceOption(['table', 'json'] as const), 'table')
    .action((options: { dir: string; writeOut: 'table' | 'json' }) =>
      guarded(async () => {
        const opened = LocalCluster.open(options.dir)
        const status = await clusterStatus(opened)
        printStatus(status, prometheusStatus(opened.manifest.prometheus), options.writeOut)
        if (!status.hasQuorum) process.exitCode = 1
      }),
    )

  cluster
    .command('down')
    .description("stop every member gracefully (and the cluster's Prometheus)")
    .addOption(dirOption())
    .option('--remove', 'also delete the cluster directory (data and logs)', false)
    .action((options: { dir: string; remove: boolean }) => guarded(() => LocalCluster.open(options.dir).down({ remove: options.remove })))

  cluster
    .command('add')
    .description('add a member (voter, or --learner) and start it; it joins with --initial-cluster-state existing')
    .addOption(dirOption())
    .option('--learner', 'add as a non-voting learner (promote it once caught up)', false)
    .action((options: { dir: string; learner: boolean }) =>
      guarded(async () => {
        const opened = LocalCluster.open(options.dir)
        const member = await addMember(opened, { learner: options.learner, onProgress: (line) => console.error(line) })
        refreshPrometheusTargets(opened)
        console.log(`member ${member.name} (${member.id}) added${options.learner ? ' as a learner' : ''} and healthy at ${member.clientURL}`)
      }),
    )
  const byName: Array<[string, string, (cluster: LocalCluster, name: string) => Promise<void>, string]> = [
    ['promote', 'promote a learner to voter once it has caught up', promoteMember, 'promoted to voter'],
    ['remove', 'remove a member (moving leadership away first if it leads) and stop it', removeMember, 'removed'],
    ['move-leader', 'transfer leadership to a member', moveLeader, 'is now the leader'],
  ]
  for (const [name, description, run, done] of byName) {
    cluster
      .command(`${name} <member>`)
      .description(description)
      .addOption(dirOption())
      .action((member: string, options: { dir: string }) =>
        guarded(async () => {
          const opened = LocalCluster.open(options.dir)
          await run(opened, member)
          refreshPrometheusTargets(opened)
          console.log(`member ${member} ${done}`)
        }),
      )
  }

  const memberOps: Array<[string, string, (cluster: LocalCluster, name: string) => Promise<void> | void]> = [
    ['kill', 'SIGKILL a member (a crash)', (c, name) => c.kill(name)],
    ['stop', 'stop a member gracefully (SIGTERM)', (c, name) => c.stop(name)],
    ['start', 'start a stopped member and wait until it is healthy', (c, name) => c.start(name)],
    ['restart', 'stop and start a member', (c, name) => c.restart(name)],
    ['pause', 'freeze a member (SIGSTOP)', (c, name) => c.pause(name)],
    ['resume', 'resume a paused member (SIGCONT)', (c, name) => c.resume(name)],
  ]
  for (const [name, description, run] of memberOps) {
    cluster
      .command(name)
      .description(description)
      .addOption(dirOption())
      .addOption(new Option('--member <name>', 'member name, e.g. member2').makeOptionMandatory())
      .action((options: { dir: string; member: string }) => guarded(async () => run(LocalCluster.open(options.dir), options.member)))
  }
  registerDrillCommands(cluster)
}
