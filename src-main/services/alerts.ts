import type { AlertRule } from '../../core/metrics/alert-rules'
import type { AlertInfo, MemberMetricsPoint } from '../api/admin-api'
import { RingBuffer } from './ring-buffer'

// The desktop app's evaluation of the shipped Prometheus rules (build/monitoring/quorum-rules.yml) on the
// samples the monitor takes. Rather than a PromQL engine, each rule the app supports is matched by its
// `alert:` name to a function computing the same quantity from MemberMetricsPoints; the threshold and the
// `for:` duration come from the rule itself, so editing the file changes both Prometheus and the app.
// Prometheus alerting semantics: the condition holding makes an alert `pending`; holding for `for:` makes it
// `firing`; it resolves when the condition stops holding (prometheus/rules/alerting.go).

/** One sampling round: the points of every member at one instant. */
type Tick = readonly MemberMetricsPoint[]

/** Value of a rule's expression over the recent ticks (newest last), or null when it does not hold. */
type Condition = (ticks: readonly Tick[], threshold: Comparison) => number | null

/** The trailing comparison of an expression (`> 0.5`, `>= 4`, `== 0`). */
interface Comparison {
  op: '>' | '>=' | '<' | '==' | '<='
  value: number
}

const compare = (value: number, threshold: Comparison): boolean =>
  threshold.op === '>' ? value > threshold.value
  : threshold.op === '>=' ? value >= threshold.value
  : threshold.op === '<' ? value < threshold.value
  : threshold.op === '<=' ? value <= threshold.value
  : value === threshold.value

