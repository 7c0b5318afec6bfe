// The whole contract between the renderer and the main process (STYLE §4). The renderer imports only the
// types from here; the two runtime lists at the bottom (method and event names) are plain data, so the IPC
// handlers, the preload and the web bridge are generated from them and cannot drift apart.
//
// DTO rules: strings, numbers, booleans, null, arrays and plain objects only. Member and cluster IDs are hex
// strings as etcdctl prints them (`8e9e05c52164694d`); byte sizes are numbers of bytes; times are ms since
// the Unix epoch.

import { KEY_EVENT_FLAGS, KEY_METHOD_FLAGS, type KeysApi } from './keys-api'
import { WIZARD_EVENT_FLAGS, WIZARD_METHOD_FLAGS, type WizardsApi } from './wizards-api'
import { DRILL_METHOD_FLAGS, type DrillsApi } from './drills-api'
import { TLS_EVENT_FLAGS, TLS_METHOD_FLAGS, type TlsApi } from './tls-api'

export * from './keys-api'
export * from './wizards-api'
export * from './drills-api'
export * from './tls-api'

/** Error codes a call can fail with; stores map them to user text (see src-renderer/i18n). */
export type AdminErrorCode =
  | 'invalid_argument'
  | 'not_found'
  | 'read_only'
  | 'unavailable'
  | 'forbidden'
  | 'internal'

/** An expected failure, carried across IPC as plain data (errors do not survive IPC as classes). */
export interface AdminError {
  code: AdminErrorCode
  message: string
}

/** The outcome of every contract call. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: AdminError }

/** Stops an event subscription; calling it twice is harmless. */
export type Unsubscribe = () => void

/** What hosts the app: the Electron main process, or `quorum ui` serving a browser. */
export interface AppInfo {
  version: string
  mode: 'electron' | 'web'
  platform: string
  /** How connection secrets are protected: Electron safeStorage, or an AES-GCM key file (web mode). */
  secretStorage: 'safe-storage' | 'key-file'
}

/** TLS settings of a connection. PEM texts; an empty string means "not set". */
export interface TlsSettings {
  /** CA bundle that signs the servers' certificates; empty = the system roots. */
  caCert: string
  /** Client certificate for mTLS (`--client-cert-auth`); its key is a secret, see `hasClientKey`. */
  clientCert: string
  /** TLS server name to verify instead of the endpoint's host (SNI override); empty = the host. */
  serverName: string
}

/** A saved connection to a remote cluster, without its secrets. */
export interface ConnectionProfile {
  id: string
  name: string
  /** Client URLs, `http://host:port` or `https://host:port`; at least one. */
  endpoints: string[]
  /** When true every write control is disabled and services refuse writes with `read_only`. */
  readOnly: boolean
  /** etcd user name; empty = no authentication. */
  username: string
  hasPassword: boolean
  tls: TlsSettings
  hasClientKey: boolean
  createdAt: number
  updatedAt: number
}

/**
 * What the connection form sends to create (`id` absent) or update a profile. A secret left `undefined`
 * keeps the stored one; an empty string removes it.
 */
export interface ConnectionInput {
  id?: string
  name: string
  endpoints: string[]
  readOnly: boolean
  username: string
  password?: string
  tls: TlsSettings
  clientKey?: string
}

/** Outcome of importing profiles: how many were added and the names that were skipped as duplicates. */
export interface ImportReport {
  imported: number
  skipped: string[]
}

/**
 * Why a connection test failed, as one code per cause the user can fix:
 * `refused` nothing listens; `unreachable` no route/DNS/timeout; `tls_ca_mismatch` the server's certificate
 * is not signed by the given CA; `tls_hostname_mismatch` it does not name the host; `tls_expired` it has
 * expired (or is not valid yet); `tls_client_cert_required` the server wants a client certificate;
 * `tls_not_enabled` https was asked but the server speaks plain TCP; `tls_required` http was asked but the
 * server wants TLS; `auth_failed` wrong user or password; `auth_required` the cluster has auth enabled and no
 * user was given; `not_etcd` something answers but not the etcd v3 API; `unknown` anything else.
 */
