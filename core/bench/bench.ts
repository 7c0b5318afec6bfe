import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster, type MemberCommand } from '../cluster/launcher'
import type { ClusterEngine } from '../cluster/manifest'
import { serviceMethods } from '../proto/services'
import { CompareResult, type RangeResponse } from '../proto/types'
import { H2UnaryClient } from './h2-client'

// `quorum bench`: the load of notes/etcd-baseline.md (256 B values, random keys out of 100k, 64 in flight over
// 4 connections spread over the members leader first) against a real etcd 3.4 cluster and a Quorum cluster
// running side by side on this machine, with the same flags (LocalCluster), each scenario in turns (ABBA), and a
// table of both.

const KV = serviceMethods('etcdserverpb.KV')
const MAINTENANCE = serviceMethods('etcdserverpb.Maintenance')
const VALUE = randomBytes(256)
const KEY_SPACE = 100_000
/** etcd compat (clientv3/compare.go): CompareTarget MOD. */
const TARGET_MOD = 2

/** Options of one bench run. */
export interface BenchOptions {
  size: number
  /** Measured seconds per scenario (after `warmupSeconds`). */
  durationSeconds: number
  warmupSeconds: number
  /** Keys of the bulk load (Txn of 100 puts, 8 in flight). */
  bulkKeys: number
  engines: ClusterEngine[]
  /** Scenario names to run (see SCENARIOS); all when empty. */
  scenarios?: string[]
  /** Stop members gracefully (SIGTERM) instead of killing them, so `--cpu-prof` profiles get written. */
  gracefulStop?: boolean
  quorumCommand: MemberCommand
  log: (line: string) => void
}

/** One measured scenario. `opsPerSecond` is keys/s for the bulk load. */
export interface ScenarioResult {
  scenario: string
  opsPerSecond: number
  p50Ms: number
  p99Ms: number
  errors: number
}

function key(n: number): Buffer {
  return Buffer.from(`bench/${String(n).padStart(6, '0')}`)
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** What one turn of a scenario measured on one engine. */
export interface Sample {
  /** Latency of every operation finished in the measured window, in ms. */
  latencies: number[]
  /** Length of the measured window, in s. */
  seconds: number
  errors: number
  /** Keys written per operation (100 for the bulk load's Txns, else 1): throughput is counted in keys. */
  keysPerOp?: number
}

/** One scenario's result over all its turns: throughput over the summed windows, percentiles over all latencies. */
export function summarize(scenario: string, samples: Sample[]): ScenarioResult {
  const latencies = samples.flatMap((sample) => sample.latencies).sort((a, b) => a - b)
  const seconds = samples.reduce((sum, sample) => sum + sample.seconds, 0)
  const keys = samples.reduce((sum, sample) => sum + sample.latencies.length * (sample.keysPerOp ?? 1), 0)
  const errors = samples.reduce((sum, sample) => sum + sample.errors, 0)
  return { scenario, opsPerSecond: seconds > 0 ? keys / seconds : 0, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors }
}

/**
 * The order in which `engines` take `turns` turns each at one scenario: A B B A A B ... (ABBA), so that a machine
 * whose speed drifts during the run (shared CPUs) favours neither.
 */
export function turnOrder<T>(engines: readonly T[], turns: number): T[] {
  const order: T[] = []
  for (let turn = 0; turn < turns; turn++) order.push(...(turn % 2 === 0 ? engines : [...engines].reverse()))
  return order
}

/** Runs `concurrency` loops of `op` for `warmupSeconds` + `seconds`; latencies of the ops started in the window. */
async function load(concurrency: number, seconds: number, warmupSeconds: number, op: (worker: number) => Promise<unknown>): Promise<Sample> {
  const start = performance.now()
  const measureFrom = start + warmupSeconds * 1000
  const end = measureFrom + seconds * 1000
  const latencies: number[] = []
  let errors = 0
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < end) {
        const t0 = performance.now()
        try {
          await op(worker)
          if (t0 >= measureFrom) latencies.push(performance.now() - t0)
        } catch {
          errors++
        }
      }
    }),
  )
  return { latencies, seconds, errors }
}

/** Client URLs ordered leader first (Maintenance.Status of each member). */
async function leaderFirst(urls: string[]): Promise<string[]> {
  const statuses = await Promise.all(
    urls.map(async (url) => {
      const client = new H2UnaryClient(url)
      try {
        const status = await client.call(MAINTENANCE.Status, {} as never)
        return { url, isLeader: status.leader === status.header?.member_id }
      } finally {
        client.close()
      }
    }),
  )
  return [...statuses.filter((s) => s.isLeader), ...statuses.filter((s) => !s.isLeader)].map((s) => s.url)
}