/** Parses the comparison at the end of a PromQL expression; null when it ends differently. */
export function trailingComparison(expr: string): Comparison | null {
  const match = /(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(expr)
  return match ? { op: match[1] as Comparison['op'], value: Number(match[2]) } : null
}

/** Largest per-member value that satisfies the threshold (the "any instance" of a per-instance rule). */
function anyMember(pick: (point: MemberMetricsPoint) => number | null): Condition {
  return (ticks, threshold) => {
    const values = (ticks.at(-1) ?? []).map(pick).filter((value): value is number => value !== null && compare(value, threshold))
    return values.length > 0 ? Math.max(...values) : null
  }
}

const LEADER_CHANGE_WINDOW_MS = 15 * 60_000

// The expressions these stand for are quoted from quorum-rules.yml next to each entry.
const CONDITIONS: Record<string, Condition> = {
  // sum without (instance) (up == bool 0) > 0
  etcdMembersDown: (ticks, threshold) => {
    const down = (ticks.at(-1) ?? []).filter((point) => !point.up).length
    return compare(down, threshold) ? down : null
  },
  // sum(up == bool 1) < ((count(up) + 1) / 2)
  etcdInsufficientMembers: (ticks) => {
    const tick = ticks.at(-1) ?? []
    const up = tick.filter((point) => point.up).length
    return tick.length > 0 && up < (tick.length + 1) / 2 ? up : null
  },
  // etcd_server_has_leader == 0 (per instance; a member that is down has no sample)
  etcdNoLeader: anyMember((point) => (point.up && point.hasLeader !== null ? (point.hasLeader ? 1 : 0) : null)),
  // increase(max(etcd_server_leader_changes_seen_total)[15m:1m]) >= 4
  etcdHighNumberOfLeaderChanges: (ticks, threshold) => {
    const last = ticks.at(-1)?.[0]?.at ?? 0
    const maxima = ticks
      .filter((tick) => (tick[0]?.at ?? 0) >= last - LEADER_CHANGE_WINDOW_MS)
      .map((tick) => Math.max(-1, ...tick.map((point) => point.leaderChangesTotal ?? -1)))
      .filter((value) => value >= 0)
    if (maxima.length < 2) return null
    // A counter reset (member restart) counts as a fresh start, as Prometheus' increase() does.
    let increase = 0
    for (let i = 1; i < maxima.length; i++) increase += maxima[i] >= maxima[i - 1] ? maxima[i] - maxima[i - 1] : maxima[i]
    return compare(increase, threshold) ? increase : null
  },
  // 100 * rate(grpc errors) / rate(grpc handled) > N
  etcdHighNumberOfFailedGRPCRequests: anyMember((point) =>
    point.grpcRate && point.grpcErrorRate !== null ? (100 * point.grpcErrorRate) / point.grpcRate : null,
  ),
  // rate(etcd_server_proposals_failed_total) > 5
  etcdHighNumberOfFailedProposals: anyMember((point) => point.proposalsFailedRate),
  // histogram_quantile(0.99, ...) > seconds
  etcdMemberCommunicationSlow: anyMember((point) => (point.peerRttP99Ms === null ? null : point.peerRttP99Ms / 1000)),
  etcdHighFsyncDurations: anyMember((point) => (point.walFsyncP99Ms === null ? null : point.walFsyncP99Ms / 1000)),
  etcdHighCommitDurations: anyMember((point) => (point.backendCommitP99Ms === null ? null : point.backendCommitP99Ms / 1000)),
  // db_total_size / quota_backend_bytes * 100 > 95
  etcdDatabaseQuotaLowSpace: anyMember((point) =>
    point.dbSizeBytes !== null && point.quotaBackendBytes ? (100 * point.dbSizeBytes) / point.quotaBackendBytes : null,
  ),
}

/** Names of the shipped rules the app evaluates (others, like predict_linear growth, are Prometheus-only). */
export const SUPPORTED_ALERTS = Object.freeze(Object.keys(CONDITIONS))

interface CompiledRule {
  rule: AlertRule
  key: string
  condition: Condition
  threshold: Comparison
}

/** Settings of the evaluator. `forScale` shrinks every `for:` (tests and demos; 1 = as written). */
export interface AlertEvaluatorOptions {
  rules: readonly AlertRule[]
  now: () => number
  forScale?: number
  /** Resolved alerts kept in the history. */
  historySize?: number
  /** The `job` label of a connection in descriptions (its profile name); default the connection ID. */
  jobName?: (connectionId: string) => string
}

/** Fills `{{ $value }}` and `{{ $labels.x }}` of an annotation. */
function render(template: string, value: number, labels: Record<string, string>): string {
  return template
    .replace(/\{\{\s*\$value(?:\s*\|\s*\w+)?\s*\}\}/g, String(Math.round(value * 100) / 100))
    .replace(/\{\{\s*\$labels\.(\w+)\s*\}\}/g, (_whole, name: string) => labels[name] ?? 'any')
}

/**
 * Evaluates the supported shipped rules per connection on each sampling round and reports state changes.
 * Keeps the active alerts and a bounded history of resolved ones in memory.
 */
export class AlertEvaluator {
  private readonly rules: CompiledRule[]
  private readonly ticks = new Map<string, Tick[]>()
  private readonly active = new Map<string, AlertInfo>()
  private readonly history: RingBuffer<AlertInfo>
  private readonly forScale: number
  private sequence = 0

  constructor(private readonly options: AlertEvaluatorOptions) {
    this.forScale = options.forScale ?? 1
    this.history = new RingBuffer<AlertInfo>(options.historySize ?? 500)
    this.rules = options.rules.flatMap((rule) => {
      const condition = CONDITIONS[rule.alert] as Condition | undefined
      const threshold = trailingComparison(rule.expr) ?? { op: '>', value: 0 }
      return condition ? [{ rule, key: `${rule.alert}/${rule.labels.severity ?? ''}`, condition, threshold }] : []
    })
  }

  /** Evaluates every rule on a new round of `connectionId`; returns the alerts whose state changed. */
  evaluate(connectionId: string, tick: Tick): AlertInfo[] {
    const now = this.options.now()
    const ticks = this.ticks.get(connectionId) ?? []
    ticks.push(tick)
    while (ticks.length > 0 && (ticks[0][0]?.at ?? 0) < now - LEADER_CHANGE_WINDOW_MS - 60_000) ticks.shift()
    this.ticks.set(connectionId, ticks)
    const changed: AlertInfo[] = []
    for (const compiled of this.rules) {
      const id = `${connectionId}/${compiled.key}`
      const value = compiled.condition(ticks, compiled.threshold)
      const current = this.active.get(id)
      if (value === null) {
        if (current) {
          this.active.delete(id)
          const resolved = { ...current, state: 'resolved' as const, resolvedAt: now, updatedAt: now }
          this.history.push(resolved)
          changed.push(resolved)
        }
        continue
      }
      const forMs = compiled.rule.forSeconds * 1000 * this.forScale
      const labels = { job: this.options.jobName?.(connectionId) ?? connectionId, instance: 'any', ...compiled.rule.labels }
      const base: AlertInfo = current ?? {
        id: `${id}/${++this.sequence}`,
        connectionId,
        name: compiled.rule.alert,
        severity: compiled.rule.labels.severity ?? 'warning',
        state: 'pending',
        summary: compiled.rule.annotations.summary ?? compiled.rule.alert,
        description: '',
        value,
        forMs,
        activeSince: now,
        firedAt: null,
        resolvedAt: null,
        updatedAt: now,
      }
      const state = now - base.activeSince >= forMs ? 'firing' : 'pending'
      const next: AlertInfo = {
        ...base,
        value,
        state,
        description: render(compiled.rule.annotations.description ?? '', value, labels),
        firedAt: state === 'firing' ? (base.firedAt ?? now) : null,
        updatedAt: now,
      }
      this.active.set(id, next)
      if (!current || current.state !== next.state) changed.push(next)
    }
    return changed
  }

  /**
   * Forgets a connection's rounds (monitoring stopped). Its active alerts end as `resolved` (no longer
   * evaluated) and go to the history; returns them so subscribers hear of it.
   */
  forget(connectionId: string): AlertInfo[] {
    this.ticks.delete(connectionId)
    const now = this.options.now()
    const ended: AlertInfo[] = []
    for (const [id, alert] of this.active) {
      if (alert.connectionId !== connectionId) continue
      this.active.delete(id)
      const resolved = { ...alert, state: 'resolved' as const, resolvedAt: now, updatedAt: now }
      this.history.push(resolved)
      ended.push(resolved)
    }
    return ended
  }

  /** Active alerts (firing first), then resolved ones newest first; one connection or all (`''`). */
  list(connectionId: string): AlertInfo[] {
    const mine = (alert: AlertInfo) => connectionId === '' || alert.connectionId === connectionId
    const active = [...this.active.values()].filter(mine).sort((a, b) => (a.state === b.state ? b.activeSince - a.activeSince : a.state === 'firing' ? -1 : 1))
    const resolved = this.history.toArray().filter(mine).reverse()
    return [...active, ...resolved]
  }
}
