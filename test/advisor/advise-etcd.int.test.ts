import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { advise } from '../../core/advisor/advisor'
import type { AdvisorReport, Finding } from '../../core/advisor/types'
import { certificatePaths } from '../../core/certs/files'
import { initCertificates } from '../../core/certs/init'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'
import { startEtcdTls, type EtcdTlsCluster } from '../support/etcd-tls'
import { freePorts } from '../support/ports'
import { tempDir } from '../support/temp-dir'
import { readFileSync } from 'node:fs'
import { AppStore } from '../../core/storage/app-store'
import { systemClock } from '../../core/util/clock'
import { AdvisorService } from '../../src-main/services/advisor'
import { ConnectionService } from '../../src-main/services/connections'
import { KeyFileCipher } from '../../src-main/services/secret-cipher'

function byId(report: AdvisorReport): Map<string, Finding> {
  return new Map(report.findings.map((finding) => [finding.id, finding]))
}

describe('advisor against real etcd 3.4', () => {
  const temp = tempDir('quorum-advise-etcd-')
  const certDir = join(temp.path, 'certs')
  let plain: EtcdCluster
  let secure: EtcdTlsCluster

  beforeAll(async () => {
    // Leaf certificates valid 20 days: inside the 30-day expiry warning.
    await initCertificates({ dir: certDir, hosts: ['127.0.0.1', 'localhost'], memberNames: ['etcd1'], clientNames: ['root'], days: 20 })
    const server = certificatePaths(certDir, 'server', 'etcd1')
    const peer = certificatePaths(certDir, 'peer', 'etcd1')
    ;[plain, secure] = await Promise.all([
      startEtcd({ size: 1 }),
      startEtcdTls({
        names: ['etcd1'],
        caFile: join(certDir, 'ca.crt'),
        files: () => ({ certFile: server.certFile, keyFile: server.keyFile, peerCertFile: peer.certFile, peerKeyFile: peer.keyFile }),
        healthClient: certificatePaths(certDir, 'client', 'root'),
      }),
    ])
  }, 60_000)

  afterAll(async () => {
    await Promise.all([plain?.stop(), secure?.stop()])
    temp.remove()
  })

  it('a plain single member: single member, no TLS, no auth, 3.4 end-of-life note; each with its text and fix', async () => {
    const report = await advise({ endpoints: [plain.members[0].clientUrl] })
    const findings = byId(report)
    expect(report.evidence.members[0].metrics?.engine).toBe('etcd')
    expect(findings.get('member-count')).toMatchObject({
      severity: 'warning',
      title: 'Single member: no failure is tolerated; losing it loses the cluster',
      fix: { text: 'Add members until the count is odd and at least 3 (remove before add when replacing).', target: 'wizard:add-member' },
    })
    expect(findings.get('client-tls')).toMatchObject({ severity: 'critical', evidence: { urls: 1, plainHttpUrls: 1 }, fix: { target: 'wizard:tls' } })
    expect(findings.get('peer-tls')).toMatchObject({ severity: 'critical', evidence: { urls: 1, plainHttpUrls: 1 } })
    expect(findings.get('server-version')).toMatchObject({
      severity: 'warning',
      title: 'etcd 3.4 is end of life: plan the upgrade to 3.5.3+ or 3.6',
      evidence: { versions: '3.4.23' },
      fix: { text: 'Upgrade one member at a time (a rolling upgrade), after a backup.', target: 'page:upgrade' },
    })
    // etcd 3.4 has no AuthStatus: the client's Authenticate fallback tells that auth is off.
    expect(findings.get('auth')).toMatchObject({ severity: 'warning', evidence: { authEnabled: false } })
    expect(findings.get('backup-recent')).toMatchObject({ severity: 'critical', title: 'No backup recorded' })
    expect(findings.get('db-quota')).toMatchObject({ severity: 'ok', evidence: { quotaBytes: 2 * 1024 ** 3 } })
    expect(findings.get('alarms')?.severity).toBe('ok')
    expect(findings.get('metrics-reachable')?.severity).toBe('ok')
    expect(findings.get('clock-skew')?.severity).toBe('ok')
    expect(findings.get('cert-expiry')).toBeUndefined()
  })

  it('metrics from --listen-metrics-urls when given; an unreachable metrics URL or cluster is reported', async () => {
    const member = plain.members[0]
    const given = await advise({ endpoints: [member.clientUrl], metricsUrls: [member.metricsUrl] })
    expect(given.evidence.members[0]).toMatchObject({ metricsUrl: `${member.metricsUrl}/metrics`, metricsError: null, metrics: { engine: 'etcd', serverVersion: '3.4.23' } })
    const [deadPort] = await freePorts(1)
    const badMetrics = byId(await advise({ endpoints: [member.clientUrl], metricsUrls: [`http://127.0.0.1:${deadPort}/metrics`], timeoutMs: 2000 }))
    expect(badMetrics.get('metrics-reachable')).toMatchObject({
      severity: 'warning',
      title: '/metrics unreachable on etcd1',
      evidence: { unreachable: 1, firstError: expect.stringContaining('ECONNREFUSED') },
      fix: { target: 'page:monitoring' },
    })
    const down = byId(await advise({ endpoints: [`http://127.0.0.1:${deadPort}`], timeoutMs: 1000 }))
    expect(down.get('reachable')).toMatchObject({ severity: 'critical', title: `Cannot read the member list from http://127.0.0.1:${deadPort}` })
    expect(down.has('member-count')).toBe(false)
  })

  it('`quorum advise` with a missing certificate file prints one line and exits 1', () => {
    const result = spawnSync(process.execPath, ['build/bin/quorum.mjs', 'advise', '--endpoints', plain.members[0].clientUrl, '--cacert', join(temp.path, 'missing.crt')], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(result.status).toBe(1)
    expect(result.stderr.trim()).toMatch(/^quorum advise: cannot read .*missing\.crt: ENOENT$/)
  })

  it('RBAC turned on in etcd 3.4 is seen through the Authenticate fallback', async () => {
    const endpoint = plain.members[0].clientUrl
    expect(etcdctl(endpoint, ['user', 'add', 'root:secret']).status).toBe(0)
    expect(etcdctl(endpoint, ['auth', 'enable']).status).toBe(0)
    const findings = byId(await advise({ endpoints: [endpoint], auth: { username: 'root', password: 'secret' } }))
    expect(findings.get('auth')).toMatchObject({ severity: 'ok', title: 'Clients are authenticated (RBAC)', evidence: { authEnabled: true } })
  })

  it('an mTLS member: TLS and client-cert auth pass, /metrics is read over https, certificates expiring in 20 days warn', async () => {
    const root = certificatePaths(certDir, 'client', 'root')
    const report = await advise({
      endpoints: [secure.members[0].clientUrl],
      tls: { caFile: join(certDir, 'ca.crt'), certFile: root.certFile, keyFile: root.keyFile },
    })
    const findings = byId(report)
    expect(findings.get('client-tls')).toMatchObject({ severity: 'ok', title: 'Client traffic uses TLS on all 1 URL(s)' })
    expect(findings.get('peer-tls')?.severity).toBe('ok')
    expect(findings.get('auth')).toMatchObject({ severity: 'ok', title: 'Clients are authenticated (client certificates)', evidence: { clientCertRequired: true } })
    expect(findings.get('metrics-reachable')?.severity).toBe('ok')
    const expiry = findings.get('cert-expiry')
    expect(expiry).toMatchObject({ severity: 'warning', evidence: { certificates: 2 }, fix: { target: 'wizard:certs-renew' } })
    expect(expiry?.title).toBe(`Certificate ${root.certFile} expires in 19 day(s)`)
  })

  it('the app advisor grades a saved connection from its PEM texts and counts the backup runs of its schedules', async () => {
    const root = certificatePaths(certDir, 'client', 'root')
    const store = new AppStore(join(temp.path, 'app.db'))
    try {
      const connections = new ConnectionService(store, new KeyFileCipher(join(temp.path, 'secret.key')), systemClock)
      const profile = connections.save({
        name: 'secure etcd',
        endpoints: [secure.members[0].clientUrl],
        readOnly: true,
        username: '',
        tls: { caCert: readFileSync(join(certDir, 'ca.crt'), 'utf8'), clientCert: readFileSync(root.certFile, 'utf8'), serverName: '' },
        clientKey: readFileSync(root.keyFile, 'utf8'),
      })
      const finishedMs = Date.now() - 3_600_000
      const advisor = new AdvisorService({
        connections,
        backupRuns: async (connectionId) => (connectionId === profile.id ? [{ status: 'ok', finishedMs, drillResult: 'pass' }] : []),
      })
      const report = await advisor.advise(profile.id)
      const findings = new Map(report.findings.map((finding) => [finding.id, finding]))
      expect(report).toMatchObject({ connectionId: profile.id, members: 1 })
      expect(findings.get('client-tls')?.severity).toBe('ok')
      expect(findings.get('auth')).toMatchObject({ severity: 'ok', title: 'Clients are authenticated (client certificates)' })
      expect(findings.get('cert-expiry')).toMatchObject({ severity: 'warning', title: 'Certificate client certificate expires in 19 day(s)' })
      expect(findings.get('backup-recent')).toMatchObject({ severity: 'ok', title: 'Last successful backup 1 h ago' })
      expect(findings.get('restore-drill')).toMatchObject({ severity: 'ok', title: 'Last passing restore drill 1 h ago' })
      expect(report.score).toBe(100 - 20 * report.findings.filter((f) => f.severity === 'critical').length - 6 * report.findings.filter((f) => f.severity === 'warning').length)
    } finally {
      store.close()
    }
  })
})