/** Scenario names accepted by `BenchOptions.scenarios` (`quorum bench --scenarios`), in run order. */
export const SCENARIOS = ['put-seq', 'put-conc', 'range-lin', 'range-ser', 'txn-cas', 'bulk'] as const
type ScenarioName = (typeof SCENARIOS)[number]

const SCENARIO_TITLES: Record<ScenarioName, (options: BenchOptions) => string> = {
  'put-seq': () => 'put-seq (1 client)',
  'put-conc': () => 'put-conc (64 in flight)',
  'range-lin': () => 'range-lin (64 in flight)',
  'range-ser': () => 'range-ser (64 in flight)',
  'txn-cas': () => 'txn-cas (64 in flight)',
  bulk: (options) => `bulk load ${options.bulkKeys} keys (txn x100, 8 in flight), keys/s`,
}

/** Turns per engine and scenario: the measured time (and the bulk load's keys) is split between them. */
export const TURNS = 2

/** One started cluster and the clients of the load (4 connections spread over the members, leader first). */
class BenchTarget {
  private readonly conns: H2UnaryClient[]
  private readonly leader: H2UnaryClient
  private casRevisions: number[] | undefined
  private nextBulkBatch = 0
  /** Scenarios this engine has already been warmed up for. */
  private readonly warmed = new Set<ScenarioName>()

  constructor(ordered: string[]) {
    this.conns = Array.from({ length: 4 }, (_, i) => new H2UnaryClient(ordered[i % ordered.length]))
    this.leader = new H2UnaryClient(ordered[0])
  }

  /** One turn of `scenario`: `share` of the measured time (or of the bulk load's keys), warmed up on the first turn. */
  async turn(scenario: ScenarioName, options: BenchOptions, share: number): Promise<Sample> {
    const warmup = this.warmed.has(scenario) ? 0 : options.warmupSeconds
    this.warmed.add(scenario)
    const seconds = options.durationSeconds * share
    const { conns } = this
    const random = () => key(Math.floor(Math.random() * KEY_SPACE))
    const put = (client: H2UnaryClient) => client.call(KV.Put, { key: random(), value: VALUE } as never)
    const range = (serializable: boolean) => (w: number) => conns[w % 4].call(KV.Range, { key: random(), serializable } as never) as Promise<RangeResponse>
    switch (scenario) {
      case 'put-seq':
        return load(1, seconds, warmup, () => put(this.leader))
      case 'put-conc':
        return load(64, seconds, warmup, (w) => put(conns[w % 4]))
      case 'range-lin':
        return load(64, seconds, warmup, range(false))
      case 'range-ser':
        return load(64, seconds, warmup, range(true))
      case 'txn-cas': {
        const revisions = (this.casRevisions ??= await Promise.all(
          Array.from({ length: 64 }, async (_, w) => Number((await this.leader.call(KV.Put, { key: Buffer.from(`cas/${w}`), value: VALUE } as never)).header?.revision)),
        ))
        return load(64, seconds, warmup, async (w) => {
          const casKey = Buffer.from(`cas/${w}`)
          const response = await conns[w % 4].call(KV.Txn, {
            compare: [{ result: CompareResult.EQUAL, target: TARGET_MOD, key: casKey, mod_revision: String(revisions[w]), target_union: 'mod_revision' }],
            success: [{ request_put: { key: casKey, value: VALUE }, request: 'request_put' }],
            failure: [],
          } as never)
          if (!response.succeeded) throw new Error('cas lost')
          revisions[w] = Number(response.header?.revision)
        })
      }
      case 'bulk': {
        // The warmup writes the same Txns under another prefix, so that the measured keys stay the same.
        if (warmup > 0) await bulkLoad(conns, 0, Infinity, { prefix: 'bench-warmup/', untilMs: performance.now() + warmup * 1000 })
        const first = this.nextBulkBatch
        this.nextBulkBatch += Math.ceil((options.bulkKeys * share) / 100)
        return bulkLoad(conns, first, this.nextBulkBatch)
      }
    }
  }

  close(): void {
    for (const client of [...this.conns, this.leader]) client.close()
  }
}

/**
 * Txn batches `first` up to `end` (exclusive) of the bulk load: keys `<prefix><batch*100+i>` (prefix `bulk/`) with
 * 256 B values, 100 puts per Txn, 8 in flight over `conns` (4 clients), no new batch once `untilMs`
 * (performance.now()) has passed; failed batches in `errors`.
 */
