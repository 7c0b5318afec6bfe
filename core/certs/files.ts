import { chmodSync, existsSync, renameSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { CertsError } from './errors'
import type { CertificateRole } from './issue'

// Layout of a certificate directory, as `quorum certs init` writes it and `check` reads it:
//
//   ca.crt  ca.key                      the cluster CA (ca.key may be moved offline; check does not need it)
//   server-<member>.crt/.key            client-URL certificate of each member (--cert-file/--key-file)
//   peer-<member>.crt/.key              peer-URL certificate of each member (--peer-cert-file/--peer-key-file)
//   client-<user>.crt/.key              client certificates, CN = user name (etcdctl --cert/--key)

/** Mode of private key files: readable by the owner only (etcd warns about looser key files). */
export const KEY_FILE_MODE = 0o600
/** Mode of certificate files. */
export const CERT_FILE_MODE = 0o644

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/

/** Whether `name` may be a member or user name in file names and CNs: `[A-Za-z0-9][A-Za-z0-9._-]{0,62}`. */
export function isValidCertificateName(name: string): boolean {
  return NAME.test(name)
}

/** The certificate and key file of one entry in a certificate directory. */
export interface CertificatePaths {
  certFile: string
  keyFile: string
}

/** Paths of the CA (`name` unused) or of the `role` certificate of member/user `name` under `dir`. */
export function certificatePaths(dir: string, role: CertificateRole, name = ''): CertificatePaths {
  if (role !== 'ca' && !isValidCertificateName(name)) throw new CertsError('invalid-input', `invalid ${role} name ${JSON.stringify(name)}`)
  const stem = role === 'ca' ? 'ca' : `${role}-${name}`
  return { certFile: join(dir, `${stem}.crt`), keyFile: join(dir, `${stem}.key`) }
}

/** The role (and member/user name) a certificate file plays by its name, or undefined for foreign files. */
export function roleOfCertificateFile(file: string): { role: CertificateRole; name: string } | undefined {
  const fileName = basename(file)
  if (fileName === 'ca.crt') return { role: 'ca', name: '' }
  const match = /^(server|peer|client)-(.+)\.crt$/.exec(fileName)
  if (match === null || !isValidCertificateName(match[2])) return undefined
  return { role: match[1] as CertificateRole, name: match[2] }
}

/** One file to write: PEM text and its permission bits. */
export interface OutputFile {
  path: string
  contents: string
  mode: number
}

/** Throws `CertsError('file-exists')` naming every path in `paths` that already exists. */
export function refuseExistingFiles(paths: readonly string[]): void {
  const existing = paths.filter((path) => existsSync(path))
  if (existing.length > 0) throw new CertsError('file-exists', `refusing to overwrite existing files: ${existing.join(', ')}`)
}

/**
 * Writes `files`. Without `overwrite` nothing is written if any target exists (`CertsError('file-exists')`), and
 * each file is created exclusively (`wx`), so a concurrent writer is never clobbered. With `overwrite` each file
 * is written to a temporary name and renamed over the old one, so readers (and TLS reload watchers) see either
 * the old or the new file, never half of one. Modes are set explicitly, whatever the umask.
 */
export function writeOutputFiles(files: readonly OutputFile[], options: { overwrite?: boolean } = {}): void {
  if (!options.overwrite) refuseExistingFiles(files.map((file) => file.path))
  for (const file of files) {
    if (options.overwrite) {
      const temporary = `${file.path}.tmp-${randomBytes(4).toString('hex')}`
      writeFileSync(temporary, file.contents, { mode: file.mode, flag: 'wx' })
      chmodSync(temporary, file.mode)
      renameSync(temporary, file.path)
    } else {
      writeFileSync(file.path, file.contents, { mode: file.mode, flag: 'wx' })
      chmodSync(file.path, file.mode)
    }
  }
}
