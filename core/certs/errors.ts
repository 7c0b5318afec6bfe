/** What went wrong with a certificate operation; callers branch on this, never on the message. */
export type CertsErrorCode =
  | 'file-exists' // a file `init` would write is already there and overwriting was not asked for
  | 'invalid-input' // a host, name or validity the caller passed cannot go into a certificate
  | 'unreadable' // a file is missing or cannot be read
  | 'not-a-certificate' // a file holds no PEM/DER X.509 certificate
  | 'bad-key' // a private key cannot be parsed or has an unsupported algorithm
  | 'key-mismatch' // a private key does not belong to the certificate it is paired with

/** An expected failure of core/certs (bad input, existing files, unreadable or mismatched PEM). */
export class CertsError extends Error {
  override name = 'CertsError'
  constructor(
    readonly code: CertsErrorCode,
    message: string,
  ) {
    super(message)
  }
}
