import { InvalidArgumentError, Option, type Command } from 'commander'
import { choiceOption, intOption, listOption } from '../options'
import type { CheckReport } from '../../certs/check'
import { DEFAULT_CA_DAYS, DEFAULT_LEAF_DAYS, KEY_TYPES, type KeyType } from '../../certs/defaults'
import { CertsError } from '../../certs/errors'
import { isValidCertificateName } from '../../certs/files'
import { parseHost } from '../../certs/hosts'
import type { InitResult } from '../../certs/init'
import type { CertificateInfo } from '../../certs/inspect'

// NB: the modules that load @peculiar/x509 (init, inspect, check) are imported inside the actions, so other
// subcommands (every member process runs this program) start without the X.509 stack.

const OUTPUT_FORMATS = ['table', 'json'] as const
type OutputFormat = (typeof OUTPUT_FORMATS)[number]

const DEFAULT_HOSTS = ['localhost', '127.0.0.1', '::1']

function hostListOption(value: string): string[] {
  const hosts = listOption(value)
  if (hosts.length === 0) throw new InvalidArgumentError('needs at least one host')
  for (const host of hosts) {
    try {
      parseHost(host)
    } catch (error) {
      if (error instanceof CertsError) throw new InvalidArgumentError(error.message)
      throw error
    }
  }
  return hosts
}

function nameListOption(value: string): string[] {
  const names = listOption(value)
  const bad = names.find((name) => !isValidCertificateName(name))
  if (bad !== undefined) throw new InvalidArgumentError(`invalid name ${JSON.stringify(bad)} (letters, digits, '.', '_', '-'; at most 63)`)
  if (new Set(names).size !== names.length) throw new InvalidArgumentError('names must be distinct')
  return names
}

function writeOutOption(): Option {
  return new Option('-w, --write-out <format>', `output format: ${OUTPUT_FORMATS.join(', ')}`).argParser(choiceOption(OUTPUT_FORMATS)).default('table')
}

/** Left-aligned columns separated by two spaces; the first row is the header. */
function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd()).join('\n')
}

// Runs a certs action; expected failures (CertsError) print one line and exit 1, anything else propagates.
async function runAction(command: string, action: () => Promise<number> | number): Promise<void> {
  try {
    process.exitCode = await action()
  } catch (error) {
    if (!(error instanceof CertsError)) throw error
    console.error(`quorum certs ${command}: ${error.message}`)
    process.exitCode = 1
  }
}

function printInit(result: InitResult, format: OutputFormat): void {
  if (format === 'json') {
    console.log(JSON.stringify(result, null, 2))
    return
  }
  if (result.caReused) console.log('signed with the existing CA (ca.crt, ca.key)')
  const rows = result.entries.map((entry) => [entry.role, entry.name || '-', entry.certFile, entry.keyFile])
  console.log(formatTable([['ROLE', 'NAME', 'CERTIFICATE', 'KEY'], ...rows]))
}

const INFO_LABELS: [keyof CertificateInfo, string][] = [
  ['subject', 'Subject'],
  ['issuer', 'Issuer'],
  ['serialNumber', 'Serial'],
  ['notBefore', 'Not before'],
  ['notAfter', 'Not after'],
  ['subjectAltNames', 'Subject alt names'],
  ['keyUsages', 'Key usage'],
  ['extendedKeyUsages', 'Extended key usage'],
  ['isCa', 'CA'],
  ['selfSigned', 'Self-signed'],
  ['keyAlgorithm', 'Key algorithm'],
  ['signatureAlgorithm', 'Signature algorithm'],
  ['fingerprintSha256', 'SHA-256 fingerprint'],
]

function printInspect(info: CertificateInfo, format: OutputFormat): void {
  if (format === 'json') {
    console.log(JSON.stringify(info, null, 2))
    return
  }
  const render = (value: CertificateInfo[keyof CertificateInfo]) =>
    Array.isArray(value) ? value.join(', ') || '-' : typeof value === 'boolean' ? (value ? 'yes' : 'no') : value
  const width = Math.max(...INFO_LABELS.map(([, label]) => label.length)) + 1
  for (const [key, label] of INFO_LABELS) console.log(`${`${label}:`.padEnd(width)}  ${render(info[key])}`)
}

function printCheck(report: CheckReport, ok: boolean, format: OutputFormat): void {
  if (format === 'json') {
    console.log(JSON.stringify({ ...report, ok }, null, 2))
    return
  }
  const rows = report.certificates.map((entry) => [entry.file, entry.role ?? '?', entry.info.commonName, entry.info.notAfter])
  console.log(formatTable([['CERTIFICATE', 'ROLE', 'CN', 'NOT AFTER'], ...rows]))
  console.log()
  if (report.findings.length === 0) {
    console.log('no findings')
    return
  }
  const findingRows = report.findings.map((finding) => [finding.severity.toUpperCase(), finding.file, finding.code, finding.message])
  console.log(formatTable([['SEVERITY', 'FILE', 'CODE', 'MESSAGE'], ...findingRows]))
  const critical = report.findings.filter((finding) => finding.severity === 'critical').length
  console.log(`\n${critical} critical, ${report.findings.length - critical} warning(s)`)
}

