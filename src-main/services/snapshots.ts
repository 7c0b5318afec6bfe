import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join } from 'node:path'
import { EtcdError, GrpcError, type EtcdClient } from '../../core/client'
import { drillBackup } from '../../core/backup/drill'
import { BACKUP_METADATA_VERSION, backupFileName, sha256File, type BackupMetadata } from '../../core/backup/files'
import { keySpaceFacts, restoreDrill } from '../../core/backup/restore-drill'
import { LocalCluster, ensureClusterCertificates, type MemberCommand } from '../../core/cluster/launcher'
import { writeManifest, type ClusterManifest, type ManifestMember } from '../../core/cluster/manifest'
import { freePorts } from '../../core/cluster/ports'
import { SnapshotError } from '../../core/snapshot/errors'
import { openEtcdSnapshot } from '../../core/snapshot/etcd-snapshot'
import { QuorumSnapshot, isQuorumSnapshotFile } from '../../core/snapshot/quorum-snapshot'
import { buildRemoteRestorePlan, RestoreScriptError } from '../../core/snapshot/restore-script'
import { RestoreError, restoreSnapshot } from '../../core/snapshot/restore'
import { SnapshotSaveError, saveSnapshot } from '../../core/snapshot/save'
import { formatId } from '../../core/server/ids'
import type { Clock } from '../../core/util/clock'
import type { LocalClusterInfo, Unsubscribe } from '../api/admin-api'
import type {
  RemoteRestoreRequest,
  RestoreToLocalRequest,
  SnapshotFileStatus,
  SnapshotProgressEvent,
  SnapshotVerifyReport,
  TakeSnapshotRequest,
  SnapshotsApi,
  TakenSnapshot,
} from '../api/wizards-api'
import type { ClusterClientOptions } from './cluster-client'
import type { LocalClusterService } from './local-clusters'
import { ServiceError, toResult } from './result'

// The snapshot and restore wizards over core/snapshot: save with progress events, status, a test restore
// into a throw-away member (core/backup's restore drill), a restore into a new local cluster, and the
// runbook for a remote etcd cluster (core/snapshot/restore-script.ts). Files are written to a temp name and
// renamed (saveSnapshot, restoreSnapshot), so a failure never leaves a half-written snapshot or data dir.

/** What the snapshot service needs from the app. */
export interface SnapshotServiceDeps {
  connections: {
    clientOptions(id: string, callTimeoutMs: number): ClusterClientOptions
    list(): { id: string; name: string }[]
  }
  openClient: (options: ClusterClientOptions) => EtcdClient
  /** Without it `restoreSnapshotToLocal` answers `unavailable`. */
  localClusters?: LocalClusterService
  /** How `quorum node` runs (test restores and restored local clusters). */
  quorumCommand: MemberCommand
  /** Where suggested snapshot paths point (the app's data dir + /snapshots). */
  snapshotsDir: string
  /** Parent of test-restore work dirs. */
  tmpDir: string
  clock: Clock
  callTimeoutMs?: number
  healthTimeoutMs?: number
}

/** Source facts recorded at save time, so a test restore can compare keys and HashKV with the source. */
interface SourceFacts {
  liveKeys: number
  hashKV: number
  revision: number
  memberId: string
  clusterId: string
}

/** Plain words for the failures a user can act on; anything else is rethrown. */
function explain(error: unknown, what: string): never {
  if (error instanceof ServiceError) throw error
  if (error instanceof SnapshotError || error instanceof RestoreError || error instanceof RestoreScriptError) throw new ServiceError('invalid_argument', error.message)
  if (error instanceof SnapshotSaveError) throw new ServiceError('invalid_argument', error.message)
  if (error instanceof GrpcError || error instanceof EtcdError) throw new ServiceError('unavailable', `${what}: the member stopped answering (${error.message}); nothing was written`)
  const errno = error as NodeJS.ErrnoException
  if (errno && typeof errno.code === 'string') {
    if (errno.code === 'ENOSPC') throw new ServiceError('unavailable', `${what}: the disk is full; nothing was written`)
    if (errno.code === 'ENOENT') throw new ServiceError('invalid_argument', `${what}: ${errno.path ?? 'the path'} does not exist`)
    if (errno.code === 'EACCES' || errno.code === 'EPERM') throw new ServiceError('forbidden', `${what}: no permission to use ${errno.path ?? 'the path'}`)
    if (errno.code === 'EISDIR') throw new ServiceError('invalid_argument', `${what}: ${errno.path ?? 'the path'} is a directory`)
  }
  throw error
}

