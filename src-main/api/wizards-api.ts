// Guided operations (issue 13): snapshot, restore (into a new local cluster, or a runbook for a remote etcd)
// and membership changes. DTOs follow admin-api.ts's rules; re-exported by admin-api.ts.

import type { LocalClusterInfo, Result, Unsubscribe } from './admin-api'

export type { RemoteRestoreMember, RemoteRestoreMemberPlan, RemoteRestorePlan } from '../../core/snapshot/restore-script'
import type { RemoteRestoreMember, RemoteRestorePlan } from '../../core/snapshot/restore-script'

/** What the snapshot wizard asks for. */
export interface TakeSnapshotRequest {
  connectionId: string
  /** Chosen by the renderer; progress events carry it. */
  operationId: string
  /** Hex ID of the member to stream from; empty = the current leader. */
  memberId: string
  /** Absolute path of the new file; an existing file is never overwritten. */
  path: string
}

/** Pushed while a snapshot streams (at most twice a second, and once at the end). */
export interface SnapshotProgressEvent {
  operationId: string
  bytes: number
  elapsedMs: number
  bytesPerSecond: number
}

/** `snapshot status` of a file, as `etcdctl snapshot status` prints it plus what Quorum knows. */
export interface SnapshotFileStatus {
  path: string
  format: 'quorum-sqlite' | 'etcd-bbolt'
  /** etcdctl's hash: crc32c of the buckets (etcd files) or the HashKV (Quorum files). */
  hash: number
  revision: number
  /** MVCC records (every revision of every key), etcd's "total keys". */
  totalKey: number
  /** Database bytes (without the sha256 trailer). */
  totalSize: number
  fileSizeBytes: number
  /** True when the file carries a sha256 trailer and it matched. */
  hashVerified: boolean
  /** Keys alive at `revision`; null when the format does not say without a restore. */
  liveKeys: number | null
}

/** A snapshot the wizard saved. */
export interface TakenSnapshot {
  path: string
  memberId: string
  memberName: string
  endpoint: string
  sizeBytes: number
  elapsedMs: number
  /** sha256 of the database bytes (hex), checked against the server's trailer. */
  sha256: string
  status: SnapshotFileStatus
}

/** Verdict of "verify by test restore": the file restored into a throw-away member and read back. */
export interface SnapshotVerifyReport {
  passed: boolean
  /** Why it failed, in plain words; empty when it passed. */
  reason: string
  /** True when the restored keys and HashKV were compared with the source member's at save time. */
  comparedWithSource: boolean
}

/** Restore a snapshot file into a new local cluster. */
export interface RestoreToLocalRequest {
  path: string
  /** a-z, 0-9 and `-`, at most 40 characters; must not exist yet. */
  clusterName: string
  size: 1 | 3 | 5
}

/** The remote-restore form. An empty `clusterToken` asks the service to generate a new one. */
export interface RemoteRestoreRequest {
  snapshotPath: string
  members: RemoteRestoreMember[]
  clusterToken: string
  tool: 'etcdctl' | 'etcdutl'
  bumpRevision: number
}

/** A backup schedule as the form sends it (`id` absent = new). */
export interface BackupScheduleInput {
  id?: string
  connectionId: string
  /** Interval between runs in ms (>= 1000); ignored when `cron` is set. */
  everyMs: number
  /** A cron expression (UTC, 5 or 6 fields); empty = use `everyMs`. */
  cron: string
  /** Absolute directory for the backup files; empty = `<app data>/backups/<schedule id>`. */
  destination: string
  /** Retention tiers (see core/backup/retention.ts); keepLast >= 1, 0 disables a tier. */
  keepLast: number
  hourly: number
  daily: number
  weekly: number
  /** Restore every new backup into a throw-away member and record the verdict. */
  drills: boolean
  paused: boolean
}

/** One backup attempt, as the history table shows it. Times in ms since the epoch. */
export interface BackupRunInfo {
  id: number
  startedMs: number
  finishedMs: number
  status: 'ok' | 'failed'
  /** Why it failed; empty on success. */
  reason: string
  /** File name inside the destination; empty when nothing was kept. */
  file: string
  sizeBytes: number | null
  durationMs: number
  drillResult: 'pass' | 'fail' | null
  drillReason: string
}

/** A stored schedule with its live state. */
export interface BackupScheduleInfo extends Required<BackupScheduleInput> {
  connectionName: string
  /** The resolved destination directory. */
  destinationDir: string
  /** When the next run is due (ms since the epoch); null while paused. */
  nextDueMs: number | null
  lastRun: BackupRunInfo | null
  createdAt: number
}

/** Pushed after every scheduled or manual run (failures included) and when a drill verdict is known. */
export interface BackupRunEvent {
  scheduleId: string
  connectionName: string
  run: BackupRunInfo
}

