import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { CertsError } from './errors'
import { parseHost } from './hosts'
import type { KeyType } from './crypto'
import { CERT_FILE_MODE, KEY_FILE_MODE, certificatePaths, isValidCertificateName, refuseExistingFiles, writeOutputFiles, type OutputFile } from './files'
import {
  DEFAULT_CA_DAYS,
  DEFAULT_LEAF_DAYS,
  createCertificateAuthority,
  issueCertificate,
  loadCertificateAuthority,
  validityDays,
  type CertificateAuthority,
  type CertificateRole,
  type LeafRole,
  type PemPair,
} from './issue'

/** What `initCertificates` creates. */
export interface InitOptions {
  dir: string
  /** SANs of every server and peer certificate (each member gets all of them): DNS names and IPs. */
  hosts: readonly string[]
  /** One server and one peer certificate per member name. */
  memberNames: readonly string[]
  /** One client certificate per user name (CN = user name), e.g. `root`. */
  clientNames?: readonly string[]
  keyType?: KeyType
  /** Lifetime of server, peer and client certificates; default `DEFAULT_LEAF_DAYS`. */
  days?: number
  /** Lifetime of a newly created CA; default `DEFAULT_CA_DAYS`. */
  caDays?: number
  /** CN of every peer certificate (so etcd's `--peer-cert-allowed-cn` can name one); default: the member name. */
  peerCommonName?: string
  /**
   * Replace existing files (and the CA). Without it, an existing `ca.crt` + `ca.key` pair is reused to sign the new
   * certificates, and any other existing target file fails the call before anything is generated.
   */
  overwrite?: boolean
  /** The time validity windows start from (tests); default now. */
  now?: Date
}

/** One generated certificate file pair. */
export interface InitEntry {
  role: CertificateRole
  name: string
  certFile: string
  keyFile: string
}

/** The outcome of `initCertificates`. */
export interface InitResult {
  /** True when an existing CA in `dir` signed the new certificates (it was then not rewritten). */
  caReused: boolean
  /** Every file pair written, CA first (absent when reused), then servers, peers and clients. */
  entries: InitEntry[]
}

function checkNames(kind: string, names: readonly string[]): void {
  for (const name of names) {
    if (!isValidCertificateName(name)) throw new CertsError('invalid-input', `invalid ${kind} name ${JSON.stringify(name)}`)
  }
  const duplicate = names.find((name, index) => names.indexOf(name) !== index)
  if (duplicate !== undefined) throw new CertsError('invalid-input', `duplicate ${kind} name ${JSON.stringify(duplicate)}`)
}

function outputFiles(entry: InitEntry, pair: PemPair): OutputFile[] {
  return [
    { path: entry.certFile, contents: pair.certPem, mode: CERT_FILE_MODE },
    { path: entry.keyFile, contents: pair.keyPem, mode: KEY_FILE_MODE },
  ]
}

async function obtainCa(options: InitOptions, now: Date): Promise<{ ca: CertificateAuthority; reused: boolean }> {
  const paths = certificatePaths(options.dir, 'ca')
  const hasCert = existsSync(paths.certFile)
  const hasKey = existsSync(paths.keyFile)
  if (!options.overwrite && hasCert && hasKey) {
    const ca = await loadCertificateAuthority(readFileSync(paths.certFile, 'utf8'), readFileSync(paths.keyFile, 'utf8'))
    return { ca, reused: true }
  }
  if (!options.overwrite && (hasCert || hasKey)) {
    throw new CertsError('file-exists', `${hasCert ? paths.certFile : paths.keyFile} exists without its ${hasCert ? 'key' : 'certificate'}; restore it or overwrite`)
  }
  const ca = await createCertificateAuthority({ keyType: options.keyType, validity: validityDays(options.caDays ?? DEFAULT_CA_DAYS, now) })
  return { ca, reused: false }
}

/**
 * Creates (or extends) a cluster's certificate directory: a CA, a server and a peer certificate per member and
 * a client certificate per user, laid out as `files.ts` describes. Keys are generated in parallel. Input is
 * validated and existing files are detected before any key is generated, so a refused call writes nothing.
 */
export async function initCertificates(options: InitOptions): Promise<InitResult> {
  const now = options.now ?? new Date()
  const clientNames = options.clientNames ?? []
  checkNames('member', options.memberNames)
  checkNames('client', clientNames)
  if (options.memberNames.length > 0 && options.hosts.length === 0) throw new CertsError('invalid-input', 'server and peer certificates need at least one host')
  options.hosts.forEach(parseHost)
  const validity = validityDays(options.days ?? DEFAULT_LEAF_DAYS, now)

  const leaves: { role: LeafRole; name: string; commonName: string }[] = [
    ...options.memberNames.map((name) => ({ role: 'server' as const, name, commonName: name })),
    ...options.memberNames.map((name) => ({ role: 'peer' as const, name, commonName: options.peerCommonName ?? name })),
    ...clientNames.map((name) => ({ role: 'client' as const, name, commonName: name })),
  ]
  const leafEntries = leaves.map((leaf): InitEntry => ({ role: leaf.role, name: leaf.name, ...certificatePaths(options.dir, leaf.role, leaf.name) }))
  if (!options.overwrite) refuseExistingFiles(leafEntries.flatMap((entry) => [entry.certFile, entry.keyFile]))

  mkdirSync(options.dir, { recursive: true, mode: 0o700 })
  const { ca, reused } = await obtainCa(options, now)
  const pairs = await Promise.all(
    leaves.map((leaf) => issueCertificate(ca, { role: leaf.role, commonName: leaf.commonName, hosts: options.hosts, keyType: options.keyType, validity })),
  )
  const entries = reused ? [] : [{ role: 'ca' as const, name: '', ...certificatePaths(options.dir, 'ca') }]
  const files = reused ? [] : outputFiles(entries[0], ca)
  leafEntries.forEach((entry, index) => files.push(...outputFiles(entry, pairs[index])))
  writeOutputFiles(files, { overwrite: options.overwrite })
  return { caReused: reused, entries: [...entries, ...leafEntries] }
}
