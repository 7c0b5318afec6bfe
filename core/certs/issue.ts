import { X509Certificate as NodeX509Certificate } from 'node:crypto'
import { DEFAULT_CA_DAYS, DEFAULT_LEAF_DAYS } from './defaults'
import { CertsError } from './errors'
import { parseHost } from './hosts'
import { certificatePem, exportPrivateKeyPem, generateKey, importSigningKey, parsePrivateKey, randomSerialNumber, x509, type KeyType } from './crypto'

/** The validity window of a certificate: it is valid for `notBefore <= t <= notAfter` (RFC 5280 §4.1.2.5). */
export interface Validity {
  notBefore: Date
  notAfter: Date
}

/** How far `validityDays` backdates `notBefore`, so a member whose clock runs a little behind accepts new certs. */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000

const DAY_MS = 24 * 60 * 60_000

export { DEFAULT_CA_DAYS, DEFAULT_LEAF_DAYS } from './defaults'

/** A window of `days` days starting now, with `notBefore` backdated by `CLOCK_SKEW_ALLOWANCE_MS`. */
export function validityDays(days: number, now: Date = new Date()): Validity {
  if (!Number.isSafeInteger(days) || days < 1) throw new CertsError('invalid-input', `validity must be at least 1 day, got ${days}`)
  return { notBefore: new Date(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS), notAfter: new Date(now.getTime() + days * DAY_MS) }
}

/** The kinds of end-entity certificate a cluster needs. */
export type LeafRole = 'server' | 'peer' | 'client'
/** Every role a file in a certificate directory can play. */
export type CertificateRole = 'ca' | LeafRole

/** Extended key usages by name, as `inspect` prints them. */
export type ExtendedKeyUsageName = 'serverAuth' | 'clientAuth'

/**
 * The EKUs each role gets. etcd compat: server certificates also carry clientAuth because etcd 3.4's
 * grpc-gateway dials its own client port presenting the server certificate when `--client-cert-auth` is on;
 * peer certificates are used both to accept and to dial peers; client certificates only authenticate.
 */
export const ROLE_EXTENDED_KEY_USAGES: Readonly<Record<LeafRole, readonly ExtendedKeyUsageName[]>> = {
  server: ['serverAuth', 'clientAuth'],
  peer: ['serverAuth', 'clientAuth'],
  client: ['clientAuth'],
}

/** A certificate and its private key, both PEM (the key as PKCS#8). */
export interface PemPair {
  certPem: string
  keyPem: string
}

/** A CA able to sign: its PEM files plus the parsed certificate and an imported signing key. */
export interface CertificateAuthority extends PemPair {
  certificate: x509.X509Certificate
  signingKey: CryptoKey
  signingAlgorithm: EcdsaParams | RsaHashedImportParams
}

function subjectName(commonName: string): x509.JsonName {
  // RFC 5280 ub-common-name: at most 64 characters.
  if (commonName.length === 0 || commonName.length > 64) {
    throw new CertsError('invalid-input', `common name must be 1 to 64 characters, got ${JSON.stringify(commonName)}`)
  }
  return [{ CN: [commonName] }, { O: ['Quorum'] }]
}

function checkValidity(validity: Validity): Validity {
  if (!(validity.notAfter.getTime() > validity.notBefore.getTime())) {
    throw new CertsError('invalid-input', `notAfter ${validity.notAfter.toISOString()} is not after notBefore ${validity.notBefore.toISOString()}`)
  }
  return validity
}

/** Options of `createCertificateAuthority`. */
export interface CreateCaOptions {
  /** Subject CN; default `Quorum CA <8 random hex digits>`, so two clusters' CAs are told apart in messages. */
  commonName?: string
  keyType?: KeyType
  /** Default: `validityDays(DEFAULT_CA_DAYS)`. */
  validity?: Validity
}

/**
 * Creates a self-signed CA: basicConstraints `CA:TRUE, pathlen:0` (critical), keyUsage keyCertSign + cRLSign
 * (critical) and a subjectKeyIdentifier, so OpenSSL, Go and Node all accept it as a trust anchor.
 */
