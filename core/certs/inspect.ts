import { X509Certificate as NodeX509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describePublicKey, x509 } from './crypto'
import { CertsError } from './errors'

/** Everything `quorum certs inspect` reports about one certificate. Dates are ISO-8601 UTC strings. */
export interface CertificateInfo {
  /** RFC 4514-style subject, e.g. `CN=member1, O=Quorum`. */
  subject: string
  /** The subject CN ('' when absent); etcd compat: the user name of a client certificate. */
  commonName: string
  issuer: string
  /** Lower-case hex, no separators (as `openssl x509 -serial` prints it, in lower case). */
  serialNumber: string
  notBefore: string
  notAfter: string
  /** SANs in OpenSSL's notation: `DNS:localhost`, `IP:127.0.0.1`, `IP:::1`, `email:...`, `URI:...`. */
  subjectAltNames: string[]
  /** keyUsage bits by RFC 5280 name (`digitalSignature`, `keyCertSign`, ...); empty when the extension is absent. */
  keyUsages: string[]
  /** extendedKeyUsage by name (`serverAuth`, `clientAuth`) or dotted OID when unknown; empty when absent. */
  extendedKeyUsages: string[]
  /** basicConstraints CA:TRUE. */
  isCa: boolean
  /** Issuer equals subject and the signature verifies with the certificate's own key. */
  selfSigned: boolean
  /** `ECDSA P-256`, `RSA 2048`, ... */
  keyAlgorithm: string
  /** e.g. `ECDSA SHA-256`, `RSASSA-PKCS1-v1_5 SHA-256`. */
  signatureAlgorithm: string
  /** SHA-256 of the DER certificate, upper-case hex pairs joined by `:` (as `openssl x509 -fingerprint -sha256`). */
  fingerprintSha256: string
}

const SAN_PREFIX: Record<string, string> = { dns: 'DNS', ip: 'IP', email: 'email', url: 'URI', dn: 'DirName', guid: 'GUID', upn: 'UPN', id: 'RID' }
const EKU_NAMES = new Map<string, string>(Object.entries(x509.ExtendedKeyUsage).map(([name, oid]) => [oid, name]))

function keyUsageNames(certificate: x509.X509Certificate): string[] {
  const extension = certificate.getExtension(x509.KeyUsagesExtension)
  if (extension === null) return []
  return Object.entries(x509.KeyUsageFlags)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number' && (extension.usages & entry[1]) !== 0)
    .map(([name]) => name)
}

/** Parses the first certificate of a PEM (or DER) blob; throws `CertsError('not-a-certificate')`. */
export function parseCertificate(data: string | Buffer): { certificate: x509.X509Certificate; node: NodeX509Certificate } {
  try {
    const node = new NodeX509Certificate(data)
    return { node, certificate: new x509.X509Certificate(node.raw) }
  } catch (error) {
    throw new CertsError('not-a-certificate', `not an X.509 certificate: ${(error as Error).message}`)
  }
}

/** Describes the first certificate in `data` (PEM or DER). */
export function inspectCertificate(data: string | Buffer): CertificateInfo {
  const { certificate, node } = parseCertificate(data)
  const altNames = certificate.getExtension(x509.SubjectAlternativeNameExtension)
  const eku = certificate.getExtension(x509.ExtendedKeyUsageExtension)
  const hash = certificate.signatureAlgorithm.hash
  return {
    subject: certificate.subject,
    commonName: certificate.subjectName.getField('CN')[0] ?? '',
    issuer: certificate.issuer,
    serialNumber: certificate.serialNumber.toLowerCase(),
    notBefore: certificate.notBefore.toISOString(),
    notAfter: certificate.notAfter.toISOString(),
    subjectAltNames: (altNames?.names.toJSON() ?? []).map((name) => `${SAN_PREFIX[name.type] ?? name.type}:${name.value}`),
    keyUsages: keyUsageNames(certificate),
    extendedKeyUsages: (eku?.usages ?? []).map((usage) => EKU_NAMES.get(String(usage)) ?? String(usage)),
    isCa: node.ca,
    selfSigned: node.subject === node.issuer && node.verify(node.publicKey),
    keyAlgorithm: describePublicKey(node.publicKey),
    signatureAlgorithm: `${certificate.signatureAlgorithm.name} ${hash?.name ?? ''}`.trim(),
    fingerprintSha256: node.fingerprint256,
  }
}

/** Reads `file` and describes its first certificate; throws `CertsError('unreadable' | 'not-a-certificate')`. */
export function inspectCertificateFile(file: string): CertificateInfo {
  let data: Buffer
  try {
    data = readFileSync(file)
  } catch (error) {
    throw new CertsError('unreadable', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  return inspectCertificate(data)
}
