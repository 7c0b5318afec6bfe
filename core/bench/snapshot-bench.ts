import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster, type MemberCommand } from '../cluster/launcher'
import type { ClusterEngine } from '../cluster/manifest'
import { restoreSnapshot } from '../snapshot/restore'
import { saveSnapshot } from '../snapshot/save'
import { bulkLoad } from './bench'
import { H2UnaryClient } from './h2-client'

// Snapshot part of `quorum bench` (issue 9): per engine, a cluster loaded with N keys (256 B values, Txns of
// 100 puts as the bulk scenario), `snapshot save` from one member through Maintenance.Snapshot (the same code
// for both engines: stream to FILE.part, sha256 trailer checked, fsync, rename), then the restore of that file
// into a new data dir: `quorum snapshot restore` for both files, and etcd's own `etcdctl snapshot restore`
// for the etcd file as the reference.

/** Options of the snapshot bench. */
export interface SnapshotBenchOptions {
  engines: ClusterEngine[]
  size: number
  /** Keys loaded before the save. */
  keys: number
  quorumCommand: MemberCommand
  log: (line: string) => void
}

/** Figures of one engine. Times in ms; `etcdctlRestoreMs` only for etcd snapshots (null otherwise). */
export interface SnapshotBenchResult {
  engine: ClusterEngine
  keys: number
  sizeBytes: number
  saveMs: number
  quorumRestoreMs: number
  etcdctlRestoreMs: number | null
}

const RESTORE_PEER = 'http://127.0.0.1:2380'

// etcdctl 3.4 snapshot restore into `dataDir`; elapsed ms. Throws with etcdctl's output when it fails.
function etcdctlRestore(file: string, dataDir: string): number {
  const started = performance.now()
  const result = spawnSync('etcdctl', ['snapshot', 'restore', file, '--name', 'bench', '--initial-cluster', `bench=${RESTORE_PEER}`,
    '--initial-advertise-peer-urls', RESTORE_PEER, '--data-dir', dataDir], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`etcdctl snapshot restore failed (exit ${result.status}): ${result.stderr}`)
  return performance.now() - started
}

/** Loads, saves and restores for one engine; the cluster and every file are removed afterwards. */
export async function benchSnapshotEngine(engine: ClusterEngine, options: SnapshotBenchOptions): Promise<SnapshotBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), `quorum-snapshot-bench-${engine}-`))
  options.log(`snapshot bench: starting a ${options.size}-member ${engine} cluster in ${dir}`)
  const cluster = await LocalCluster.up({ dir: join(dir, 'cluster'), size: options.size, engine, quorumCommand: options.quorumCommand, healthTimeoutMs: 60_000 })
  try {
    const urls = cluster.activeMembers().map((m) => m.clientURL)
    const conns = Array.from({ length: 4 }, (_, i) => new H2UnaryClient(urls[i % urls.length])) // bulkLoad spreads over 4
    try {
      const loaded = await bulkLoad(conns, 0, Math.ceil(options.keys / 100))
      if (loaded.errors > 0) throw new Error(`snapshot bench: ${loaded.errors} load batches failed on ${engine}`)
    } finally {
      for (const conn of conns) conn.close()
    }
    options.log(`snapshot bench: ${options.keys} keys loaded into ${engine}; saving`)
    const file = join(dir, `${engine}.snapshot.db`)
    const saved = await saveSnapshot(file, { endpoint: urls[0] })
    const quorumStarted = performance.now()
    restoreSnapshot({ file, name: 'bench', initialCluster: `bench=${RESTORE_PEER}`, initialClusterToken: 'bench', initialAdvertisePeerUrls: [RESTORE_PEER], dataDir: join(dir, 'quorum-restore') })
    const quorumRestoreMs = performance.now() - quorumStarted
    const etcdctlRestoreMs = engine === 'etcd' ? etcdctlRestore(file, join(dir, 'etcdctl-restore')) : null
    return { engine, keys: options.keys, sizeBytes: saved.sizeBytes, saveMs: saved.elapsedMs, quorumRestoreMs, etcdctlRestoreMs }
  } finally {
    await cluster.down()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Runs the snapshot bench for every engine in order (one cluster at a time). */
export async function runSnapshotBench(options: SnapshotBenchOptions): Promise<SnapshotBenchResult[]> {
  const results: SnapshotBenchResult[] = []
  for (const engine of options.engines) results.push(await benchSnapshotEngine(engine, options))
  return results
}

/** The results as a Markdown table (MB = 10^6 bytes). */
export function formatSnapshotTable(results: SnapshotBenchResult[]): string {
  const seconds = (ms: number | null) => (ms === null ? '-' : (ms / 1000).toFixed(2))
  const lines = [
    '| snapshot | keys | size MB | save s | save MB/s | quorum restore s | etcdctl restore s |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const r of results) {
    const mb = r.sizeBytes / 1e6
    lines.push(`| ${r.engine} | ${r.keys} | ${mb.toFixed(1)} | ${seconds(r.saveMs)} | ${(mb / (r.saveMs / 1000)).toFixed(1)} | ${seconds(r.quorumRestoreMs)} | ${seconds(r.etcdctlRestoreMs)} |`)
  }
  return lines.join('\n')
}