/** Snapshot and restore wizards; implemented by src-main/services/snapshots.ts. */
export interface SnapshotsApi {
  /** A free path under the app's data dir for a new snapshot of the connection's cluster. */
  suggestSnapshotPath(connectionId: string): Promise<Result<string>>
  /** Streams a snapshot from one member to `path` (temp file + rename), pushing `onSnapshotProgress`. */
  takeSnapshot(request: TakeSnapshotRequest): Promise<Result<TakenSnapshot>>
  /** Reads a snapshot file (either format); a file that is not a snapshot fails with invalid_argument. */
  getSnapshotStatus(path: string): Promise<Result<SnapshotFileStatus>>
  /** Restores the file into a throw-away single member and compares what it serves. */
  verifySnapshot(path: string): Promise<Result<SnapshotVerifyReport>>
  /** Creates a new local cluster (new names, ports, token and cluster id) from the file and starts it. */
  restoreSnapshotToLocal(request: RestoreToLocalRequest): Promise<Result<LocalClusterInfo>>
  /** The per-member restore and start commands and a script for a remote etcd cluster. */
  planRemoteRestore(request: RemoteRestoreRequest): Promise<Result<RemoteRestorePlan>>
  onSnapshotProgress(listener: (event: SnapshotProgressEvent) => void): Unsubscribe
}

/** Backup schedules; implemented by src-main/services/backups.ts. */
export interface BackupsApi {
  /** Every backup schedule with its next run and last result (src-main/services/backups.ts). */
  listBackupSchedules(): Promise<Result<BackupScheduleInfo[]>>
  /** Creates or edits (also pauses/resumes) a schedule; it runs while the app is open and catches up once on start. */
  saveBackupSchedule(input: BackupScheduleInput): Promise<Result<BackupScheduleInfo>>
  /** Stops and forgets a schedule; its backup files stay. */
  deleteBackupSchedule(id: string): Promise<Result<null>>
  /** Takes one backup now (retention and drill as configured). */
  runBackupNow(id: string): Promise<Result<BackupRunInfo>>
  /** The schedule's runs, oldest first. */
  getBackupHistory(id: string): Promise<Result<BackupRunInfo[]>>
  onBackupRun(listener: (event: BackupRunEvent) => void): Unsubscribe
}

/** A membership change the wizard can make on a local cluster. */
export type MembershipChangeKind = 'addLearner' | 'promote' | 'remove'

/** Fault tolerance of a set of voters. Raft thesis §4: a majority of voters must be up. */
export interface FaultTolerance {
  voters: number
  healthyVoters: number
  learners: number
  /** floor(voters / 2) + 1 */
  quorumSize: number
  /** voters - quorumSize: failures the cluster survives. */
  tolerates: number
  /** healthyVoters >= quorumSize */
  hasQuorum: boolean
}

/** One member as the wizard's table shows it. */
export interface MembershipRow {
  name: string
  id: string
  role: 'leader' | 'follower' | 'learner' | 'stopped' | 'unhealthy'
  healthy: boolean
  /** Raft index the member has applied; null when it did not answer. */
  appliedIndex: number | null
}

/** What a change would do, checked before it is made. */
export interface MembershipPlan {
  cluster: string
  kind: MembershipChangeKind
  /** The member concerned; empty for addLearner. */
  member: string
  members: MembershipRow[]
  before: FaultTolerance
  after: FaultTolerance
  /** False when the change is refused; `refusal` says why in plain words. */
  allowed: boolean
  refusal: string
  warnings: string[]
}

/** Quorum-safe membership changes on local clusters; implemented by src-main/services/membership-wizard.ts. */
export interface MembershipApi {
  /** The tables before and after `kind` on `member` and whether it is allowed (nothing changes). */
  planMembershipChange(cluster: string, kind: MembershipChangeKind, member: string): Promise<Result<MembershipPlan>>
  /** Re-checks the plan and makes the change; a refused change fails with `invalid_argument` and the reason. */
  applyMembershipChange(cluster: string, kind: MembershipChangeKind, member: string): Promise<Result<MembershipPlan>>
}

/** Guided operations, delegated by AdminService. */
export interface WizardsApi extends SnapshotsApi, BackupsApi, MembershipApi {}

/** Request methods of WizardsApi, spread into the contract's method list. */
export const WIZARD_METHOD_FLAGS = {
  suggestSnapshotPath: true,
  takeSnapshot: true,
  getSnapshotStatus: true,
  verifySnapshot: true,
  restoreSnapshotToLocal: true,
  planRemoteRestore: true,
  listBackupSchedules: true,
  saveBackupSchedule: true,
  deleteBackupSchedule: true,
  runBackupNow: true,
  getBackupHistory: true,
  planMembershipChange: true,
  applyMembershipChange: true,
} as const satisfies Record<Exclude<keyof WizardsApi, 'onSnapshotProgress' | 'onBackupRun'>, true>

/** Events of WizardsApi, spread into the contract's event list. */
export const WIZARD_EVENT_FLAGS = { onSnapshotProgress: true, onBackupRun: true } as const