/**
 * `quorum certs`: create (`init`), describe (`inspect`) and verify (`check`) the TLS certificates of a cluster.
 * Exit codes: 0 ok, 1 failure (or a critical `check` finding), 2 usage error.
 */
export function registerCertsCommand(program: Command): void {
  const certs = program.command('certs').description('create, inspect and check TLS certificates for clusters')

  certs
    .command('init')
    .description('create a CA, server and peer certificates per member, and client certificates')
    .requiredOption('--dir <dir>', 'directory to write the certificates to (created if missing)')
    .addOption(new Option('--hosts <hosts>', 'comma-separated DNS names and IPs every server and peer certificate covers').argParser(hostListOption).default(DEFAULT_HOSTS, DEFAULT_HOSTS.join(',')))
    .addOption(new Option('--members <count>', 'number of members, named member1..memberN').argParser(intOption(1, 99)).default(3).conflicts('names'))
    .addOption(new Option('--names <names>', 'comma-separated member names (instead of --members)').argParser(nameListOption))
    .addOption(new Option('--clients <users>', 'comma-separated user names to make client certificates for (CN = user)').argParser(nameListOption).default(['root'], 'root'))
    .addOption(new Option('--key-type <type>', `key type: ${KEY_TYPES.join(', ')}`).argParser(choiceOption(KEY_TYPES)).default('ecdsa'))
    .addOption(new Option('--days <days>', 'validity of server, peer and client certificates in days').argParser(intOption(1, 36500)).default(DEFAULT_LEAF_DAYS))
    .addOption(new Option('--ca-days <days>', 'validity of a new CA in days').argParser(intOption(1, 36500)).default(DEFAULT_CA_DAYS))
    .option('--peer-cn <name>', 'CN of every peer certificate (for --peer-cert-allowed-cn); default: the member name')
    .option('--force', 'overwrite existing files and the CA; without it existing files are refused and an existing CA is reused', false)
    .addOption(writeOutOption())
    .action(async (options: { dir: string; hosts: string[]; members: number; names?: string[]; clients: string[]; keyType: KeyType; days: number; caDays: number; peerCn?: string; force: boolean; writeOut: OutputFormat }) => {
      await runAction('init', async () => {
        const { initCertificates } = await import('../../certs/init')
        const memberNames = options.names ?? Array.from({ length: options.members }, (_, i) => `member${i + 1}`)
        const result = await initCertificates({
          dir: options.dir,
          hosts: options.hosts,
          memberNames,
          clientNames: options.clients,
          keyType: options.keyType,
          days: options.days,
          caDays: options.caDays,
          peerCommonName: options.peerCn,
          overwrite: options.force,
        })
        printInit(result, options.writeOut)
        return 0
      })
    })

  certs
    .command('inspect')
    .description('print subject, issuer, SANs, key usages, validity, key algorithm and fingerprint of a certificate')
    .argument('<file>', 'PEM or DER certificate file')
    .addOption(writeOutOption())
    .action(async (file: string, options: { writeOut: OutputFormat }) => {
      await runAction('inspect', async () => {
        const { inspectCertificateFile } = await import('../../certs/inspect')
        printInspect(inspectCertificateFile(file), options.writeOut)
        return 0
      })
    })

  certs
    .command('check')
    .description('check a certificate directory: expiry, CA signatures, key usages, keys, and SANs for hosts (exit 1 on a critical finding)')
    .requiredOption('--dir <dir>', 'certificate directory (as written by `certs init`)')
    .addOption(new Option('--hosts <hosts>', 'comma-separated DNS names and IPs every server and peer certificate must cover').argParser(hostListOption).default([], 'none'))
    .addOption(new Option('--warn-days <days>', 'warn about certificates that expire within this many days').argParser(intOption(0, 36500)).default(30))
    .addOption(writeOutOption())
    .action(async (options: { dir: string; hosts: string[]; warnDays: number; writeOut: OutputFormat }) => {
      await runAction('check', async () => {
        const { checkCertificates, hasCriticalFinding } = await import('../../certs/check')
        const report = checkCertificates(options.dir, { hosts: options.hosts, expiryWarningDays: options.warnDays })
        const critical = hasCriticalFinding(report)
        printCheck(report, !critical, options.writeOut)
        return critical ? 1 : 0
      })
    })
}
