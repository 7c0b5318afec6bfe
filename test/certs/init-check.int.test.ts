import { spawnSync } from 'node:child_process'
import { chmodSync, copyFileSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { checkCertificates, hasCriticalFinding } from '../../core/certs/check'
import { CertsError } from '../../core/certs/errors'
import { CERT_FILE_MODE, KEY_FILE_MODE, certificatePaths, writeOutputFiles } from '../../core/certs/files'
import { initCertificates } from '../../core/certs/init'
import { inspectCertificateFile } from '../../core/certs/inspect'
import { issueCertificate, loadCertificateAuthority, type IssueOptions, type PemPair } from '../../core/certs/issue'
import { tempDir } from '../support/temp-dir'

const DAY_MS = 24 * 60 * 60_000
const HOSTS = ['localhost', '127.0.0.1', '::1']

function openssl(...args: string[]) {
  const result = spawnSync('openssl', args, { encoding: 'utf8', timeout: 20_000 })
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr }
}

function crtFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.crt')).sort().map((name) => join(dir, name))
}

function writePair(dir: string, stem: string, pair: PemPair) {
  writeOutputFiles([
    { path: join(dir, `${stem}.crt`), contents: pair.certPem, mode: CERT_FILE_MODE },
    { path: join(dir, `${stem}.key`), contents: pair.keyPem, mode: KEY_FILE_MODE },
  ])
}

