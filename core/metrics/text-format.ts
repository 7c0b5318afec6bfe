// Reading etcd's /metrics: parse the Prometheus text exposition format, pick the series the overview charts
// need, and turn two scrapes into rates and percentiles the way PromQL's rate() and histogram_quantile()
// would over the interval between them.
//
// NB: hand-written on purpose. The one npm parser found (parse-prometheus-text-format 1.1.1) merges every
// series of a labelled histogram into one and loses the rest, and etcd's peer round-trip histogram is
// labelled by peer (`To`). The text format is small: https://prometheus.io/docs/instrumenting/exposition_formats/

/** One sample line: `name{label="value",...} value [timestamp]`. */
export interface PromSample {
  name: string
  labels: Record<string, string>
  value: number
}

/** The line is not valid text exposition format. */
export class MetricsParseError extends Error {
  readonly code = 'metrics_parse_failed'
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/

function parseValue(text: string, line: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (text === 'NaN') return NaN
  const value = Number(text)
  if (text === '' || Number.isNaN(value)) throw new MetricsParseError(`bad sample value in: ${line}`)
  return value
}

/** Parses the labels starting after `{`; returns them and the index after the closing `}`. */
function parseLabels(line: string, start: number): [Record<string, string>, number] {
  const labels: Record<string, string> = {}
  let i = start
  for (;;) {
    while (line[i] === ' ' || line[i] === ',') i++
    if (line[i] === '}') return [labels, i + 1]
    const name = NAME.exec(line.slice(i))?.[0]
    if (!name || line[i + name.length] !== '=' || line[i + name.length + 1] !== '"') throw new MetricsParseError(`bad label in: ${line}`)
    i += name.length + 2
    let value = ''
    for (; i < line.length && line[i] !== '"'; i++) {
      if (line[i] === '\\') {
        i++
        value += line[i] === 'n' ? '\n' : line[i]
      } else value += line[i]
    }
    if (i >= line.length) throw new MetricsParseError(`unterminated label value in: ${line}`)
    labels[name] = value
    i++
  }
}

/** Every sample of a text-format page, in order. Comments (`# HELP`, `# TYPE`) and blank lines are skipped. */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const name = NAME.exec(line)?.[0]
    if (!name) throw new MetricsParseError(`bad metric name in: ${line}`)
    let rest = name.length
    let labels: Record<string, string> = {}
    if (line[rest] === '{') [labels, rest] = parseLabels(line, rest + 1)
    const [valueText] = line.slice(rest).trim().split(/\s+/)
    samples.push({ name, labels, value: parseValue(valueText ?? '', line) })
  }
  return samples
}

/** A cumulative histogram: sorted upper bounds (last is +Inf) with cumulative counts. */
export interface Histogram {
  bounds: number[]
  counts: number[]
}

/** The values one scrape of an etcd member yields; null when the member does not export the series. */
export interface EtcdScrape {
  hasLeader: number | null
  isLeader: number | null
  proposalsCommitted: number | null
  proposalsApplied: number | null
  proposalsFailed: number | null
  proposalsPending: number | null
  leaderChanges: number | null
  dbSizeBytes: number | null
  dbSizeInUseBytes: number | null
  /** `etcd_server_quota_backend_bytes`: the backend quota (NOSPACE above it). */
  quotaBackendBytes: number | null
  grpcHandled: number | null
  grpcErrors: number | null
  walFsync: Histogram | null
  backendCommit: Histogram | null
  /** Summed over all peers (the `To` label). */
  peerRtt: Histogram | null
}

// etcd-mixin alerts.libsonnet, etcdHighNumberOfFailedGRPCRequests: the codes counted as failures.
const GRPC_ERROR_CODES = new Set(['Unknown', 'FailedPrecondition', 'ResourceExhausted', 'Internal', 'Unavailable', 'DataLoss', 'DeadlineExceeded'])

function sumSamples(samples: PromSample[], name: string, filter: (labels: Record<string, string>) => boolean = () => true): number | null {
  let total: number | null = null
  for (const sample of samples) {
    if (sample.name === name && filter(sample.labels)) total = (total ?? 0) + sample.value
  }
  return total
}

