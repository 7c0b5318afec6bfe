import { readFileSync } from 'node:fs'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client'
import { assert } from '../util/assert'
import { GRPC_CODE_NAMES, grpcCodeName, type GrpcMethod, type GrpcType } from './grpc-methods'

// etcd compat: every family below keeps etcd's name, type, HELP text, label names and buckets, read from real
// etcd 3.4.23's /metrics and from etcd's sources (Apache-2.0): server/etcdserver/metrics.go,
// server/storage/{wal,backend,mvcc}/metrics.go, server/etcdserver/api/rafthttp/metrics.go,
// server/etcdserver/api/v3rpc/metrics.go, server/etcdserver/api/etcdhttp/health.go and go-grpc-prometheus.
// NB: issue 8 names `etcd_mvcc_keys_total`; no etcd version has it. etcd's key count is
// `etcd_debugging_mvcc_keys_total`, exposed here.
// NB: several etcd names break Prometheus naming lints (gauges ending in `_total`, counters without it,
// milliseconds). They are kept on purpose: dashboards and alerts match on them.

/** `--metrics` values (for `choiceOption(METRICS_LEVELS)`); `extensive` adds the gRPC handling histograms. */
export const METRICS_LEVELS = ['basic', 'extensive'] as const

/** `--metrics`: `extensive` adds the `grpc_server_handling_seconds` histograms, as on etcd. */
export type MetricsLevel = (typeof METRICS_LEVELS)[number]

/** What `createMetrics` needs to know about the member. */
export interface CreateMetricsOptions {
  /** `--metrics`; default `basic`. */
  level?: MetricsLevel
  /** This member's ID; exposed in hex like etcd's `types.ID.String()` (no leading zeros). */
  memberId: bigint
  /** Server version label of `etcd_server_version`, e.g. `3.4.23`. */
  serverVersion: string
  /** Cluster version label of `etcd_cluster_version` (`major.minor`); omitted until the cluster decided it. */
  clusterVersion?: string
  /** `--quota-backend-bytes` in effect (etcd's default is 2 GiB). */
  quotaBackendBytes: number
  /** Register prom-client's default `process_*` and `nodejs_*` metrics; default true. */
  defaultMetrics?: boolean
}

/** `etcd_server_client_requests_total{type}` values. */
export type ClientRequestType = 'unary' | 'stream'

/** `etcd_server_healthcheck{type}` values (etcd 3.6 `/livez`, `/readyz`). */
export type HealthCheckType = 'livez' | 'readyz'

// Go's prometheus.DefBuckets, the buckets of go-grpc-prometheus' handling-time histogram.
const GO_DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Formats a member ID as etcd's `types.ID.String()` does (`strconv.FormatUint(id, 16)`). */
export function memberIdHex(id: bigint): string {
  assert(id >= 0n && id < 1n << 64n, () => `member id ${id} is not a uint64`)
  return id.toString(16)
}

/**
 * The Prometheus registry of one Quorum member, with etcd's metric families. The server mutates the public
 * fields (prom-client objects; `inc`, `set`, `observe` with seconds or bytes as the name says) and calls the
 * helpers for the families that need etcd's logic. Scraping is `registry.metrics()`; nothing is computed at
 * scrape time except the default process metrics, so a scrape stays cheap.
 */
export class QuorumMetrics {
  /** The registry `/metrics` serves; holds only this member's families. */
  readonly registry = new Registry()
  readonly level: MetricsLevel

