import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advise } from '../../core/advisor/advisor'
import type { BackupHistory } from '../../core/advisor/backup-history'
import type { AdvisorReport, Finding } from '../../core/advisor/types'
import { backupHistoryFromRuns } from '../../core/advisor/backup-history'
import { BackupService } from '../../core/backup/service'
import { clientSnapshotSource } from '../../core/backup/source'
import { LocalCluster } from '../../core/cluster/launcher'
import { linkProxyRequest } from '../../core/cluster/link-proxy'
import { clusterClient } from '../../core/cluster/membership-ops'
import { systemClock } from '../../core/util/clock'
import { tempDir } from '../support/temp-dir'

// Needs `npm run build` (members run build/bin/quorum.mjs node; the CLI test runs `quorum advise`).
const quorumCommand = { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] }

function byId(report: AdvisorReport): Map<string, Finding> {
  return new Map(report.findings.map((finding) => [finding.id, finding]))
}

function endpointsOf(cluster: LocalCluster): string[] {
  return cluster.activeMembers().map((member) => member.clientURL)
}

describe('advisor against local Quorum clusters', () => {
  const dirs = [tempDir('quorum-advise-3-'), tempDir('quorum-advise-2-'), tempDir('quorum-advise-tls-')]
  let three: LocalCluster
  let two: LocalCluster
  let secure: LocalCluster

  beforeAll(async () => {
    ;[three, two, secure] = await Promise.all([
      LocalCluster.up({ dir: `${dirs[0].path}/c`, size: 3, quorumCommand }),
      LocalCluster.up({ dir: `${dirs[1].path}/c`, size: 2, quorumCommand }),
      // With link proxies too: peers dial each other over TLS through the drill proxies (certificates checked against the peer URL).
      LocalCluster.up({ dir: `${dirs[2].path}/c`, size: 3, quorumCommand, tls: true, linkProxies: true, healthTimeoutMs: 60_000 }),
    ])
  }, 90_000)

  afterAll(async () => {
    await Promise.all([three?.down(), two?.down(), secure?.down()])
    for (const dir of dirs) dir.remove()
  })

  it('a plain 3-member playground: no critical finding but TLS and backup, each with its text and fix', async () => {
    const report = await advise({ endpoints: endpointsOf(three).slice(0, 1) })
    const findings = byId(report)
    expect(report.evidence.members).toHaveLength(3)
    expect(report.findings.filter((f) => f.severity === 'critical').map((f) => f.id).sort()).toEqual(['backup-recent', 'client-tls', 'peer-tls'])

    expect(findings.get('reachable')).toMatchObject({ severity: 'ok', title: 'All 3 member(s) answer' })
    expect(findings.get('member-count')).toMatchObject({ severity: 'ok', title: '3 members: tolerates 1 failure(s)', fix: null })
    expect(findings.get('distinct-hosts')).toMatchObject({
      severity: 'info',
      title: 'All members on this machine (loopback): fine for a local playground, not for production',
      evidence: { members: 3, distinctHosts: 1 },
    })
    expect(findings.get('client-tls')).toMatchObject({
      title: 'Client traffic (keys, values, passwords) is unencrypted on 3 of 3 URL(s)',
      fix: { text: 'Turn on client TLS: --cert-file, --key-file, --trusted-ca-file and --client-cert-auth.', target: 'wizard:tls' },
    })
    expect(findings.get('peer-tls')).toMatchObject({ title: 'Peer traffic (the whole Raft log) is unencrypted on 3 of 3 URL(s)', fix: { target: 'wizard:tls' } })
    expect(findings.get('backup-recent')).toMatchObject({
      title: 'No backup recorded',
      fix: { text: 'Schedule snapshots (at least daily) and keep them off the cluster machines.', target: 'page:backups' },
    })
    expect(findings.get('restore-drill')).toMatchObject({ severity: 'warning', title: 'No passing restore drill recorded', fix: { target: 'page:backups' } })
    // Quorum has no Auth service yet, so nobody is authenticated.
    expect(findings.get('auth')).toMatchObject({ severity: 'warning', evidence: { authEnabled: false, clientCertRequired: false }, fix: { target: 'wizard:auth' } })
    expect(findings.get('metrics-reachable')).toMatchObject({ severity: 'ok', title: '/metrics answers on all 3 member(s)' })
    expect(findings.get('server-version')).toMatchObject({ severity: 'ok', title: 'Quorum (etcd API 3.4.23): maintained with this app' })
    expect(findings.get('alarms')).toMatchObject({ severity: 'ok', title: 'No active alarms' })
    expect(findings.get('db-quota')).toMatchObject({ severity: 'ok', evidence: { quotaBytes: 2 * 1024 ** 3 } })
    expect(findings.get('db-fragmentation')?.severity).toBe('ok')
    expect(findings.get('clock-skew')).toMatchObject({ severity: 'ok', evidence: { membersSampled: 3 } })
    expect(findings.get('leader-changes')).toMatchObject({ severity: 'ok', evidence: { membersSampled: 3 } })
    // Disk latency depends on this shared machine: graded either way, always against etcd's figures.
    expect(findings.get('fsync-p99')?.evidence.limitMs).toBe(10)
    expect(findings.get('backend-commit-p99')?.evidence.limitMs).toBe(25)
    for (const finding of report.findings) {
      if (finding.severity === 'critical' || finding.severity === 'warning') expect(finding.fix?.text.length).toBeGreaterThan(20)
    }
    expect(report.score).toBe(100 - 3 * 20 - 6 * report.findings.filter((f) => f.severity === 'warning').length)
  })

  it('fresh backups and a recent passing drill clear the backup findings; leader changes measured over two samples', async () => {
    const now = new Date()
    const history: BackupHistory = {
      lastSuccessfulBackup: (key) => (key === '' ? null : new Date(now.getTime() - 2 * 3_600_000)),
      lastPassingDrill: (key) => (key === '' ? null : new Date(now.getTime() - 3 * 24 * 3_600_000)),
    }
    const report = await advise({ endpoints: endpointsOf(three), backupHistory: history, sampleIntervalMs: 300 })
    const findings = byId(report)
    expect(report.evidence.members.map((member) => member.leaderChangesSampled?.intervalMs)).toEqual([300, 300, 300])
    expect(findings.get('leader-changes')?.evidence.measuredOverInterval).toBe(true)
    expect(findings.get('backup-recent')).toMatchObject({ severity: 'ok', title: 'Last successful backup 2 h ago' })
    expect(findings.get('restore-drill')).toMatchObject({ severity: 'ok', title: 'Last passing restore drill 72 h ago' })
  })

  it('a 3-member mTLS cluster with a fresh backup and a passing restore drill: no critical finding', async () => {
    const tls = secure.manifest.tls!
    const client = clusterClient(secure)
    const service = new BackupService({
      cluster: 'secure',
      dest: `${dirs[2].path}/backups`,
      source: clientSnapshotSource(client, endpointsOf(secure)),
      clock: systemClock,
      retention: { keepLast: 1 },
      drill: true,
      restoreDrill: { quorumCommand, tmpDir: dirs[2].path },
    })
    try {
      for (let i = 0; i < 20; i++) await client.kv.put(`advise/${i}`, String(i))
      const links = (await linkProxyRequest(secure.dir, 'GET')).links
      expect(links.filter((link) => link.connections > 0).length).toBeGreaterThanOrEqual(4)
      const run = await service.runOnce()
      expect(run.drill).toMatchObject({ passed: true })
      const report = await advise({
        endpoints: endpointsOf(secure),
        tls: { caFile: tls.caFile, certFile: tls.clientCertFile, keyFile: tls.clientKeyFile },
        backupHistory: backupHistoryFromRuns(() => service.history.list('secure')),
      })
      const findings = byId(report)
      expect(report.findings.filter((f) => f.severity === 'critical').map((f) => `${f.id}: ${f.title}`)).toEqual([])
      expect(findings.get('member-count')).toMatchObject({ severity: 'ok', title: '3 members: tolerates 1 failure(s)' })
      expect(findings.get('client-tls')).toMatchObject({ severity: 'ok', title: 'Client traffic uses TLS on all 3 URL(s)', fix: null })
      expect(findings.get('peer-tls')).toMatchObject({ severity: 'ok', fix: null })
      expect(findings.get('auth')).toMatchObject({ severity: 'ok', title: 'Clients are authenticated (client certificates)', evidence: { clientCertRequired: true } })
      expect(findings.get('backup-recent')).toMatchObject({ severity: 'ok', title: 'Last successful backup 0 h ago', fix: null })
      expect(findings.get('restore-drill')).toMatchObject({ severity: 'ok', title: 'Last passing restore drill 0 h ago', fix: null })
      expect(findings.get('metrics-reachable')?.severity).toBe('ok')
      // The generated certificates are valid for a year: nothing expires within 30 days.
      expect(findings.get('cert-expiry')?.severity).toBe('ok')
    } finally {
      await service.close()
      client.close()
    }
  }, 60_000)

  it('`quorum advise` on a plain 2-member cluster: even count, no TLS, no backup; exit 1', () => {
    const cli = (format: string) =>
      spawnSync(process.execPath, ['build/bin/quorum.mjs', 'advise', '--endpoints', endpointsOf(two).join(','), '-w', format], { encoding: 'utf8', timeout: 30_000 })
    const json = cli('json')
    expect(json.status).toBe(1)
    const report = JSON.parse(json.stdout) as AdvisorReport
    expect(report.evidence.members[0].metrics?.walFsync?.bounds.at(-1)).toBe('+Inf')
    const findings = byId(report)
    expect(findings.get('member-count')).toMatchObject({
      severity: 'critical',
      title: 'Even member count 2: worse than 1, either member failing stops writes (quorum is 2)',
      evidence: { voters: 2, failureTolerance: 0 },
      fix: { text: 'Add a third member (or remove one): 3 members tolerate 1 failure, 2 tolerate none and fail twice as often.', target: 'wizard:add-member' },
    })
    expect(findings.get('client-tls')).toMatchObject({ severity: 'critical', evidence: { urls: 2, plainHttpUrls: 2 }, fix: { target: 'wizard:tls' } })
    expect(findings.get('peer-tls')).toMatchObject({ severity: 'critical', evidence: { urls: 2, plainHttpUrls: 2 } })
    expect(findings.get('backup-recent')).toMatchObject({ severity: 'critical', title: 'No backup recorded', fix: { target: 'page:backups' } })
    expect(report.findings[0].severity).toBe('critical')

    const table = cli('table')
    expect(table.status).toBe(1)
    expect(table.stdout).toMatch(/\| CRITICAL \| member-count +\| Even member count 2: worse than 1/)
    expect(table.stdout).toContain('[wizard:add-member]')
    // Each run grades afresh (disk latency on this shared machine may differ), so only the shape is compared.
    expect(table.stdout).toMatch(/\nscore: \d+\/100 \(4 critical, \d+ warning, 1 info, \d+ ok\)\n$/)
    expect(report.score).toBe(Math.max(0, 100 - 4 * 20 - 6 * report.findings.filter((f) => f.severity === 'warning').length))
  })
})
