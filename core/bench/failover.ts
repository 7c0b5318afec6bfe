import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster, type MemberCommand } from '../cluster/launcher'
import type { ClusterEngine, ManifestMember } from '../cluster/manifest'
import { serviceMethods } from '../proto/services'
import { H2UnaryClient } from './h2-client'

// Failover time, part of `quorum bench`: in a 3-member cluster, SIGKILL the leader and measure until the first
// put acknowledged by the survivors. Puts are fired at both survivors every `probeIntervalMs` from the kill on,
// so the figure is election + commit of one entry, at the resolution of the probe interval. The killed member
// is restarted (and the cluster given time to settle) between trials. Both engines run the same way (LocalCluster,
// same --election-timeout and --heartbeat-interval), one after the other.

const KV = serviceMethods('etcdserverpb.KV')
const MAINTENANCE = serviceMethods('etcdserverpb.Maintenance')
const VALUE = randomBytes(64)

/** Options of a failover measurement. */
export interface FailoverOptions {
  engines: ClusterEngine[]
  /** Kill/recover rounds per engine. */
  trials: number
  electionMs: number
  heartbeatMs: number
  quorumCommand: MemberCommand
  /** Interval between probe puts after the kill, per survivor. */
  probeIntervalMs?: number
  /** A trial that sees no acknowledged put within this time counts as failed. */
  giveUpMs?: number
  log: (line: string) => void
}

/** The failover times of one engine (ms, one per successful trial, in run order) and failed trials. */
export interface FailoverResult {
  engine: ClusterEngine
  timesMs: number[]
  failedTrials: number
}

/** The member that is leader according to every member it asks (Maintenance.Status), or null. */
async function findLeader(cluster: LocalCluster): Promise<ManifestMember | null> {
  for (const member of cluster.activeMembers()) {
    const client = new H2UnaryClient(member.clientURL)
    try {
      const status = await client.call(MAINTENANCE.Status, {} as never)
      const leader = cluster.activeMembers().find((m) => m.id !== '' && BigInt(`0x${m.id}`) === BigInt(String(status.leader)))
      if (leader) return leader
      if (status.leader === status.header?.member_id) return member
    } catch {
      // ask the next member
    } finally {
      client.close()
    }
  }
  return null
}

/** Waits until a put through `url` is acknowledged (the cluster has a leader and quorum again). */
async function waitWritable(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const client = new H2UnaryClient(url)
  try {
    for (;;) {
      try {
        await client.call(KV.Put, { key: Buffer.from('failover/ready'), value: VALUE } as never)
        return
      } catch (error) {
        if (Date.now() > deadline) throw error
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  } finally {
    client.close()
  }
}

/**
 * One trial: SIGKILL the leader, fire puts at the survivors until one is acknowledged; returns the time from
 * the kill signal to that acknowledgement in ms (null when nothing was acknowledged within `giveUpMs`).
 */
async function killLeaderOnce(cluster: LocalCluster, leader: ManifestMember, options: FailoverOptions): Promise<number | null> {
  const survivors = cluster.activeMembers().filter((m) => m.name !== leader.name)
  const clients = survivors.map((m) => new H2UnaryClient(m.clientURL))
  const probeIntervalMs = options.probeIntervalMs ?? 10
  const giveUpMs = options.giveUpMs ?? 30_000
  try {
    // Warm the connections so the first probe after the kill does not pay for a handshake.
    await Promise.all(clients.map((client) => client.call(KV.Range, { key: Buffer.from('failover/ready'), serializable: true } as never)))
    let acknowledgedAt: number | null = null
    let probe = 0
    const killedAt = performance.now()
    const killed = cluster.kill(leader.name)
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (acknowledgedAt !== null || performance.now() - killedAt > giveUpMs) {
          clearInterval(timer)
          resolve()
          return
        }
        for (const client of clients) {
          client.call(KV.Put, { key: Buffer.from(`failover/${probe++}`), value: VALUE } as never).then(
            () => {
              acknowledgedAt ??= performance.now()
            },
            () => undefined,
          )
        }
      }, probeIntervalMs)
    })
    await killed
    return acknowledgedAt === null ? null : acknowledgedAt - killedAt
  } finally {
    for (const client of clients) client.close()
  }
}

/** Starts a 3-member cluster of `engine`, runs the trials, stops it and removes its directory. */
export async function measureFailover(engine: ClusterEngine, options: FailoverOptions): Promise<FailoverResult> {
  const dir = mkdtempSync(join(tmpdir(), `quorum-failover-${engine}-`))
  options.log(`failover: starting a 3-member ${engine} cluster (election ${options.electionMs} ms, heartbeat ${options.heartbeatMs} ms)`)
  const cluster = await LocalCluster.up({
    dir: join(dir, 'cluster'),
    size: 3,
    engine,
    electionMs: options.electionMs,
    heartbeatMs: options.heartbeatMs,
    quorumCommand: options.quorumCommand,
    healthTimeoutMs: 60_000,
  })
  const result: FailoverResult = { engine, timesMs: [], failedTrials: 0 }
  try {
    for (let trial = 0; trial < options.trials; trial++) {
      await waitWritable(cluster.activeMembers()[0].clientURL, 30_000)
      const leader = await findLeader(cluster)
      if (!leader) throw new Error(`failover: the ${engine} cluster reports no leader`)
      const ms = await killLeaderOnce(cluster, leader, options)
      if (ms === null) result.failedTrials++
      else result.timesMs.push(ms)
      options.log(`failover: ${engine} trial ${trial + 1}: killed leader ${leader.name}, first acknowledged put after ${ms === null ? 'none' : `${ms.toFixed(0)} ms`}`)
      await cluster.start(leader.name, 60_000)
    }
  } finally {
    for (const member of cluster.activeMembers()) await cluster.kill(member.name).catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
  return result
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** The failover table (Markdown): per engine the median, min and max time in ms and the failed trials. */
export function formatFailoverTable(results: FailoverResult[], electionMs: number): string {
  const fmt = (n: number | undefined) => (n === undefined ? '-' : n.toFixed(0))
  const lines = [
    `| failover (kill -9 leader -> first acknowledged put), election ${electionMs} ms | median ms | min ms | max ms | trials | failed |`,
    '|---|---|---|---|---|---|',
  ]
  for (const r of results) {
    const min = r.timesMs.length ? Math.min(...r.timesMs) : undefined
    const max = r.timesMs.length ? Math.max(...r.timesMs) : undefined
    lines.push(`| ${r.engine} | ${fmt(median(r.timesMs))} | ${fmt(min)} | ${fmt(max)} | ${r.timesMs.length + r.failedTrials} | ${r.failedTrials} |`)
  }
  return lines.join('\n')
}

/** Measures every engine in `options.engines` (one after the other) and returns the table. */
export async function runFailoverBench(options: FailoverOptions): Promise<string> {
  const results: FailoverResult[] = []
  for (const engine of options.engines) results.push(await measureFailover(engine, options))
  return formatFailoverTable(results, options.electionMs)
}