  // --- etcd_server_* (server/etcdserver/metrics.go) ---
  /** 1 while this member knows a leader. Set through `observeLeader` or `setLeader`. */
  readonly hasLeader: Gauge
  /** 1 while this member is the leader. */
  readonly isLeader: Gauge
  /** 1 while this member is a learner. */
  readonly isLearner: Gauge
  /** Incremented by `observeLeader` when a new leader appears. */
  readonly leaderChanges: Counter
  /** Successful learner promotions proposed while this member was leader. */
  readonly learnerPromoteSuccesses: Counter
  /** Heartbeats the leader failed to send (etcd: "likely overloaded from slow disk"). */
  readonly heartbeatSendFailures: Counter
  /** Applies slower than the warn threshold (etcd: 100 ms). */
  readonly slowApply: Counter
  /** ReadIndex requests that timed out or lagged the leader. */
  readonly slowReadIndexes: Counter
  /** Failed ReadIndex requests. */
  readonly readIndexesFailed: Counter
  /** NB: a gauge in etcd, set to the Raft commit index (`proposalsCommitted.set(commitIndex)`). */
  readonly proposalsCommitted: Gauge
  /** NB: a gauge in etcd, set to the applied index. */
  readonly proposalsApplied: Gauge
  /** Proposals waiting to be committed: `inc()` on propose, `dec()` when it completes or fails. */
  readonly proposalsPending: Gauge
  /** Proposals that failed (no leader, timeout, dropped). */
  readonly proposalsFailed: Counter
  /** `--quota-backend-bytes` in effect. */
  readonly quotaBackendBytes: Gauge
  /** 1 while an incoming Raft snapshot is being applied. */
  readonly snapshotApplyInProgress: Gauge
  /** `/health` answers with `"health":"true"` (counted by the HTTP handler). */
  readonly healthSuccess: Counter
  /** `/health` answers with `"health":"false"`. */
  readonly healthFailures: Counter
  /** etcd 3.6 only: last result (1 ok, 0 failed) of each `/livez` and `/readyz` check. */
  readonly healthCheck: Gauge<'type' | 'name'>
  /** etcd 3.6 only: count of `/livez` and `/readyz` checks by result (`success` / `error`). */
  readonly healthChecks: Counter<'type' | 'name' | 'status'>
  /** Client requests by client API version (from the `client-api-version` gRPC metadata) and `type`. */
  readonly clientRequests: Counter<'type' | 'client_api_version'>

  // --- etcd_disk_* (wal, backend) ---
  /** WAL fsync latency in seconds; here, the SQLite commit that makes Raft entries durable. */
  readonly walFsync: Histogram
  /** Bytes written to the WAL. NB: a gauge in etcd 3.4 (`walWriteBytes.inc(n)`). */
  readonly walWriteBytes: Gauge
  /** Backend (MVCC store) commit latency in seconds. */
  readonly backendCommit: Histogram
  /** Defragmentation latency in seconds. */
  readonly backendDefrag: Histogram
  /** Backend snapshot latency in seconds. */
  readonly backendSnapshot: Histogram
  /** 1 while a defragmentation runs. */
  readonly defragInflight: Gauge

  // --- etcd_mvcc_* ---
  /** Physically allocated DB size in bytes (also fills the 3.4 `etcd_debugging_mvcc_db_total_size_in_bytes`). */
  readonly dbTotalSize: Gauge
  /** DB size logically in use in bytes. */
  readonly dbTotalSizeInUse: Gauge
  /** Open read transactions. */
  readonly dbOpenReadTransactions: Gauge
  readonly putTotal: Counter
  readonly deleteTotal: Counter
  readonly rangeTotal: Counter
  readonly txnTotal: Counter
  /** HashKV latency in seconds (`etcd_mvcc_hash_duration_seconds`). */
  readonly hashDuration: Histogram
  /** HashKV-by-revision latency in seconds. */
  readonly hashRevDuration: Histogram

