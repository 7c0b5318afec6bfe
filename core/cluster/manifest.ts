import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/** Which server binary a local cluster runs: Quorum's own member, or a real etcd (for comparisons). */
export type ClusterEngine = 'quorum' | 'etcd'

/** One member of a local cluster, as recorded in the manifest. */
export interface ManifestMember {
  name: string
  /** Member ID (hex, as etcdctl prints it), known once the member answered; '' before. */
  id: string
  clientURL: string
  peerURL: string
  metricsURL: string
  dataDir: string
  logFile: string
  /** PID of the running process, or 0 when stopped. */
  pid: number
  /** True once the member was started at least once (later starts use --initial-cluster-state existing). */
  bootstrapped: boolean
  /** True for members added to a running cluster (they start with --initial-cluster-state existing). */
  added?: boolean
  /** Extra state: 'removed' members stay listed (their data dir is kept) but are never started again. */
  removed?: boolean
}

/** TLS material of a cluster started with --tls (paths inside the cluster dir). */
export interface ManifestTls {
  caFile: string
  /** Client certificate for tools (user `root`). */
  clientCertFile: string
  clientKeyFile: string
}

/** The Prometheus that `quorum cluster up --prometheus` started for the cluster (it outlives the CLI). */
export interface ManifestPrometheus {
  /** Base URL of its web UI and HTTP API, e.g. http://127.0.0.1:9090. */
  url: string
  /** Process id while running, 0 once stopped. */
  pid: number
  /** Its working directory (config, rules, targets file, TSDB), inside the cluster dir. */
  dir: string
  logFile: string
  scrapeIntervalSeconds: number
}

/** The file `quorum cluster up` writes to DIR: everything needed to operate the cluster later. */
export interface ClusterManifest {
  version: 1
  engine: ClusterEngine
  token: string
  createdAt: string
  heartbeatMs: number
  electionMs: number
  snapshotCount: number
  tls: ManifestTls | null
  members: ManifestMember[]
  /** Absent (older manifests) or null when the cluster runs without its own Prometheus. */
  prometheus?: ManifestPrometheus | null
}

/** Thrown when DIR holds no readable manifest. */
export class ManifestError extends Error {
  readonly code = 'CLUSTER_MANIFEST'
}

export const MANIFEST_FILE = 'cluster.json'

/** Reads DIR/cluster.json. */
export function readManifest(dir: string): ClusterManifest {
  const path = join(dir, MANIFEST_FILE)
  let manifest: ClusterManifest
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as ClusterManifest
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no cluster here (run `quorum cluster up` first)' : (error as Error).message
    throw new ManifestError(`cannot read ${path}: ${reason}`)
  }
  if (manifest.version !== 1 || !Array.isArray(manifest.members)) throw new ManifestError(`${path} is not a Quorum cluster manifest`)
  return manifest
}

/** Writes DIR/cluster.json atomically (temp file, fsync, rename), so a crash never leaves half a manifest. */
export function writeManifest(dir: string, manifest: ClusterManifest): void {
  const path = join(dir, MANIFEST_FILE)
  const temp = `${path}.tmp-${process.pid}`
  const fd = openSync(temp, 'w', 0o600)
  try {
    writeSync(fd, `${JSON.stringify(manifest, null, 2)}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, path)
}