/** Reads `snapshot status` of a file of either format. Throws SnapshotError for a file that is not one. */
export function readSnapshotStatus(path: string): SnapshotFileStatus {
  const fileSizeBytes = statSync(path).size
  if (isQuorumSnapshotFile(path)) {
    const opened = QuorumSnapshot.open(path)
    try {
      const status = opened.status()
      const { hash, revision, totalKey, totalSize, liveKeys } = status
      return { path, format: 'quorum-sqlite', hash, revision, totalKey, totalSize, fileSizeBytes, hashVerified: opened.sha256 !== undefined, liveKeys }
    } finally {
      opened.close()
    }
  }
  const opened = openEtcdSnapshot(path)
  try {
    const { hash, revision, totalKey, totalSize } = opened.status()
    return { path, format: 'etcd-bbolt', hash, revision, totalKey, totalSize, fileSizeBytes, hashVerified: opened.hashVerified, liveKeys: null }
  } finally {
    opened.close()
  }
}

/**
 * Builds a new local cluster in `dir` from a snapshot: fresh member names, free ports and a new token (so a
 * new cluster id), each member restored with etcdutl's semantics, then all started together.
 */
export async function restoreLocalCluster(options: {
  dir: string
  file: string
  size: number
  quorumCommand: MemberCommand
  tls?: boolean
  healthTimeoutMs?: number
}): Promise<LocalCluster> {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 })
  const ports = await freePorts(options.size * 3)
  const scheme = options.tls ? 'https' : 'http'
  const members: ManifestMember[] = Array.from({ length: options.size }, (_, i) => ({
    name: `restored${i + 1}`,
    id: '',
    clientURL: `${scheme}://127.0.0.1:${ports[i * 3]}`,
    peerURL: `${scheme}://127.0.0.1:${ports[i * 3 + 1]}`,
    metricsURL: `http://127.0.0.1:${ports[i * 3 + 2]}`,
    dataDir: join(options.dir, `restored${i + 1}`),
    logFile: join(options.dir, `restored${i + 1}.log`),
    pid: 0,
    bootstrapped: false,
  }))
  const manifest: ClusterManifest = {
    version: 1,
    engine: 'quorum',
    token: `restored-${randomBytes(6).toString('hex')}`,
    createdAt: new Date().toISOString(),
    heartbeatMs: 100,
    electionMs: 1000,
    snapshotCount: 100000,
    tls: options.tls ? await ensureClusterCertificates(options.dir, members.map((m) => m.name)) : null,
    members,
  }
  const initialCluster = members.map((member) => `${member.name}=${member.peerURL}`).join(',')
  for (const member of members) {
    const restored = restoreSnapshot({
      file: options.file,
      name: member.name,
      initialCluster,
      initialClusterToken: manifest.token,
      initialAdvertisePeerUrls: [member.peerURL],
      dataDir: member.dataDir,
    })
    member.id = restored.memberId
  }
  writeManifest(options.dir, manifest)
  const cluster = LocalCluster.open(options.dir, options.quorumCommand)
  const timeoutMs = options.healthTimeoutMs ?? 60_000
  try {
    // Every member must run before any can be healthy (a quorum is needed), so start them together.
    await Promise.all(members.map((member) => cluster.start(member.name, timeoutMs)))
  } catch (error) {
    await cluster.down()
    throw error
  }
  return cluster
}

/** The WizardsApi's snapshot and restore methods. */
export class SnapshotService implements SnapshotsApi {
  private readonly events = new EventEmitter()
  private readonly sources = new Map<string, SourceFacts>()
  private readonly callTimeoutMs: number

  constructor(private readonly deps: SnapshotServiceDeps) {
    this.callTimeoutMs = deps.callTimeoutMs ?? 10_000
    this.events.setMaxListeners(100)
  }

  async suggestSnapshotPath(connectionId: string) {
    return toResult(() => {
      const profile = this.deps.connections.list().find((candidate) => candidate.id === connectionId)
      if (!profile) throw new ServiceError('not_found', `no connection ${connectionId}`)
      return join(this.deps.snapshotsDir, backupFileName(profile.name.replace(/^local: /, ''), this.deps.clock.now()))
    })
  }

  async takeSnapshot(request: TakeSnapshotRequest) {
    return toResult(async (): Promise<TakenSnapshot> => {
      if (!isAbsolute(request.path)) throw new ServiceError('invalid_argument', `the destination must be an absolute path, not "${request.path}"`)
      if (existsSync(request.path)) throw new ServiceError('invalid_argument', `${request.path} already exists; choose a new file name`)
      const options = this.deps.connections.clientOptions(request.connectionId, this.callTimeoutMs)
      const client = this.deps.openClient(options)
      try {
        const source = await this.pickMember(client, request.memberId)
        mkdirSync(dirname(request.path), { recursive: true, mode: 0o700 })
        const tls = options.tls ? { ca: options.tls.caCert, cert: options.tls.clientCert, key: options.tls.clientKey, servername: options.tls.serverName } : undefined
        const saved = await saveSnapshot(request.path, {
          endpoint: source.endpoint,
          tls,
          auth: options.username ? { username: options.username, password: options.password ?? '' } : undefined,
          progressIntervalMs: 250,
          onProgress: ({ bytes, elapsedMs }) =>
            this.events.emit('progress', {
              operationId: request.operationId,
              bytes,
              elapsedMs,
              bytesPerSecond: Math.round(bytes / Math.max(elapsedMs / 1000, 0.001)),
            } satisfies SnapshotProgressEvent),
        })
        const status = readSnapshotStatus(saved.path)
        const facts = await keySpaceFacts(client, source.endpoint, status.revision).catch(() => null)
        if (facts) this.sources.set(saved.path, { ...facts, revision: status.revision, memberId: source.memberId, clusterId: source.clusterId })
        return {
          path: saved.path,
          memberId: source.memberId,
          memberName: source.name,
          endpoint: source.endpoint,
          sizeBytes: saved.sizeBytes,
          elapsedMs: Math.round(saved.elapsedMs),
          sha256: saved.sha256,
          status,
        }
      } catch (error) {
        explain(error, 'snapshot')
      } finally {
        client.close()
      }
    })
  }