  // --- etcd_debugging_mvcc_* (unstable in etcd, but used by dashboards) ---
  readonly debuggingKeys: Gauge
  readonly debuggingCurrentRevision: Gauge
  /** -1 until the first compaction, as on etcd. */
  readonly debuggingCompactRevision: Gauge
  readonly debuggingPut: Counter
  readonly debuggingDelete: Counter
  readonly debuggingRange: Counter
  readonly debuggingTxn: Counter
  readonly debuggingEvents: Counter
  readonly debuggingPendingEvents: Gauge
  readonly debuggingWatchStreams: Gauge
  readonly debuggingWatchers: Gauge
  readonly debuggingSlowWatchers: Gauge
  readonly debuggingTotalPutSize: Gauge
  readonly debuggingDbCompactionKeys: Counter
  /** Milliseconds, as etcd names it. */
  readonly debuggingDbCompactionPauseMs: Histogram
  /** Milliseconds. */
  readonly debuggingDbCompactionTotalMs: Histogram
  /** Milliseconds. */
  readonly debuggingIndexCompactionPauseMs: Histogram

  // --- etcd_network_* (rafthttp, v3rpc) ---
  readonly peerSentBytes: Counter<'To'>
  readonly peerReceivedBytes: Counter<'From'>
  readonly peerSentFailures: Counter<'To'>
  readonly peerReceivedFailures: Counter<'From'>
  /** Peer round-trip time in seconds, by remote member ID (hex). */
  readonly peerRoundTrip: Histogram<'To'>
  readonly activePeers: Gauge<'Local' | 'Remote'>
  readonly disconnectedPeers: Counter<'Local' | 'Remote'>
  readonly snapshotSendSuccess: Counter<'To'>
  readonly snapshotSendFailures: Counter<'To'>
  readonly snapshotSendInflights: Gauge<'To'>
  readonly snapshotSendSeconds: Histogram<'To'>
  readonly snapshotReceiveSuccess: Counter<'From'>
  readonly snapshotReceiveFailures: Counter<'From'>
  readonly snapshotReceiveInflights: Gauge<'From'>
  readonly snapshotReceiveSeconds: Histogram<'From'>
  readonly clientGrpcSentBytes: Counter
  readonly clientGrpcReceivedBytes: Counter

  // --- grpc_server_* (go-grpc-prometheus) ---
  readonly grpcStartedTotal: TalliedCounter<GrpcLabel>
  readonly grpcHandledTotal: TalliedCounter<GrpcLabel | 'grpc_code'>
  readonly grpcMsgReceivedTotal: TalliedCounter<GrpcLabel>
  readonly grpcMsgSentTotal: TalliedCounter<GrpcLabel>
  /** Only with `--metrics extensive`. */
  readonly grpcHandlingSeconds: Histogram<GrpcLabel> | null

  private readonly memberId: bigint
  private readonly clusterVersionGauge: Gauge<'cluster_version'>
  // The leader of the last observeLeader call (0n = none).
  private lead = 0n