export type ConnectionProblem =
  | 'refused'
  | 'unreachable'
  | 'tls_ca_mismatch'
  | 'tls_hostname_mismatch'
  | 'tls_expired'
  | 'tls_client_cert_required'
  | 'tls_not_enabled'
  | 'tls_required'
  | 'auth_failed'
  | 'auth_required'
  | 'not_etcd'
  | 'unknown'

/** Result of "test connection": either what the cluster told us, or the problem in plain words. */
export type ConnectionTestReport =
  | {
      ok: true
      endpoint: string
      /** Server version from Status, e.g. `3.4.23`. */
      version: string
      clusterId: string
      memberCount: number
      latencyMs: number
    }
  | {
      ok: false
      endpoint: string
      problem: ConnectionProblem
      /** One sentence for the user, naming the endpoint and the fix. */
      message: string
      /** The low-level error text, for the "details" disclosure. */
      detail: string
    }

/** Role of a member as the members table shows it. */
export type MemberRole = 'leader' | 'follower' | 'learner' | 'unknown'

/** One row of the members table. Status fields are null when the member did not answer. */
export interface MemberOverview {
  id: string
  name: string
  peerUrls: string[]
  clientUrls: string[]
  role: MemberRole
  isLearner: boolean
  healthy: boolean
  /** Why the member is unhealthy (its Status error), empty when healthy. */
  error: string
  version: string | null
  raftTerm: number | null
  raftIndex: number | null
  raftAppliedIndex: number | null
  dbSizeBytes: number | null
  dbSizeInUseBytes: number | null
  /** Alarms raised on this member (`NOSPACE`, `CORRUPT`). */
  alarms: string[]
}

/** Quorum arithmetic of the voting members. Raft thesis §4: a majority of voters must be up. */
export interface QuorumStatus {
  voters: number
  healthyVoters: number
  /** floor(voters / 2) + 1. */
  quorumSize: number
  /** How many voters may fail before the cluster stops accepting writes: voters - quorumSize. */
  faultTolerance: number
  /** How many more of the currently healthy voters may fail: healthyVoters - quorumSize (may be negative). */
  remainingTolerance: number
  hasQuorum: boolean
}

/** Everything the overview page shows for one connection, taken at `takenAt`. */
export interface ClusterOverview {
  connectionId: string
  clusterId: string
  /** Hex ID of the leader as most members report it; empty when there is none. */
  leaderId: string
  members: MemberOverview[]
  quorum: QuorumStatus
  alarms: { memberId: string; alarm: string }[]
  takenAt: number
}

/** One sample per member, derived from two scrapes of its `/metrics`. Null = not measurable this interval. */
export interface MemberMetricsPoint {
  memberId: string
  memberName: string
  at: number
  up: boolean
  hasLeader: boolean | null
  isLeader: boolean | null
  /** Per-second rates over the sampling interval. */
  proposalsCommittedRate: number | null
  proposalsAppliedRate: number | null
  proposalsFailedRate: number | null
  proposalsPending: number | null
  /** Total leader changes this member has seen since it started. */
  leaderChangesTotal: number | null
  /** 99th percentiles over the sampling interval, in milliseconds. */
  walFsyncP99Ms: number | null
  backendCommitP99Ms: number | null
  peerRttP99Ms: number | null
  dbSizeBytes: number | null
  dbSizeInUseBytes: number | null
  /** The backend quota (`etcd_server_quota_backend_bytes`); writes stop with NOSPACE above it. */
  quotaBackendBytes: number | null
  /** gRPC requests handled per second, and those that ended in an error code. */
  grpcRate: number | null
  grpcErrorRate: number | null
}

/** A metrics sample pushed to subscribers while a connection is monitored. */
export interface MetricsSampleEvent {
  connectionId: string
  points: MemberMetricsPoint[]
}