/** The `<name>_bucket` series summed per upper bound across all other labels (PromQL `sum by (le)`). */
function mergedHistogram(samples: PromSample[], name: string): Histogram | null {
  const byBound = new Map<number, number>()
  for (const sample of samples) {
    if (sample.name !== `${name}_bucket` || sample.labels.le === undefined) continue
    const bound = parseValue(sample.labels.le, sample.labels.le)
    byBound.set(bound, (byBound.get(bound) ?? 0) + sample.value)
  }
  if (byBound.size === 0) return null
  const bounds = [...byBound.keys()].sort((a, b) => a - b)
  return { bounds, counts: bounds.map((bound) => byBound.get(bound) ?? 0) }
}

/** Parses an etcd /metrics page into the values the charts use. Throws MetricsParseError on bad text. */
export function parseEtcdMetrics(text: string): EtcdScrape {
  const samples = parsePrometheusText(text)
  const value = (name: string) => sumSamples(samples, name)
  return {
    hasLeader: value('etcd_server_has_leader'),
    isLeader: value('etcd_server_is_leader'),
    proposalsCommitted: value('etcd_server_proposals_committed_total'),
    proposalsApplied: value('etcd_server_proposals_applied_total'),
    proposalsFailed: value('etcd_server_proposals_failed_total'),
    proposalsPending: value('etcd_server_proposals_pending'),
    leaderChanges: value('etcd_server_leader_changes_seen_total'),
    dbSizeBytes: value('etcd_mvcc_db_total_size_in_bytes') ?? value('etcd_debugging_mvcc_db_total_size_in_bytes'),
    dbSizeInUseBytes: value('etcd_mvcc_db_total_size_in_use_in_bytes'),
    quotaBackendBytes: value('etcd_server_quota_backend_bytes'),
    grpcHandled: value('grpc_server_handled_total'),
    grpcErrors: sumSamples(samples, 'grpc_server_handled_total', (labels) => GRPC_ERROR_CODES.has(labels.grpc_code ?? '')),
    walFsync: mergedHistogram(samples, 'etcd_disk_wal_fsync_duration_seconds'),
    backendCommit: mergedHistogram(samples, 'etcd_disk_backend_commit_duration_seconds'),
    peerRtt: mergedHistogram(samples, 'etcd_network_peer_round_trip_time_seconds'),
  }
}

/** Per-second increase of a counter between two scrapes; null when unknown or the counter was reset. */
export function counterRate(previous: number | null, current: number | null, intervalMs: number): number | null {
  if (previous === null || current === null || intervalMs <= 0 || current < previous) return null
  return ((current - previous) * 1000) / intervalMs
}

/** The bucket-wise increase between two scrapes (a histogram of only the interval's observations). */
export function histogramIncrease(previous: Histogram | null, current: Histogram | null): Histogram | null {
  if (!previous || !current || previous.bounds.length !== current.bounds.length) return null
  const counts = current.counts.map((count, i) => count - previous.counts[i])
  if (counts.some((count) => count < 0)) return null
  return { bounds: current.bounds, counts }
}

/**
 * The q-quantile of a cumulative histogram, interpolating linearly inside the bucket that holds the rank;
 * null when there are no observations. Ported from Prometheus promql/quantile.go `bucketQuantile`
 * (Apache-2.0): the +Inf bucket returns the highest finite bound, the first bucket interpolates from 0.
 */
export function histogramQuantile(q: number, histogram: Histogram | null): number | null {
  if (!histogram || histogram.bounds.length < 2) return null
  const { bounds, counts } = histogram
  const total = counts[counts.length - 1]
  if (!(total > 0)) return null
  const rank = q * total
  let bucket = counts.findIndex((count) => count >= rank)
  if (bucket < 0) bucket = counts.length - 1
  if (bucket === bounds.length - 1) return bounds[bounds.length - 2]
  if (bucket === 0 && bounds[0] <= 0) return bounds[0]
  const bucketStart = bucket === 0 ? 0 : bounds[bucket - 1]
  const countBefore = bucket === 0 ? 0 : counts[bucket - 1]
  const inBucket = counts[bucket] - countBefore
  if (inBucket <= 0) return bounds[bucket]
  return bucketStart + (bounds[bucket] - bucketStart) * ((rank - countBefore) / inBucket)
}