  constructor(options: CreateMetricsOptions) {
    this.level = options.level ?? 'basic'
    this.memberId = options.memberId
    const reg = this.registry
    const counter = <L extends string = never>(name: string, help: string, labelNames: L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers: [reg] })
    const tallied = <L extends string>(name: string, help: string, labelNames: L[]) => new TalliedCounter<L>({ name, help, labelNames, registers: [reg] })
    const gauge = <L extends string = never>(name: string, help: string, labelNames: L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers: [reg] })
    const histogram = <L extends string = never>(name: string, help: string, buckets: number[], labelNames: L[] = []) =>
      new Histogram<L>({ name, help, buckets, labelNames, registers: [reg] })
    const exp = (start: number, factor: number, count: number) => exponentialBuckets(start, factor, count)

    this.hasLeader = gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.')
    this.isLeader = gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.')
    this.isLearner = gauge('etcd_server_is_learner', 'Whether or not this member is a learner. 1 if is, 0 otherwise.')
    this.leaderChanges = counter('etcd_server_leader_changes_seen_total', 'The number of leader changes seen.')
    this.learnerPromoteSuccesses = counter(
      'etcd_server_learner_promote_successes',
      'The total number of successful learner promotions while this member is leader.',
    )
    this.heartbeatSendFailures = counter(
      'etcd_server_heartbeat_send_failures_total',
      'The total number of leader heartbeat send failures (likely overloaded from slow disk).',
    )
    this.slowApply = counter(
      'etcd_server_slow_apply_total',
      'The total number of slow apply requests (likely overloaded from slow disk).',
    )
    this.slowReadIndexes = counter(
      'etcd_server_slow_read_indexes_total',
      "The total number of pending read indexes not in sync with leader's or timed out read index requests.",
    )
    this.readIndexesFailed = counter('etcd_server_read_indexes_failed_total', 'The total number of failed read indexes seen.')
    this.proposalsCommitted = gauge(
      'etcd_server_proposals_committed_total',
      'The total number of consensus proposals committed.',
    )
    this.proposalsApplied = gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.')
    this.proposalsPending = gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.')
    this.proposalsFailed = counter('etcd_server_proposals_failed_total', 'The total number of failed proposals seen.')
    this.quotaBackendBytes = gauge('etcd_server_quota_backend_bytes', 'Current backend storage quota size in bytes.')
    this.snapshotApplyInProgress = gauge(
      'etcd_server_snapshot_apply_in_progress_total',
      '1 if the server is applying the incoming snapshot. 0 if none.',
    )
    this.healthSuccess = counter('etcd_server_health_success', 'The total number of successful health checks')
    this.healthFailures = counter('etcd_server_health_failures', 'The total number of failed health checks')
    this.healthCheck = gauge('etcd_server_healthcheck', 'The result of each kind of healthcheck.', ['type', 'name'])
    this.healthChecks = counter('etcd_server_healthchecks_total', 'The total number of each kind of healthcheck.', [
      'type',
      'name',
      'status',
    ])
    this.clientRequests = counter(
      'etcd_server_client_requests_total',
      'The total number of client requests per client version.',
      ['type', 'client_api_version'],
    )
    const serverId = gauge('etcd_server_id', "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.", [
      'server_id',
    ])
    serverId.set({ server_id: memberIdHex(options.memberId) }, 1)
    const serverVersion = gauge(
      'etcd_server_version',
      "Which version is running. 1 for 'server_version' label with current version.",
      ['server_version'],
    )
    serverVersion.set({ server_version: options.serverVersion }, 1)
    const clusterVersion = gauge(
      'etcd_cluster_version',
      "Which version is running. 1 for 'cluster_version' label with current cluster version",
      ['cluster_version'],
    )
    this.clusterVersionGauge = clusterVersion
    if (options.clusterVersion !== undefined) this.setClusterVersion(options.clusterVersion)

    // server/storage/wal/metrics.go: ExponentialBuckets(0.001, 2, 14), 1 ms .. 8.192 s
    this.walFsync = histogram(
      'etcd_disk_wal_fsync_duration_seconds',
      'The latency distributions of fsync called by WAL.',
      exp(0.001, 2, 14),
    )
    this.walWriteBytes = gauge('etcd_disk_wal_write_bytes_total', 'Total number of bytes written in WAL.')
    // server/storage/backend/metrics.go
    this.backendCommit = histogram(
      'etcd_disk_backend_commit_duration_seconds',
      'The latency distributions of commit called by backend.',
      exp(0.001, 2, 14),
    )
    this.backendDefrag = histogram(
      'etcd_disk_backend_defrag_duration_seconds',
      'The latency distribution of backend defragmentation.',
      exp(0.1, 2, 13),
    )
    this.backendSnapshot = histogram(
      'etcd_disk_backend_snapshot_duration_seconds',
      'The latency distribution of backend snapshots.',
      exp(0.01, 2, 17),
    )
    this.defragInflight = gauge(
      'etcd_disk_defrag_inflight',
      'Whether or not defrag is active on the member. 1 means active, 0 means not.',
    )

    // server/storage/mvcc/metrics.go
    this.dbTotalSize = gauge(
      'etcd_mvcc_db_total_size_in_bytes',
      'Total size of the underlying database physically allocated in bytes.',
    )
    this.dbTotalSizeInUse = gauge(
      'etcd_mvcc_db_total_size_in_use_in_bytes',
      'Total size of the underlying database logically in use in bytes.',
    )
    this.dbOpenReadTransactions = gauge('etcd_mvcc_db_open_read_transactions', 'The number of currently open read transactions')
    this.putTotal = counter('etcd_mvcc_put_total', 'Total number of puts seen by this member.')
    this.deleteTotal = counter('etcd_mvcc_delete_total', 'Total number of deletes seen by this member.')
    this.rangeTotal = counter('etcd_mvcc_range_total', 'Total number of ranges seen by this member.')
    this.txnTotal = counter('etcd_mvcc_txn_total', 'Total number of txns seen by this member.')
    this.hashDuration = histogram(
      'etcd_mvcc_hash_duration_seconds',
      'The latency distribution of storage hash operation.',
      exp(0.01, 2, 15),
    )
    this.hashRevDuration = histogram(
      'etcd_mvcc_hash_rev_duration_seconds',
      'The latency distribution of storage hash by revision operation.',
      exp(0.01, 2, 15),
    )

    this.debuggingKeys = gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.')
    this.debuggingCurrentRevision = gauge('etcd_debugging_mvcc_current_revision', 'The current revision of store.')
    this.debuggingCompactRevision = gauge('etcd_debugging_mvcc_compact_revision', 'The revision of the last compaction in store.')
    this.debuggingCompactRevision.set(-1)
    this.debuggingPut = counter('etcd_debugging_mvcc_put_total', 'Total number of puts seen by this member.')
    this.debuggingDelete = counter('etcd_debugging_mvcc_delete_total', 'Total number of deletes seen by this member.')
    this.debuggingRange = counter('etcd_debugging_mvcc_range_total', 'Total number of ranges seen by this member.')
    this.debuggingTxn = counter('etcd_debugging_mvcc_txn_total', 'Total number of txns seen by this member.')
    this.debuggingEvents = counter('etcd_debugging_mvcc_events_total', 'Total number of events sent by this member.')
    this.debuggingPendingEvents = gauge(
      'etcd_debugging_mvcc_pending_events_total',
      'Total number of pending events to be sent.',
    )
    this.debuggingWatchStreams = gauge('etcd_debugging_mvcc_watch_stream_total', 'Total number of watch streams.')
    this.debuggingWatchers = gauge('etcd_debugging_mvcc_watcher_total', 'Total number of watchers.')
    this.debuggingSlowWatchers = gauge('etcd_debugging_mvcc_slow_watcher_total', 'Total number of unsynced slow watchers.')
    this.debuggingTotalPutSize = gauge(
      'etcd_debugging_mvcc_total_put_size_in_bytes',
      'The total size of put kv pairs seen by this member.',
    )
    this.debuggingDbCompactionKeys = counter(
      'etcd_debugging_mvcc_db_compaction_keys_total',
      'Total number of db keys compacted.',
    )
    this.debuggingDbCompactionPauseMs = histogram(
      'etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds',
      'Bucketed histogram of db compaction pause duration.',
      exp(1, 2, 13),
    )
    this.debuggingDbCompactionTotalMs = histogram(
      'etcd_debugging_mvcc_db_compaction_total_duration_milliseconds',
      'Bucketed histogram of db compaction total duration.',
      exp(100, 2, 14),
    )
    this.debuggingIndexCompactionPauseMs = histogram(
      'etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds',
      'Bucketed histogram of index compaction pause duration.',
      exp(0.5, 2, 14),
    )
    // etcd 3.4 still exports the pre-3.4 name of the DB size; it mirrors dbTotalSize at scrape time.
    const dbTotalSize = this.dbTotalSize
    new Gauge({
      name: 'etcd_debugging_mvcc_db_total_size_in_bytes',
      help: 'Total size of the underlying database physically allocated in bytes.',
      registers: [reg],
      async collect() {
        this.set((await dbTotalSize.get()).values[0]?.value ?? 0)
      },
    })

    // server/etcdserver/api/rafthttp/metrics.go
    this.peerSentBytes = counter('etcd_network_peer_sent_bytes_total', 'The total number of bytes sent to peers.', ['To'])
    this.peerReceivedBytes = counter(
      'etcd_network_peer_received_bytes_total',
      'The total number of bytes received from peers.',
      ['From'],
    )
    this.peerSentFailures = counter(
      'etcd_network_peer_sent_failures_total',
      'The total number of send failures from peers.',
      ['To'],
    )
    this.peerReceivedFailures = counter(
      'etcd_network_peer_received_failures_total',
      'The total number of receive failures from peers.',
      ['From'],
    )
    this.peerRoundTrip = histogram(
      'etcd_network_peer_round_trip_time_seconds',
      'Round-Trip-Time histogram between peers',
      exp(0.0001, 2, 16),
      ['To'],
    )
    this.activePeers = gauge('etcd_network_active_peers', 'The current number of active peer connections.', ['Local', 'Remote'])
    this.disconnectedPeers = counter('etcd_network_disconnected_peers_total', 'The total number of disconnected peers.', [
      'Local',
      'Remote',
    ])
    this.snapshotSendSuccess = counter('etcd_network_snapshot_send_success', 'Total number of successful snapshot sends', ['To'])
    this.snapshotSendFailures = counter('etcd_network_snapshot_send_failures', 'Total number of snapshot send failures', ['To'])
    this.snapshotSendInflights = gauge(
      'etcd_network_snapshot_send_inflights_total',
      'Total number of inflight snapshot sends',
      ['To'],
    )
    this.snapshotSendSeconds = histogram(
      'etcd_network_snapshot_send_total_duration_seconds',
      'Total latency distributions of v3 snapshot sends',
      exp(0.1, 2, 10),
      ['To'],
    )
    this.snapshotReceiveSuccess = counter(
      'etcd_network_snapshot_receive_success',
      'Total number of successful snapshot receives',
      ['From'],
    )
    this.snapshotReceiveFailures = counter(
      'etcd_network_snapshot_receive_failures',
      'Total number of snapshot receive failures',
      ['From'],
    )
    this.snapshotReceiveInflights = gauge(
      'etcd_network_snapshot_receive_inflights_total',
      'Total number of inflight snapshot receives',
      ['From'],
    )
    this.snapshotReceiveSeconds = histogram(
      'etcd_network_snapshot_receive_total_duration_seconds',
      'Total latency distributions of v3 snapshot receives',
      exp(0.1, 2, 10),
      ['From'],
    )
    // server/etcdserver/api/v3rpc/metrics.go
    this.clientGrpcSentBytes = counter(
      'etcd_network_client_grpc_sent_bytes_total',
      'The total number of bytes sent to grpc clients.',
    )
    this.clientGrpcReceivedBytes = counter(
      'etcd_network_client_grpc_received_bytes_total',
      'The total number of bytes received from grpc clients.',
    )

    // go-grpc-prometheus server_metrics.go
    const grpcLabels: GrpcLabel[] = ['grpc_type', 'grpc_service', 'grpc_method']
    this.grpcStartedTotal = tallied('grpc_server_started_total', 'Total number of RPCs started on the server.', grpcLabels)
    this.grpcHandledTotal = tallied(
      'grpc_server_handled_total',
      'Total number of RPCs completed on the server, regardless of success or failure.',
      [...grpcLabels, 'grpc_code'],
    )
    this.grpcMsgReceivedTotal = tallied('grpc_server_msg_received_total', 'Total number of RPC stream messages received on the server.', grpcLabels)
    this.grpcMsgSentTotal = tallied('grpc_server_msg_sent_total', 'Total number of gRPC stream messages sent by the server.', grpcLabels)
    this.grpcHandlingSeconds =
      this.level === 'extensive'
        ? histogram(
            'grpc_server_handling_seconds',
            'Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.',
            GO_DEFAULT_BUCKETS,
            grpcLabels,
          )
        : null

    this.quotaBackendBytes.set(options.quotaBackendBytes)
    if (options.defaultMetrics ?? true) registerProcessMetrics(reg)
  }

  /** Sets `etcd_cluster_version{cluster_version}` to the decided cluster version (`major.minor`), replacing the old one. */
  setClusterVersion(version: string): void {
    this.clusterVersionGauge.reset()
    this.clusterVersionGauge.set({ cluster_version: version }, 1)
  }

  /** Sets `etcd_server_has_leader` and `etcd_server_is_leader` directly. Prefer `observeLeader`. */
  setLeader(has: boolean, is: boolean): void {
    assert(has || !is, 'a member cannot be leader without a leader')
    this.hasLeader.set(has ? 1 : 0)
    this.isLeader.set(is ? 1 : 0)
  }

  /**
   * Feeds the leader from every Raft SoftState (0n = no leader); sets has/is leader against this member's ID.
   * Ported from etcd's raft.go Ready handling: a change to a different, non-zero leader counts one
   * `etcd_server_leader_changes_seen_total`; losing the leader does not count.
   */
  observeLeader(lead: bigint): void {
    if (lead !== 0n && lead !== this.lead) this.leaderChanges.inc()
    this.lead = lead
    this.setLeader(lead !== 0n, lead !== 0n && lead === this.memberId)
  }

  /** Counts one client request (`etcd_server_client_requests_total`); `apiVersion` from `client-api-version`. */
  clientRequest(type: ClientRequestType, apiVersion: string): void {
    this.clientRequests.inc({ type, client_api_version: apiVersion })
  }

  /**
   * Creates every `grpc_server_*` series of `methods` at zero, with all 17 codes for `handled_total`, as
   * go-grpc-prometheus' `InitializeMetrics` does (etcd calls it at start).
   */
  preregisterGrpcMethods(methods: readonly GrpcMethod[]): void {
    for (const { service, method, type } of methods) {
      const labels = () => grpcLabelValues(service, method, type)
      const key = grpcKey(service, method, type)
      this.grpcStartedTotal.inc(key, labels, 0)
      this.grpcMsgReceivedTotal.inc(key, labels, 0)
      this.grpcMsgSentTotal.inc(key, labels, 0)
      for (const code of GRPC_CODE_NAMES) this.grpcHandledTotal.inc(`${key} ${code}`, () => ({ ...labels(), grpc_code: code }), 0)
      this.grpcHandlingSeconds?.zero(labels())
    }
  }

  /** A call (unary or stream) started: `grpc_server_started_total`. */
  grpcStarted(service: string, method: string, type: GrpcType): void {
    this.grpcStartedTotal.inc(grpcKey(service, method, type), () => grpcLabelValues(service, method, type))
  }

  /** One request message received on a call. */
  grpcMsgReceived(service: string, method: string, type: GrpcType): void {
    this.grpcMsgReceivedTotal.inc(grpcKey(service, method, type), () => grpcLabelValues(service, method, type))
  }

  /** One response message sent on a call. */
  grpcMsgSent(service: string, method: string, type: GrpcType): void {
    this.grpcMsgSentTotal.inc(grpcKey(service, method, type), () => grpcLabelValues(service, method, type))
  }

  /**
   * A call finished with gRPC status `code` (number or Go name) after `seconds`: `grpc_server_handled_total`,
   * and with `--metrics extensive` `grpc_server_handling_seconds`.
   */
  grpcHandled(service: string, method: string, type: GrpcType, code: number | string, seconds: number): void {
    const grpcCode = typeof code === 'number' ? grpcCodeName(code) : code
    this.grpcHandledTotal.inc(`${grpcKey(service, method, type)} ${grpcCode}`, () => ({ ...grpcLabelValues(service, method, type), grpc_code: grpcCode }))
    this.grpcHandlingSeconds?.observe(grpcLabelValues(service, method, type), seconds)
  }

  /**
   * Interceptor-style helper for a finished unary call, as go-grpc-prometheus' UnaryServerInterceptor counts
   * it: started, one message received, handled with `code`, and one message sent when the code is OK.
   */
  observeGrpc(service: string, method: string, type: GrpcType, code: number | string, seconds: number): void {
    this.grpcStarted(service, method, type)
    this.grpcMsgReceived(service, method, type)
    this.grpcHandled(service, method, type, code, seconds)
    if (code === 0 || code === 'OK') this.grpcMsgSent(service, method, type)
  }

  /** The exposition in Prometheus text format 0.0.4. */
  metrics(): Promise<string> {
    return this.registry.metrics()
  }

  /** The `Content-Type` of `metrics()`. */
  get contentType(): string {
    return this.registry.contentType
  }
}

