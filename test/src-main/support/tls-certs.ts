import 'reflect-metadata'
import { webcrypto } from 'node:crypto'
import * as x509 from '@peculiar/x509'

// Test PKI: a CA and leaf certificates with chosen SANs and validity, EC P-256 (etcd's Go TLS accepts it).
// Certificates that must be broken on purpose (expired, wrong SAN, foreign CA) are easy to make here.

x509.cryptoProvider.set(webcrypto as unknown as Crypto)

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const DAY_MS = 86_400_000

/** A certificate with its PEM key. */
export interface Pem {
  cert: string
  key: string
}

/** A CA that can issue leaf certificates. */
export interface TestCa extends Pem {
  issue(options: LeafOptions): Promise<Pem>
}

/** What a leaf certificate says. */
export interface LeafOptions {
  commonName: string
  dns?: string[]
  ips?: string[]
  server?: boolean
  client?: boolean
  notBefore?: Date
  notAfter?: Date
}

async function keyPem(keys: CryptoKeyPair): Promise<string> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey)
  return x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')
}

/** Makes a self-signed CA valid from yesterday for a year. */
export async function createTestCa(name = 'Quorum Test CA'): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
  const now = Date.now()
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 365 * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  let serial = 1
  return {
    cert: caCert.toString('pem'),
    key: await keyPem(keys),
    async issue(options) {
      const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as unknown as CryptoKeyPair
      const usages: string[] = []
      if (options.server ?? true) usages.push(x509.ExtendedKeyUsage.serverAuth)
      if (options.client ?? true) usages.push(x509.ExtendedKeyUsage.clientAuth)
      const names = [
        ...(options.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
        ...(options.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
      ]
      serial++
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial.toString(16).padStart(2, '0'),
        subject: `CN=${options.commonName}`,
        issuer: caCert.subject,
        notBefore: options.notBefore ?? new Date(now - DAY_MS),
        notAfter: options.notAfter ?? new Date(now + 30 * DAY_MS),
        signingAlgorithm: ALG,
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        extensions: [
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension(usages),
          ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
        ],
      })
      return { cert: cert.toString('pem'), key: await keyPem(leafKeys) }
    },
  }
}
