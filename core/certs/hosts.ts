import { isIP } from 'node:net'
import type { X509Certificate } from 'node:crypto'
import { CertsError } from './errors'

/** One subjectAltName entry: a DNS name (lower-case, maybe `*.` wildcard) or an IPv4/IPv6 address. */
export interface AltName {
  type: 'dns' | 'ip'
  value: string
}

// RFC 1123 host name labels; a single leading `*.` is allowed (RFC 6125 §6.4.3 wildcard).
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/**
 * Parses a host as users type it (`node1.example`, `10.0.0.5`, `::1`, `[::1]`) into a SAN entry. Throws
 * `CertsError('invalid-input')` for anything that is neither an IP address nor a valid DNS name.
 */
export function parseHost(host: string): AltName {
  const trimmed = host.trim()
  const unbracketed = trimmed.startsWith('[') && trimmed.endsWith(']') ? trimmed.slice(1, -1) : trimmed
  if (isIP(unbracketed) !== 0) return { type: 'ip', value: unbracketed }
  const name = trimmed.toLowerCase()
  const labels = name.split('.')
  const wildcard = labels[0] === '*' && labels.length > 2
  const valid = name.length > 0 && name.length <= 253 && labels.slice(wildcard ? 1 : 0).every((label) => DNS_LABEL.test(label))
  if (!valid) throw new CertsError('invalid-input', `not a DNS name or IP address: ${JSON.stringify(host)}`)
  return { type: 'dns', value: name }
}

/**
 * Whether `certificate`'s subjectAltNames cover `host`, as a Go TLS client (etcdctl, etcd peers) checks it:
 * IPs against IP SANs, names against DNS SANs with wildcards; the subject CN is never consulted (Go ≥ 1.15).
 */
export function coversHost(certificate: X509Certificate, host: string): boolean {
  const altName = parseHost(host)
  if (altName.type === 'ip') return certificate.checkIP(altName.value) !== undefined
  return certificate.checkHost(altName.value, { subject: 'never' }) !== undefined
}
