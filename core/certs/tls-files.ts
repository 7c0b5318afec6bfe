import { readFileSync, watch, type FSWatcher } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type { SecureContextOptions } from 'node:tls'
import { experimental, type ServerCredentials } from '@grpc/grpc-js'
import { parsePrivateKey } from './crypto'
import { CertsError } from './errors'
import { inspectCertificate, parseCertificate, type CertificateInfo } from './inspect'

/** The files a TLS listener uses, as etcd's `--cert-file`, `--key-file` and `--trusted-ca-file` name them. */
export interface TlsFilePaths {
  certFile: string
  keyFile: string
  /** CA bundle that client (or peer) certificates must chain to; absent when clients are not verified. */
  caFile?: string
}

/** The contents of a TLS file set, validated: the key belongs to the (first) certificate, the CA parses. */
export interface TlsFiles {
  cert: Buffer
  key: Buffer
  ca?: Buffer
  /** The serving certificate (first in `cert`), for logs and expiry metrics. */
  certificate: CertificateInfo
}

function readTlsFile(file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    throw new CertsError('unreadable', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}

/**
 * Reads and validates a TLS file set. Throws `CertsError` with `unreadable`, `not-a-certificate` (cert or CA),
 * `bad-key`, or `key-mismatch` (the key is not the certificate's, e.g. half-way through a renewal).
 */
export function loadTlsFiles(paths: TlsFilePaths): TlsFiles {
  const cert = readTlsFile(paths.certFile)
  const key = readTlsFile(paths.keyFile)
  const ca = paths.caFile === undefined ? undefined : readTlsFile(paths.caFile)
  const { node } = parseCertificate(cert)
  if (!node.checkPrivateKey(parsePrivateKey(key))) {
    throw new CertsError('key-mismatch', `${paths.keyFile} is not the private key of ${paths.certFile}`)
  }
  if (ca !== undefined) parseCertificate(ca)
  return { cert, key, ca, certificate: inspectCertificate(node.raw) }
}

/** Options for `tls.createSecureContext`, `tls.Server#setSecureContext` or `http2.createSecureServer`. */
export function secureContextOptions(files: TlsFiles): SecureContextOptions {
  return files.ca === undefined ? { cert: files.cert, key: files.key } : { cert: files.cert, key: files.key, ca: files.ca }
}

/** Options of `TlsFileWatcher`. */
export interface TlsFileWatcherOptions {
  /** Quiet time after the last file event before reloading (renewals write several files); default 100 ms. */
  debounceMs?: number
  /** Also reload on this period, for file systems where change events get lost; 0 = off; default 60 s. */
  pollIntervalMs?: number
  /** Called when a reload fails; the previous files stay in use. */
  onError?: (error: CertsError) => void
}

type IdentityListener = experimental.IdentityCertificateUpdateListener
type CaListener = experimental.CaCertificateUpdateListener

/**
 * Keeps a validated TLS file set current: watches the directories of the files (so renewals by rename, as
 * `writeOutputFiles({ overwrite })` or cert-manager do them, are seen) and reloads after a quiet period. A set
 * that fails validation (say the new certificate with the old key, mid-renewal) is not published; the watcher
 * keeps the old one and waits for the next change. Renewal then needs no restart:
 *
 * - node `tls.Server`: `watcher.onReload((files) => server.setSecureContext(secureContextOptions(files)))`, with
 *   `requestCert` and `rejectUnauthorized` set to `requiresClientCertificate(paths, clientCertAuth)`;
 * - grpc-js: `grpcServerCredentials(watcher, clientCertAuth)` (the watcher is a grpc-js CertificateProvider).
 *
 * Existing connections keep the certificate they were made with; new handshakes use the new one.
 */
export class TlsFileWatcher implements experimental.CertificateProvider {
  private files: TlsFiles
  private readonly watchers: FSWatcher[] = []
  private readonly listeners = new Set<(files: TlsFiles) => void>()
  private readonly identityListeners = new Set<IdentityListener>()
  private readonly caListeners = new Set<CaListener>()
  private debounceTimer: NodeJS.Timeout | undefined
  private pollTimer: NodeJS.Timeout | undefined
  private closed = false
  /** The error of the last failed reload, cleared by the next successful one. */
  lastError: CertsError | undefined

  /** Loads the files now (throwing `CertsError` if they are invalid) and starts watching them. */
  constructor(
    readonly paths: TlsFilePaths,
    private readonly options: TlsFileWatcherOptions = {},
  ) {
    this.files = loadTlsFiles(paths)
    const files = [paths.certFile, paths.keyFile, ...(paths.caFile === undefined ? [] : [paths.caFile])]
    for (const dir of new Set(files.map((file) => dirname(resolve(file))))) {
      const watcher = watch(dir, { persistent: false }, () => this.scheduleReload())
      watcher.on('error', (error) => this.options.onError?.(new CertsError('unreadable', `watching ${dir}: ${error.message}`)))
      this.watchers.push(watcher)
    }
    const pollMs = options.pollIntervalMs ?? 60_000
    if (pollMs > 0) this.pollTimer = setInterval(() => this.reload(), pollMs).unref()
  }

  /** The file set in use now (the last one that validated). */
  get current(): TlsFiles {
    return this.files
  }

  /** Calls `listener` after each successful reload that changed a file; returns an unsubscribe function. */
  onReload(listener: (files: TlsFiles) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Reloads now. Returns true if a changed, valid set was published; false if nothing changed or the new set is
   * invalid (then `lastError` is set and `onError` called).
   */
  reload(): boolean {
    if (this.closed) return false
    let next: TlsFiles
    try {
      next = loadTlsFiles(this.paths)
    } catch (error) {
      if (!(error instanceof CertsError)) throw error
      this.lastError = error
      this.options.onError?.(error)
      return false
    }
    this.lastError = undefined
    const same = next.cert.equals(this.files.cert) && next.key.equals(this.files.key) && (next.ca ?? Buffer.alloc(0)).equals(this.files.ca ?? Buffer.alloc(0))
    if (same) return false
    this.files = next
    for (const listener of this.listeners) listener(next)
    for (const listener of this.identityListeners) listener({ certificate: next.cert, privateKey: next.key })
    if (next.ca !== undefined) for (const listener of this.caListeners) listener({ caCertificate: next.ca })
    return true
  }

  /** Stops watching; the last set stays readable through `current`. */
  close(): void {
    this.closed = true
    clearTimeout(this.debounceTimer)
    clearInterval(this.pollTimer)
    for (const watcher of this.watchers) watcher.close()
    this.listeners.clear()
  }

  private scheduleReload(): void {
    clearTimeout(this.debounceTimer)
    this.debounceTimer = setTimeout(() => this.reload(), this.options.debounceMs ?? 100)
  }

  /** grpc-js CertificateProvider: the CA bundle (never called back when there is no `caFile`). */
  addCaCertificateListener(listener: CaListener): void {
    this.caListeners.add(listener)
    const ca = this.files.ca
    if (ca !== undefined) process.nextTick(listener, { caCertificate: ca })
  }

  /** grpc-js CertificateProvider. */
  removeCaCertificateListener(listener: CaListener): void {
    this.caListeners.delete(listener)
  }

  /** grpc-js CertificateProvider: the serving certificate chain and key. */
  addIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.add(listener)
    process.nextTick(listener, { certificate: this.files.cert, privateKey: this.files.key })
  }

  /** grpc-js CertificateProvider. */
  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.identityListeners.delete(listener)
  }
}