export async function createCertificateAuthority(options: CreateCaOptions = {}): Promise<CertificateAuthority> {
  const { keys, signingAlgorithm } = await generateKey(options.keyType ?? 'ecdsa')
  const validity = checkValidity(options.validity ?? validityDays(DEFAULT_CA_DAYS))
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: subjectName(options.commonName ?? `Quorum CA ${randomSerialNumber().slice(0, 8)}`),
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    keys,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  return { certificate, certPem: certificatePem(certificate), keyPem: await exportPrivateKeyPem(keys.privateKey), signingKey: keys.privateKey, signingAlgorithm }
}

/**
 * Loads an existing CA from its PEM certificate and private key (to issue more certificates, e.g. for a new
 * member). Throws `not-a-certificate` if the certificate is not a CA and `key-mismatch` if the key is not its key.
 */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  let nodeCertificate: NodeX509Certificate
  try {
    nodeCertificate = new NodeX509Certificate(certPem)
  } catch (error) {
    throw new CertsError('not-a-certificate', `cannot parse CA certificate: ${(error as Error).message}`)
  }
  if (!nodeCertificate.ca) throw new CertsError('not-a-certificate', `${nodeCertificate.subject} is not a CA certificate`)
  const { key, signingAlgorithm } = await importSigningKey(keyPem)
  if (!nodeCertificate.checkPrivateKey(parsePrivateKey(keyPem))) {
    throw new CertsError('key-mismatch', 'the CA private key does not belong to the CA certificate')
  }
  return { certificate: new x509.X509Certificate(certPem), certPem, keyPem, signingKey: key, signingAlgorithm }
}

// RFC 5280 §4.2.1.1: the AKI of a certificate equals the SKI of its issuer; derive one only if the CA has none.
async function authorityKeyIdentifier(caCertificate: x509.X509Certificate): Promise<x509.AuthorityKeyIdentifierExtension> {
  const ski = caCertificate.getExtension(x509.SubjectKeyIdentifierExtension)
  if (ski !== null) return new x509.AuthorityKeyIdentifierExtension(ski.keyId)
  return x509.AuthorityKeyIdentifierExtension.create(caCertificate.publicKey)
}

/** What to put into an end-entity certificate. */
export interface IssueOptions {
  role: LeafRole
  /** Subject CN. etcd compat: for client certificates it is the user name when auth is on (`root`). */
  commonName: string
  /** SANs (DNS names and IPs). Required (non-empty) for server and peer certificates; ignored for clients. */
  hosts?: readonly string[]
  keyType?: KeyType
  /** Default: `validityDays(DEFAULT_LEAF_DAYS)`. Tests pass past or future windows for expired certificates. */
  validity?: Validity
  /** Overrides the role's EKUs (`ROLE_EXTENDED_KEY_USAGES`); tests use it to make certificates with the wrong EKU. */
  extendedKeyUsages?: readonly ExtendedKeyUsageName[]
}

/**
 * Issues an end-entity certificate signed by `ca`: basicConstraints `CA:FALSE` (critical), keyUsage
 * digitalSignature (+ keyEncipherment for RSA, used by TLS 1.2 RSA key exchange), the role's EKUs,
 * SANs for server/peer (Go clients ignore the CN when checking the host), SKI and AKI.
 */
export async function issueCertificate(ca: CertificateAuthority, options: IssueOptions): Promise<PemPair> {
  const altNames = options.role === 'client' ? [] : (options.hosts ?? []).map(parseHost)
  if (options.role !== 'client' && altNames.length === 0) {
    throw new CertsError('invalid-input', `a ${options.role} certificate needs at least one host for its subjectAltName`)
  }
  const keyType = options.keyType ?? 'ecdsa'
  const { keys } = await generateKey(keyType)
  const validity = checkValidity(options.validity ?? validityDays(DEFAULT_LEAF_DAYS))
  const keyUsages = x509.KeyUsageFlags.digitalSignature | (keyType === 'ecdsa' ? 0 : x509.KeyUsageFlags.keyEncipherment)
  const ekus = (options.extendedKeyUsages ?? ROLE_EXTENDED_KEY_USAGES[options.role]).map((name) => x509.ExtendedKeyUsage[name])
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(keyUsages, true),
    new x509.ExtendedKeyUsageExtension(ekus, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await authorityKeyIdentifier(ca.certificate),
  ]
  if (altNames.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(altNames, false))
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: subjectName(options.commonName),
    issuer: ca.certificate.subjectName,
    notBefore: validity.notBefore,
    notAfter: validity.notAfter,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions,
  })
  return { certPem: certificatePem(certificate), keyPem: await exportPrivateKeyPem(keys.privateKey) }
}
