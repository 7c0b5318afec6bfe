import { InvalidArgumentError, Option, type Command } from 'commander'
import { choiceOption, listOption } from '../options'
import { renderTable } from '../table'
import type { AdvisorReport } from '../../advisor/types'

// NB: core/advisor (and through it the X.509 stack and the gRPC client) is imported inside the action, so other
// subcommands start without it.

const OUTPUT_FORMATS = ['table', 'json'] as const
type OutputFormat = (typeof OUTPUT_FORMATS)[number]

interface AdviseFlags {
  endpoints: string[]
  metricsUrls?: string[]
  cacert?: string
  cert?: string
  key?: string
  user?: string
  password?: string
  timeout: number
  sample?: number
  writeOut: OutputFormat
}

function endpointList(value: string): string[] {
  const endpoints = listOption(value)
  if (endpoints.length === 0) throw new InvalidArgumentError('needs at least one endpoint')
  return endpoints
}

function seconds(value: string): number {
  const parsed = Number(value.replace(/s$/, ''))
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError(`not a positive number of seconds: ${value}`)
  return parsed
}

/** `user:password` as etcdctl takes it, or a name with --password. */
function credentials(flags: AdviseFlags): { username: string; password: string } | undefined {
  if (flags.user === undefined) return undefined
  const colon = flags.user.indexOf(':')
  if (colon >= 0) return { username: flags.user.slice(0, colon), password: flags.user.slice(colon + 1) }
  return { username: flags.user, password: flags.password ?? '' }
}

/** The report as a table, worst first, with each fix and its app target, then the score. */
export function formatReport(report: AdvisorReport): string {
  const rows = report.findings.map((finding) => [
    finding.severity.toUpperCase(),
    finding.id,
    finding.title,
    finding.fix ? `${finding.fix.text} [${finding.fix.target}]` : '-',
  ])
  const counts = (['critical', 'warning', 'info', 'ok'] as const).map((severity) => `${report.findings.filter((f) => f.severity === severity).length} ${severity}`)
  return `${renderTable(['SEVERITY', 'RULE', 'FINDING', 'FIX'], rows)}\nscore: ${report.score}/100 (${counts.join(', ')})`
}

/**
 * `quorum advise --endpoints URL[,URL]`: grades a cluster (Quorum or etcd) against etcd's HA best practices.
 * Exit codes: 0 no critical finding, 1 at least one critical finding (or the cluster could not be read),
 * 2 usage error.
 */
export function registerAdviseCommand(program: Command): void {
  program
    .command('advise')
    .description('grade a cluster against etcd HA best practices: findings with evidence and fixes, and a score')
    .requiredOption('--endpoints <urls>', 'client URLs of one or more members, comma-separated', endpointList)
    .option('--metrics-urls <urls>', '/metrics URLs in the order of --endpoints (default: <client URL>/metrics)', listOption)
    .option('--cacert <file>', 'CA bundle of the server certificates')
    .option('--cert <file>', 'client certificate (mTLS)')
    .option('--key <file>', 'private key of --cert')
    .option('--user <name[:password]>', 'etcd user, with the password after a colon')
    .option('--password <password>', 'password of --user when it has no colon')
    .option('--timeout <seconds>', 'deadline of each request', seconds, 5)
    .option('--sample <seconds>', 'read /metrics twice this far apart to measure leader changes (default: estimate from uptime)', seconds)
    .addOption(new Option('-w, --write-out <format>', `output format: ${OUTPUT_FORMATS.join(', ')}`).argParser(choiceOption(OUTPUT_FORMATS)).default('table'))
    .action(async (flags: AdviseFlags) => {
      const [{ advise }, { CertsError }] = await Promise.all([import('../../advisor/advisor'), import('../../certs/errors')])
      let report: AdvisorReport
      try {
        report = await advise({
          endpoints: flags.endpoints,
          metricsUrls: flags.metricsUrls,
          tls: { caFile: flags.cacert, certFile: flags.cert, keyFile: flags.key },
          auth: credentials(flags),
          timeoutMs: flags.timeout * 1000,
          sampleIntervalMs: flags.sample === undefined ? undefined : flags.sample * 1000,
        })
      } catch (error) {
        // Unreadable or invalid --cacert/--cert files; anything else is a bug and propagates.
        if (!(error instanceof CertsError)) throw error
        console.error(`quorum advise: ${error.message}`)
        process.exitCode = 1
        return
      }
      // JSON has no Infinity: the +Inf histogram bound is written as Prometheus writes it.
      const json = () => JSON.stringify(report, (_key, value: unknown) => (value === Infinity ? '+Inf' : value), 2)
      console.log(flags.writeOut === 'json' ? json() : formatReport(report))
      const unreadable = report.evidence.memberListError !== null
      if (unreadable) console.error(`quorum advise: cannot read the member list: ${report.evidence.memberListError}`)
      process.exitCode = unreadable || report.findings.some((finding) => finding.severity === 'critical') ? 1 : 0
    })
}
