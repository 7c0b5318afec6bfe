import type { SecureContextOptions } from 'node:tls'
import { CertsError } from './errors'

// etcd compat: `--cipher-suites` takes Go's crypto/tls names (the IANA names; etcd 3.4 pkg/tlsutil/cipher_suites.go
// lists these, plus the short CHACHA20 names); Node takes OpenSSL names. The OpenSSL names are the standard
// IANA-to-OpenSSL mapping (`openssl ciphers -stdname` prints it; the tests check the table against it).
// NB: Debian's OpenSSL 3 (and Node's) offers no RC4 or 3DES suites, so a list of only those leaves no TLS 1.2
// cipher (TLS 1.3 still works); etcd (Go) would still negotiate them.

/** etcd 3.4's `--cipher-suites` names and the OpenSSL name of each. */
export const ETCD_CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_RSA_WITH_RC4_128_SHA: 'RC4-SHA',
  TLS_RSA_WITH_3DES_EDE_CBC_SHA: 'DES-CBC3-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_RC4_128_SHA: 'ECDHE-ECDSA-RC4-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_RC4_128_SHA: 'ECDHE-RSA-RC4-SHA',
  TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA: 'ECDHE-RSA-DES-CBC3-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
}

// Go does not let a server restrict TLS 1.3 suites, so etcd keeps all three whatever `--cipher-suites` says.
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']

/**
 * Node TLS options that behave like an etcd 3.4 listener: TLS 1.2 at least (etcd's transport sets MinVersion
 * TLS 1.2), TLS 1.3 allowed, and with `cipherSuites` (etcd's `--cipher-suites`, Go names, in preference order)
 * only those suites for TLS 1.2. An unknown name throws `CertsError('invalid-input')` with etcd's message
 * `unexpected TLS cipher suite "NAME"`. Spread the result into `tls.createServer`/`setSecureContext` options.
 */
export function etcdTlsOptions(cipherSuites: readonly string[] = []): Pick<SecureContextOptions, 'minVersion' | 'ciphers'> & { honorCipherOrder?: boolean } {
  if (cipherSuites.length === 0) return { minVersion: 'TLSv1.2' }
  const openssl = cipherSuites.map((name) => {
    const mapped = ETCD_CIPHER_SUITES[name]
    if (mapped === undefined) throw new CertsError('invalid-input', `unexpected TLS cipher suite ${JSON.stringify(name)}`)
    return mapped
  })
  // Go servers pick by their own preference order when the list is configured; so does honorCipherOrder.
  return { minVersion: 'TLSv1.2', ciphers: [...TLS13_SUITES, ...new Set(openssl)].join(':'), honorCipherOrder: true }
}
