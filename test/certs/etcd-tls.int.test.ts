import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CERT_FILE_MODE, KEY_FILE_MODE, certificatePaths, writeOutputFiles } from '../../core/certs/files'
import { initCertificates } from '../../core/certs/init'
import { issueCertificate, loadCertificateAuthority, type IssueOptions } from '../../core/certs/issue'
import { etcdctlTls, getPeerMembers, startEtcdTls, type ClientCertFiles, type EtcdTlsCluster, type EtcdTlsMemberFiles } from '../support/etcd-tls'
import { tempDir } from '../support/temp-dir'

// Certificates made by core/certs must be accepted by real etcd 3.4 (server, peer and client side) and by real
// etcdctl, and every bad certificate must fail the TLS handshake as etcd's own checks decide (issue 10).

const DAY_MS = 24 * 60 * 60_000
const NAMES = ['etcd1', 'etcd2', 'etcd3']
const PEER_CN = 'quorum-peer' // every peer certificate's CN, so etcd can pin it with --peer-cert-allowed-cn
// Rejections fail the handshake at once; etcdctl then retries until the command deadline, so keep it short.
const FAIL_FAST = ['--command-timeout', '1s', '--dial-timeout', '1s']

function memberFiles(dir: string) {
  return (name: string): EtcdTlsMemberFiles => {
    const server = certificatePaths(dir, 'server', name)
    const peer = certificatePaths(dir, 'peer', name)
    return { certFile: server.certFile, keyFile: server.keyFile, peerCertFile: peer.certFile, peerKeyFile: peer.keyFile }
  }
}

function client(dir: string, user: string): ClientCertFiles {
  return certificatePaths(dir, 'client', user)
}

