import { advise } from '../../core/advisor/advisor'
import { backupHistoryFromRuns, type BackupRunFacts } from '../../core/advisor/backup-history'
import { CertsError } from '../../core/certs/errors'
import type { AdvisorReportDto } from '../api/admin-api'
import type { ConnectionService } from './connections'
import { ServiceError } from './result'

// The advisor for the app (issue 15): grades any saved connection with core/advisor, using the profile's
// endpoints, credentials and PEM texts.

/** What the advisor service needs. */
export interface AdvisorServiceDeps {
  connections: ConnectionService
  /** The recorded backup runs of a connection (every schedule); none: every cluster reports "no backup recorded". */
  backupRuns?: (connectionId: string) => Promise<BackupRunFacts[]>
  /** Deadline of each call and HTTP request (default 5,000 ms). */
  timeoutMs?: number
  now?: () => Date
}

/** Grades connected clusters. Stateless: every call gathers fresh evidence. */
export class AdvisorService {
  constructor(private readonly deps: AdvisorServiceDeps) {}

  /** The findings (worst first) and score of the cluster behind `connectionId`. */
  async advise(connectionId: string): Promise<AdvisorReportDto> {
    const options = this.deps.connections.clientOptions(connectionId, this.deps.timeoutMs ?? 5000)
    const tls = options.tls
    const runs = (await this.deps.backupRuns?.(connectionId)) ?? []
    try {
      const report = await advise({
        endpoints: options.endpoints,
        tlsPem: tls ? { ca: tls.caCert || undefined, cert: tls.clientCert || undefined, key: tls.clientKey || undefined } : undefined,
        auth: options.username ? { username: options.username, password: options.password ?? '' } : undefined,
        backupHistory: backupHistoryFromRuns(() => runs),
        timeoutMs: this.deps.timeoutMs,
        now: this.deps.now,
      })
      return {
        connectionId,
        score: report.score,
        findings: report.findings,
        clusterId: report.evidence.clusterId,
        members: report.evidence.members.length,
        takenAt: Date.parse(report.evidence.collectedAt),
      }
    } catch (error) {
      if (error instanceof CertsError) throw new ServiceError('invalid_argument', `the connection's certificates cannot be read: ${error.message}`)
      throw error
    }
  }
}
