import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { certificatePem, exportPrivateKeyPem, generateKey, randomSerialNumber, x509 } from './crypto'
import { CERT_FILE_MODE, KEY_FILE_MODE, writeOutputFiles } from './files'
import { parseHost } from './hosts'
import type { ExtendedKeyUsageName } from './issue'

// etcd compat: `--auto-tls` / `--peer-auto-tls`. Ported from etcd's pkg/transport/listener.go `SelfCert` and
// embed/config.go `ClientSelfCert`/`PeerSelfCert` (Apache-2.0): one self-signed certificate per listener kind in
// `<data-dir>/fixtures/{client,peer}/{cert,key}.pem`, reused while both files exist, SANs taken from the hosts
// of the listen URLs, keyUsage digitalSignature + keyEncipherment, EKU serverAuth, valid for a year from now.
// Peers that dial a self-signed listener skip verification (etcd sets InsecureSkipVerify for self certs), so
// auto TLS encrypts but does not authenticate. Differences: the key is ECDSA P-256 (etcd uses P-521) and is
// written as PKCS#8; a bare host without a port is accepted (etcd's SplitHostPort drops it).

/** Where etcd keeps the self-signed files of a listener kind under a member's data dir. */
export function autoTlsDir(dataDir: string, kind: 'client' | 'peer'): string {
  return join(dataDir, 'fixtures', kind)
}

/** Options of `ensureSelfSignedCertificate`. */
export interface SelfSignedOptions {
  /** EKUs besides serverAuth (etcd 3.5+ passes clientAuth for some listeners); default none. */
  additionalUsages?: readonly ExtendedKeyUsageName[]
  /** Validity in years from `now` (etcd's `--self-signed-cert-validity`); default 1. */
  validityYears?: number
  now?: Date
}

/** The files of a self-signed listener certificate, and whether this call created them. */
export interface SelfSignedFiles {
  certFile: string
  keyFile: string
  created: boolean
}

// A listen URL host (`127.0.0.1:2380`, `[::1]:2380`, `localhost:2379`) or a bare host, without the port.
function hostOfListenAddress(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address)
  if (bracketed !== null) return bracketed[1]
  const withPort = /^([^:]+):\d+$/.exec(address)
  return withPort === null ? address : withPort[1]
}

/**
 * Makes sure `dir` holds a self-signed `cert.pem` + `key.pem` for `listenHosts` (hosts of the listen URLs,
 * with or without ports), creating them if either is missing, as etcd does at startup with auto TLS.
 */
export async function ensureSelfSignedCertificate(dir: string, listenHosts: readonly string[], options: SelfSignedOptions = {}): Promise<SelfSignedFiles> {
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile, created: false }
  const altNames = listenHosts.map((address) => parseHost(hostOfListenAddress(address)))
  const now = options.now ?? new Date()
  const notAfter = new Date(now)
  notAfter.setUTCFullYear(now.getUTCFullYear() + (options.validityYears ?? 1))
  const usages: ExtendedKeyUsageName[] = ['serverAuth', ...(options.additionalUsages ?? [])]
  const { keys, signingAlgorithm } = await generateKey('ecdsa')
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ O: ['etcd'] }],
    notBefore: now,
    notAfter,
    keys,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([...new Set(usages)].map((name) => x509.ExtendedKeyUsage[name]), false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...(altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames, false)] : []),
    ],
  })
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  // etcd truncates a lone leftover file; so do we (overwrite), but atomically.
  writeOutputFiles(
    [
      { path: certFile, contents: certificatePem(certificate), mode: CERT_FILE_MODE },
      { path: keyFile, contents: await exportPrivateKeyPem(keys.privateKey), mode: KEY_FILE_MODE },
    ],
    { overwrite: true },
  )
  return { certFile, keyFile, created: true }
}
