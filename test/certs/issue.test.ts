import { X509Certificate, createPrivateKey } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { CertsError } from '../../core/certs/errors'
import { coversHost, parseHost } from '../../core/certs/hosts'
import { inspectCertificate } from '../../core/certs/inspect'
import {
  createCertificateAuthority,
  issueCertificate,
  loadCertificateAuthority,
  validityDays,
  CLOCK_SKEW_ALLOWANCE_MS,
} from '../../core/certs/issue'

const DAY_MS = 24 * 60 * 60_000

async function expectCertsError(promise: Promise<unknown>, code: string) {
  await expect(promise).rejects.toSatisfy((error) => error instanceof CertsError && error.code === code)
}

describe('certificate issuance', () => {
  it('makes a CA with CA:TRUE, keyCertSign and cRLSign, self-signed, ECDSA P-256 by default', async () => {
    const ca = await createCertificateAuthority()
    const info = inspectCertificate(ca.certPem)
    expect(info.isCa).toBe(true)
    expect(info.selfSigned).toBe(true)
    expect(info.keyUsages).toEqual(['keyCertSign', 'cRLSign'])
    expect(info.extendedKeyUsages).toEqual([])
    expect(info.keyAlgorithm).toBe('ECDSA P-256')
    expect(info.signatureAlgorithm).toBe('ECDSA SHA-256')
    expect(info.commonName).toMatch(/^Quorum CA [0-9a-f]{8}$/)
    expect(info.subject).toBe(`CN=${info.commonName}, O=Quorum`)
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/)
  })

  it('gives server certificates serverAuth+clientAuth and SANs for every host, DNS and IP', async () => {
    const ca = await createCertificateAuthority()
    const pair = await issueCertificate(ca, { role: 'server', commonName: 'member1', hosts: ['LocalHost', '127.0.0.1', '[::1]', 'node1.example'] })
    const info = inspectCertificate(pair.certPem)
    expect(info.subject).toBe('CN=member1, O=Quorum')
    expect(info.issuer).toBe(`CN=${inspectCertificate(ca.certPem).commonName}, O=Quorum`)
    expect(info.subjectAltNames).toEqual(['DNS:localhost', 'IP:127.0.0.1', 'IP:::1', 'DNS:node1.example'])
    expect(info.extendedKeyUsages).toEqual(['serverAuth', 'clientAuth'])
    expect(info.keyUsages).toEqual(['digitalSignature'])
    expect(info.isCa).toBe(false)
    expect(info.selfSigned).toBe(false)
    const node = new X509Certificate(pair.certPem)
    expect(node.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true)
    expect(node.checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true)
  })

  it('gives peer certificates serverAuth+clientAuth as well', async () => {
    const ca = await createCertificateAuthority()
    const info = inspectCertificate((await issueCertificate(ca, { role: 'peer', commonName: 'member2', hosts: ['127.0.0.1'] })).certPem)
    expect(info.extendedKeyUsages).toEqual(['serverAuth', 'clientAuth'])
    expect(info.subjectAltNames).toEqual(['IP:127.0.0.1'])
  })

  it('gives client certificates CN = user name, clientAuth only, and no SANs', async () => {
    const ca = await createCertificateAuthority()
    const info = inspectCertificate((await issueCertificate(ca, { role: 'client', commonName: 'root', hosts: ['ignored.example'] })).certPem)
    expect(info.commonName).toBe('root')
    expect(info.extendedKeyUsages).toEqual(['clientAuth'])
    expect(info.subjectAltNames).toEqual([])
  })

  it('makes RSA 2048 keys with keyEncipherment and PKCS#1 v1.5 SHA-256 signatures', async () => {
    const ca = await createCertificateAuthority({ keyType: 'rsa2048' })
    const info = inspectCertificate((await issueCertificate(ca, { role: 'server', commonName: 'm', hosts: ['127.0.0.1'], keyType: 'rsa2048' })).certPem)
    expect(info.keyAlgorithm).toBe('RSA 2048')
    expect(info.signatureAlgorithm).toBe('RSASSA-PKCS1-v1_5 SHA-256')
    expect(info.keyUsages).toEqual(['digitalSignature', 'keyEncipherment'])
  })

  it('signs an ECDSA leaf with an RSA CA loaded back from PEM', async () => {
    const created = await createCertificateAuthority({ keyType: 'rsa2048' })
    const loaded = await loadCertificateAuthority(created.certPem, created.keyPem)
    const pair = await issueCertificate(loaded, { role: 'client', commonName: 'alice' })
    expect(new X509Certificate(pair.certPem).verify(new X509Certificate(created.certPem).publicKey)).toBe(true)
    expect(inspectCertificate(pair.certPem).keyAlgorithm).toBe('ECDSA P-256')
  })

  it('uses the validity window it is given, to the second', async () => {
    const ca = await createCertificateAuthority()
    const validity = { notBefore: new Date('2020-01-02T03:04:05Z'), notAfter: new Date('2020-02-03T04:05:06Z') }
    const info = inspectCertificate((await issueCertificate(ca, { role: 'client', commonName: 'old', validity })).certPem)
    expect(info.notBefore).toBe('2020-01-02T03:04:05.000Z')
    expect(info.notAfter).toBe('2020-02-03T04:05:06.000Z')
  })

  it('backdates notBefore by the clock-skew allowance and ends after the given days', () => {
    const now = new Date('2026-01-01T00:00:00Z')
    const validity = validityDays(30, now)
    expect(now.getTime() - validity.notBefore.getTime()).toBe(CLOCK_SKEW_ALLOWANCE_MS)
    expect(validity.notAfter.getTime() - now.getTime()).toBe(30 * DAY_MS)
    expect(() => validityDays(0, now)).toThrow(CertsError)
  })

  it('gives every certificate a distinct positive 128-bit serial number', async () => {
    const ca = await createCertificateAuthority()
    const serials = await Promise.all([1, 2, 3, 4].map(async () => inspectCertificate((await issueCertificate(ca, { role: 'client', commonName: 'u' })).certPem).serialNumber))
    expect(new Set(serials).size).toBe(4)
    for (const serial of serials) expect(serial).toMatch(/^[1-7][0-9a-f]{31}$|^0[1-9a-f][0-9a-f]{30}$/)
  })

  it('refuses a server certificate without hosts, a bad host, a bad CN and an inverted window', async () => {
    const ca = await createCertificateAuthority()
    await expectCertsError(issueCertificate(ca, { role: 'server', commonName: 'm', hosts: [] }), 'invalid-input')
    await expectCertsError(issueCertificate(ca, { role: 'peer', commonName: 'm', hosts: ['bad_host!'] }), 'invalid-input')
    await expectCertsError(issueCertificate(ca, { role: 'client', commonName: '' }), 'invalid-input')
    await expectCertsError(issueCertificate(ca, { role: 'client', commonName: 'x'.repeat(65) }), 'invalid-input')
    const inverted = { notBefore: new Date('2030-01-01Z'), notAfter: new Date('2029-01-01Z') }
    await expectCertsError(issueCertificate(ca, { role: 'client', commonName: 'u', validity: inverted }), 'invalid-input')
  })

  it('refuses to load a CA whose key is not its own, or a certificate that is not a CA', async () => {
    const ca = await createCertificateAuthority()
    const other = await createCertificateAuthority()
    await expectCertsError(loadCertificateAuthority(ca.certPem, other.keyPem), 'key-mismatch')
    const leaf = await issueCertificate(ca, { role: 'client', commonName: 'u' })
    await expectCertsError(loadCertificateAuthority(leaf.certPem, leaf.keyPem), 'not-a-certificate')
    await expectCertsError(loadCertificateAuthority(ca.certPem, 'garbage'), 'bad-key')
  })
})

