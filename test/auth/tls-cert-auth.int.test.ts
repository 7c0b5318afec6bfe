import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CERT_FILE_MODE, KEY_FILE_MODE, certificatePaths, writeOutputFiles } from '../../core/certs/files'
import { initCertificates } from '../../core/certs/init'
import { issueCertificate, loadCertificateAuthority } from '../../core/certs/issue'
import { startTestCluster, type TestCluster } from '../e2e/etcdctl/clusters'
import { etcdctlTls, getPeerMembers, type ClientCertFiles } from '../support/etcd-tls'
import { tempDir } from '../support/temp-dir'

// Issue 10 on a real TLS 3-member `quorum node` cluster (client and peer TLS, --client-cert-auth, certificates
// from core/certs, as `quorum cluster up --tls` makes them): etcdctl --cacert --cert --key works for put, get,
// watch and member list; bad clients and plaintext peers are refused; and with auth enabled, the verified client
// certificate's CN is the user (etcd AuthInfoFromTLS), checked at apply on every member, a token taking precedence.

const DAY_MS = 24 * 60 * 60_000
const FAIL_FAST = ['--command-timeout', '1s', '--dial-timeout', '1s']

/** `etcdctl watch KEY --rev=1` over mTLS, killed after `ms` (it runs until stopped); resolves with its stdout. */
function watchFor(endpoint: string, client: ClientCertFiles & { caFile: string }, key: string, ms: number): Promise<string> {
  const child = spawn('etcdctl', ['--endpoints', endpoint, '--cacert', client.caFile, '--cert', client.certFile, '--key', client.keyFile, 'watch', key, '--rev=1'], {
    env: { ...process.env, ETCDCTL_API: '3' },
  })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  const timer = setTimeout(() => child.kill('SIGTERM'), ms)
  return new Promise((resolve) =>
    child.on('close', () => {
      clearTimeout(timer)
      resolve(stdout)
    }),
  )
}