describe('quorum certs init (files)', () => {
  const temp = tempDir('quorum-certs-init-')
  const ecDir = join(temp.path, 'ec')
  const rsaDir = join(temp.path, 'rsa')
  afterAll(() => temp.remove())

  beforeAll(async () => {
    await Promise.all([
      initCertificates({ dir: ecDir, hosts: HOSTS, memberNames: ['m1', 'm2', 'm3'], clientNames: ['root', 'alice'] }),
      initCertificates({ dir: rsaDir, hosts: ['127.0.0.1'], memberNames: ['r1'], clientNames: ['root'], keyType: 'rsa2048' }),
    ])
  })

  it('writes a CA, a server and a peer pair per member and a client pair per user, keys 0600 and certs 0644', () => {
    const names = readdirSync(ecDir).sort()
    const stems = ['ca', 'client-alice', 'client-root', 'peer-m1', 'peer-m2', 'peer-m3', 'server-m1', 'server-m2', 'server-m3']
    expect(names).toEqual(stems.flatMap((stem) => [`${stem}.crt`, `${stem}.key`]))
    for (const name of names) {
      expect(statSync(join(ecDir, name)).mode & 0o777, name).toBe(name.endsWith('.key') ? 0o600 : 0o644)
    }
    expect(statSync(ecDir).mode & 0o777).toBe(0o700)
  })

  it('passes openssl verify -CAfile for every certificate, with the sslserver/sslclient purposes by role', () => {
    for (const dir of [ecDir, rsaDir]) {
      const ca = join(dir, 'ca.crt')
      for (const file of crtFiles(dir)) {
        const result = openssl('verify', '-CAfile', ca, file)
        expect(result.stdout, result.stderr).toBe(`${file}: OK`)
      }
      const servers = crtFiles(dir).filter((file) => /\/(server|peer)-/.test(file))
      const clients = crtFiles(dir).filter((file) => /\/(server|peer|client)-/.test(file))
      expect(openssl('verify', '-CAfile', ca, '-purpose', 'sslserver', ...servers).status).toBe(0)
      expect(openssl('verify', '-CAfile', ca, '-purpose', 'sslclient', ...clients).status).toBe(0)
      const clientOnly = crtFiles(dir).filter((file) => /\/client-/.test(file))
      expect(openssl('verify', '-CAfile', ca, '-purpose', 'sslserver', ...clientOnly).status).not.toBe(0)
    }
  })

  it('reports in inspect exactly what openssl x509 reads from the file', () => {
    for (const file of [join(ecDir, 'server-m2.crt'), join(ecDir, 'client-alice.crt'), join(rsaDir, 'peer-r1.crt'), join(ecDir, 'ca.crt')]) {
      const info = inspectCertificateFile(file)
      // One openssl run per file: `name=value` lines first, then the -text dump.
      const out = openssl('x509', '-in', file, '-noout', '-serial', '-fingerprint', '-sha256', '-subject', '-issuer', '-startdate', '-enddate', '-nameopt', 'oneline', '-text').stdout
      const field = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(out)?.[1] ?? `no ${name}`
      // The value line under an extension header of the -text dump ('' when the extension is absent).
      const extension = (header: string) => new RegExp(`${header}:.*\n\s*(.*)`).exec(out)?.[1].trim() ?? ''
      expect(info.serialNumber).toBe(field('serial').toLowerCase())
      expect(info.fingerprintSha256).toBe(field('sha256 Fingerprint'))
      expect(info.subject).toBe(field('subject').replaceAll(' = ', '='))
      expect(info.issuer).toBe(field('issuer').replaceAll(' = ', '='))
      expect(Date.parse(info.notBefore)).toBe(Date.parse(field('notBefore')))
      expect(Date.parse(info.notAfter)).toBe(Date.parse(field('notAfter')))
      const san = extension('X509v3 Subject Alternative Name')
      const expectedSans = san === '' ? [] : san.split(', ').map((entry) => entry.replace('IP Address:0:0:0:0:0:0:0:1', 'IP:::1').replace('IP Address:', 'IP:'))
      expect(info.subjectAltNames).toEqual(expectedSans)
      const eku = extension('X509v3 Extended Key Usage')
      const ekuNames: Record<string, string> = { 'TLS Web Server Authentication': 'serverAuth', 'TLS Web Client Authentication': 'clientAuth' }
      expect(info.extendedKeyUsages).toEqual(eku === '' ? [] : eku.split(', ').map((name) => ekuNames[name]))
      expect(info.keyAlgorithm).toBe(out.includes('NIST CURVE: P-256') ? 'ECDSA P-256' : `RSA ${/Public-Key: \((\d+) bit\)/.exec(out)?.[1]}`)
      expect(info.isCa).toBe(extension('X509v3 Basic Constraints') === 'CA:TRUE, pathlen:0')
    }
  })

  it('refuses to overwrite existing files and then writes nothing at all, not even new names', async () => {
    const before = readFileSync(join(ecDir, 'server-m1.crt'), 'utf8')
    const call = initCertificates({ dir: ecDir, hosts: HOSTS, memberNames: ['m1', 'fresh'], clientNames: [] })
    await expect(call).rejects.toSatisfy((error) => error instanceof CertsError && error.code === 'file-exists')
    expect(readFileSync(join(ecDir, 'server-m1.crt'), 'utf8')).toBe(before)
    expect(readdirSync(ecDir).filter((name) => name.includes('fresh'))).toEqual([])
  })

  it('reuses the existing CA to add a member, leaving ca.crt and ca.key untouched', async () => {
    const caBefore = readFileSync(join(ecDir, 'ca.crt'), 'utf8') + readFileSync(join(ecDir, 'ca.key'), 'utf8')
    const result = await initCertificates({ dir: ecDir, hosts: HOSTS, memberNames: ['m4'] })
    expect(result.caReused).toBe(true)
    expect(result.entries.map((entry) => basename(entry.certFile))).toEqual(['server-m4.crt', 'peer-m4.crt'])
    expect(readFileSync(join(ecDir, 'ca.crt'), 'utf8') + readFileSync(join(ecDir, 'ca.key'), 'utf8')).toBe(caBefore)
    expect(openssl('verify', '-CAfile', join(ecDir, 'ca.crt'), join(ecDir, 'peer-m4.crt')).status).toBe(0)
  })

  it('overwrites everything, the CA included, only when asked, keeping the modes', async () => {
    const dir = join(temp.path, 'overwrite')
    await initCertificates({ dir, hosts: HOSTS, memberNames: ['m1'] })
    const oldCa = inspectCertificateFile(join(dir, 'ca.crt')).fingerprintSha256
    chmodSync(join(dir, 'server-m1.key'), 0o644)
    const result = await initCertificates({ dir, hosts: HOSTS, memberNames: ['m1'], overwrite: true })
    expect(result.caReused).toBe(false)
    expect(inspectCertificateFile(join(dir, 'ca.crt')).fingerprintSha256).not.toBe(oldCa)
    expect(statSync(join(dir, 'server-m1.key')).mode & 0o777).toBe(0o600)
    expect(openssl('verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'server-m1.crt')).status).toBe(0)
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([])
  })

  it('refuses a CA certificate without its key rather than replacing it', async () => {
    const dir = join(temp.path, 'half-ca')
    await initCertificates({ dir, hosts: HOSTS, memberNames: [] })
    rmSync(join(dir, 'ca.key'))
    await expect(initCertificates({ dir, hosts: HOSTS, memberNames: ['m1'] })).rejects.toSatisfy((error) => error instanceof CertsError && error.code === 'file-exists')
  })
})

describe('quorum certs check', () => {
  const temp = tempDir('quorum-certs-check-')
  afterAll(() => temp.remove())

  it('finds nothing in a fresh directory when the hosts are covered', async () => {
    const dir = join(temp.path, 'clean')
    await initCertificates({ dir, hosts: HOSTS, memberNames: ['m1', 'm2'], clientNames: ['root'] })
    const report = checkCertificates(dir, { hosts: ['127.0.0.1', 'localhost', '::1'] })
    expect(report.findings).toEqual([])
    expect(report.certificates.map((entry) => [basename(entry.file), entry.role, entry.name])).toEqual([
      ['ca.crt', 'ca', ''],
      ['client-root.crt', 'client', 'root'],
      ['peer-m1.crt', 'peer', 'm1'],
      ['peer-m2.crt', 'peer', 'm2'],
      ['server-m1.crt', 'server', 'm1'],
      ['server-m2.crt', 'server', 'm2'],
    ])
    expect(hasCriticalFinding(report)).toBe(false)
  })

  it('names each problem with its code and severity, and only where it is', async () => {
    const dir = join(temp.path, 'broken')
    await initCertificates({ dir, hosts: ['127.0.0.1'], memberNames: ['m1', 'm2'], clientNames: ['root'] })
    const ca = await loadCertificateAuthority(readFileSync(join(dir, 'ca.crt'), 'utf8'), readFileSync(join(dir, 'ca.key'), 'utf8'))
    const foreign = join(temp.path, 'foreign')
    await initCertificates({ dir: foreign, hosts: ['127.0.0.1'], memberNames: [], clientNames: ['root'] })
    const now = Date.now()
    const client = (commonName: string, extra: Partial<IssueOptions>) => issueCertificate(ca, { role: 'client', commonName, ...extra })
    writePair(dir, 'client-expired', await client('expired', { validity: { notBefore: new Date(now - 10 * DAY_MS), notAfter: new Date(now - DAY_MS) } }))
    writePair(dir, 'client-future', await client('future', { validity: { notBefore: new Date(now + DAY_MS), notAfter: new Date(now + 10 * DAY_MS) } }))
    writePair(dir, 'client-soon', await client('soon', { validity: { notBefore: new Date(now - DAY_MS), notAfter: new Date(now + 10 * DAY_MS) } }))
    writePair(dir, 'client-serveronly', await client('serveronly', { extendedKeyUsages: ['serverAuth'] }))
    writePair(dir, 'server-clientonly', await issueCertificate(ca, { role: 'server', commonName: 'x', hosts: ['127.0.0.1'], extendedKeyUsages: ['clientAuth'] }))
    writePair(dir, 'server-serveronly', await issueCertificate(ca, { role: 'server', commonName: 'y', hosts: ['127.0.0.1'], extendedKeyUsages: ['serverAuth'] }))
    copyFileSync(join(foreign, 'client-root.crt'), join(dir, 'client-foreign.crt'))
    copyFileSync(join(foreign, 'client-root.key'), join(dir, 'client-foreign.key'))
    copyFileSync(join(dir, 'server-m2.key'), join(dir, 'server-m1.key')) // m1 now has m2's key
    rmSync(join(dir, 'peer-m2.key'))
    chmodSync(join(dir, 'client-root.key'), 0o640)

    const report = checkCertificates(dir, { hosts: ['127.0.0.1', 'node9.example'] })
    const found = report.findings.map((finding) => `${basename(finding.file)} ${finding.code} ${finding.severity}`).sort()
    expect(found).toEqual(
      [
        'client-expired.crt expired critical',
        'client-foreign.crt not-signed-by-ca critical',
        'client-future.crt not-yet-valid critical',
        'client-root.key key-permissions warning',
        'client-serveronly.crt wrong-eku critical',
        'client-soon.crt expires-soon warning',
        'peer-m1.crt host-not-covered critical',
        'peer-m2.crt host-not-covered critical',
        'peer-m2.key key-missing critical',
        'server-clientonly.crt host-not-covered critical',
        'server-clientonly.crt wrong-eku critical',
        'server-serveronly.crt host-not-covered critical',
        'server-serveronly.crt wrong-eku warning',
        'server-m1.crt host-not-covered critical',
        'server-m1.key key-mismatch critical',
        'server-m2.crt host-not-covered critical',
      ].sort(),
    )
    const byCode = (code: string) => report.findings.find((finding) => finding.code === code)?.message
    expect(byCode('host-not-covered')).toContain('do not cover node9.example')
    expect(byCode('wrong-eku')).toMatch(/needs extended key usage (clientAuth|serverAuth)/)
    expect(byCode('expires-soon')).toMatch(/expires in (9|10) day\(s\)/)
    expect(byCode('key-permissions')).toContain('mode 640')
    expect(hasCriticalFinding(report)).toBe(true)
  })

  it('warns within a custom window and treats a missing ca.crt as critical', async () => {
    const dir = join(temp.path, 'no-ca')
    await initCertificates({ dir, hosts: HOSTS, memberNames: [], clientNames: ['root'], days: 20 })
    expect(checkCertificates(dir, { expiryWarningDays: 10 }).findings).toEqual([])
    expect(checkCertificates(dir).findings.map((finding) => finding.code)).toEqual(['expires-soon'])
    rmSync(certificatePaths(dir, 'ca').certFile)
    const codes = checkCertificates(dir, { expiryWarningDays: 10 }).findings.map((finding) => finding.code)
    expect(codes).toEqual(['ca-missing'])
  })

  it('throws unreadable for a directory or certificate file that does not exist', () => {
    expect(() => checkCertificates(join(temp.path, 'nope'))).toThrow(expect.objectContaining({ code: 'unreadable' }))
    expect(() => inspectCertificateFile(join(temp.path, 'missing.crt'))).toThrow(expect.objectContaining({ code: 'unreadable', message: expect.stringMatching(/missing\.crt: ENOENT$/) }))
  })
})
