import { histogramQuantile, parseEtcdMetrics, parsePrometheusText, type PromSample } from '../metrics/text-format'
import type { Histogram, MetricsEvidence } from './types'

// Reading the advisor's figures out of one /metrics page.
// NB: the text parser and histogramQuantile come from core/metrics/text-format.ts (pure, tested through
// test/src-main/services/prometheus.test.ts). The npm parser parse-prometheus-text-format is not used: it
// merges labelled histogram series (see that file's header).

function firstValue(samples: PromSample[], ...names: string[]): number | null {
  for (const name of names) {
    const sample = samples.find((s) => s.name === name)
    if (sample) return sample.value
  }
  return null
}

/** Parses a /metrics page read at `scrapedAtMs` (local epoch ms). Throws MetricsParseError on bad text. */
export function readMetrics(text: string, scrapedAtMs: number): MetricsEvidence {
  const samples = parsePrometheusText(text)
  const etcd = parseEtcdMetrics(text)
  const startSeconds = firstValue(samples, 'process_start_time_seconds')
  const engine = samples.some((s) => s.name.startsWith('nodejs_')) ? 'quorum' : samples.some((s) => s.name.startsWith('go_')) ? 'etcd' : 'unknown'
  return {
    engine,
    serverVersion: samples.find((s) => s.name === 'etcd_server_version')?.labels.server_version ?? null,
    leaderChanges: etcd.leaderChanges,
    uptimeSeconds: startSeconds === null ? null : Math.max(0, scrapedAtMs / 1000 - startSeconds),
    walFsync: etcd.walFsync,
    backendCommit: etcd.backendCommit,
    quotaBytes: firstValue(samples, 'etcd_server_quota_backend_bytes'),
    dbSizeBytes: etcd.dbSizeBytes,
    dbSizeInUseBytes: etcd.dbSizeInUseBytes,
  }
}

/** Observations in a cumulative histogram (the +Inf bucket); 0 when absent. */
export function observationCount(histogram: Histogram | null): number {
  return histogram ? histogram.counts[histogram.counts.length - 1] ?? 0 : 0
}

/** p99 of a cumulative histogram in milliseconds (Prometheus histogram_quantile interpolation); null when empty. */
export function p99Ms(histogram: Histogram | null): number | null {
  const seconds = histogramQuantile(0.99, histogram)
  return seconds === null ? null : seconds * 1000
}