export async function bulkLoad(conns: H2UnaryClient[], first: number, end: number, limits: { prefix?: string; untilMs?: number } = {}): Promise<Sample> {
  const { prefix = 'bulk/', untilMs = Infinity } = limits
  let next = first
  const latencies: number[] = []
  let errors = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      while (next < end && performance.now() < untilMs) {
        const batch = next++
        const success = Array.from({ length: 100 }, (_, i) => ({ request_put: { key: Buffer.from(`${prefix}${batch * 100 + i}`), value: VALUE }, request: 'request_put' }))
        const t0 = performance.now()
        try {
          await conns[w % 4].call(KV.Txn, { compare: [], success, failure: [] } as never)
          latencies.push(performance.now() - t0)
        } catch {
          errors++
        }
      }
    }),
  )
  return { latencies, seconds: (performance.now() - start) / 1000, errors, keysPerOp: 100 }
}

/** The comparison table (Markdown): each scenario's etcd and Quorum figures and the Quorum/etcd ratio. */
export function formatTable(etcd: ScenarioResult[], quorum: ScenarioResult[]): string {
  const fmt = (n: number | undefined, digits = 1) => (n === undefined ? '-' : n.toFixed(digits))
  const lines = [
    '| scenario | etcd ops/s | quorum ops/s | ratio | etcd p50/p99 ms | quorum p50/p99 ms | errors etcd/quorum |',
    '|---|---|---|---|---|---|---|',
  ]
  for (let i = 0; i < Math.max(etcd.length, quorum.length); i++) {
    const e = etcd[i]
    const q = quorum[i]
    const ratio = e && q && e.opsPerSecond > 0 ? `${(q.opsPerSecond / e.opsPerSecond).toFixed(2)}x` : '-'
    lines.push(
      `| ${(e ?? q).scenario} | ${fmt(e?.opsPerSecond, 0)} | ${fmt(q?.opsPerSecond, 0)} | ${ratio} | ${fmt(e?.p50Ms)} / ${fmt(e?.p99Ms)} | ${fmt(q?.p50Ms)} / ${fmt(q?.p99Ms)} | ${e?.errors ?? '-'}/${q?.errors ?? '-'} |`,
    )
  }
  return lines.join('\n')
}

/**
 * Starts a cluster of every engine in `options.engines`, then runs each selected scenario on them in turns
 * (turnOrder: ABBA, TURNS per engine, each with its share of the time or keys, the warmup before an engine's first
 * turn), so that both engines are measured over the same stretch of the machine's time; returns the table.
 */
export async function runBench(options: BenchOptions): Promise<string> {
  const clusters: { engine: ClusterEngine; dir: string; cluster?: LocalCluster; target?: BenchTarget }[] = []
  try {
    for (const engine of options.engines) {
      const entry: (typeof clusters)[number] = { engine, dir: mkdtempSync(join(tmpdir(), `quorum-bench-${engine}-`)) }
      clusters.push(entry)
      options.log(`starting a ${options.size}-member ${engine} cluster in ${entry.dir}`)
      entry.cluster = await LocalCluster.up({ dir: join(entry.dir, 'cluster'), size: options.size, engine, quorumCommand: options.quorumCommand, healthTimeoutMs: 60_000 })
      entry.target = new BenchTarget(await leaderFirst(entry.cluster.activeMembers().map((m) => m.clientURL)))
    }
    const results: Partial<Record<ClusterEngine, ScenarioResult[]>> = {}
    for (const scenario of SCENARIOS) {
      if (options.scenarios?.length && !options.scenarios.includes(scenario)) continue
      const samples = new Map<ClusterEngine, Sample[]>(clusters.map((entry) => [entry.engine, []]))
      for (const entry of turnOrder(clusters, TURNS)) {
        const sample = await entry.target!.turn(scenario, options, 1 / TURNS)
        samples.get(entry.engine)!.push(sample)
        // each turn on its own, so that a reader can see how much the machine drifted during the scenario
        const turn = summarize(scenario, [sample])
        options.log(`${scenario}: ${entry.engine} turn ${samples.get(entry.engine)!.length}: ${turn.opsPerSecond.toFixed(0)} ops/s, p99 ${turn.p99Ms.toFixed(1)} ms`)
      }
      for (const [engine, engineSamples] of samples) (results[engine] ??= []).push(summarize(SCENARIO_TITLES[scenario](options), engineSamples))
    }
    return formatTable(results.etcd ?? [], results.quorum ?? [])
  } finally {
    for (const { cluster, dir, target } of clusters) {
      target?.close()
      if (cluster) for (const member of cluster.activeMembers()) await (options.gracefulStop ? cluster.stop(member.name) : cluster.kill(member.name)).catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
