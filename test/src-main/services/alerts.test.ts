import { describe, expect, it } from 'vitest'
import { shippedAlertRules } from '../../../core/metrics/shipped-rules'
import type { MemberMetricsPoint } from '../../../src-main/api/admin-api'
import { AlertEvaluator, SUPPORTED_ALERTS, trailingComparison } from '../../../src-main/services/alerts'

// The app's alert evaluation on the rules Prometheus loads (build/monitoring/quorum-rules.yml): pending while
// the condition holds for less than the rule's for:, firing after, resolved when it stops holding.

function point(name: string, at: number, extra: Partial<MemberMetricsPoint> = {}): MemberMetricsPoint {
  return {
    memberId: name, memberName: name, at, up: true, hasLeader: true, isLeader: name === 'm1',
    proposalsCommittedRate: 1, proposalsAppliedRate: 1, proposalsFailedRate: 0, proposalsPending: 0, leaderChangesTotal: 1,
    walFsyncP99Ms: 2, backendCommitP99Ms: 3, peerRttP99Ms: 1, dbSizeBytes: 1000, dbSizeInUseBytes: 900, quotaBackendBytes: 2 ** 31,
    grpcRate: 10, grpcErrorRate: 0, ...extra,
  }
}

function setup(forScale = 1) {
  let now = 1_000_000
  const evaluator = new AlertEvaluator({ rules: shippedAlertRules(), now: () => now, forScale })
  const tick = (make: (name: string, at: number) => MemberMetricsPoint) => evaluator.evaluate('c1', ['m1', 'm2', 'm3'].map((name) => make(name, now)))
  return { evaluator, tick, advance: (ms: number) => (now += ms) }
}

describe('alert evaluation of the shipped rules', () => {
  it('supports the member, leader, quota, latency and error rules of the shipped file', () => {
    const names = new Set(shippedAlertRules().map((rule) => rule.alert))
    for (const name of ['etcdMembersDown', 'etcdInsufficientMembers', 'etcdNoLeader', 'etcdHighNumberOfLeaderChanges', 'etcdDatabaseQuotaLowSpace']) {
      expect(names.has(name) && SUPPORTED_ALERTS.includes(name), name).toBe(true)
    }
    expect(trailingComparison('rate(x[15m]) > 5')).toEqual({ op: '>', value: 5 })
    expect(trailingComparison('increase(y[15m:1m]) >= 4')).toEqual({ op: '>=', value: 4 })
  })

  it('a healthy cluster raises nothing', () => {
    const { tick, evaluator } = setup()
    expect(tick((name, at) => point(name, at))).toEqual([])
    expect(evaluator.list('')).toEqual([])
  })

  it('a member down is pending until the rule for: (10m) has passed, then fires, then resolves when it is back', () => {
    const { tick, advance, evaluator } = setup()
    const down = (name: string, at: number) => point(name, at, name === 'm1' ? { up: false, hasLeader: null } : {})
    expect(tick(down)).toMatchObject([{ name: 'etcdMembersDown', state: 'pending', value: 1, forMs: 600_000, severity: 'critical' }])
    advance(599_000)
    expect(tick(down)).toEqual([])
    advance(1000)
    const [fired] = tick(down)
    expect(fired).toMatchObject({ name: 'etcdMembersDown', state: 'firing', description: 'etcd cluster "c1": members are down (1).' })
    advance(2000)
    expect(tick((name, at) => point(name, at))).toMatchObject([{ name: 'etcdMembersDown', state: 'resolved', firedAt: fired.firedAt }])
    expect(evaluator.list('c1').map((alert) => alert.state)).toEqual(['resolved'])
  })

  it('two of three members down is also insufficient members; a member without leader raises no-leader', () => {
    const { tick } = setup()
    const changed = tick((name, at) => point(name, at, name === 'm3' ? { hasLeader: false } : { up: false }))
    expect(changed.map((alert) => alert.name).sort()).toEqual(['etcdInsufficientMembers', 'etcdMembersDown', 'etcdNoLeader'])
  })

  it('counts leader changes over 15 minutes (>= 4) and the quota (> 95 %) per the rules', () => {
    const { tick, advance } = setup(0)
    let changes = 1
    expect(tick((name, at) => point(name, at, { leaderChangesTotal: changes }))).toEqual([])
    for (let i = 0; i < 3; i++) {
      advance(60_000)
      changes++
      expect(tick((name, at) => point(name, at, { leaderChangesTotal: changes }))).toEqual([])
    }
    advance(60_000)
    changes++
    expect(tick((name, at) => point(name, at, { leaderChangesTotal: changes }))).toMatchObject([{ name: 'etcdHighNumberOfLeaderChanges', state: 'firing', value: 4 }])
    const full = tick((name, at) => point(name, at, { leaderChangesTotal: changes, dbSizeBytes: 0.96 * 2 ** 31 }))
    expect(full).toMatchObject([{ name: 'etcdDatabaseQuotaLowSpace', state: 'firing' }])
  })

  it('forScale shortens for: (demo and test runs)', () => {
    const { tick, advance } = setup(0.01)
    const down = (name: string, at: number) => point(name, at, { up: name !== 'm2' })
    expect(tick(down)[0]).toMatchObject({ state: 'pending', forMs: 6000 })
    advance(6000)
    expect(tick(down)[0]).toMatchObject({ state: 'firing' })
  })

  it('an alert of a connection that stops being monitored ends as resolved in the history', () => {
    const { tick, evaluator } = setup()
    tick((name, at) => point(name, at, { up: name !== 'm2' }))
    expect(evaluator.forget('c1')).toMatchObject([{ name: 'etcdMembersDown', state: 'resolved' }])
    expect(evaluator.list('c1').map((alert) => alert.state)).toEqual(['resolved'])
  })
})
