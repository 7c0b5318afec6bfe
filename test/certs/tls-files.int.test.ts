import { readFileSync, writeFileSync } from 'node:fs'
import { createServer, type ConnectionOptions, type Server as TlsServer } from 'node:tls'
import { join } from 'node:path'
import { Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CertsError } from '../../core/certs/errors'
import { CERT_FILE_MODE, KEY_FILE_MODE, certificatePaths, writeOutputFiles } from '../../core/certs/files'
import { initCertificates } from '../../core/certs/init'
import { inspectCertificate } from '../../core/certs/inspect'
import { issueCertificate, loadCertificateAuthority, type CertificateAuthority, type PemPair } from '../../core/certs/issue'
import { TlsFileWatcher, grpcServerCredentials, loadTlsFiles, requiresClientCertificate, secureContextOptions, type TlsFilePaths } from '../../core/certs/tls-files'
import { tempDir } from '../support/temp-dir'
import { tlsHandshake, type HandshakeResult } from './tls-probe'

async function waitForSerial(port: number, options: ConnectionOptions, serial: string): Promise<void> {
  const deadline = Date.now() + 10_000
  let last: HandshakeResult = { error: 'none yet' }
  while (Date.now() < deadline) {
    last = await tlsHandshake(port, options)
    if ('serial' in last && last.serial === serial) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  expect(last).toMatchObject({ serial })
}

function serialOf(pair: PemPair): string {
  return inspectCertificate(pair.certPem).serialNumber
}

describe('TLS files for servers: load, validate, reload on change', () => {
  const temp = tempDir('quorum-certs-tls-')
  const dir = join(temp.path, 'certs')
  let ca: CertificateAuthority
  let paths: TlsFilePaths
  let clientOptions: ConnectionOptions
  const cleanups: (() => void | Promise<void>)[] = []

  beforeAll(async () => {
    await initCertificates({ dir, hosts: ['localhost', '127.0.0.1'], memberNames: ['m1'], clientNames: ['root'] })
    ca = await loadCertificateAuthority(readFileSync(join(dir, 'ca.crt'), 'utf8'), readFileSync(join(dir, 'ca.key'), 'utf8'))
    const server = certificatePaths(dir, 'server', 'm1')
    paths = { certFile: server.certFile, keyFile: server.keyFile, caFile: join(dir, 'ca.crt') }
    const root = certificatePaths(dir, 'client', 'root')
    clientOptions = { ca: readFileSync(paths.caFile!), cert: readFileSync(root.certFile), key: readFileSync(root.keyFile), ALPNProtocols: ['h2'] }
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  afterAll(() => temp.remove())

  // A grpc-js server (no services: the handshake is what is tested) on the watcher's credentials; returns its port.
  const startGrpcServer = async (watcher: TlsFileWatcher, clientCertAuth: boolean): Promise<number> => {
    const server = new GrpcServer()
    cleanups.push(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())))
    return new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpcServerCredentials(watcher, clientCertAuth), (error, bound) => (error ? reject(error) : resolve(bound))),
    )
  }

  const renew = async (parts: 'both' | 'cert' | 'key', pair?: PemPair): Promise<PemPair> => {
    const next = pair ?? (await issueCertificate(ca, { role: 'server', commonName: 'm1', hosts: ['localhost', '127.0.0.1'] }))
    const files = []
    if (parts !== 'key') files.push({ path: paths.certFile, contents: next.certPem, mode: CERT_FILE_MODE })
    if (parts !== 'cert') files.push({ path: paths.keyFile, contents: next.keyPem, mode: KEY_FILE_MODE })
    writeOutputFiles(files, { overwrite: true })
    return next
  }

  it('loads a validated set and describes the serving certificate', () => {
    const files = loadTlsFiles(paths)
    expect(files.cert.equals(readFileSync(paths.certFile))).toBe(true)
    expect(files.ca?.equals(readFileSync(paths.caFile!))).toBe(true)
    expect(files.certificate.commonName).toBe('m1')
    expect(secureContextOptions(files)).toEqual({ cert: files.cert, key: files.key, ca: files.ca })
    expect(secureContextOptions({ ...files, ca: undefined })).toEqual({ cert: files.cert, key: files.key })
  })

  it('refuses a missing file, a key that is not the certificate\'s, a bad key and a CA file without a certificate', () => {
    const code = (fn: () => unknown) => {
      try {
        fn()
      } catch (error) {
        return error instanceof CertsError ? error.code : `not a CertsError: ${String(error)}`
      }
      return 'no error'
    }
    const rootKey = certificatePaths(dir, 'client', 'root').keyFile
    const garbage = join(temp.path, 'garbage.pem')
    writeFileSync(garbage, 'not pem at all\n')
    expect(code(() => loadTlsFiles({ ...paths, certFile: join(dir, 'missing.crt') }))).toBe('unreadable')
    expect(code(() => loadTlsFiles({ ...paths, keyFile: rootKey }))).toBe('key-mismatch')
    expect(code(() => loadTlsFiles({ ...paths, keyFile: garbage }))).toBe('bad-key')
    expect(code(() => loadTlsFiles({ ...paths, caFile: garbage }))).toBe('not-a-certificate')
  })

  it('lets a grpc-js server pick up a renewed certificate without restart, and skips a half-written renewal', async () => {
    const errors: CertsError[] = []
    const watcher = new TlsFileWatcher(paths, { debounceMs: 50, pollIntervalMs: 0, onError: (error) => errors.push(error) })
    cleanups.push(() => watcher.close())
    const port = await startGrpcServer(watcher, true)
    await waitForSerial(port, clientOptions, watcher.current.certificate.serialNumber)
    // --client-cert-auth: a client without a certificate fails the handshake (TLS 1.2 reports it in the handshake).
    const anonymous = await tlsHandshake(port, { ca: clientOptions.ca, maxVersion: 'TLSv1.2' })
    expect(anonymous).toMatchObject({ error: expect.stringMatching(/handshake failure|certificate required/i) })

    const renewed = await renew('both')
    await waitForSerial(port, clientOptions, serialOf(renewed))

    const next = await issueCertificate(ca, { role: 'server', commonName: 'm1', hosts: ['localhost', '127.0.0.1'] })
    await renew('cert', next) // the new certificate beside the old key: must not be served
    const deadline = Date.now() + 5000
    while (errors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(errors.map((error) => error.code)).toContain('key-mismatch')
    expect(await tlsHandshake(port, clientOptions)).toMatchObject({ serial: serialOf(renewed) })
    await renew('key', next)
    await waitForSerial(port, clientOptions, serialOf(next))
    expect(watcher.lastError).toBeUndefined()
  })

  it('lets a node tls.Server follow renewals through onReload + setSecureContext, until closed', async () => {
    const watcher = new TlsFileWatcher(paths, { debounceMs: 50, pollIntervalMs: 0 })
    cleanups.push(() => watcher.close())
    const server: TlsServer = createServer({ ...secureContextOptions(watcher.current), requestCert: true, rejectUnauthorized: true }, (socket) => socket.end())
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    watcher.onReload((files) => server.setSecureContext(secureContextOptions(files)))
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))
    const options = { ...clientOptions, ALPNProtocols: undefined }
    expect(await tlsHandshake(port, options)).toMatchObject({ serial: watcher.current.certificate.serialNumber })

    const renewed = await renew('both')
    await waitForSerial(port, options, serialOf(renewed))
    expect(watcher.reload()).toBe(false) // nothing changed since the last reload

    watcher.close()
    await renew('both')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await tlsHandshake(port, options)).toMatchObject({ serial: serialOf(renewed) })
  })

  it('requires client certificates when a CA file is given even without client-cert auth, as etcd 3.4 does', async () => {
    expect(requiresClientCertificate(paths, false)).toBe(true)
    expect(requiresClientCertificate({ certFile: paths.certFile, keyFile: paths.keyFile }, false)).toBe(false)
    const watcher = new TlsFileWatcher(paths, { pollIntervalMs: 0 })
    cleanups.push(() => watcher.close())
    const port = await startGrpcServer(watcher, false)
    await waitForSerial(port, clientOptions, watcher.current.certificate.serialNumber)
    expect(await tlsHandshake(port, { ca: clientOptions.ca, maxVersion: 'TLSv1.2' })).toMatchObject({ error: expect.stringMatching(/handshake failure/i) })
  })

  it('refuses grpc client-cert auth without a CA file', () => {
    const watcher = new TlsFileWatcher({ certFile: paths.certFile, keyFile: paths.keyFile }, { pollIntervalMs: 0 })
    cleanups.push(() => watcher.close())
    expect(() => grpcServerCredentials(watcher, true)).toThrow(expect.objectContaining({ code: 'invalid-input' }))
    expect(grpcServerCredentials(watcher, false)).toBeInstanceOf(ServerCredentials)
  })
})
