import { createServer, type Server } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../../core/util/clock'
import type { ConnectionProblem } from '../../../src-main/api/admin-api'
import type { ClusterClientOptions } from '../../../src-main/services/cluster-client'
import { testConnection } from '../../../src-main/services/connection-test'
import { httpGetText } from '../../../src-main/services/http-get'
import { parseEtcdMetrics } from '../../../src-main/services/prometheus'
import { etcdctl, startEtcd, type EtcdCluster } from '../../support/etcd'
import { freePort } from '../../support/ports'
import { defaultClientFactory } from '../../../src-main/services/client-factory'
import { startTlsEtcd, type TlsEtcd } from '../support/etcd-tls'
import { createTestCa, type Pem, type TestCa } from '../support/tls-certs'

// "Test connection" against real etcd 3.4 members: one plain 3-member cluster, one with auth enabled, one
// TLS member requiring client certificates, one TLS member with an expired certificate, a plain HTTP server
// (not etcd) and a port nobody listens on. Each failure must be explained with its own problem code.

const DAY_MS = 86_400_000
const timeouts = { connectMs: 3000, tlsSettleMs: 250, callMs: 4000 }
const options = (endpoints: string[], extra: Partial<ClusterClientOptions> = {}): ClusterClientOptions => ({ endpoints, callTimeoutMs: 4000, ...extra })
const check = (opts: ClusterClientOptions) => testConnection(opts, defaultClientFactory, systemClock, timeouts)

async function expectProblem(opts: ClusterClientOptions, problem: ConnectionProblem) {
  const report = await check(opts)
  expect(report, JSON.stringify(report)).toMatchObject({ ok: false, problem })
  if (!report.ok) expect(report.message).toContain(report.endpoint)
}

describe('connection test explains each failure in plain words', () => {
  let plain: EtcdCluster
  let authed: EtcdCluster
  let tlsEtcd: TlsEtcd
  let expiredEtcd: TlsEtcd
  let httpServer: Server
  let httpUrl: string
  let ca: TestCa
  let otherCa: TestCa
  let client: Pem

  beforeAll(async () => {
    ca = await createTestCa()
    otherCa = await createTestCa('Someone Else CA')
    const server = await ca.issue({ commonName: 'etcd', ips: ['127.0.0.1'] })
    const expired = await ca.issue({ commonName: 'etcd-old', ips: ['127.0.0.1'], dns: ['localhost'], notBefore: new Date(Date.now() - 60 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) })
    client = await ca.issue({ commonName: 'root', server: false })
    httpServer = createServer((_request, response) => response.end('<html>hello</html>'))
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve))
    httpUrl = `http://127.0.0.1:${(httpServer.address() as { port: number }).port}`
    ;[plain, authed, tlsEtcd, expiredEtcd] = await Promise.all([startEtcd({ size: 3 }), startEtcd({ size: 1 }), startTlsEtcd(server, ca.cert), startTlsEtcd(expired, null)])
    for (const args of [['user', 'add', 'root:rootpw'], ['auth', 'enable']]) {
      const result = etcdctl(authed.endpoints, args)
      expect(result.status, result.stderr).toBe(0)
    }
  })
  afterAll(async () => {
    await Promise.all([plain?.stop(), authed?.stop(), tlsEtcd?.stop(), expiredEtcd?.stop()])
    httpServer?.close()
  })

  it('a healthy cluster reports its version, cluster id and member count', async () => {
    const report = await check(options(plain.members.map((member) => member.clientUrl)))
    expect(report).toMatchObject({ ok: true, version: '3.4.23', memberCount: 3 })
    if (report.ok) expect(report.clusterId).toMatch(/^[0-9a-f]+$/)
  })

  it('one dead endpoint among good ones still connects', async () => {
    const report = await check(options([`http://127.0.0.1:${await freePort()}`, plain.members[0].clientUrl]))
    expect(report).toMatchObject({ ok: true, endpoint: plain.members[0].clientUrl })
  })

  it('refused: nothing listens on the port', async () => {
    await expectProblem(options([`http://127.0.0.1:${await freePort()}`]), 'refused')
  })

  it('not etcd: an HTTP server answers instead', async () => {
    await expectProblem(options([httpUrl]), 'not_etcd')
  })

  it('auth failed: wrong password; auth required: no user; right password connects', async () => {
    await expectProblem(options([authed.endpoints], { username: 'root', password: 'wrong' }), 'auth_failed')
    await expectProblem(options([authed.endpoints]), 'auth_required')
    expect(await check(options([authed.endpoints], { username: 'root', password: 'rootpw' }))).toMatchObject({ ok: true, memberCount: 1 })
  })

  it('TLS with the right CA and client certificate connects', async () => {
    const report = await check(options([tlsEtcd.clientUrl], { tls: { caCert: ca.cert, clientCert: client.cert, clientKey: client.key } }))
    expect(report).toMatchObject({ ok: true, memberCount: 1 })
  })

  it('TLS CA mismatch: the server certificate is not signed by the given CA', async () => {
    await expectProblem(options([tlsEtcd.clientUrl], { tls: { caCert: otherCa.cert, clientCert: client.cert, clientKey: client.key } }), 'tls_ca_mismatch')
  })

  it('TLS hostname mismatch: connecting by a name the certificate does not list', async () => {
    await expectProblem(options([`https://localhost:${tlsEtcd.port}`], { tls: { caCert: ca.cert, clientCert: client.cert, clientKey: client.key } }), 'tls_hostname_mismatch')
  })

  it('TLS expired: the server certificate is past its notAfter', async () => {
    await expectProblem(options([expiredEtcd.clientUrl], { tls: { caCert: ca.cert } }), 'tls_expired')
  })

  it('TLS client certificate required: the server wants mTLS and none was given', async () => {
    await expectProblem(options([tlsEtcd.clientUrl], { tls: { caCert: ca.cert } }), 'tls_client_cert_required')
  })

  it('https to a plain server is "TLS not enabled"; http to a TLS server is "TLS required"', async () => {
    await expectProblem(options([plain.members[0].clientUrl.replace('http:', 'https:')], { tls: { caCert: ca.cert } }), 'tls_not_enabled')
    await expectProblem(options([tlsEtcd.clientUrl.replace('https:', 'http:')]), 'tls_required')
  })

  it('scrapes /metrics over mTLS with the CA and client certificate of the profile', async () => {
    const text = await httpGetText(`${tlsEtcd.clientUrl}/metrics`, { caCert: ca.cert, clientCert: client.cert, clientKey: client.key }, 3000)
    expect(parseEtcdMetrics(text).hasLeader).toBe(1)
    await expect(httpGetText(`${tlsEtcd.clientUrl}/metrics`, { caCert: otherCa.cert }, 3000)).rejects.toThrow()
  })
})