  async getSnapshotStatus(path: string) {
    return toResult(() => {
      try {
        return readSnapshotStatus(path)
      } catch (error) {
        explain(error, 'snapshot status')
      }
    })
  }

  async verifySnapshot(path: string) {
    return toResult(async (): Promise<SnapshotVerifyReport> => {
      let status: SnapshotFileStatus
      let sha256: string
      try {
        status = readSnapshotStatus(path)
        sha256 = await sha256File(path)
      } catch (error) {
        explain(error, 'test restore')
      }
      const source = this.sources.get(path)
      const now = new Date(this.deps.clock.now()).toISOString()
      const metadata: BackupMetadata = {
        metadataVersion: BACKUP_METADATA_VERSION,
        cluster: 'wizard',
        endpoints: [],
        memberId: source?.memberId ?? null,
        clusterId: source?.clusterId ?? null,
        sourceRevision: source?.revision ?? null,
        revision: status.revision,
        totalKey: status.totalKey,
        liveKeys: source?.liveKeys ?? status.liveKeys,
        hashKV: source?.hashKV ?? null,
        format: status.format,
        file: path,
        sizeBytes: status.fileSizeBytes,
        sha256,
        durationMs: 0,
        startedAt: now,
        finishedAt: now,
      }
      // A file without a trailer cannot pass the restore drill (it requires the hash); say so plainly.
      const checked = status.hashVerified ? null : await drillBackup(path, metadata)
      const outcome = checked ?? (await restoreDrill(path, metadata, { quorumCommand: this.deps.quorumCommand, tmpDir: this.deps.tmpDir, healthTimeoutMs: this.deps.healthTimeoutMs }))
      return { passed: outcome.passed, reason: outcome.reason ?? '', comparedWithSource: source !== undefined }
    })
  }

  async restoreSnapshotToLocal(request: RestoreToLocalRequest) {
    return toResult(async (): Promise<LocalClusterInfo> => {
      const local = this.deps.localClusters
      if (!local) throw new ServiceError('unavailable', 'local clusters are not available in this app run')
      try {
        readSnapshotStatus(request.path) // refuse a wrong file before creating anything
      } catch (error) {
        explain(error, 'restore')
      }
      return local.adopt(request.clusterName, (dir) =>
        restoreLocalCluster({ dir, file: request.path, size: request.size, quorumCommand: this.deps.quorumCommand, healthTimeoutMs: this.deps.healthTimeoutMs }).catch(
          (error: unknown) => explain(error, 'restore'),
        ),
      )
    })
  }

  async planRemoteRestore(request: RemoteRestoreRequest) {
    return toResult(() => {
      try {
        return buildRemoteRestorePlan({ ...request, clusterToken: request.clusterToken || `restored-${randomBytes(6).toString('hex')}` })
      } catch (error) {
        explain(error, 'restore plan')
      }
    })
  }

  onSnapshotProgress(listener: (event: SnapshotProgressEvent) => void): Unsubscribe {
    this.events.on('progress', listener)
    return () => this.events.off('progress', listener)
  }

  /** Drops every subscriber. */
  close(): void {
    this.events.removeAllListeners()
  }

  /** The member to stream from: the one asked for, or the leader; with the client URL to reach it. */
  private async pickMember(client: EtcdClient, memberId: string) {
    const { members } = await client.cluster.memberList()
    let wanted = memberId
    let clusterId = ''
    if (!wanted) {
      const status = await client.maintenance.status()
      wanted = formatId(status.leader)
      clusterId = formatId(status.header.clusterId)
      if (status.leader === 0n) throw new ServiceError('unavailable', 'the cluster has no leader right now; pick a member by name or try again')
    }
    const member = members.find((candidate) => formatId(candidate.id) === wanted)
    if (!member) throw new ServiceError('not_found', `no member ${wanted} in this cluster`)
    const endpoint = member.clientUrls[0]
    if (!endpoint) throw new ServiceError('unavailable', `member ${member.name || wanted} has not published a client URL yet`)
    return { memberId: wanted, name: member.name, endpoint, clusterId }
  }
}
