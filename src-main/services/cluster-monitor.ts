import type { ClusterOverview, MemberMetricsPoint, MetricsHistory } from '../api/admin-api'
import type { Clock } from '../../core/util/clock'
import type { ClusterClient, ClusterClientOptions } from './cluster-client'
import { readClusterOverview } from './cluster-overview'
import { httpGetText } from './http-get'
import { counterRate, histogramIncrease, histogramQuantile, parseEtcdMetrics, type EtcdScrape } from './prometheus'
import { RingBuffer } from './ring-buffer'

/** Settings of a monitor; defaults suit the overview page (a sample every 2 s, 30 minutes of history). */
export interface ClusterMonitorOptions {
  connectionId: string
  client: ClusterClient
  tls: ClusterClientOptions['tls']
  clock: Clock
  intervalMs?: number
  historyPoints?: number
  /** Where a member's metrics are; default `<first client URL>/metrics` (etcd serves them there). */
  metricsUrl?: (clientUrl: string) => string
  onOverview(overview: ClusterOverview): void
  onSample(points: MemberMetricsPoint[]): void
  /** Points from before this monitor started (e.g. the app database), oldest first, to seed the history. */
  initialPoints?: readonly MemberMetricsPoint[]
  /** Called when a whole tick fails (e.g. no endpoint answers the member list). */
  onError?(error: Error): void
}

interface PreviousScrape {
  at: number
  scrape: EtcdScrape
}

const ms = (seconds: number | null) => (seconds === null ? null : seconds * 1000)

/**
 * Derives one chart point from two scrapes of the same member: rates over the interval, p99 of the
 * interval's observations, and the latest gauges. Without a previous scrape, rates and percentiles are null.
 */
export function derivePoint(member: { id: string; name: string }, at: number, current: EtcdScrape, previous: PreviousScrape | null): MemberMetricsPoint {
  const interval = previous ? at - previous.at : 0
  const before = previous?.scrape ?? null
  const rate = (pick: (scrape: EtcdScrape) => number | null) => (before ? counterRate(pick(before), pick(current), interval) : null)
  const p99 = (pick: (scrape: EtcdScrape) => EtcdScrape['walFsync']) => (before ? ms(histogramQuantile(0.99, histogramIncrease(pick(before), pick(current)))) : null)
  return {
    memberId: member.id,
    memberName: member.name,
    at,
    up: true,
    hasLeader: current.hasLeader === null ? null : current.hasLeader > 0,
    isLeader: current.isLeader === null ? null : current.isLeader > 0,
    proposalsCommittedRate: rate((s) => s.proposalsCommitted),
    proposalsAppliedRate: rate((s) => s.proposalsApplied),
    proposalsFailedRate: rate((s) => s.proposalsFailed),
    proposalsPending: current.proposalsPending,
    leaderChangesTotal: current.leaderChanges,
    walFsyncP99Ms: p99((s) => s.walFsync),
    backendCommitP99Ms: p99((s) => s.backendCommit),
    // etcd observes peer RTT only on its prober's schedule (seconds apart), so most intervals have no new
    // observation: then the value since the member started stands in, rather than a gap in the chart.
    peerRttP99Ms: p99((s) => s.peerRtt) ?? ms(histogramQuantile(0.99, current.peerRtt)),
    dbSizeBytes: current.dbSizeBytes,
    dbSizeInUseBytes: current.dbSizeInUseBytes,
    quotaBackendBytes: current.quotaBackendBytes,
    grpcRate: rate((s) => s.grpcHandled),
    grpcErrorRate: rate((s) => s.grpcErrors),
  }
}

function downPoint(member: { id: string; name: string }, at: number): MemberMetricsPoint {
  return {
    memberId: member.id,
    memberName: member.name,
    at,
    up: false,
    hasLeader: null,
    isLeader: null,
    proposalsCommittedRate: null,
    proposalsAppliedRate: null,
    proposalsFailedRate: null,
    proposalsPending: null,
    leaderChangesTotal: null,
    walFsyncP99Ms: null,
    backendCommitP99Ms: null,
    peerRttP99Ms: null,
    dbSizeBytes: null,
    dbSizeInUseBytes: null,
    quotaBackendBytes: null,
    grpcRate: null,
    grpcErrorRate: null,
  }
}

/**
 * Samples one cluster on a timer: each tick reads the overview (members, Status, alarms) and scrapes every
 * member's /metrics, keeps the points in a ring buffer and hands both to the callbacks. Ticks never overlap:
 * the next one is scheduled when the previous finished.
 */
export class ClusterMonitor {
  readonly intervalMs: number
  private readonly history: RingBuffer<MemberMetricsPoint>
  private readonly previous = new Map<string, PreviousScrape>()
  private timer: NodeJS.Timeout | null = null
  private running = false
  private lastOverview: ClusterOverview | null = null

  constructor(private readonly options: ClusterMonitorOptions) {
    this.intervalMs = options.intervalMs ?? 2000
    this.history = new RingBuffer(options.historyPoints ?? 5000)
    for (const point of options.initialPoints ?? []) this.history.push(point)
  }

  /** Starts sampling; the first tick runs at once. Idempotent. */
  start(): void {
    if (this.running) return
    this.running = true
    void this.loop()
  }

  /** Stops sampling and closes the client. */
  async stop(): Promise<void> {
    this.running = false
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    await this.options.client.close()
  }

  get overview(): ClusterOverview | null {
    return this.lastOverview
  }

  snapshot(): MetricsHistory {
    return { connectionId: this.options.connectionId, intervalMs: this.intervalMs, points: this.history.toArray() }
  }

  private async loop(): Promise<void> {
    if (!this.running) return
    try {
      await this.tick()
    } catch (error) {
      this.options.onError?.(error instanceof Error ? error : new Error(String(error)))
    }
    if (this.running) this.timer = setTimeout(() => void this.loop(), this.intervalMs)
  }

  /** One sampling round (public for tests that drive it by hand). */
  async tick(): Promise<MemberMetricsPoint[]> {
    const { client, clock, connectionId } = this.options
    const overview = await readClusterOverview(client, connectionId, () => clock.now())
    this.lastOverview = overview
    this.options.onOverview(overview)
    const metricsUrl = this.options.metricsUrl ?? ((clientUrl: string) => `${clientUrl.replace(/\/+$/, '')}/metrics`)
    const points = await Promise.all(
      overview.members.map(async (member) => {
        const at = clock.now()
        if (member.clientUrls.length === 0) return downPoint(member, at)
        try {
          const scrape = parseEtcdMetrics(await httpGetText(metricsUrl(member.clientUrls[0]), this.options.tls, Math.max(1000, this.intervalMs)))
          const point = derivePoint(member, at, scrape, this.previous.get(member.id) ?? null)
          this.previous.set(member.id, { at, scrape })
          return point
        } catch {
          // A member that does not answer is a data point too: the charts show the gap and `up: false`.
          this.previous.delete(member.id)
          return downPoint(member, at)
        }
      }),
    )
    for (const point of points) this.history.push(point)
    this.options.onSample(points)
    return points
  }
}
