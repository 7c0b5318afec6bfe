// Auto-compaction, ported from etcd etcdserver/api/v3compactor (periodic.go, revision.go; Apache-2.0).
// The compactor only decides; the host (on the leader) proposes a Compaction through Raft with the returned
// revision. Time comes from the injected Clock; the host calls `poll()` regularly (e.g. every second).
import type { Clock } from '../util/clock'

const HOUR_MS = 3_600_000
/** etcd compat: revision mode checks every 5 minutes. */
export const REVISION_CHECK_INTERVAL_MS = 5 * 60_000

export type AutoCompactionMode = 'periodic' | 'revision'

export interface AutoCompactorOptions {
  mode: AutoCompactionMode
  /** periodic: retention in ms (e.g. 1 h); revision: number of revisions to keep. */
  retention: number
  clock: Clock
  /** The store's current revision. */
  currentRevision: () => number
}

/**
 * Decides when to compact and at which revision.
 * - periodic (etcd 3.4 Periodic): samples the revision every retention/10 (at most 6 min); once `retention`
 *   has passed since the last success, compacts at the revision sampled `retention` ago; afterwards it
 *   compacts every min(retention, 1 h).
 * - revision (etcd Revision): every 5 minutes, compacts at current - retention when that moved.
 */
export class AutoCompactor {
  private paused = true
  // Invariant: revs[0] is the revision sampled `retention` ago (periodic mode), at most `retentions` samples.
  private readonly revs: number[] = []
  private lastSuccessMs: number
  private nextSampleMs: number
  private baseIntervalMs: number
  private lastRevision = 0

  constructor(private readonly options: AutoCompactorOptions) {
    const now = options.clock.now()
    this.lastSuccessMs = now
    this.nextSampleMs = options.mode === 'revision' ? now + REVISION_CHECK_INTERVAL_MS : now
    this.baseIntervalMs = options.retention
  }

  /** Starts deciding (the member became leader). */
  resume(): void {
    this.paused = false
  }

  /** Stops deciding (the member lost leadership). */
  pause(): void {
    this.paused = true
  }

  /**
   * The revision to propose a compaction at, or undefined when nothing is due now. Call at least as often as
   * the sampling interval (every second is fine); a proposed compaction counts as a success.
   */
  poll(): number | undefined {
    return this.options.mode === 'periodic' ? this.pollPeriodic() : this.pollRevision()
  }

  private pollPeriodic(): number | undefined {
    const now = this.options.clock.now()
    const period = this.options.retention
    const retryMs = Math.min(period, HOUR_MS) / 10
    const retentions = Math.floor(period / retryMs) + 1
    let due: number | undefined
    // etcd's loop: wait retryInterval, check, then sample; replayed here for every interval that passed
    while (this.nextSampleMs <= now) {
      const t = this.nextSampleMs
      if (this.revs.length > 0 && !this.paused && t - this.lastSuccessMs >= this.baseIntervalMs) {
        // wait the full period the first time, then compact every min(period, 1 h)
        if (this.baseIntervalMs === period) this.baseIntervalMs = Math.min(period, HOUR_MS)
        due = this.revs[0]
        this.lastSuccessMs = t
      }
      this.revs.push(this.options.currentRevision())
      if (this.revs.length > retentions) this.revs.shift()
      this.nextSampleMs += retryMs
    }
    return due
  }

  private pollRevision(): number | undefined {
    const now = this.options.clock.now()
    if (this.nextSampleMs > now) return undefined
    this.nextSampleMs = now + REVISION_CHECK_INTERVAL_MS
    if (this.paused) return undefined
    const rev = this.options.currentRevision() - this.options.retention
    if (rev <= 0 || rev === this.lastRevision) return undefined
    this.lastRevision = rev
    return rev
  }
}
