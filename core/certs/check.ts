import type { X509Certificate as NodeX509Certificate } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parsePrivateKey } from './crypto'
import { CertsError } from './errors'
import { coversHost } from './hosts'
import { certificatePaths, roleOfCertificateFile } from './files'
import { inspectCertificate, parseCertificate, type CertificateInfo } from './inspect'
import { ROLE_EXTENDED_KEY_USAGES, type CertificateRole } from './issue'

/** `critical`: the cluster will (or soon will) fail to connect; `warning`: fix it before it bites. */
export type FindingSeverity = 'critical' | 'warning'

/** What `checkCertificates` can find; callers branch on the code. */
export type FindingCode =
  | 'ca-missing' // no readable ca.crt: nothing can be verified against it
  | 'not-a-ca' // ca.crt lacks basicConstraints CA:TRUE
  | 'unreadable' // a .crt file holds no certificate, or a .key file no key
  | 'expired' // now > notAfter
  | 'not-yet-valid' // now < notBefore
  | 'expires-soon' // notAfter within the warning window (30 days by default)
  | 'host-not-covered' // a server/peer certificate's SANs do not cover a host the caller named
  | 'wrong-eku' // a certificate lacks an EKU its role needs (a warning when a server certificate lacks only clientAuth)
  | 'key-missing' // a server/peer/client certificate has no .key beside it
  | 'key-mismatch' // the .key beside a certificate is not its private key
  | 'key-permissions' // a .key file is readable by group or others
  | 'not-signed-by-ca' // a certificate was not issued (signed) by ca.crt

/** One problem found in a certificate directory. */
export interface Finding {
  /** The certificate (or key) file the finding is about. */
  file: string
  code: FindingCode
  severity: FindingSeverity
  message: string
}

/** Options of `checkCertificates`. */
export interface CheckOptions {
  /** Hosts every server and peer certificate must cover (DNS names or IPs); default none. */
  hosts?: readonly string[]
  /** The time to check against; default now. */
  now?: Date
  /** Certificates expiring within this many days get `expires-soon`; default 30. */
  expiryWarningDays?: number
}

/** A certificate found in the directory, with its role by file name (undefined for foreign names). */
export interface CheckedCertificate {
  file: string
  role: CertificateRole | undefined
  name: string
  info: CertificateInfo
}

/** The outcome of `checkCertificates`: every certificate read, and the findings sorted by file. */
export interface CheckReport {
  certificates: CheckedCertificate[]
  findings: Finding[]
}

const DAY_MS = 24 * 60 * 60_000

/** Whether any finding would stop a cluster from working (`quorum certs check` exits 1 then). */
export function hasCriticalFinding(report: CheckReport): boolean {
  return report.findings.some((finding) => finding.severity === 'critical')
}

function checkValidity(file: string, info: CertificateInfo, options: CheckOptions, add: (f: Finding) => void) {
  const now = (options.now ?? new Date()).getTime()
  const notBefore = Date.parse(info.notBefore)
  const notAfter = Date.parse(info.notAfter)
  const warnDays = options.expiryWarningDays ?? 30
  if (now > notAfter) {
    add({ file, code: 'expired', severity: 'critical', message: `expired on ${info.notAfter}` })
  } else if (now < notBefore) {
    add({ file, code: 'not-yet-valid', severity: 'critical', message: `not valid before ${info.notBefore}` })
  } else if (notAfter - now < warnDays * DAY_MS) {
    const days = Math.floor((notAfter - now) / DAY_MS)
    add({ file, code: 'expires-soon', severity: 'warning', message: `expires in ${days} day(s), on ${info.notAfter}` })
  }
}

function checkKey(file: string, keyFile: string, node: NodeX509Certificate, required: boolean, add: (f: Finding) => void) {
  if (!existsSync(keyFile)) {
    if (required) add({ file: keyFile, code: 'key-missing', severity: 'critical', message: `no private key beside ${file}` })
    return
  }
  const mode = statSync(keyFile).mode & 0o777
  if ((mode & 0o077) !== 0) {
    add({ file: keyFile, code: 'key-permissions', severity: 'warning', message: `mode ${mode.toString(8)} lets others read the key; use 600` })
  }
  try {
    if (!node.checkPrivateKey(parsePrivateKey(readFileSync(keyFile)))) {
      add({ file: keyFile, code: 'key-mismatch', severity: 'critical', message: `the key does not belong to ${file}` })
    }
  } catch (error) {
    if (!(error instanceof CertsError)) throw error
    add({ file: keyFile, code: 'unreadable', severity: 'critical', message: error.message })
  }
}

