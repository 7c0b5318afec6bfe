import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ETCD_GRPC_METHODS } from '../../core/metrics/grpc-methods'
import { createMetrics, type MetricsLevel, type QuorumMetrics } from '../../core/metrics/registry'

/** The member ID used by the samples (hex 8e9e05c52164694d, as etcd prints it). */
export const SAMPLE_MEMBER_ID = 0x8e9e05c52164694dn
const PEER = 'fd422379fda50e48'

/**
 * A registry with every family holding at least one sample, written through the public API the server uses
 * (a member that is a follower, has served some gRPC calls, talked to a peer and compacted once).
 */
export function populatedMetrics(level: MetricsLevel = 'extensive'): QuorumMetrics {
  const m = createMetrics({
    memberId: SAMPLE_MEMBER_ID,
    serverVersion: '3.4.23',
    clusterVersion: '3.4',
    quotaBackendBytes: 2 ** 31,
    level,
  })
  m.preregisterGrpcMethods(ETCD_GRPC_METHODS)
  m.observeLeader(0xfd422379fda50e48n)
  m.isLearner.set(0)
  m.learnerPromoteSuccesses.inc(0)
  m.heartbeatSendFailures.inc()
  m.slowApply.inc()
  m.slowReadIndexes.inc()
  m.readIndexesFailed.inc()
  m.proposalsCommitted.set(42)
  m.proposalsApplied.set(41)
  m.proposalsPending.inc()
  m.proposalsFailed.inc()
  m.snapshotApplyInProgress.set(0)
  m.healthSuccess.inc()
  m.healthFailures.inc()
  m.healthCheck.set({ type: 'readyz', name: 'linearizable_read' }, 1)
  m.healthChecks.inc({ type: 'readyz', name: 'linearizable_read', status: 'success' })
  m.clientRequest('unary', '3.4')
  m.clientRequest('stream', '3.4')

  m.walFsync.observe(0.0021)
  m.walWriteBytes.inc(4096)
  m.backendCommit.observe(0.0042)
  m.backendDefrag.observe(0.31)
  m.backendSnapshot.observe(0.02)
  m.defragInflight.set(0)

  m.dbTotalSize.set(20480)
  m.dbTotalSizeInUse.set(16384)
  m.dbOpenReadTransactions.set(1)
  m.putTotal.inc()
  m.deleteTotal.inc()
  m.rangeTotal.inc(2)
  m.txnTotal.inc()
  m.hashDuration.observe(0.011)
  m.hashRevDuration.observe(0.012)

  m.debuggingKeys.set(1)
  m.debuggingCurrentRevision.set(3)
  m.debuggingCompactRevision.set(2)
  m.debuggingPut.inc()
  m.debuggingDelete.inc()
  m.debuggingRange.inc(2)
  m.debuggingTxn.inc()
  m.debuggingEvents.inc()
  m.debuggingPendingEvents.set(0)
  m.debuggingWatchStreams.set(1)
  m.debuggingWatchers.set(1)
  m.debuggingSlowWatchers.set(0)
  m.debuggingTotalPutSize.set(2)
  m.debuggingDbCompactionKeys.inc()
  m.debuggingDbCompactionPauseMs.observe(3)
  m.debuggingDbCompactionTotalMs.observe(150)
  m.debuggingIndexCompactionPauseMs.observe(0.7)

  m.peerSentBytes.inc({ To: PEER }, 3252)
  m.peerReceivedBytes.inc({ From: PEER }, 3345)
  m.peerSentFailures.inc({ To: PEER })
  m.peerReceivedFailures.inc({ From: PEER })
  m.peerRoundTrip.observe({ To: PEER }, 0.0002)
  m.activePeers.set({ Local: '8e9e05c52164694d', Remote: PEER }, 1)
  m.disconnectedPeers.inc({ Local: '8e9e05c52164694d', Remote: PEER })
  m.snapshotSendSuccess.inc({ To: PEER })
  m.snapshotSendFailures.inc({ To: PEER })
  m.snapshotSendInflights.set({ To: PEER }, 0)
  m.snapshotSendSeconds.observe({ To: PEER }, 0.3)
  m.snapshotReceiveSuccess.inc({ From: PEER })
  m.snapshotReceiveFailures.inc({ From: PEER })
  m.snapshotReceiveInflights.set({ From: PEER }, 0)
  m.snapshotReceiveSeconds.observe({ From: PEER }, 0.4)
  m.clientGrpcSentBytes.inc(99)
  m.clientGrpcReceivedBytes.inc(14)

  m.observeGrpc('etcdserverpb.KV', 'Range', 'unary', 0, 0.0007)
  m.observeGrpc('etcdserverpb.KV', 'Put', 'unary', 14, 0.0031)
  m.grpcStarted('etcdserverpb.Watch', 'Watch', 'bidi_stream')
  m.grpcMsgReceived('etcdserverpb.Watch', 'Watch', 'bidi_stream')
  m.grpcMsgSent('etcdserverpb.Watch', 'Watch', 'bidi_stream')
  m.grpcHandled('etcdserverpb.Watch', 'Watch', 'bidi_stream', 'Canceled', 0.99)
  return m
}

/** One metric family of a text exposition. */
export interface Family {
  type: string
  help: string
  /** Label names over all samples, without `le` and `quantile`. */
  labelNames: Set<string>
  /** Histogram bucket bounds (`le` values as numbers, +Inf excluded). */
  buckets: Set<number>
  samples: number
}

