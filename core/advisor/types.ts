import type { Histogram } from '../metrics/text-format'

// The advisor's data model: evidence gathered from a cluster (plain data, JSON-serialisable, so the app can show
// it and tests can build it by hand) and the findings the rules derive from it.

export type { Histogram }

/** How bad a finding is. `ok` findings record a passed rule, so the app can show what was checked. */
export type Severity = 'critical' | 'warning' | 'info' | 'ok'

/** Severities from worst to best; the table and the app sort by this order. */
export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'warning', 'info', 'ok']

/**
 * Where the app sends the user to fix a finding: a wizard or a page. The CLI prints the key; the app maps it
 * to a route.
 */
export type FixTarget =
  | 'wizard:add-member'
  | 'wizard:remove-member'
  | 'wizard:tls'
  | 'wizard:auth'
  | 'wizard:certs-renew'
  | 'page:members'
  | 'page:monitoring'
  | 'page:maintenance'
  | 'page:alarms'
  | 'page:backups'
  | 'page:upgrade'
  | 'doc:clock-sync'

/** What to do about a finding. */
export interface Fix {
  text: string
  target: FixTarget
}

/** One graded rule. */
export interface Finding {
  /** Stable rule id (`member-count`, `client-tls`...). */
  id: string
  severity: Severity
  /** One line saying what was found, with the key number in it. */
  title: string
  /** The numbers the grade was made from (counts, milliseconds, bytes, ISO dates). */
  evidence: Record<string, string | number | boolean | null>
  /** Null when nothing needs doing (`ok`, most `info`). */
  fix: Fix | null
}

/** What a member's /metrics page told us; null fields were absent from the page. */
export interface MetricsEvidence {
  /** `quorum` when the page has prom-client's `nodejs_*` series, `etcd` when it has Go's `go_*` series. */
  engine: 'quorum' | 'etcd' | 'unknown'
  /** `etcd_server_version{server_version}`. */
  serverVersion: string | null
  /** `etcd_server_leader_changes_seen_total` (counts the first election too). */
  leaderChanges: number | null
  /** Scrape time minus `process_start_time_seconds`, in seconds. */
  uptimeSeconds: number | null
  /** `etcd_disk_wal_fsync_duration_seconds`, summed by `le`, cumulative since start. */
  walFsync: Histogram | null
  /** `etcd_disk_backend_commit_duration_seconds`, summed by `le`, cumulative since start. */
  backendCommit: Histogram | null
  /** `etcd_server_quota_backend_bytes`. */
  quotaBytes: number | null
  /** `etcd_mvcc_db_total_size_in_bytes` (or the pre-3.4 debugging name). */
  dbSizeBytes: number | null
  /** `etcd_mvcc_db_total_size_in_use_in_bytes`. */
  dbSizeInUseBytes: number | null
}

/** What one member's Status call returned. */
export interface StatusEvidence {
  version: string
  dbSizeBytes: number
  dbSizeInUseBytes: number
  /** Hex member id of the leader this member follows; '0' when it knows none. */
  leader: string
  raftTerm: number
  errors: string[]
}

/** Everything gathered about one member. Each part is null with an error text when it could not be read. */
export interface MemberEvidence {
  /** Hex member id as etcdctl prints it. */
  id: string
  name: string
  clientUrls: string[]
  peerUrls: string[]
  isLearner: boolean
  status: StatusEvidence | null
  statusError: string | null
  /** The URL /metrics was read from (null when the member has no client URL and none was given). */
  metricsUrl: string | null
  metrics: MetricsEvidence | null
  metricsError: string | null
  /**
   * Member clock minus local clock, from the `Date` header of the /metrics response against the midpoint of
   * the request, in ms. NB: the header has 1 s resolution, so ±1000 ms is noise.
   */
  clockSkewMs: number | null
  /**
   * Increase of `etcd_server_leader_changes_seen_total` between two scrapes `intervalMs` apart (only when the
   * advisor was asked to sample twice); null otherwise or when the second scrape failed.
   */
  leaderChangesSampled: { delta: number; intervalMs: number } | null
}

/** A certificate file the user handed us (`--cacert`, `--cert`). */
export interface CertificateEvidence {
  file: string
  role: 'ca' | 'client'
  subject: string
  notAfter: string
}

/** Everything the rules look at. Dates are ISO-8601 strings. */
export interface ClusterEvidence {
  collectedAt: string
  endpoints: string[]
  /** Hex cluster id ('' when the member list failed); the key of the backup history. */
  clusterId: string
  members: MemberEvidence[]
  memberListError: string | null
  alarms: { memberId: string; alarm: string }[] | null
  /** Auth (RBAC) on; null when it could not be read. */
  authEnabled: boolean | null
  /** Whether a TLS client without a certificate is refused; null when not probed (plain http: false). */
  clientCertRequired: boolean | null
  certificates: CertificateEvidence[]
  lastSuccessfulBackup: string | null
  lastPassingDrill: string | null
}

/** The advisor's verdict on a cluster. */
export interface AdvisorReport {
  score: number
  findings: Finding[]
  evidence: ClusterEvidence
}