/** Waits until `cluster`'s logs, past `offset`, contain `text` (etcd logs rejected handshakes asynchronously). */
async function expectLogged(cluster: EtcdTlsCluster, offset: number, text: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (!cluster.logs().slice(offset).includes(text) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  expect(cluster.logs().slice(offset)).toContain(text)
}

describe('certificates from core/certs with real etcd 3.4 and etcdctl', () => {
  const temp = tempDir('quorum-certs-etcd-')
  const ecDir = join(temp.path, 'ec')
  const rsaDir = join(temp.path, 'rsa')
  const foreignDir = join(temp.path, 'foreign')
  const oddDir = join(temp.path, 'odd') // certificates signed by the ec CA, each wrong in one way
  const ca = join(ecDir, 'ca.crt')
  const root = client(ecDir, 'root')
  let cluster: EtcdTlsCluster
  let rsaCluster: EtcdTlsCluster
  let wrongHostCluster: EtcdTlsCluster

  beforeAll(async () => {
    await Promise.all([
      initCertificates({ dir: ecDir, hosts: ['localhost', '127.0.0.1', '::1'], memberNames: NAMES, clientNames: ['root'], peerCommonName: PEER_CN }),
      initCertificates({ dir: rsaDir, hosts: ['127.0.0.1'], memberNames: ['rsa1'], clientNames: ['root'], keyType: 'rsa2048' }),
      initCertificates({ dir: foreignDir, hosts: ['127.0.0.1'], memberNames: ['etcd1'], clientNames: ['root'] }),
    ])
    const authority = await loadCertificateAuthority(readFileSync(ca, 'utf8'), readFileSync(join(ecDir, 'ca.key'), 'utf8'))
    const now = Date.now()
    const odd: [string, IssueOptions][] = [
      ['client-expired', { role: 'client', commonName: 'root', validity: { notBefore: new Date(now - 10 * DAY_MS), notAfter: new Date(now - DAY_MS) } }],
      ['client-future', { role: 'client', commonName: 'root', validity: { notBefore: new Date(now + DAY_MS), notAfter: new Date(now + 10 * DAY_MS) } }],
      ['client-noclientauth', { role: 'client', commonName: 'root', extendedKeyUsages: ['serverAuth'] }],
      ['server-wrong1', { role: 'server', commonName: 'wrong1', hosts: ['wrong.example.invalid', '192.0.2.1'] }],
      ['peer-wrong1', { role: 'peer', commonName: 'wrong1', hosts: ['127.0.0.1'] }],
    ]
    const pairs = await Promise.all(odd.map(([, options]) => issueCertificate(authority, options)))
    mkdirSync(oddDir)
    writeOutputFiles(
      odd.flatMap(([stem], i) => [
        { path: join(oddDir, `${stem}.crt`), contents: pairs[i].certPem, mode: CERT_FILE_MODE },
        { path: join(oddDir, `${stem}.key`), contents: pairs[i].keyPem, mode: KEY_FILE_MODE },
      ]),
    )
    ;[cluster, rsaCluster, wrongHostCluster] = await Promise.all([
      startEtcdTls({ names: NAMES, caFile: ca, files: memberFiles(ecDir), healthClient: root, extraArgs: ['--peer-cert-allowed-cn', PEER_CN] }),
      startEtcdTls({ names: ['rsa1'], caFile: join(rsaDir, 'ca.crt'), files: memberFiles(rsaDir), healthClient: client(rsaDir, 'root') }),
      startEtcdTls({ names: ['wrong1'], caFile: ca, files: memberFiles(oddDir), healthClient: root }),
    ])
  })

  afterAll(async () => {
    await Promise.all([cluster?.stop(), rsaCluster?.stop(), wrongHostCluster?.stop()])
    temp.remove()
  })

  it('forms a 3-member cluster over peer TLS that serves put/get/member list to etcdctl with the root client cert', async () => {
    const [first, , third] = cluster.members
    const put = await etcdctlTls(first.clientUrl, { caFile: ca, client: root }, ['put', 'tls-key', 'tls-value'])
    expect(put.stdout.trim(), put.stderr).toBe('OK')
    // Written through member 1, read (linearizably) through member 3: the write crossed the TLS peer links.
    const get = await etcdctlTls(third.clientUrl, { caFile: ca, client: root }, ['get', 'tls-key'])
    expect(get.stdout, get.stderr).toBe('tls-key\ntls-value\n')
    const list = await etcdctlTls(cluster.endpoints, { caFile: ca, client: root }, ['member', 'list', '-w', 'json'])
    const members = (JSON.parse(list.stdout) as { members: { name: string; peerURLs: string[]; clientURLs: string[] }[] }).members
    expect(members.map((member) => member.name).sort()).toEqual(NAMES)
    expect(members.map((member) => member.peerURLs[0]).sort()).toEqual(cluster.members.map((member) => member.peerUrl).sort())
    for (const member of members) expect(member.clientURLs[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
  })

  it('accepts etcdctl connecting by the DNS SAN localhost as well as by IP', async () => {
    const url = cluster.members[1].clientUrl.replace('127.0.0.1', 'localhost')
    const get = await etcdctlTls(url, { caFile: ca, client: root }, ['get', 'tls-key', '--print-value-only'])
    expect(get.stdout, get.stderr).toBe('tls-value\n')
  })

  // etcdctl must fail and print nothing, and etcd must log `logged` as the reason it rejected the handshake.
  async function expectRejectedByServer(target: EtcdTlsCluster, endpoint: string, tls: { caFile?: string; client?: ClientCertFiles }, logged: string) {
    const offset = target.logs().length
    const result = await etcdctlTls(endpoint, tls, ['get', 'tls-key'], FAIL_FAST)
    expect(result.status).not.toBe(0)
    expect(result.stdout).toBe('')
    await expectLogged(target, offset, logged)
  }

  const oddClient = (stem: string): ClientCertFiles => ({ certFile: join(oddDir, `${stem}.crt`), keyFile: join(oddDir, `${stem}.key`) })
  it.each([
    ['no client certificate', undefined, "tls: client didn't provide a certificate"],
    ['a client certificate from a foreign CA', client(foreignDir, 'root'), 'failed to verify client certificate: x509: certificate signed by unknown authority'],
    ['an expired client certificate', oddClient('client-expired'), 'x509: certificate has expired or is not yet valid'],
    ['a client certificate that is not valid yet', oddClient('client-future'), 'x509: certificate has expired or is not yet valid'],
    ['a client certificate without the clientAuth extended key usage', oddClient('client-noclientauth'), 'x509: certificate specifies an incompatible key usage'],
  ])('rejects %s in the handshake', async (_, clientFiles, logged) => {
    await expectRejectedByServer(cluster, cluster.members[0].clientUrl, { caFile: ca, client: clientFiles }, logged)
  })

  // etcdctl --debug makes grpc-go print why the client side refused the handshake.
  it.each([
    ['from a CA it does not trust', () => cluster, join(foreignDir, 'ca.crt'), 'x509: certificate signed by unknown authority'],
    ['issued for another host', () => wrongHostCluster, ca, 'x509: certificate is valid for 192.0.2.1, not 127.0.0.1'],
  ])('makes etcdctl refuse a server certificate %s', async (_, target, caFile, reason) => {
    const result = await etcdctlTls(target().members[0].clientUrl, { caFile, client: root }, ['get', 'tls-key'], [...FAIL_FAST, '--debug'])
    expect(result.status).not.toBe(0)
    expect(result.stderr).toContain(`authentication handshake failed: ${reason}`)
  })

  it('fails a plaintext client on the https client port', async () => {
    const plain = cluster.members[0].clientUrl.replace('https:', 'http:')
    await expectRejectedByServer(cluster, plain, {}, 'tls: first record does not look like a TLS handshake')
  })

  it('serves the peer port only to peers with a certificate from the cluster CA and the allowed CN', async () => {
    const peerUrl = cluster.members[0].peerUrl
    const caPem = readFileSync(ca)
    const peer = certificatePaths(ecDir, 'peer', 'etcd2')
    const ok = await getPeerMembers(peerUrl, { ca: caPem, cert: readFileSync(peer.certFile), key: readFileSync(peer.keyFile) })
    expect(ok).toMatchObject({ status: 200 })
    expect(JSON.parse((ok as { body: string }).body).map((member: { name: string }) => member.name).sort()).toEqual(NAMES)

    const offset = cluster.logs().length
    expect(await getPeerMembers(peerUrl, { ca: caPem })).toMatchObject({ error: expect.stringMatching(/certificate|socket hang up|ECONNRESET/) })
    const foreign = certificatePaths(foreignDir, 'peer', 'etcd1')
    const foreignAnswer = await getPeerMembers(peerUrl, { ca: caPem, cert: readFileSync(foreign.certFile), key: readFileSync(foreign.keyFile) })
    expect(foreignAnswer).toMatchObject({ error: expect.stringMatching(/certificate|socket hang up|ECONNRESET/) })
    // Same CA, clientAuth, but CN etcd2 instead of the pinned peer CN.
    const server = certificatePaths(ecDir, 'server', 'etcd2')
    const wrongCn = await getPeerMembers(peerUrl, { ca: caPem, cert: readFileSync(server.certFile), key: readFileSync(server.keyFile) })
    expect(wrongCn).toMatchObject({ error: expect.stringMatching(/certificate|socket hang up|ECONNRESET/) })
    await expectLogged(cluster, offset, '"error":"client certificate authentication failed"')
    await expectLogged(cluster, offset, "tls: client didn't provide a certificate")
    await expectLogged(cluster, offset, 'failed to verify client certificate: x509: certificate signed by unknown authority')
    // A plaintext peer gets no HTTP answer at all: etcd's TLS listener drops the connection.
    expect(await getPeerMembers(peerUrl.replace('https:', 'http:'), {})).toMatchObject({ error: expect.stringMatching(/socket hang up|ECONNRESET/) })
    await expectLogged(cluster, offset, 'tls: first record does not look like a TLS handshake')
  })

  it('works the same with RSA 2048 certificates', async () => {
    const rsaRoot = client(rsaDir, 'root')
    const rsaCa = join(rsaDir, 'ca.crt')
    const put = await etcdctlTls(rsaCluster.endpoints, { caFile: rsaCa, client: rsaRoot }, ['put', 'rsa-key', 'rsa-value'])
    expect(put.stdout.trim(), put.stderr).toBe('OK')
    const get = await etcdctlTls(rsaCluster.endpoints, { caFile: rsaCa, client: rsaRoot }, ['get', 'rsa-key', '--print-value-only'])
    expect(get.stdout).toBe('rsa-value\n')
    // The EC cluster's root certificate is foreign here.
    await expectRejectedByServer(rsaCluster, rsaCluster.endpoints, { caFile: rsaCa, client: root }, 'x509: certificate signed by unknown authority')
  })
})