/** Parses the Prometheus text format into families (enough for comparing name sets, types and labels). */
export function parseFamilies(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const family = (name: string) => {
    let found = families.get(name)
    if (!found) {
      found = { type: 'untyped', help: '', labelNames: new Set(), buckets: new Set(), samples: 0 }
      families.set(name, found)
    }
    return found
  }
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (meta) {
      if (meta[1] === 'HELP') family(meta[2]).help = meta[3]
      else family(meta[2]).type = meta[3]
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+/.exec(line)
    if (!sample) continue
    const base = sample[1].replace(/_(bucket|sum|count)$/, '')
    const name = families.has(sample[1]) ? sample[1] : base
    const entry = family(name)
    entry.samples++
    for (const [, label, value] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (label === 'le') {
        if (value !== '+Inf') entry.buckets.add(Number(value))
      } else if (label !== 'quantile') {
        entry.labelNames.add(label)
      }
    }
  }
  return families
}

/**
 * The families issue 8 lists, by prefix: etcd_server_*, etcd_cluster_version, etcd_disk_*, etcd_mvcc_*,
 * etcd_debugging_mvcc_*, etcd_network_*, grpc_server_* and process_*.
 */
export function isListedFamily(name: string): boolean {
  return /^(etcd_(server|disk|mvcc|debugging_mvcc|network)_|etcd_cluster_version$|grpc_server_|process_)/.test(name)
}

/** etcd families Quorum does not expose on purpose: the Go version label has no meaning for a Node server. */
export const NOT_EXPOSED_BY_QUORUM = new Set(['etcd_server_go_version'])

/** Families that exist only in etcd 3.5+/3.6 (health check results of /livez and /readyz). */
export const ONLY_IN_ETCD_3_5_PLUS = new Set(['etcd_server_healthcheck', 'etcd_server_healthchecks_total'])

/**
 * Families etcd 3.4 registers but only prints once the first sample exists (Go client: a vector without children
 * has no output): snapshot transfers and peer receive failures, which the compatibility test cannot provoke cheaply.
 */
export const LAZY_IN_ETCD = new Set([
  'etcd_network_peer_received_failures_total',
  'etcd_network_snapshot_send_success',
  'etcd_network_snapshot_send_failures',
  'etcd_network_snapshot_send_inflights_total',
  'etcd_network_snapshot_send_total_duration_seconds',
  'etcd_network_snapshot_receive_success',
  'etcd_network_snapshot_receive_failures',
  'etcd_network_snapshot_receive_inflights_total',
  'etcd_network_snapshot_receive_total_duration_seconds',
])

/** process_* families prom-client adds that Go's process collector does not have. */
export const NODE_ONLY_PROCESS_FAMILIES = new Set([
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_heap_bytes',
])

/**
 * Metric names `promtool check metrics` flags (naming lints) that real etcd 3.4 is flagged for too: gauges
 * named `_total`, counters without it, milliseconds. Kept because dashboards and alerts use these names; the
 * etcd compatibility test checks that etcd 3.4's own exposition draws the same complaints.
 */
export const ETCD_NAMES_FLAGGED_BY_LINT = new Set([
  'etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds',
  'etcd_debugging_mvcc_db_compaction_total_duration_milliseconds',
  'etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds',
  'etcd_debugging_mvcc_keys_total',
  'etcd_debugging_mvcc_pending_events_total',
  'etcd_debugging_mvcc_slow_watcher_total',
  'etcd_debugging_mvcc_watch_stream_total',
  'etcd_debugging_mvcc_watcher_total',
  'etcd_disk_wal_write_bytes_total',
  'etcd_server_health_failures',
  'etcd_server_health_success',
  'etcd_server_learner_promote_successes',
  'etcd_server_proposals_applied_total',
  'etcd_server_proposals_committed_total',
  'etcd_server_snapshot_apply_in_progress_total',
])

/** Lint-flagged names of families etcd prints only after a snapshot transfer (see LAZY_IN_ETCD). */
export const LAZY_ETCD_NAMES_FLAGGED_BY_LINT = new Set([
  'etcd_network_snapshot_send_success',
  'etcd_network_snapshot_send_failures',
  'etcd_network_snapshot_send_inflights_total',
  'etcd_network_snapshot_receive_success',
  'etcd_network_snapshot_receive_failures',
  'etcd_network_snapshot_receive_inflights_total',
])

/** Lint-flagged names from prom-client's default Node metrics. */
export const PROM_CLIENT_NAMES_FLAGGED_BY_LINT = new Set([
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
])

/** Result of `promtool check metrics` on an exposition: exit status and the flagged metric names. */
export interface MetricsLint {
  status: number | null
  /** `name problem` lines promtool printed. */
  problems: string[]
  flaggedNames: Set<string>
}

/** Runs `promtool check metrics` with `exposition` on stdin. Exit 0 = clean, 3 = lint problems, 1 = parse error. */
export function promtoolCheckMetrics(exposition: string): MetricsLint {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 30_000 })
  const problems = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim().length > 0)
  return { status: result.status, problems, flaggedNames: new Set(problems.map((line) => line.split(' ')[0])) }
}

/** The parts of build/monitoring/grafana-dashboard.json the tests read. */
export interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[]
}

/** Reads the shipped Grafana dashboard. */
export function readDashboard(): Dashboard {
  return JSON.parse(readFileSync(join(__dirname, '../../build/monitoring/grafana-dashboard.json'), 'utf8')) as Dashboard
}

/** The dashboard's PromQL expressions, in panel order. */
export function dashboardExpressions(): string[] {
  return readDashboard().panels.flatMap((panel) => panel.targets.map((target) => target.expr))
}

/** Polls `probe` every 200 ms until it returns a value other than undefined; fails after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
