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
// started one after the other on this machine, with the same flags (LocalCluster), and a table of both.

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

/** Runs `concurrency` loops of `op` for warmup + duration; statistics over the ops finished in the window. */
async function load(name: string, concurrency: number, options: BenchOptions, op: (worker: number) => Promise<unknown>): Promise<ScenarioResult> {
  const start = performance.now()
  const measureFrom = start + options.warmupSeconds * 1000
  const end = measureFrom + options.durationSeconds * 1000
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
  latencies.sort((a, b) => a - b)
  return { scenario: name, opsPerSecond: latencies.length / options.durationSeconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors }
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

/** Runs the selected scenarios against one started cluster. */
async function runScenarios(urls: string[], options: BenchOptions): Promise<ScenarioResult[]> {
  const ordered = await leaderFirst(urls)
  const conns = Array.from({ length: 4 }, (_, i) => new H2UnaryClient(ordered[i % ordered.length]))
  const leader = new H2UnaryClient(ordered[0])
  const random = () => key(Math.floor(Math.random() * KEY_SPACE))
  const put = (client: H2UnaryClient) => client.call(KV.Put, { key: random(), value: VALUE } as never)
  const selected = (name: (typeof SCENARIOS)[number]) => !options.scenarios?.length || options.scenarios.includes(name)
  const results: ScenarioResult[] = []
  try {
    if (selected('put-seq')) results.push(await load('put-seq (1 client)', 1, options, () => put(leader)))
    if (selected('put-conc')) results.push(await load('put-conc (64 in flight)', 64, options, (w) => put(conns[w % 4])))
    const range = (serializable: boolean) => (w: number) => conns[w % 4].call(KV.Range, { key: random(), serializable } as never) as Promise<RangeResponse>
    if (selected('range-lin')) results.push(await load('range-lin (64 in flight)', 64, options, range(false)))
    if (selected('range-ser')) results.push(await load('range-ser (64 in flight)', 64, options, range(true)))
    if (selected('txn-cas')) {
      const revisions = await Promise.all(
        Array.from({ length: 64 }, async (_, w) => Number((await leader.call(KV.Put, { key: Buffer.from(`cas/${w}`), value: VALUE } as never)).header?.revision)),
      )
      results.push(
        await load('txn-cas (64 in flight)', 64, options, async (w) => {
          const casKey = Buffer.from(`cas/${w}`)
          const response = await conns[w % 4].call(KV.Txn, {
            compare: [{ result: CompareResult.EQUAL, target: TARGET_MOD, key: casKey, mod_revision: String(revisions[w]), target_union: 'mod_revision' }],
            success: [{ request_put: { key: casKey, value: VALUE }, request: 'request_put' }],
            failure: [],
          } as never)
          if (!response.succeeded) throw new Error('cas lost')
          revisions[w] = Number(response.header?.revision)
        }),
      )
    }
    if (selected('bulk')) results.push(await bulkLoad(conns, options))
  } finally {
    for (const client of [...conns, leader]) client.close()
  }
  return results
}

/**
 * `options.bulkKeys` keys (`bulk/0`..) with 256 B values as Txns of 100 puts, 8 in flight over `conns` (4 clients);
 * throughput in keys/s, failed batches in `errors`.
 */
export async function bulkLoad(conns: H2UnaryClient[], options: Pick<BenchOptions, 'bulkKeys'>): Promise<ScenarioResult> {
  const batches = Math.ceil(options.bulkKeys / 100)
  let next = 0
  const latencies: number[] = []
  let errors = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      while (next < batches) {
        const batch = next++
        const success = Array.from({ length: 100 }, (_, i) => ({ request_put: { key: Buffer.from(`bulk/${batch * 100 + i}`), value: VALUE }, request: 'request_put' }))
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
  const seconds = (performance.now() - start) / 1000
  latencies.sort((a, b) => a - b)
  return { scenario: `bulk load ${options.bulkKeys} keys (txn x100, 8 in flight), keys/s`, opsPerSecond: (latencies.length * 100) / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors }
}

/** Starts a cluster of `engine`, runs the scenarios, stops it and removes its directory. */
export async function benchEngine(engine: ClusterEngine, options: BenchOptions): Promise<ScenarioResult[]> {
  const dir = mkdtempSync(join(tmpdir(), `quorum-bench-${engine}-`))
  options.log(`starting a ${options.size}-member ${engine} cluster in ${dir}`)
  const cluster = await LocalCluster.up({ dir: join(dir, 'cluster'), size: options.size, engine, quorumCommand: options.quorumCommand, healthTimeoutMs: 60_000 })
  try {
    return await runScenarios(cluster.activeMembers().map((m) => m.clientURL), options)
  } finally {
    for (const member of cluster.activeMembers()) await (options.gracefulStop ? cluster.stop(member.name) : cluster.kill(member.name)).catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
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

/** Runs the bench for every engine in `options.engines` (one after the other) and returns the table. */
export async function runBench(options: BenchOptions): Promise<string> {
  const results: Partial<Record<ClusterEngine, ScenarioResult[]>> = {}
  for (const engine of options.engines) results[engine] = await benchEngine(engine, options)
  return formatTable(results.etcd ?? [], results.quorum ?? [])
}