/** A sampling round of a monitored connection failed as a whole (e.g. no endpoint answers). */
export interface MonitoringErrorEvent {
  connectionId: string
  /** User-facing explanation with the underlying error. */
  message: string
  at: number
}

/** The samples kept in the ring buffer for one connection, oldest first. */
export interface MetricsHistory {
  connectionId: string
  intervalMs: number
  points: MemberMetricsPoint[]
}

/** What the "new local cluster" dialog sends. `name`: a-z, 0-9 and `-`, at most 40 characters. */
export interface LocalClusterInput {
  name: string
  size: 1 | 3 | 5
  /** Client and peer TLS with client-certificate auth (a generated CA). */
  tls: boolean
}

/** Process and Raft state of a local member: `stopped` no process, `paused` SIGSTOPped, `unreachable` up but silent. */
export type LocalMemberState = 'leader' | 'follower' | 'learner' | 'stopped' | 'paused' | 'unreachable'

/** One member process of a local cluster. */
export interface LocalMemberInfo {
  name: string
  /** Hex member ID; empty until the member answered once. */
  id: string
  clientUrl: string
  /** 0 when not running. */
  pid: number
  state: LocalMemberState
  healthy: boolean
}

/** A local cluster the app runs under its data directory. */
export interface LocalClusterInfo {
  name: string
  dir: string
  tls: boolean
  createdAt: number
  /** The connection profile that shows this cluster on the overview page. */
  connectionId: string
  /** Name of the leading member; empty when there is none. */
  leader: string
  hasQuorum: boolean
  members: LocalMemberInfo[]
}

/** What can be done to one member of a local cluster. */
export type LocalMemberAction = 'start' | 'stop' | 'kill' | 'pause' | 'resume' | 'restart' | 'promote' | 'remove' | 'moveLeader'

/** Prometheus alert states: `pending` the condition holds but not yet for the rule's `for:`; `resolved` it ended. */
export type AlertState = 'pending' | 'firing' | 'resolved'

/** One alert of one cluster (one rule of build/monitoring/quorum-rules.yml), as it was at `updatedAt`. */
export interface AlertInfo {
  /** Stable for one episode of one rule on one connection. */
  id: string
  connectionId: string
  /** The rule's `alert:` name, e.g. `etcdMembersDown`. */
  name: string
  severity: string
  state: AlertState
  summary: string
  /** The rule's description with `{{ $value }}` and labels filled in. */
  description: string
  /** The value of the expression when it last held. */
  value: number
  /** The rule's `for:` in ms (as scaled for this app run). */
  forMs: number
  /** When the condition started holding. */
  activeSince: number
  firedAt: number | null
  resolvedAt: number | null
  updatedAt: number
}

/**
 * The admin contract. Every method resolves (never rejects) with a `Result`; events return an unsubscribe
 * function. Implemented by `src-main/services/admin-service.ts`, exposed by IPC and by web mode.
 */
