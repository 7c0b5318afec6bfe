import { basename, join } from 'node:path'
import { launchPrometheus, writePrometheusTargets } from '../metrics/prometheus'
import type { ManifestMember, ManifestPrometheus } from './manifest'
import type { LocalCluster } from './launcher'
import { freePorts } from './ports'
import { isAlive, signal, waitForExit } from './process'

// `quorum cluster up --prometheus`: a real Prometheus (Debian `prometheus` 2.x) per local cluster, scraping
// every member's --listen-metrics-urls endpoint with the shipped rules. It runs detached like the members, so
// it outlives the CLI; the manifest records it and `down` stops it.

/** Scrape and rule-evaluation interval of a cluster's own Prometheus: once a second, so alerts react quickly. */
export const CLUSTER_SCRAPE_INTERVAL_SECONDS = 1

/** The `host:port` Prometheus scrapes for each member (its metrics URL). */
export function prometheusTargets(members: readonly ManifestMember[]): string[] {
  return members.filter((m) => !m.removed).map((m) => new URL(m.metricsURL).host)
}

/**
 * Starts a detached Prometheus for `cluster` on a free port (or `listenPort`), records it in the manifest and
 * returns the record. Prometheus files and TSDB live in DIR/prometheus; job `quorum-etcd`, target label
 * `cluster` = the cluster dir's name. Throws PrometheusStartError when it does not become ready.
 */
export async function startClusterPrometheus(cluster: LocalCluster, options: { binary?: string; listenPort?: number } = {}): Promise<ManifestPrometheus> {
  const dir = join(cluster.dir, 'prometheus')
  const port = options.listenPort ?? (await freePorts(1))[0]
  const logFile = join(cluster.dir, 'prometheus.log')
  const launched = await launchPrometheus({
    targets: prometheusTargets(cluster.manifest.members),
    dir,
    listenAddress: `127.0.0.1:${port}`,
    clusterName: basename(cluster.dir),
    scrapeIntervalSeconds: CLUSTER_SCRAPE_INTERVAL_SECONDS,
    evaluationIntervalSeconds: CLUSTER_SCRAPE_INTERVAL_SECONDS,
    binary: options.binary,
    detached: true,
    logFile,
  })
  const record: ManifestPrometheus = { url: launched.url, pid: launched.pid, dir, logFile, scrapeIntervalSeconds: CLUSTER_SCRAPE_INTERVAL_SECONDS }
  cluster.manifest.prometheus = record
  cluster.save()
  return record
}

/** Points the cluster's Prometheus (if any) at the current members, after members were added or removed. */
export function refreshPrometheusTargets(cluster: LocalCluster): void {
  const prometheus = cluster.manifest.prometheus
  if (prometheus) writePrometheusTargets(prometheus.dir, prometheusTargets(cluster.manifest.members), basename(cluster.dir))
}

/** Whether the cluster's recorded Prometheus process is alive. */
export function isPrometheusRunning(prometheus: ManifestPrometheus | null | undefined): boolean {
  return prometheus !== null && prometheus !== undefined && isAlive(prometheus.pid)
}

/**
 * Stops the cluster's Prometheus (SIGTERM, SIGKILL after `timeoutMs`) and marks it stopped in the manifest
 * (the caller saves). No-op for a cluster without one.
 */
export async function stopClusterPrometheus(prometheus: ManifestPrometheus | null | undefined, timeoutMs = 10_000): Promise<void> {
  if (!prometheus) return
  if (isAlive(prometheus.pid)) {
    signal(prometheus.pid, 'SIGTERM')
    if (!(await waitForExit(prometheus.pid, timeoutMs))) {
      signal(prometheus.pid, 'SIGKILL')
      await waitForExit(prometheus.pid, 5000)
    }
  }
  prometheus.pid = 0
}
