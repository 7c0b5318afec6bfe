import type { SecureContextOptions } from 'node:tls'
import { autoTlsDir, ensureSelfSignedCertificate } from '../certs/auto-tls'
import { requiresClientCertificate, secureContextOptions, TlsFileWatcher, type TlsFilePaths } from '../certs/tls-files'
import { etcdTlsOptions } from '../certs/tls-options'
import type { MemberConfig, TlsSettings } from './config'
import type { PeerTls } from './peer/transport'

/** TLS of one listener family, ready to serve: options for new connections and a watcher for renewals. */
export interface ListenerTls {
  /** Options for tls.createServer / http2.createSecureServer (certificate, key, CA, client-cert policy, ciphers). */
  options: SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean }
  /** Reloads the files when they change (renewal without restart); `close()` on shutdown. */
  watcher: TlsFileWatcher
  /** Re-renders `options` from the watcher's current files (after a reload). */
  current(): SecureContextOptions
}

/** The member's TLS: client and peer listeners (null where their URLs are plain http). */
export interface MemberTls {
  client: ListenerTls | null
  peer: (ListenerTls & { transport: PeerTls }) | null
}

async function listenerTls(
  config: MemberConfig,
  settings: TlsSettings,
  kind: 'client' | 'peer',
  urls: URL[],
  onError: (message: string) => void,
): Promise<ListenerTls | null> {
  if (!urls.some((url) => url.protocol === 'https:')) return null
  let paths: TlsFilePaths
  if (settings.autoTls && (settings.certFile === '' || settings.keyFile === '')) {
    // etcd compat: --auto-tls / --peer-auto-tls self-sign a certificate kept in the data dir.
    const files = await ensureSelfSignedCertificate(autoTlsDir(config.dataDir, kind), urls.map((url) => url.host))
    paths = { certFile: files.certFile, keyFile: files.keyFile }
  } else {
    paths = { certFile: settings.certFile, keyFile: settings.keyFile, ...(settings.trustedCaFile ? { caFile: settings.trustedCaFile } : {}) }
  }
  const watcher = new TlsFileWatcher(paths, { onError: (error) => onError(`${kind} TLS reload failed, keeping the previous certificate: ${error.message}`) })
  // etcd compat: etcd 3.4 requires client certificates whenever a trusted CA file is set.
  const requestCert = requiresClientCertificate(paths, settings.clientCertAuth)
  const ciphers = etcdTlsOptions(config.cipherSuites)
  const current = () => ({ ...secureContextOptions(watcher.current), ...ciphers, minVersion: config.tlsMinVersion })
  return { options: { ...current(), requestCert, rejectUnauthorized: requestCert }, watcher, current }
}

/** Loads (and, with auto TLS, creates) the member's certificates. Throws CertsError for unusable files. */
export async function resolveMemberTls(config: MemberConfig, onError: (message: string) => void): Promise<MemberTls> {
  const client = await listenerTls(config, config.clientTls, 'client', [...config.listenClientUrls, ...config.advertiseClientUrls], onError)
  const peerListener = await listenerTls(config, config.peerTls, 'peer', [...config.listenPeerUrls, ...config.initialAdvertisePeerUrls], onError)
  if (!peerListener) return { client, peer: null }
  const files = peerListener.watcher.current
  const transport: PeerTls = {
    server: peerListener.options,
    // Dialing peers: present our peer certificate; verify theirs against the peer CA (auto TLS has none:
    // etcd then skips verification, and so do we).
    client: { cert: files.cert, key: files.key, ...(files.ca ? { ca: files.ca } : {}), rejectUnauthorized: files.ca !== undefined },
    allowedCn: config.peerTls.allowedCn,
  }
  return { client, peer: { ...peerListener, transport } }
}