function checkLeaf(entry: CheckedCertificate, node: NodeX509Certificate, ca: NodeX509Certificate | undefined, options: CheckOptions, add: (f: Finding) => void) {
  const { file, role, info } = entry
  if (ca !== undefined && !(node.checkIssued(ca) && node.verify(ca.publicKey))) {
    add({ file, code: 'not-signed-by-ca', severity: 'critical', message: `issued by "${info.issuer}", not signed by the CA in ca.crt` })
  }
  if (role === undefined || role === 'ca') return
  // RFC 5280 §4.2.1.12: no EKU extension means any purpose (Go and OpenSSL agree), so only a present list can lack one.
  const missing = info.extendedKeyUsages.length === 0 ? [] : ROLE_EXTENDED_KEY_USAGES[role].filter((usage) => !info.extendedKeyUsages.includes(usage))
  // A server certificate without clientAuth still serves; only etcd's grpc-gateway (which presents it as a client
  // certificate) breaks, so that one is a warning. Every other missing usage fails handshakes.
  const onlyGatewayUsage = role === 'server' && missing.length === 1 && missing[0] === 'clientAuth'
  if (missing.length > 0) {
    const severity = onlyGatewayUsage ? 'warning' : 'critical'
    add({ file, code: 'wrong-eku', severity, message: `a ${role} certificate needs extended key usage ${missing.join(' and ')}` })
  }
  if (role !== 'client') {
    for (const host of options.hosts ?? []) {
      if (!coversHost(node, host)) {
        add({ file, code: 'host-not-covered', severity: 'critical', message: `SANs [${info.subjectAltNames.join(', ')}] do not cover ${host}` })
      }
    }
  }
}

/**
 * Checks every `*.crt` in a certificate directory (layout of `files.ts`): validity window and expiry warning,
 * CA signature, EKUs by role, SAN coverage of `options.hosts` for server and peer certificates, the `.key`
 * beside each certificate (present, matching, mode 600). Reads files only; never changes anything. Throws
 * `CertsError('unreadable')` when `dir` cannot be listed.
 */
export function checkCertificates(dir: string, options: CheckOptions = {}): CheckReport {
  const findings: Finding[] = []
  const add = (finding: Finding) => findings.push(finding)
  const certificates: CheckedCertificate[] = []
  const caFile = certificatePaths(dir, 'ca').certFile
  let ca: NodeX509Certificate | undefined
  if (!existsSync(caFile)) add({ file: caFile, code: 'ca-missing', severity: 'critical', message: 'no ca.crt: certificates cannot be verified' })

  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (error) {
    throw new CertsError('unreadable', `cannot read directory ${dir}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  const files = names.filter((name) => name.endsWith('.crt')).sort((a, b) => (a === 'ca.crt' ? -1 : b === 'ca.crt' ? 1 : a.localeCompare(b)))
  for (const fileName of files) {
    const file = join(dir, fileName)
    const role = roleOfCertificateFile(fileName)
    let parsed: ReturnType<typeof parseCertificate>
    try {
      parsed = parseCertificate(readFileSync(file))
    } catch (error) {
      if (!(error instanceof CertsError)) throw error
      add({ file, code: fileName === 'ca.crt' ? 'ca-missing' : 'unreadable', severity: 'critical', message: error.message })
      continue
    }
    const entry: CheckedCertificate = { file, role: role?.role, name: role?.name ?? '', info: inspectCertificate(parsed.node.raw) }
    certificates.push(entry)
    checkValidity(file, entry.info, options, add)
    if (role?.role === 'ca') {
      ca = parsed.node
      if (!entry.info.isCa) add({ file, code: 'not-a-ca', severity: 'critical', message: 'ca.crt is not a CA certificate (basicConstraints CA:FALSE)' })
      checkKey(file, file.replace(/\.crt$/, '.key'), parsed.node, false, add)
      continue
    }
    checkLeaf(entry, parsed.node, ca, options, add)
    checkKey(file, file.replace(/\.crt$/, '.key'), parsed.node, role !== undefined, add)
  }
  return { certificates, findings }
}
