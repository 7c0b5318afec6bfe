import { readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createServer } from 'node:tls'
import { afterAll, describe, expect, it } from 'vitest'
import { autoTlsDir, ensureSelfSignedCertificate } from '../../core/certs/auto-tls'
import { inspectCertificateFile } from '../../core/certs/inspect'
import { tempDir } from '../support/temp-dir'
import { tlsHandshake } from './tls-probe'

describe('auto TLS self-signed certificates (etcd --auto-tls / --peer-auto-tls)', () => {
  const temp = tempDir('quorum-certs-auto-')
  afterAll(() => temp.remove())

  it('creates fixtures/peer/cert.pem + key.pem like etcd: self-signed, serverAuth, SANs from the listen hosts, one year', async () => {
    const dir = autoTlsDir(join(temp.path, 'data'), 'peer')
    expect(dir).toBe(join(temp.path, 'data', 'fixtures', 'peer'))
    const now = new Date('2026-03-04T05:06:07Z')
    const files = await ensureSelfSignedCertificate(dir, ['127.0.0.1:2380', '[::1]:2380', 'node1.example:2380', 'localhost'], { now })
    expect(files).toEqual({ certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem'), created: true })
    expect(statSync(files.keyFile).mode & 0o777).toBe(0o600)
    const info = inspectCertificateFile(files.certFile)
    expect(info.subject).toBe('O=etcd')
    expect(info.selfSigned).toBe(true)
    expect(info.isCa).toBe(false)
    expect(info.keyUsages).toEqual(['digitalSignature', 'keyEncipherment'])
    expect(info.extendedKeyUsages).toEqual(['serverAuth'])
    expect(info.subjectAltNames).toEqual(['IP:127.0.0.1', 'IP:::1', 'DNS:node1.example', 'DNS:localhost'])
    expect(info.notBefore).toBe('2026-03-04T05:06:07.000Z')
    expect(info.notAfter).toBe('2027-03-04T05:06:07.000Z')
  })

  it('reuses existing files, and regenerates both when one is missing', async () => {
    const dir = autoTlsDir(join(temp.path, 'reuse'), 'client')
    const first = await ensureSelfSignedCertificate(dir, ['127.0.0.1:2379'], { additionalUsages: ['clientAuth'] })
    const fingerprint = inspectCertificateFile(first.certFile).fingerprintSha256
    expect(inspectCertificateFile(first.certFile).extendedKeyUsages).toEqual(['serverAuth', 'clientAuth'])
    expect((await ensureSelfSignedCertificate(dir, ['127.0.0.1:2379'])).created).toBe(false)
    expect(inspectCertificateFile(first.certFile).fingerprintSha256).toBe(fingerprint)
    rmSync(first.keyFile)
    expect((await ensureSelfSignedCertificate(dir, ['127.0.0.1:2379'])).created).toBe(true)
    expect(inspectCertificateFile(first.certFile).fingerprintSha256).not.toBe(fingerprint)
  })

  it('serves TLS that encrypts but does not authenticate: clients must skip verification, as etcd peers do', async () => {
    const files = await ensureSelfSignedCertificate(join(temp.path, 'serve'), ['127.0.0.1:0'])
    const server = createServer({ cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) }, (socket) => socket.end())
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))
    try {
      expect(await tlsHandshake(port, { rejectUnauthorized: false })).toHaveProperty('serial', inspectCertificateFile(files.certFile).serialNumber)
      expect(await tlsHandshake(port, { rejectUnauthorized: true })).toEqual({ error: 'self-signed certificate' })
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})