describe('TLS quorum node cluster: etcdctl over mTLS, refused clients, client-certificate CN as the user', () => {
  const temp = tempDir('quorum-auth-tls-')
  let target: TestCluster
  let ca: string
  let certDir: string
  let follower: string
  const as = (user: string): ClientCertFiles => certificatePaths(certDir, 'client', user)
  const ctl = (endpoint: string, user: string, args: string[], extra: string[] = []) => etcdctlTls(endpoint, { caFile: ca, client: as(user) }, args, extra)
  const out = async (endpoint: string, user: string, args: string[]) => {
    const result = await ctl(endpoint, user, args)
    // without clientv3's JSON retry-log lines (they carry timestamps)
    const lines = (result.stdout + result.stderr).split('\n').filter((line) => !line.startsWith('{"level"'))
    return `${result.status}: ${lines.join('\n').trim()}`
  }

  beforeAll(async () => {
    target = await startTestCluster('quorum', { size: 3, tls: true, heartbeatMs: 100, electionMs: 1000, extraArgs: ['--bcrypt-cost', '4'] })
    ca = target.cluster.manifest.tls!.caFile
    certDir = join(target.cluster.dir, 'certs')
    await initCertificates({ dir: certDir, hosts: [], memberNames: [], clientNames: ['alice', 'mallory'] })
    await initCertificates({ dir: join(temp.path, 'foreign'), hosts: ['127.0.0.1'], memberNames: ['x1'], clientNames: ['root'] })
    const authority = await loadCertificateAuthority(readFileSync(ca, 'utf8'), readFileSync(join(certDir, 'ca.key'), 'utf8'))
    const now = Date.now()
    const expired = await issueCertificate(authority, { role: 'client', commonName: 'root', validity: { notBefore: new Date(now - 10 * DAY_MS), notAfter: new Date(now - DAY_MS) } })
    mkdirSync(join(temp.path, 'odd'))
    writeOutputFiles([
      { path: join(temp.path, 'odd', 'client-expired.crt'), contents: expired.certPem, mode: CERT_FILE_MODE },
      { path: join(temp.path, 'odd', 'client-expired.key'), contents: expired.keyPem, mode: KEY_FILE_MODE },
    ])
    const status = await ctl(target.endpoints, 'root', ['endpoint', 'status', '-w', 'json'])
    const members = JSON.parse(status.stdout) as { Endpoint: string; Status: { header: { member_id: number | string }; leader: number | string } }[]
    follower = members.find((m) => String(m.Status.leader) !== String(m.Status.header.member_id))!.Endpoint
  }, 120_000)

  afterAll(async () => {
    await target?.stop()
    temp.remove()
  })

  it('a follower forwards leader-only lease calls to the leader over https (keep-alive, time-to-live)', async () => {
    const granted = await out(follower, 'root', ['lease', 'grant', '60'])
    const id = /lease ([0-9a-f]+) granted/.exec(granted)?.[1]
    expect(granted, granted).toMatch(/^0: lease [0-9a-f]+ granted with TTL\(60s\)$/)
    expect(await out(follower, 'root', ['lease', 'keep-alive', '--once', id!])).toMatch(new RegExp(`^0: lease ${id} keepalived with TTL\\((59|60)\\)$`))
    expect(await out(follower, 'root', ['lease', 'timetolive', id!])).toMatch(new RegExp(`^0: lease ${id} granted with TTL\\(60s\\), remaining\\((5[0-9]|60)s\\)$`))
  })

  it('serves put, get, watch and member list to etcdctl --cacert --cert --key; peers talk TLS', async () => {
    expect(await out(target.endpoints, 'root', ['put', 'tls-key', 'v1'])).toBe('0: OK')
    const watch = watchFor(follower, { ...as('root'), caFile: ca }, 'tls-key', 2500)
    expect(await out(follower, 'root', ['get', 'tls-key', '--print-value-only'])).toBe('0: v1')
    const list = await out(target.endpoints, 'root', ['member', 'list'])
    expect(list.split('\n').filter((line) => /started, member\d, https:\/\/127\.0\.0\.1:\d+, https:\/\/127\.0\.0\.1:\d+, false$/.test(line))).toHaveLength(3)
    expect(await watch).toContain('PUT\ntls-key\nv1')
  }, 60_000)

  it('refuses no client certificate, a foreign CA, an expired certificate, a plaintext client and plaintext, certificate-less or foreign-CA peers', async () => {
    const endpoint = target.cluster.manifest.members[0].clientURL
    const refused = async (tls: { caFile?: string; client?: ClientCertFiles }, url = endpoint) => {
      const result = await etcdctlTls(url, tls, ['get', 'tls-key'], FAIL_FAST)
      return { status: result.status, stdout: result.stdout }
    }
    const expectedRefusal = { status: 1, stdout: '' }
    const answers = await Promise.all([
      refused({ caFile: ca }),
      refused({ caFile: ca, client: certificatePaths(join(temp.path, 'foreign'), 'client', 'root') }),
      refused({ caFile: ca, client: { certFile: join(temp.path, 'odd', 'client-expired.crt'), keyFile: join(temp.path, 'odd', 'client-expired.key') } }),
      refused({}, endpoint.replace('https:', 'http:')),
    ])
    expect(answers).toEqual([expectedRefusal, expectedRefusal, expectedRefusal, expectedRefusal])

    const peerUrl = target.cluster.manifest.members[0].peerURL
    const caPem = readFileSync(ca)
    const peer = certificatePaths(certDir, 'peer', 'member2')
    const ok = await getPeerMembers(peerUrl, { ca: caPem, cert: readFileSync(peer.certFile), key: readFileSync(peer.keyFile) })
    // A peer with a cluster certificate completes the TLS handshake and gets an HTTP answer.
    expect(ok).toMatchObject({ status: expect.any(Number) })
    expect(await getPeerMembers(peerUrl, { ca: caPem })).toMatchObject({ error: expect.stringMatching(/certificate|socket hang up|ECONNRESET/) })
    // A would-be peer whose certificate comes from another CA is refused in the handshake.
    const foreignPeer = certificatePaths(join(temp.path, 'foreign'), 'peer', 'x1')
    expect(await getPeerMembers(peerUrl, { ca: caPem, cert: readFileSync(foreignPeer.certFile), key: readFileSync(foreignPeer.keyFile) })).toMatchObject({
      error: expect.stringMatching(/certificate|socket hang up|ECONNRESET|unknown ca/i),
    })
    expect(await getPeerMembers(peerUrl.replace('https:', 'http:'), {})).toMatchObject({ error: expect.stringMatching(/socket hang up|ECONNRESET/) })
  }, 60_000)

  it('with auth on, the client certificate CN is the user: checked on every member, unknown CNs denied, a token wins', async () => {
    const all = target.endpoints
    for (const args of [
      ['user', 'add', 'root:rootpw'],
      ['user', 'grant-role', 'root', 'root'],
      ['role', 'add', 'app'],
      ['role', 'grant-permission', 'app', '--prefix=true', 'readwrite', 'app/'],
      ['user', 'add', 'alice', '--new-user-password=alicepw'],
      ['user', 'grant-role', 'alice', 'app'],
      ['auth', 'enable'],
    ]) {
      expect((await ctl(all, 'root', args)).status, args.join(' ')).toBe(0)
    }
    // root's certificate alone is the root user: admin calls work without a password.
    expect(await out(all, 'root', ['put', 'secret', 's'])).toBe('0: OK')
    expect(await out(all, 'root', ['user', 'list'])).toBe('0: alice\nroot')
    // alice's certificate: her prefix only, on the leader or a follower (the CN travels in the proposal).
    expect(await out(all, 'alice', ['put', 'app/1', 'a'])).toBe('0: OK')
    expect(await out(follower, 'alice', ['put', 'app/2', 'b'])).toBe('0: OK')
    expect(await out(follower, 'alice', ['get', 'app/', '--prefix', '--keys-only'])).toBe('0: app/1\n\napp/2')
    expect(await out(follower, 'alice', ['put', 'secret', 'x'])).toBe('1: Error: etcdserver: permission denied')
    expect(await out(all, 'alice', ['get', 'secret'])).toBe('1: Error: etcdserver: permission denied')
    expect(await out(all, 'alice', ['user', 'list'])).toBe('1: Error: etcdserver: permission denied')
    expect(await out(all, 'alice', ['member', 'list'])).toMatch(/^0: /)
    // A CN with no user behind it gets nothing (etcd isOpPermitted: unknown user → permission denied).
    expect(await out(all, 'mallory', ['get', 'app/1'])).toBe('1: Error: etcdserver: permission denied')
    // A token (from --user) is used before the certificate.
    expect(await out(all, 'alice', ['get', 'secret', '--print-value-only', '--user', 'root:rootpw'])).toBe('0: s')
    expect((await ctl(all, 'root', ['auth', 'disable'])).status).toBe(0)
  }, 90_000)
})