export interface AdminApi extends KeysApi, WizardsApi, DrillsApi, TlsApi {
  getAppInfo(): Promise<Result<AppInfo>>
  listConnections(): Promise<Result<ConnectionProfile[]>>
  /** Creates (no `id`) or updates a profile; secrets are encrypted at rest. */
  saveConnection(input: ConnectionInput): Promise<Result<ConnectionProfile>>
  deleteConnection(id: string): Promise<Result<null>>
  /** Tests the given settings (a stored profile's secrets fill in when `id` is set and a secret is undefined). */
  testConnection(input: ConnectionInput): Promise<Result<ConnectionTestReport>>
  /** JSON text of every profile without secrets, for `importConnections` on another machine. */
  exportConnections(): Promise<Result<string>>
  importConnections(json: string): Promise<Result<ImportReport>>
  getClusterOverview(connectionId: string): Promise<Result<ClusterOverview>>
  /** Starts sampling (idempotent) and returns the history so far; samples then arrive as events. */
  startMonitoring(connectionId: string): Promise<Result<MetricsHistory>>
  stopMonitoring(connectionId: string): Promise<Result<null>>
  listLocalClusters(): Promise<Result<LocalClusterInfo[]>>
  /** Starts a new local cluster (resolves once every member is healthy) and registers its connection profile. */
  createLocalCluster(input: LocalClusterInput): Promise<Result<LocalClusterInfo>>
  /** Stops every member, deletes the cluster's directory and its connection profile. */
  deleteLocalCluster(name: string): Promise<Result<null>>
  localMemberAction(cluster: string, member: string, action: LocalMemberAction): Promise<Result<LocalClusterInfo>>
  /** Adds a member (a learner when `learner`), starts it and waits until it is healthy. */
  addLocalMember(cluster: string, learner: boolean): Promise<Result<LocalClusterInfo>>
  /** Active alerts first, then the history (newest first); all connections when `connectionId` is empty. */
  listAlerts(connectionId: string): Promise<Result<AlertInfo[]>>
  onMetricsSample(listener: (event: MetricsSampleEvent) => void): Unsubscribe
  onOverviewChanged(listener: (overview: ClusterOverview) => void): Unsubscribe
  onMonitoringError(listener: (event: MonitoringErrorEvent) => void): Unsubscribe
  /** An alert changed state (pending, firing, resolved). */
  onAlert(listener: (alert: AlertInfo) => void): Unsubscribe
  /** A local cluster was created, deleted or changed by an action. */
  onLocalClustersChanged(listener: (clusters: LocalClusterInfo[]) => void): Unsubscribe
}

/** Names of the request/response methods (those returning a Promise). */
export type AdminMethod = {
  [K in keyof AdminApi]: ReturnType<AdminApi[K]> extends Promise<unknown> ? K : never
}[keyof AdminApi]

/** Names of the event subscriptions. */
export type AdminEvent = Exclude<keyof AdminApi, AdminMethod>

/** Payload type of an event. */
export type AdminEventPayload<E extends AdminEvent> = Parameters<Parameters<AdminApi[E]>[0]>[0]

// A Record keyed by the union forces the compiler to reject a missing or an extra name.
const methodFlags: Record<AdminMethod, true> = {
  ...KEY_METHOD_FLAGS,
  ...WIZARD_METHOD_FLAGS,
  ...DRILL_METHOD_FLAGS,
  ...TLS_METHOD_FLAGS,
  getAppInfo: true,
  listConnections: true,
  saveConnection: true,
  deleteConnection: true,
  testConnection: true,
  exportConnections: true,
  importConnections: true,
  getClusterOverview: true,
  startMonitoring: true,
  stopMonitoring: true,
  listLocalClusters: true,
  createLocalCluster: true,
  deleteLocalCluster: true,
  localMemberAction: true,
  addLocalMember: true,
  listAlerts: true,
}
const eventFlags: Record<AdminEvent, true> = {
  ...KEY_EVENT_FLAGS,
  ...WIZARD_EVENT_FLAGS,
  ...TLS_EVENT_FLAGS,
  onMetricsSample: true,
  onOverviewChanged: true,
  onMonitoringError: true,
  onAlert: true,
  onLocalClustersChanged: true,
}

/** Every request method of the contract; IPC handlers, preload functions and web routes come from this. */
export const ADMIN_METHODS = Object.freeze(Object.keys(methodFlags) as AdminMethod[])

/** Every event of the contract. */
export const ADMIN_EVENTS = Object.freeze(Object.keys(eventFlags) as AdminEvent[])

/** IPC channel of a method (`admin:listConnections`). */
export function methodChannel(method: AdminMethod): string {
  return `admin:${method}`
}

/** IPC channel of an event (`admin-event:onMetricsSample`). */
export function eventChannel(event: AdminEvent): string {
  return `admin-event:${event}`
}
