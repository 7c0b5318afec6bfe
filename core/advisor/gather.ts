import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { CertsError } from '../certs/errors'
import { inspectCertificate, inspectCertificateFile } from '../certs/inspect'
import { EtcdClient, GrpcError, type Member, type TlsOptions } from '../client'
import { NoBackupHistory, type BackupHistory } from './backup-history'
import { readMetrics } from './metrics'
import type { CertificateEvidence, ClusterEvidence, MemberEvidence, StatusEvidence } from './types'

/** Where and how to reach the cluster the advisor grades. */
export interface GatherOptions {
  /** Client URLs of one or more members; the member list supplies the rest. */
  endpoints: string[]
  /** PEM files, as etcdctl's --cacert/--cert/--key. They are also graded for expiry. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string }
  /**
   * PEM texts instead of files (the app's connection profiles keep texts); used where the matching file is
   * not given. Certificates from here are named "CA certificate" / "client certificate" in findings.
   */
  tlsPem?: { ca?: string; cert?: string; key?: string }
  auth?: { username: string; password: string }
  /**
   * /metrics URLs aligned with `endpoints` (the i-th belongs to the member serving `endpoints[i]`); a bare
   * `--listen-metrics-urls` URL gets `/metrics` appended. Other members are read at `<first client URL>/metrics`,
   * as etcd serves it there too.
   */
  metricsUrls?: string[]
  backupHistory?: BackupHistory
  /** Deadline of each call and HTTP request. Default 5,000 ms. */
  timeoutMs?: number
  /**
   * When set, /metrics is read a second time this many ms later and leader changes are measured over the
   * interval instead of estimated from the counter and the uptime.
   */
  sampleIntervalMs?: number
  /** The clock for ages and skew. Default: the system clock. */
  now?: () => Date
}

interface HttpAnswer {
  status: number
  body: string
  /** The response's Date header, epoch ms; null when absent. */
  dateMs: number | null
}

/** A GET over http or https (with the client's CA and certificate); rejects on network errors and timeouts. */
function httpGet(url: string, tls: TlsOptions | undefined, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const secure = url.startsWith('https://')
    const options = { timeout: timeoutMs, ...(secure ? { ca: tls?.ca, cert: tls?.cert, key: tls?.key } : {}) }
    const req = (secure ? httpsRequest : httpRequest)(url, options, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        const date = response.headers.date ? Date.parse(response.headers.date) : NaN
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), dateMs: Number.isNaN(date) ? null : date })
      })
      response.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end()
  })
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function normalise(url: string): string {
  return (url.includes('://') ? url : `http://${url}`).replace(/\/+$/, '')
}

function readTls(options: GatherOptions['tls'], pem: GatherOptions['tlsPem']): TlsOptions | undefined {
  const fromPem = (text: string | undefined) => (text ? Buffer.from(text) : undefined)
  if (pem && (pem.ca || pem.cert || pem.key)) {
    const files = readTls(options, undefined)
    return { ca: files?.ca ?? fromPem(pem.ca), cert: files?.cert ?? fromPem(pem.cert), key: files?.key ?? fromPem(pem.key) }
  }
  if (!options || (!options.caFile && !options.certFile && !options.keyFile)) return undefined
  const read = (file: string | undefined) => {
    if (!file) return undefined
    try {
      return readFileSync(file)
    } catch (error) {
      // The same code and text as core/certs inspectCertificateFile, so callers handle one error.
      throw new CertsError('unreadable', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? message(error)}`)
    }
  }
  return { ca: read(options.caFile), cert: read(options.certFile), key: read(options.keyFile) }
}

function certificates(options: GatherOptions['tls'], pem: GatherOptions['tlsPem']): CertificateEvidence[] {
  const sources: [string | undefined, string | undefined, string, CertificateEvidence['role']][] = [
    [options?.caFile, pem?.ca, 'CA certificate', 'ca'],
    [options?.certFile, pem?.cert, 'client certificate', 'client'],
  ]
  return sources.flatMap(([file, text, label, role]) => {
    if (!file && !text) return []
    const info = file ? inspectCertificateFile(file) : inspectCertificate(text!)
    return [{ file: file ?? label, role, subject: info.subject, notAfter: info.notAfter }]
  })
}

async function readStatus(client: EtcdClient, endpoint: string, timeoutMs: number): Promise<StatusEvidence> {
  const status = await client.maintenance.status({ endpoint, timeoutMs })
  return {
    version: status.version,
    dbSizeBytes: status.dbSize,
    dbSizeInUseBytes: status.dbSizeInUse,
    leader: status.leader.toString(16),
    raftTerm: status.raftTerm,
    errors: status.errors,
  }
}

async function readMember(
  member: Member,
  statusClient: EtcdClient | null,
  metricsUrl: string | null,
  tls: TlsOptions | undefined,
  options: { timeoutMs: number; now: () => Date; sampleIntervalMs?: number },
): Promise<MemberEvidence> {
  const evidence: MemberEvidence = {
    id: member.id.toString(16),
    name: member.name,
    clientUrls: member.clientUrls,
    peerUrls: member.peerUrls,
    isLearner: member.isLearner,
    status: null,
    statusError: null,
    metricsUrl,
    metrics: null,
    metricsError: null,
    clockSkewMs: null,
    leaderChangesSampled: null,
  }
  const statusRead = (async () => {
    if (!statusClient || member.clientUrls.length === 0) {
      evidence.statusError = 'member has not started (no client URL)'
      return
    }
    try {
      evidence.status = await readStatus(statusClient, member.clientUrls[0], options.timeoutMs)
    } catch (error) {
      evidence.statusError = message(error)
    }
  })()
  const metricsRead = (async () => {
    if (metricsUrl === null) return
    try {
      const sentMs = options.now().getTime()
      const answer = await httpGet(metricsUrl, tls, options.timeoutMs)
      const receivedMs = options.now().getTime()
      if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`)
      evidence.metrics = readMetrics(answer.body, receivedMs)
      if (answer.dateMs !== null) evidence.clockSkewMs = answer.dateMs - (sentMs + receivedMs) / 2
    } catch (error) {
      evidence.metricsError = message(error)
      return
    }
    const first = evidence.metrics.leaderChanges
    if (!options.sampleIntervalMs || first === null) return
    await new Promise((resolve) => setTimeout(resolve, options.sampleIntervalMs))
    try {
      const answer = await httpGet(metricsUrl, tls, options.timeoutMs)
      const second = answer.status === 200 ? readMetrics(answer.body, options.now().getTime()).leaderChanges : null
      // A counter that went down means the member restarted in between: no measurement.
      if (second !== null && second >= first) evidence.leaderChangesSampled = { delta: second - first, intervalMs: options.sampleIntervalMs }
    } catch {
      // The first scrape stands; the rule falls back to the uptime estimate.
    }
  })()
  await Promise.all([statusRead, metricsRead])
  return evidence
}

