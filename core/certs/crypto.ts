// NB: @peculiar/x509 2.x resolves its ASN.1 serializers through tsyringe, which throws "tsyringe requires a
// reflect polyfill" unless reflect-metadata is loaded first (toolchain notes §3.10). Every module of
// core/certs that touches x509 imports it from here, so the order is fixed in one place.
import 'reflect-metadata'
import * as x509 from '@peculiar/x509'
import { createPrivateKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto'
import type { KeyType } from './defaults'
import { CertsError } from './errors'

// Node's WebCrypto is the provider for key generation and signing (OpenSSL underneath, off the main thread).
x509.cryptoProvider.set(webcrypto as unknown as Crypto)

/** The @peculiar/x509 namespace, with reflect-metadata loaded and Node's WebCrypto installed as its provider. */
export { x509 }

export { KEY_TYPES, type KeyType } from './defaults'

/** A WebCrypto key pair plus how to sign with its private half. */
export interface GeneratedKey {
  keys: CryptoKeyPair
  /** The algorithm (with hash) passed to @peculiar/x509 when this key signs a certificate. */
  signingAlgorithm: EcdsaParams | RsaHashedImportParams
}

const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const RSA_EXPONENT = new Uint8Array([1, 0, 1]) // 65537

function rsaParams(modulusLength: number): RsaHashedKeyGenParams {
  return { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: RSA_EXPONENT, hash: 'SHA-256' }
}

/** Generates a fresh, extractable key pair of `keyType` (RSA signs with PKCS#1 v1.5 + SHA-256, ECDSA with SHA-256). */
export async function generateKey(keyType: KeyType): Promise<GeneratedKey> {
  const params = keyType === 'ecdsa' ? ECDSA_P256 : rsaParams(keyType === 'rsa2048' ? 2048 : 4096)
  const keys = (await webcrypto.subtle.generateKey(params, true, ['sign', 'verify'])) as CryptoKeyPair
  return { keys, signingAlgorithm: params }
}

// PEM as written to files: exactly one trailing newline, as OpenSSL writes it.
function pemText(pem: string): string {
  return pem.trimEnd() + '\n'
}

/** Encodes a private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`), which Go (etcd), OpenSSL and Node all read. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey)
  return pemText(x509.PemConverter.encode(der, 'PRIVATE KEY'))
}

/** Encodes a certificate as PEM (`BEGIN CERTIFICATE`) with one trailing newline. */
export function certificatePem(certificate: x509.X509Certificate): string {
  return pemText(certificate.toString('pem'))
}

/** Parses a private key PEM (PKCS#8, SEC1 `EC PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`); throws `bad-key`. */
export function parsePrivateKey(pem: string | Buffer): KeyObject {
  try {
    return createPrivateKey(pem)
  } catch (error) {
    throw new CertsError('bad-key', `cannot parse private key: ${(error as Error).message}`)
  }
}

/**
 * Imports a private key PEM as a WebCrypto signing key, choosing the signature algorithm from the key itself:
 * EC P-256/P-384 sign with ECDSA-SHA256/384, RSA with PKCS#1 v1.5 + SHA-256. Other key types throw `bad-key`.
 */
export async function importSigningKey(pem: string | Buffer): Promise<{ key: CryptoKey; signingAlgorithm: EcdsaParams | RsaHashedImportParams }> {
  const keyObject = parsePrivateKey(pem)
  const der = keyObject.export({ type: 'pkcs8', format: 'der' })
  let algorithm: EcKeyImportParams | RsaHashedImportParams
  let signingAlgorithm: EcdsaParams | RsaHashedImportParams
  if (keyObject.asymmetricKeyType === 'rsa') {
    algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
    signingAlgorithm = algorithm
  } else if (keyObject.asymmetricKeyType === 'ec') {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : undefined
    if (namedCurve === undefined) throw new CertsError('bad-key', `unsupported EC curve ${curve}`)
    algorithm = { name: 'ECDSA', namedCurve }
    signingAlgorithm = { name: 'ECDSA', hash: namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384' }
  } else {
    throw new CertsError('bad-key', `unsupported key type ${keyObject.asymmetricKeyType}`)
  }
  const key = (await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign'])) as CryptoKey
  return { key, signingAlgorithm }
}

/**
 * A random positive 128-bit serial number as hex. RFC 5280 §4.1.2.2: positive, at most 20 octets; the top bit
 * is cleared so DER needs no sign byte, and the first octet is non-zero so the length is always 16.
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16)
  bytes[0] = (bytes[0] & 0x7f) | 0x01
  return bytes.toString('hex')
}

/** Describes a public key the way `inspect` prints it: `ECDSA P-256`, `RSA 2048`, `Ed25519`. */
export function describePublicKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {}
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curves: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }
      return `ECDSA ${curves[details.namedCurve ?? ''] ?? details.namedCurve}`
    }
    case 'rsa':
      return `RSA ${details.modulusLength}`
    case 'ed25519':
      return 'Ed25519'
    default:
      return String(key.asymmetricKeyType)
  }
}