/**
 * Whether a listener must demand and verify client certificates. etcd compat: pkg/transport/listener.go
 * `ServerConfig` sets RequireAndVerifyClientCert when `--client-cert-auth` is on OR a `--trusted-ca-file` is
 * given (checked against etcd 3.4.23: with only a CA file, a client without a certificate is refused).
 */
export function requiresClientCertificate(paths: TlsFilePaths, clientCertAuth: boolean): boolean {
  return clientCertAuth || paths.caFile !== undefined
}

/**
 * grpc-js server credentials that follow `watcher` (certificate renewal without restart), demanding client
 * certificates as etcd does (`requiresClientCertificate`); with `clientCertAuth` the CA file must be set.
 * NB: grpc-js 1.14's `createCertificateProviderServerCredentials` passes its first argument on as the identity
 * provider and its second as the CA provider, whatever its parameter names say; we pass the watcher as the
 * first and the watcher-or-null as the second, which is right either way.
 */
export function grpcServerCredentials(watcher: TlsFileWatcher, clientCertAuth: boolean): ServerCredentials {
  if (clientCertAuth && watcher.paths.caFile === undefined) {
    throw new CertsError('invalid-input', 'client certificate auth needs a trusted CA file')
  }
  const caProvider = watcher.paths.caFile === undefined ? null : watcher
  return experimental.createCertificateProviderServerCredentials(watcher, caProvider, requiresClientCertificate(watcher.paths, clientCertAuth))
}