// Auth on or off; null when unreadable. A server without the Auth service (UNIMPLEMENTED even for the
// Authenticate fallback of AuthClient.status, as Quorum today) cannot have auth on.
async function readAuthEnabled(client: EtcdClient): Promise<boolean | null> {
  try {
    return (await client.auth.status()).enabled
  } catch (error) {
    return error instanceof GrpcError && error.code === 'UNIMPLEMENTED' ? false : null
  }
}

// Whether the server refuses a TLS client that shows no certificate (--client-cert-auth, or a trusted CA file).
async function probeClientCertRequired(endpoint: string, tls: TlsOptions | undefined, timeoutMs: number): Promise<boolean | null> {
  if (!endpoint.startsWith('https://')) return false
  const client = new EtcdClient({ endpoints: [endpoint], tls: { ca: tls?.ca }, callTimeoutMs: timeoutMs, retry: { maxAttempts: 1 } })
  try {
    await client.maintenance.status({ endpoint, timeoutMs })
    return false
  } catch (error) {
    return error instanceof GrpcError && error.code === 'UNAVAILABLE' ? true : null
  } finally {
    client.close()
  }
}

/**
 * Reads the evidence the rules grade: member list, each member's Status and /metrics (with the clock skew of
 * its Date header), alarms, auth status, whether client certificates are required, the given certificate files
 * and the backup history. Never throws for an unreachable cluster or member: each part records its error and
 * is null. Throws only for unreadable or invalid TLS files (CertsError `unreadable` / `not-a-certificate`).
 */
export async function gatherEvidence(options: GatherOptions): Promise<ClusterEvidence> {
  const timeoutMs = options.timeoutMs ?? 5000
  const now = options.now ?? (() => new Date())
  const tls = readTls(options.tls, options.tlsPem)
  const endpoints = options.endpoints.map(normalise)
  const client = new EtcdClient({ endpoints, tls, auth: options.auth, callTimeoutMs: timeoutMs, retry: { maxAttempts: 2 } })
  const evidence: ClusterEvidence = {
    collectedAt: now().toISOString(),
    endpoints,
    clusterId: '',
    members: [],
    memberListError: null,
    alarms: null,
    authEnabled: null,
    clientCertRequired: null,
    certificates: certificates(options.tls, options.tlsPem),
    lastSuccessfulBackup: null,
    lastPassingDrill: null,
  }
  let statusClient: EtcdClient | null = null
  try {
    let members: Member[] = []
    try {
      const list = await client.cluster.memberList()
      evidence.clusterId = list.header.clusterId.toString(16)
      members = list.members
    } catch (error) {
      evidence.memberListError = message(error)
    }
    const clientUrls = members.flatMap((member) => member.clientUrls.slice(0, 1))
    if (clientUrls.length > 0) {
      statusClient = new EtcdClient({ endpoints: clientUrls, tls, auth: options.auth, callTimeoutMs: timeoutMs, retry: { maxAttempts: 1 } })
    }
    const metricsUrlOf = (member: Member): string | null => {
      const index = endpoints.findIndex((endpoint) => member.clientUrls.map(normalise).includes(endpoint))
      const given = index >= 0 ? options.metricsUrls?.[index] : undefined
      if (given) return new URL(normalise(given)).pathname === '/' ? `${normalise(given)}/metrics` : given
      return member.clientUrls[0] ? `${normalise(member.clientUrls[0])}/metrics` : null
    }
    const [memberEvidence, alarms, auth, certRequired] = await Promise.all([
      Promise.all(members.map((member) => readMember(member, statusClient, metricsUrlOf(member), tls, { timeoutMs, now, sampleIntervalMs: options.sampleIntervalMs }))),
      client.maintenance.alarms().catch(() => null),
      readAuthEnabled(client),
      probeClientCertRequired(endpoints[0], tls, timeoutMs),
    ])
    evidence.members = memberEvidence
    evidence.alarms = alarms?.map((alarm) => ({ memberId: alarm.memberId.toString(16), alarm: alarm.alarm })) ?? null
    evidence.authEnabled = auth
    evidence.clientCertRequired = certRequired
  } finally {
    client.close()
    statusClient?.close()
  }
  const history = options.backupHistory ?? new NoBackupHistory()
  evidence.lastSuccessfulBackup = history.lastSuccessfulBackup(evidence.clusterId)?.toISOString() ?? null
  evidence.lastPassingDrill = history.lastPassingDrill(evidence.clusterId)?.toISOString() ?? null
  return evidence
}
