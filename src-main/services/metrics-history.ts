import type { AppStore } from '../../core/storage/app-store'
import type { Clock } from '../../core/util/clock'
import type { MemberMetricsPoint } from '../api/admin-api'

/** How long chart points are kept in the app database. */
export const METRICS_RETENTION_MS = 24 * 60 * 60 * 1000

const PRUNE_EVERY_MS = 10 * 60 * 1000

/**
 * Chart points in the app database for the last 24 h, so the graphs survive an app restart. The ring buffer
 * in ClusterMonitor stays the live source; this is written behind it and read once when monitoring starts.
 */
export class MetricsHistory {
  private lastPruneAt = 0

  constructor(
    private readonly store: AppStore,
    private readonly clock: Clock,
  ) {}

  /** Stores one sampling round; prunes points past the retention at most every 10 minutes. */
  append(connectionId: string, points: readonly MemberMetricsPoint[]): void {
    this.store.appendMetricPoints(connectionId, points.map((point) => ({ at: point.at, json: JSON.stringify(point) })))
    const now = this.clock.now()
    if (now - this.lastPruneAt >= PRUNE_EVERY_MS) {
      this.lastPruneAt = now
      this.store.deleteMetricPoints({ beforeMs: now - METRICS_RETENTION_MS })
    }
  }

  /** Up to `limit` of the newest points within the retention, oldest first. */
  recent(connectionId: string, limit: number): MemberMetricsPoint[] {
    return this.store
      .metricPointsSince(connectionId, this.clock.now() - METRICS_RETENTION_MS, limit)
      .map((json) => JSON.parse(json) as MemberMetricsPoint)
  }

  /** Forgets a connection's points (when the connection is deleted). */
  forget(connectionId: string): void {
    this.store.deleteMetricPoints({ connectionId })
  }
}