type GrpcLabel = 'grpc_type' | 'grpc_service' | 'grpc_method'

function grpcLabelValues(service: string, method: string, type: GrpcType): Record<GrpcLabel, string> {
  return { grpc_type: type, grpc_service: service, grpc_method: method }
}

function grpcKey(service: string, method: string, type: GrpcType): string {
  return `${service}/${method} ${type}`
}

/**
 * A labelled counter for the paths every request takes: counted in a Map under a key the caller builds, and
 * handed to prom-client only when the registry is read (a scrape, `get()`). prom-client's own inc() checks
 * and hashes the label object on every call, which cost more than the requests it counted.
 */
export class TalliedCounter<L extends string> {
  readonly counter: Counter<L>
  private readonly series = new Map<string, { labels: Record<L, string>; value: number }>()

  constructor(config: { name: string; help: string; labelNames: L[]; registers: Registry[] }) {
    const series = this.series
    this.counter = new Counter<L>({
      ...config,
      collect(this: Counter<L>) {
        this.reset()
        for (const { labels, value } of series.values()) this.inc(labels, value)
      },
    })
  }

  /** Adds `value` (default 1) to the series `key`; `labels` is called once, when the key is new. */
  inc(key: string, labels: () => Record<L, string>, value = 1): void {
    const found = this.series.get(key)
    if (found) found.value += value
    else this.series.set(key, { labels: labels(), value })
  }
}