describe('hosts', () => {
  it('parses IPv4, IPv6 (bracketed or not) and DNS names, lower-casing names', () => {
    expect(parseHost('10.0.0.5')).toEqual({ type: 'ip', value: '10.0.0.5' })
    expect(parseHost('[fe80::1]')).toEqual({ type: 'ip', value: 'fe80::1' })
    expect(parseHost('::1')).toEqual({ type: 'ip', value: '::1' })
    expect(parseHost('Node-1.Example')).toEqual({ type: 'dns', value: 'node-1.example' })
    expect(parseHost('*.cluster.example')).toEqual({ type: 'dns', value: '*.cluster.example' })
  })

  it('rejects strings that are neither a DNS name nor an IP', () => {
    for (const bad of ['', 'a..b', '-a.example', 'a_b', 'http://x', '*.example', `${'a'.repeat(64)}.example`]) {
      expect(() => parseHost(bad), bad).toThrow(CertsError)
    }
  })

  it('checks host coverage like Go: IP SANs for IPs, wildcards one label deep, never the CN', async () => {
    const ca = await createCertificateAuthority()
    const cert = new X509Certificate((await issueCertificate(ca, { role: 'server', commonName: 'cn.example', hosts: ['*.cluster.example', '127.0.0.1'] })).certPem)
    expect(coversHost(cert, '127.0.0.1')).toBe(true)
    expect(coversHost(cert, '127.0.0.2')).toBe(false)
    expect(coversHost(cert, 'a.cluster.example')).toBe(true)
    expect(coversHost(cert, 'a.b.cluster.example')).toBe(false)
    expect(coversHost(cert, 'cn.example')).toBe(false)
  })
})
