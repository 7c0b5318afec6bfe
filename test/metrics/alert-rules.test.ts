import { describe, expect, it } from 'vitest'
import { AlertRulesFormatError, parseAlertRules, parsePrometheusDuration } from '../../core/metrics/alert-rules'
import { shippedAlertRules } from '../../core/metrics/shipped-rules'

// The alerts issue 8 asks for (etcd's upstream mixin).
const EXPECTED_ALERTS = [
  'etcdMembersDown',
  'etcdInsufficientMembers',
  'etcdNoLeader',
  'etcdHighNumberOfLeaderChanges',
  'etcdHighNumberOfFailedGRPCRequests',
  'etcdGRPCRequestsSlow',
  'etcdMemberCommunicationSlow',
  'etcdHighNumberOfFailedProposals',
  'etcdHighFsyncDurations',
  'etcdHighCommitDurations',
  'etcdDatabaseQuotaLowSpace',
  'etcdExcessiveDatabaseGrowth',
  'etcdDatabaseHighFragmentationRatio',
]

describe('shipped alert rules', () => {
  it('the app reads every upstream etcd alert from the same file Prometheus loads', () => {
    const rules = shippedAlertRules()
    expect([...new Set(rules.map((rule) => rule.alert))]).toEqual(EXPECTED_ALERTS)
    expect(rules).toHaveLength(15) // two thresholds each for failed gRPC and fsync durations
    const noLeader = rules.find((rule) => rule.alert === 'etcdNoLeader')
    expect(noLeader).toMatchObject({
      group: 'etcd',
      expr: 'etcd_server_has_leader{job=~".*etcd.*"} == 0',
      forSeconds: 60,
      labels: { severity: 'critical' },
    })
  })

  it('every rule selects the job convention documented in the file', () => {
    for (const rule of shippedAlertRules()) expect(rule.expr, rule.alert).toContain('job=~".*etcd.*"')
  })

  it('durations parse as Prometheus reads them; malformed files are rejected with a code', () => {
    expect(parsePrometheusDuration('1h30m')).toBe(5400)
    expect(parsePrometheusDuration('500ms')).toBe(0.5)
    expect(() => parsePrometheusDuration('10 minutes')).toThrow(AlertRulesFormatError)
    expect(() => parseAlertRules('groups: [{ name: g, rules: [{ alert: A }] }]')).toThrow(/invalid rules file/)
    const recording = parseAlertRules('groups: [{ name: g, rules: [{ record: r, expr: up }, { alert: A, expr: up }] }]')
    expect(recording).toEqual([{ group: 'g', alert: 'A', expr: 'up', forSeconds: 0, labels: {}, annotations: {} }])
  })
})