/**
 * prom-client's default `process_*` and `nodejs_*` metrics, plus `process_virtual_memory_max_bytes`, which
 * Go's process collector exports and prom-client does not (read once from /proc/self/limits; Linux only).
 */
function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry })
  const maxBytes = readAddressSpaceLimit()
  if (maxBytes === null) return
  const gauge = new Gauge({
    name: 'process_virtual_memory_max_bytes',
    help: 'Maximum amount of virtual memory available in bytes.',
    registers: [registry],
  })
  gauge.set(maxBytes)
}

// Go's procfs reads "unlimited" as MaxUint64, which Prometheus prints as 1.8446744073709552e+19.
const UNLIMITED = 18446744073709551615

function readAddressSpaceLimit(): number | null {
  let text: string
  try {
    text = readFileSync('/proc/self/limits', 'utf8')
  } catch {
    return null // not Linux: the family is absent, as on Go's collector
  }
  const match = /^Max address space\s+(\S+)/m.exec(text)
  if (!match) return null
  return match[1] === 'unlimited' ? UNLIMITED : Number(match[1])
}

/** Creates a member's metrics registry (see `QuorumMetrics`). */
export function createMetrics(options: CreateMetricsOptions): QuorumMetrics {
  return new QuorumMetrics(options)
}
