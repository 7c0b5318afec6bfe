import { describe, expect, it } from 'vitest'
import { grade, score, SEVERITY_PENALTY } from '../../core/advisor/grade'
import { readMetrics, p99Ms } from '../../core/advisor/metrics'
import * as rules from '../../core/advisor/rules'
import { versionNote } from '../../core/advisor/versions'
import type { Finding } from '../../core/advisor/types'
import { evidence, member, metrics, NOW } from './evidence-fixture'

function only(finding: Finding | null): Finding {
  expect(finding).not.toBeNull()
  return finding!
}

describe('advisor rules on synthetic evidence', () => {
  it('a well-run cluster passes every rule and scores 100', () => {
    const findings = grade(evidence(), NOW)
    expect(findings.filter((f) => f.severity !== 'ok')).toEqual([])
    expect(findings).toHaveLength(rules.RULES.length)
    expect(score(findings)).toBe(100)
  })

  it('reachable: an unreadable member list or a member not answering Status is critical', () => {
    expect(only(rules.reachableRule(evidence({ members: [], memberListError: 'UNAVAILABLE: connect ECONNREFUSED' }), NOW))).toMatchObject({
      severity: 'critical',
      title: 'Cannot read the member list from https://10.0.0.1:2379',
      evidence: { error: 'UNAVAILABLE: connect ECONNREFUSED' },
      fix: { target: 'page:members' },
    })
    const stopped = member(3, { status: null, statusError: 'deadline exceeded' })
    expect(only(rules.reachableRule(evidence({ members: [member(1), member(2), stopped] }), NOW))).toMatchObject({
      severity: 'critical',
      title: '1 of 3 member(s) do not answer Status: m3',
      evidence: { statusFailures: 1, error: 'deadline exceeded' },
    })
  })

  it('member count: 3 ok, 1 warning, 2 critical (worse than 1), 4 warning, 9 warning; learners do not count', () => {
    const graded = (n: number, learners = 0) =>
      only(rules.memberCountRule(evidence({ members: [...Array.from({ length: n }, (_, i) => member(i + 1)), ...Array.from({ length: learners }, (_, i) => member(50 + i, { isLearner: true }))] }), NOW))
    expect(graded(3)).toMatchObject({ severity: 'ok', evidence: { voters: 3, failureTolerance: 1 } })
    expect(graded(1)).toMatchObject({ severity: 'warning', title: expect.stringContaining('Single member'), fix: { target: 'wizard:add-member' } })
    const two = graded(2)
    expect(two).toMatchObject({ severity: 'critical', title: expect.stringMatching(/Even member count 2: worse than 1/), evidence: { voters: 2, failureTolerance: 0 } })
    expect(two.fix?.text).toMatch(/third member/)
    expect(graded(4)).toMatchObject({ severity: 'warning', title: expect.stringContaining('Even member count 4'), evidence: { failureTolerance: 1 } })
    expect(graded(9)).toMatchObject({ severity: 'warning', title: expect.stringContaining('more than 7') })
    expect(graded(2, 1)).toMatchObject({ severity: 'critical', evidence: { voters: 2, learners: 1 } })
    expect(rules.memberCountRule(evidence({ members: [], memberListError: 'unavailable' }), NOW)).toBeNull()
  })

  it('distinct hosts: loopback is a playground note, a host with a majority is critical, a shared host a warning', () => {
    const local = (i: number) => member(i, { peerUrls: [`http://127.0.0.1:${2380 + i}`] })
    expect(only(rules.distinctHostsRule(evidence({ members: [local(1), local(2), local(3)] }), NOW))).toMatchObject({
      severity: 'info',
      title: expect.stringContaining('local playground'),
      fix: null,
    })
    const onHost = (i: number, host: string) => member(i, { peerUrls: [`https://${host}:${2380 + i}`] })
    expect(only(rules.distinctHostsRule(evidence({ members: [onHost(1, 'a'), onHost(2, 'a'), onHost(3, 'b')] }), NOW))).toMatchObject({
      severity: 'critical',
      evidence: { distinctHosts: 2, mostMembersOnOneHost: 2 },
      fix: { target: 'page:members' },
    })
    expect(only(rules.distinctHostsRule(evidence({ members: [onHost(1, 'a'), onHost(2, 'a'), onHost(3, 'b'), onHost(4, 'c'), onHost(5, 'd')] }), NOW)).severity).toBe('warning')
    expect(only(rules.distinctHostsRule(evidence(), NOW))).toMatchObject({ severity: 'ok', evidence: { distinctHosts: 3 } })
  })

  it('client and peer TLS: any http URL is critical and points at the TLS wizard', () => {
    const plain = member(2, { clientUrls: ['http://10.0.0.2:2379'], peerUrls: ['http://10.0.0.2:2380'] })
    const input = evidence({ members: [member(1), plain, member(3)] })
    expect(only(rules.clientTlsRule(input, NOW))).toMatchObject({ severity: 'critical', evidence: { urls: 3, plainHttpUrls: 1 }, fix: { target: 'wizard:tls' } })
    const peer = only(rules.peerTlsRule(input, NOW))
    expect(peer.title).toMatch(/Peer traffic .* unencrypted on 1 of 3/)
    expect(peer.fix?.text).toContain('--peer-client-cert-auth')
    expect(only(rules.peerTlsRule(evidence(), NOW)).severity).toBe('ok')
  })

  it('auth: client certificates or RBAC suffice; neither is a warning; unknown is info', () => {
    expect(only(rules.authRule(evidence({ authEnabled: false, clientCertRequired: true }), NOW)).title).toContain('client certificates')
    expect(only(rules.authRule(evidence({ authEnabled: true, clientCertRequired: false }), NOW)).title).toContain('RBAC')
    expect(only(rules.authRule(evidence({ authEnabled: false, clientCertRequired: false }), NOW))).toMatchObject({ severity: 'warning', fix: { target: 'wizard:auth' } })
    expect(only(rules.authRule(evidence({ authEnabled: null, clientCertRequired: false }), NOW)).severity).toBe('info')
  })

  it('metrics reachable: a member whose /metrics fails is named in a warning', () => {
    const down = member(2, { metrics: null, metricsError: 'connect ECONNREFUSED' })
    expect(only(rules.metricsReachableRule(evidence({ members: [member(1), down, member(3)] }), NOW))).toMatchObject({
      severity: 'warning',
      title: expect.stringContaining('m2'),
      evidence: { unreachable: 1, firstError: 'connect ECONNREFUSED' },
    })
  })

  it('leader changes: a young member counts all changes but its first election, an old one is prorated', () => {
    const withChanges = (leaderChanges: number, uptimeSeconds: number) =>
      only(rules.leaderChangesRule(evidence({ members: [member(1, { metrics: metrics({ leaderChanges, uptimeSeconds }) })] }), NOW))
    expect(withChanges(1, 600)).toMatchObject({ severity: 'ok', evidence: { leaderChangesLastHour: 0 } })
    expect(withChanges(5, 600)).toMatchObject({ severity: 'warning', evidence: { leaderChangesLastHour: 4 } })
    expect(withChanges(11, 10 * 3600)).toMatchObject({ severity: 'ok', evidence: { leaderChangesLastHour: 1 } })
    expect(withChanges(61, 10 * 3600)).toMatchObject({ severity: 'warning', evidence: { leaderChangesLastHour: 6 } })
  })

  it('leader changes: two samples measure the rate and win over the uptime estimate', () => {
    const sampled = (delta: number, intervalMs: number) =>
      only(rules.leaderChangesRule(evidence({ members: [member(1, { metrics: metrics({ leaderChanges: 500, uptimeSeconds: 600 }), leaderChangesSampled: { delta, intervalMs } })] }), NOW))
    expect(sampled(0, 10_000)).toMatchObject({ severity: 'ok', evidence: { leaderChangesLastHour: 0, measuredOverInterval: true } })
    // 1 change in 10 minutes: 6 an hour.
    expect(sampled(1, 600_000)).toMatchObject({ severity: 'warning', title: 'About 6 leader changes in the last hour: network or disk trouble', fix: { target: 'page:monitoring' } })
  })

  it('p99 from buckets: linear interpolation inside the bucket holding rank 0.99·count (histogram_quantile)', () => {
    // rank 99 of 100 falls in (1 ms, 2 ms] holding observations 51..100: 1 + 1·(49/50) = 1.98 ms.
    expect(p99Ms({ bounds: [0.001, 0.002, 0.004, Infinity], counts: [50, 100, 100, 100] })).toBeCloseTo(1.98, 6)
    // rank 99 falls in (16 ms, 32 ms] holding 51..100: 16 + 16·(49/50) = 31.68 ms.
    expect(p99Ms({ bounds: [0.008, 0.016, 0.032, Infinity], counts: [0, 50, 100, 100] })).toBeCloseTo(31.68, 6)
    // rank 99 in the +Inf bucket: the highest finite bound.
    expect(p99Ms({ bounds: [0.5, 1, 2, Infinity], counts: [0, 0, 90, 100] })).toBe(2000)
    expect(p99Ms({ bounds: [0.5, Infinity], counts: [0, 0] })).toBeNull()
  })

  it('fsync p99 over 10 ms is a warning, over 1 s critical; backend commit over 25 ms a warning; few samples are skipped', () => {
    const slow = { bounds: [0.008, 0.016, 0.032, Infinity], counts: [0, 50, 100, 100] }
    const fsync = only(rules.fsyncLatencyRule(evidence({ members: [member(1), member(2, { metrics: metrics({ walFsync: slow }) })] }), NOW))
    expect(fsync).toMatchObject({ severity: 'warning', evidence: { worstP99Ms: 31.68, member: 'm2', limitMs: 10 }, fix: { target: 'page:monitoring' } })
    expect(fsync.title).toBe("WAL fsync p99 31.68 ms on m2, above etcd's 10 ms guidance")
    const awful = { bounds: [0.5, 1, 2, Infinity], counts: [0, 0, 100, 100] }
    expect(only(rules.fsyncLatencyRule(evidence({ members: [member(1, { metrics: metrics({ walFsync: awful }) })] }), NOW)).severity).toBe('critical')
    expect(only(rules.commitLatencyRule(evidence({ members: [member(1, { metrics: metrics({ backendCommit: slow }) })] }), NOW))).toMatchObject({
      severity: 'warning',
      evidence: { limitMs: 25 },
    })
    expect(only(rules.commitLatencyRule(evidence({ members: [member(1, { metrics: metrics({ backendCommit: awful }) })] }), NOW)).severity).toBe('warning')
    const few = { bounds: [0.5, Infinity], counts: [0, 5] }
    expect(rules.fsyncLatencyRule(evidence({ members: [member(1, { metrics: metrics({ walFsync: few }) })] }), NOW)).toBeNull()
  })

  it('db quota: over 80% warning, over 95% critical; fragmentation needs < 50% in use and > 100 MiB in use', () => {
    const sized = (dbSizeBytes: number, dbSizeInUseBytes: number) =>
      evidence({ members: [member(1, { status: { ...member(1).status!, dbSizeBytes, dbSizeInUseBytes }, metrics: metrics({ quotaBytes: 1000 * 1024 ** 2 }) })] })
    const mib = 1024 ** 2
    expect(only(rules.quotaRule(sized(500 * mib, 500 * mib), NOW))).toMatchObject({ severity: 'ok', evidence: { usedPercent: 50 } })
    expect(only(rules.quotaRule(sized(850 * mib, 850 * mib), NOW))).toMatchObject({ severity: 'warning', evidence: { usedPercent: 85 }, fix: { target: 'page:maintenance' } })
    expect(only(rules.quotaRule(sized(960 * mib, 960 * mib), NOW)).title).toMatch(/96% of its quota on m1: NOSPACE/)
    expect(only(rules.fragmentationRule(sized(400 * mib, 150 * mib), NOW))).toMatchObject({ severity: 'warning', evidence: { inUsePercent: 37.5 } })
    expect(only(rules.fragmentationRule(sized(100 * mib, 10 * mib), NOW)).severity).toBe('ok')
  })

  it('alarms: any active alarm is critical and names its kind', () => {
    expect(only(rules.alarmsRule(evidence({ alarms: [{ memberId: '1001', alarm: 'nospace' }] }), NOW))).toMatchObject({
      severity: 'critical',
      title: 'Active alarm(s): NOSPACE on 1 member(s)',
      fix: { target: 'page:alarms' },
    })
    expect(rules.alarmsRule(evidence({ alarms: null }), NOW)).toBeNull()
  })

  it('backups: none or older than 24 h is critical; no drill or older than 7 days a warning', () => {
    expect(only(rules.backupRule(evidence({ lastSuccessfulBackup: null }), NOW))).toMatchObject({ severity: 'critical', title: 'No backup recorded', fix: { target: 'page:backups' } })
    expect(only(rules.backupRule(evidence({ lastSuccessfulBackup: '2026-11-24T06:00:00.000Z' }), NOW))).toMatchObject({ severity: 'critical', evidence: { ageHours: 30 } })
    expect(only(rules.backupRule(evidence(), NOW))).toMatchObject({ severity: 'ok', evidence: { ageHours: 6 } })
    expect(only(rules.restoreDrillRule(evidence({ lastPassingDrill: null }), NOW))).toMatchObject({ severity: 'warning', title: 'No passing restore drill recorded' })
    expect(only(rules.restoreDrillRule(evidence({ lastPassingDrill: '2026-11-10T12:00:00.000Z' }), NOW)).title).toMatch(/15 days ago/)
  })

  it('versions: the shipped table flags 3.5.0-3.5.2, 3.4 end of life, 3.3 and older; Quorum is OK', () => {
    expect(versionNote('3.5.1', 'etcd')).toMatchObject({ severity: 'critical', note: expect.stringContaining('13766') })
    expect(versionNote('3.5.3', 'etcd').severity).toBe('ok')
    expect(versionNote('3.4.23', 'etcd')).toMatchObject({ severity: 'warning', note: expect.stringContaining('end of life') })
    expect(versionNote('3.3.27', 'etcd').severity).toBe('critical')
    expect(versionNote('3.6.5', 'etcd').severity).toBe('ok')
    expect(versionNote('3.4.23', 'quorum').severity).toBe('ok')
    expect(versionNote('banana', 'etcd').severity).toBe('info')
    const mixed = evidence({ members: [member(1), member(2, { status: { ...member(2).status!, version: '3.5.1' } })] })
    expect(only(rules.versionRule(mixed, NOW))).toMatchObject({ severity: 'critical', evidence: { versions: '3.5.17, 3.5.1', mixed: true }, fix: { target: 'page:upgrade' } })
    const quorum = (i: number, engine: 'quorum' | null) =>
      member(i, { status: { ...member(i).status!, version: '3.4.23' }, metrics: engine ? metrics({ engine }) : null, metricsError: engine ? null : 'timeout' })
    expect(only(rules.versionRule(evidence({ members: [quorum(1, 'quorum'), quorum(2, null)] }), NOW)).severity).toBe('ok')
    expect(only(rules.versionRule(evidence({ members: [quorum(1, null)] }), NOW)).severity).toBe('warning')
  })

  it('certificates: expired critical, under 30 days warning', () => {
    const cert = (notAfter: string) => evidence({ certificates: [{ file: 'client.crt', role: 'client', subject: 'CN=root', notAfter }] })
    expect(only(rules.certificateExpiryRule(cert('2026-12-05T12:00:00.000Z'), NOW))).toMatchObject({ severity: 'warning', evidence: { daysLeft: 10 }, fix: { target: 'wizard:certs-renew' } })
    expect(only(rules.certificateExpiryRule(cert('2026-11-01T00:00:00.000Z'), NOW)).severity).toBe('critical')
    expect(rules.certificateExpiryRule(evidence({ certificates: [] }), NOW)).toBeNull()
  })

  it('clock skew: over 2 s against us or between members is a warning', () => {
    const skewed = evidence({ members: [member(1, { clockSkewMs: -300 }), member(2, { clockSkewMs: 2800 })] })
    expect(only(rules.clockSkewRule(skewed, NOW))).toMatchObject({ severity: 'warning', evidence: { maxSkewMs: 2800, spreadBetweenMembersMs: 3100 }, fix: { target: 'doc:clock-sync' } })
    expect(rules.clockSkewRule(evidence({ members: [member(1, { clockSkewMs: null })] }), NOW)).toBeNull()
  })

  it('score: 100 minus 20 per critical and 6 per warning, never below 0; findings sorted worst first', () => {
    const weak = evidence({ lastSuccessfulBackup: null, lastPassingDrill: null, authEnabled: false, clientCertRequired: false })
    const findings = grade(weak, NOW)
    expect(findings.slice(0, 3).map((f) => [f.id, f.severity])).toEqual([
      ['backup-recent', 'critical'],
      ['auth', 'warning'],
      ['restore-drill', 'warning'],
    ])
    expect(score(findings)).toBe(100 - SEVERITY_PENALTY.critical - 2 * SEVERITY_PENALTY.warning)
    expect(score(findings)).toBe(68)
    const critical: Finding = { id: 'x', severity: 'critical', title: '', evidence: {}, fix: null }
    expect(score(Array.from({ length: 6 }, () => critical))).toBe(0)
  })
})

describe('reading /metrics', () => {
  it('picks the advisor figures out of an etcd page and tells the engine apart', () => {
    const text = [
      '# TYPE etcd_disk_wal_fsync_duration_seconds histogram',
      'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 50',
      'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 100',
      'etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"} 100',
      'etcd_server_leader_changes_seen_total 3',
      'etcd_server_quota_backend_bytes 2.147483648e+09',
      'etcd_mvcc_db_total_size_in_bytes 20480',
      'etcd_mvcc_db_total_size_in_use_in_bytes 16384',
      'etcd_server_version{server_version="3.4.23"} 1',
      'process_start_time_seconds 1000',
      'go_goroutines 42',
    ].join('\n')
    const read = readMetrics(text, 1_600_000)
    expect(read).toMatchObject({
      engine: 'etcd',
      serverVersion: '3.4.23',
      leaderChanges: 3,
      uptimeSeconds: 600,
      quotaBytes: 2147483648,
      dbSizeBytes: 20480,
      dbSizeInUseBytes: 16384,
      backendCommit: null,
    })
    expect(p99Ms(read.walFsync)).toBeCloseTo(1.98, 6)
    expect(readMetrics('nodejs_heap_size_total_bytes 1\n', 0).engine).toBe('quorum')
  })
})
