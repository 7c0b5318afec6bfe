import { createHash, randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { EtcdClient } from '../../core/client'
import { inspectCertificateFile } from '../../core/certs/inspect'
import { ensureClusterCertificates, type LocalCluster, type MemberCommand } from '../../core/cluster/launcher'
import { readLinkProxyConfig } from '../../core/cluster/link-proxy'
import type { ClusterManifest, ManifestMember } from '../../core/cluster/manifest'
import { isAlive } from '../../core/cluster/process'
import { QuorumSnapshot } from '../../core/snapshot/quorum-snapshot'
import { restoreSnapshot, type RestoreOptions, type RestoreResult } from '../../core/snapshot/restore'
import { saveSnapshot } from '../../core/snapshot/save'
import { formatId } from '../../core/server/ids'
import type { Unsubscribe } from '../api/admin-api'
import type { TlsApi, TlsCertificateSummary, TlsConversionReport, TlsConversionRequest, TlsConversionStep, TlsProgressEvent } from '../api/tls-api'
import type { ClusterClientOptions } from './cluster-client'
import type { ConnectionService } from './connections'
import type { LocalClusterService } from './local-clusters'
import { ServiceError, toResult } from './result'

// The TLS wizard's conversion of a local plaintext cluster: a rolling in-place switch deadlocks (a member
// restarted with https peer URLs cannot talk to the plain ones and vice versa), so the cluster is converted
// the way etcd's docs recover one (op-guide/recovery.md): snapshot the leader, stop every member, restore the
// snapshot into fresh data dirs for the same member names with https URLs, start them with client and peer
// TLS and client-certificate auth (as `quorum cluster up --tls`), verify every key, then repoint the app's
// connection profile. Restore semantics: keys, values, revisions and leases are kept; the cluster id is new.
// The old data dirs stay renamed aside until the new cluster passed verification; any failure stops what was
// started, puts them back and restarts the old cluster, so nothing is ever left half-converted.

/** Suffix of an old member data dir kept aside while the conversion runs. */
const BACKUP_SUFFIX = '.pre-tls'

/** What the service needs. */
export interface TlsSetupServiceDeps {
  localClusters: LocalClusterService
  connections: ConnectionService
  openClient: (options: ClusterClientOptions) => EtcdClient
  quorumCommand: MemberCommand
  healthTimeoutMs?: number
  callTimeoutMs?: number
  /** Restores one member's data dir (default core/snapshot/restore.ts; tests inject a failing one). */
  restoreMember?: (options: RestoreOptions) => RestoreResult
}

/** Live key count and a digest of every key, value, revision, version and lease, at one revision. */
export interface KeyListing {
  count: number
  /** sha256 (hex) over the keys in key order, each field length-prefixed. */
  digest: string
}

const ALL_KEYS = Buffer.from([0]) // etcd compat: key "\0" with range_end "\0" selects every key
const PAGE = 1000

/**
 * Lists every live key at `revision` page by page and digests the listing; HashKV-independent (it compares
 * what a client reads, not the storage's hash), so two clusters holding the same data agree whatever their
 * engine did internally.
 */
export async function keyListing(client: EtcdClient, revision: number, endpoint?: string): Promise<KeyListing> {
  const hash = createHash('sha256')
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(bytes.length)
    hash.update(length).update(bytes)
  }
  let from = ALL_KEYS
  let count = 0
  for (;;) {
    const page = await client.kv.range(from, { rangeEnd: ALL_KEYS, limit: PAGE, revision, serializable: endpoint !== undefined }, endpoint ? { endpoint } : {})
    for (const kv of page.kvs) {
      field(kv.key)
      field(kv.value)
      field(Buffer.from(`${kv.createRevision}/${kv.modRevision}/${kv.version}/${kv.lease}`))
    }
    count += page.kvs.length
    if (!page.more || page.kvs.length === 0) break
    from = Buffer.concat([page.kvs[page.kvs.length - 1].key, Buffer.from([0])])
  }
  return { count, digest: hash.digest('hex') }
}

/** Facts about the source cluster taken while it still runs. */
interface Source {
  leaderUrl: string
  clusterId: string
  revision: number
  listing: KeyListing
}

/** What the conversion changed so far, so a rollback can undo exactly that. */
interface Undo {
  oldManifest: ClusterManifest
  createdCerts: boolean
  snapshotFile: string
  stopped: boolean
  /** Member data dirs renamed to `<dataDir>.pre-tls`. */
  movedAside: ManifestMember[]
}

/** The TLS wizard's service (TlsApi). */
export class TlsSetupService implements TlsApi {
  private readonly events = new EventEmitter()

  constructor(private readonly deps: TlsSetupServiceDeps) {
    this.events.setMaxListeners(100)
  }

  async convertLocalClusterToTls(request: TlsConversionRequest) {
    return toResult(() => this.deps.localClusters.exclusive(request.cluster, (cluster) => this.convert(request, cluster)))
  }

  onTlsProgress(listener: (event: TlsProgressEvent) => void): Unsubscribe {
    this.events.on('progress', listener)
    return () => this.events.off('progress', listener)
  }

  /** Drops every subscriber. */
  close(): void {
    this.events.removeAllListeners()
  }

  private emit(operationId: string, step: TlsConversionStep, state: TlsProgressEvent['state'], detail: string): void {
    this.events.emit('progress', { operationId, step, state, detail } satisfies TlsProgressEvent)
  }

  private async convert(request: TlsConversionRequest, cluster: LocalCluster): Promise<TlsConversionReport> {
    const started = performance.now()
    const certDir = join(cluster.dir, 'certs')
    const undo: Undo = {
      oldManifest: structuredClone(cluster.manifest),
      createdCerts: !existsSync(certDir),
      snapshotFile: join(cluster.dir, `tls-conversion-${randomBytes(4).toString('hex')}.db`),
      stopped: false,
      movedAside: [],
    }
    let step: TlsConversionStep = 'check'
    const run = async <T>(next: TlsConversionStep, work: () => Promise<T>, done: (value: T) => string): Promise<T> => {
      step = next
      this.emit(request.operationId, next, 'running', '')
      const value = await work()
      this.emit(request.operationId, next, 'done', done(value))
      return value
    }
    const members = cluster.activeMembers()
    try {
      await run('check', () => this.check(cluster), () => `${members.length} members healthy, none uses TLS`)
      const tls = await run('certificates', () => ensureClusterCertificates(cluster.dir, members.map((member) => member.name)), () => `a CA, server and peer certificates for ${members.map((m) => m.name).join(', ')} and a root client certificate`)
      const source = await run('snapshot', () => this.snapshot(cluster, undo.snapshotFile), (s) => `snapshot of the leader at revision ${s.revision}, ${s.listing.count} keys`)
      await run('stop', () => this.stopAll(cluster, source, undo), () => `${members.length} members stopped`)
      const token = `quorum-tls-${randomBytes(6).toString('hex')}`
      await run('restore', async () => this.restoreAll(cluster, undo, token), () => `every member restored with https URLs; old data kept as <data dir>${BACKUP_SUFFIX}`)
      cluster.manifest.tls = tls
      cluster.manifest.token = token
      cluster.save()
      const timeoutMs = this.deps.healthTimeoutMs ?? 60_000
      // Every member must run before any can be healthy (a quorum is needed), so start them together.
      await run('start', () => Promise.all(members.map((member) => cluster.start(member.name, timeoutMs))), () => `${members.length} members healthy over https`)
      await run('profile', async () => this.deps.localClusters.refreshProfile(request.cluster, cluster), () => 'the connection profile uses the https endpoints, the CA and the root client certificate')
      const verified = await run('verify', () => this.verify(request.cluster, source), (v) => `${v.listing.count} keys read back through the connection profile, identical to before; new cluster id ${v.clusterId}`)
      for (const member of undo.movedAside) rmSync(`${member.dataDir}${BACKUP_SUFFIX}`, { recursive: true, force: true })
      rmSync(undo.snapshotFile, { force: true })
      const info = (await this.deps.localClusters.list()).find((candidate) => candidate.name === request.cluster)
      if (!info) throw new ServiceError('internal', `local cluster ${request.cluster} vanished`)
      return {
        cluster: info,
        oldClusterId: source.clusterId,
        newClusterId: verified.clusterId,
        revision: source.revision,
        keys: source.listing.count,
        endpoints: members.map((member) => member.clientURL),
        caFile: tls.caFile,
        clientCertFile: tls.clientCertFile,
        clientKeyFile: tls.clientKeyFile,
        certificates: certificateSummaries(certDir),
        elapsedMs: Math.round(performance.now() - started),
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      this.emit(request.operationId, step, 'failed', reason)
      if (step === 'check') throw error // a refusal: nothing was changed
      this.emit(request.operationId, 'rollback', 'running', '')
      try {
        await this.rollback(request.cluster, cluster, undo)
      } catch (rollbackError) {
        this.emit(request.operationId, 'rollback', 'failed', (rollbackError as Error).message)
        const kept = undo.movedAside.map((member) => `${member.dataDir}${BACKUP_SUFFIX}`).join(', ')
        throw new ServiceError('unavailable', `TLS conversion failed at step "${step}" (${reason}) and the rollback failed too (${(rollbackError as Error).message}); the old data is kept in ${kept || 'the members\' data dirs'}`)
      }
      this.emit(request.operationId, 'rollback', 'done', 'the old cluster runs again without TLS, with all its keys')
      throw new ServiceError(error instanceof ServiceError ? error.code : 'unavailable', `TLS conversion failed at step "${step}": ${reason}. Rolled back: the cluster runs as before, without TLS.`)
    }
  }

  /** Refuses clusters the conversion cannot handle, before anything changes. */
  private async check(cluster: LocalCluster): Promise<void> {
    const refuse = (reason: string) => new ServiceError('invalid_argument', reason)
    if (cluster.manifest.tls) throw refuse('this cluster already uses TLS')
    if (cluster.manifest.engine !== 'quorum') throw refuse('only clusters of Quorum members can be converted (their data dirs are restored from a Quorum snapshot)')
    if (readLinkProxyConfig(cluster.dir)) throw refuse('this cluster routes peer traffic through link proxies for network drills; they do not speak TLS')
    for (const member of cluster.activeMembers()) {
      if (existsSync(`${member.dataDir}${BACKUP_SUFFIX}`)) throw refuse(`${member.dataDir}${BACKUP_SUFFIX} exists (left from an earlier conversion); move it away first`)
    }
    const unhealthy = (await cluster.health()).filter((member) => !member.healthy)
    if (unhealthy.length > 0) throw refuse(`every member must run and be healthy; not: ${unhealthy.map((m) => `${m.name} (${m.reason})`).join(', ')}`)
  }

  /** Saves a snapshot from the leader and lists its keys at the snapshot's revision. */
  private async snapshot(cluster: LocalCluster, file: string): Promise<Source> {
    const endpoints = cluster.activeMembers().map((member) => member.clientURL)
    const client = new EtcdClient({ endpoints, callTimeoutMs: this.deps.callTimeoutMs ?? 10_000 })
    try {
      let leaderUrl = ''
      let clusterId = ''
      for (const endpoint of endpoints) {
        const status = await client.maintenance.status({ endpoint })
        clusterId = formatId(status.header.clusterId)
        if (status.leader !== 0n && status.leader === status.header.memberId) leaderUrl = endpoint
      }
      if (!leaderUrl) throw new ServiceError('unavailable', 'the cluster has no leader right now; try again')
      await saveSnapshot(file, { endpoint: leaderUrl })
      const opened = QuorumSnapshot.open(file)
      let revision: number
      try {
        revision = opened.status().revision
      } finally {
        opened.close()
      }
      return { leaderUrl, clusterId, revision, listing: await keyListing(client, revision, leaderUrl) }
    } finally {
      client.close()
    }
  }

  /**
   * Stops every member, after checking that nothing was written since the snapshot (such a write would be
   * lost). A write in the short gap between that check and the stop is not detected: stop writers first.
   */
  private async stopAll(cluster: LocalCluster, source: Source, undo: Undo): Promise<void> {
    const client = new EtcdClient({ endpoints: [source.leaderUrl], callTimeoutMs: this.deps.callTimeoutMs ?? 10_000 })
    try {
      const now = (await client.maintenance.status()).header.revision
      if (now !== source.revision) throw new ServiceError('unavailable', `the cluster was written to during the conversion (revision ${source.revision} → ${now}); stop writers and try again`)
    } finally {
      client.close()
    }
    undo.stopped = true
    await Promise.all(cluster.activeMembers().filter((member) => isAlive(member.pid)).map((member) => cluster.stop(member.name)))
  }

  /** Moves each old data dir aside and restores the snapshot for the same name with https URLs. */
  private restoreAll(cluster: LocalCluster, undo: Undo, token: string): void {
    const members = cluster.activeMembers()
    for (const member of members) {
      member.clientURL = member.clientURL.replace(/^http:/, 'https:')
      member.peerURL = member.peerURL.replace(/^http:/, 'https:')
    }
    const initialCluster = members.map((member) => `${member.name}=${member.peerURL}`).join(',')
    const restore = this.deps.restoreMember ?? restoreSnapshot
    for (const member of members) {
      renameSync(member.dataDir, `${member.dataDir}${BACKUP_SUFFIX}`)
      undo.movedAside.push(member)
      const restored = restore({ file: undo.snapshotFile, name: member.name, initialCluster, initialClusterToken: token, initialAdvertisePeerUrls: [member.peerURL], dataDir: member.dataDir })
      member.id = restored.memberId
      member.added = false
      member.bootstrapped = true
    }
  }

  /** Reads every key back through the app's connection profile and compares with the source. */
  private async verify(name: string, source: Source): Promise<{ clusterId: string; listing: KeyListing }> {
    const info = (await this.deps.localClusters.list()).find((candidate) => candidate.name === name)
    if (!info?.connectionId) throw new ServiceError('internal', `the connection profile of ${name} is gone`)
    const client = this.deps.openClient(this.deps.connections.clientOptions(info.connectionId, this.deps.callTimeoutMs ?? 10_000))
    try {
      const status = await client.maintenance.status()
      const listing = await keyListing(client, source.revision)
      if (listing.count !== source.listing.count) throw new ServiceError('internal', `the new cluster holds ${listing.count} keys at revision ${source.revision}, the old one held ${source.listing.count}`)
      if (listing.digest !== source.listing.digest) throw new ServiceError('internal', `the new cluster's keys differ from the old one's at revision ${source.revision}`)
      return { clusterId: formatId(status.header.clusterId), listing }
    } finally {
      client.close()
    }
  }

  /** Undoes what `undo` records and restarts the old cluster (when it was stopped). */
  private async rollback(name: string, cluster: LocalCluster, undo: Undo): Promise<void> {
    await Promise.all(cluster.activeMembers().filter((member) => isAlive(member.pid)).map((member) => (undo.stopped ? cluster.kill(member.name) : Promise.resolve())))
    for (const member of undo.movedAside) {
      rmSync(member.dataDir, { recursive: true, force: true })
      renameSync(`${member.dataDir}${BACKUP_SUFFIX}`, member.dataDir)
    }
    rmSync(undo.snapshotFile, { force: true })
    rmSync(`${undo.snapshotFile}.part`, { force: true })
    if (undo.createdCerts) rmSync(join(cluster.dir, 'certs'), { recursive: true, force: true })
    if (!undo.stopped) return
    cluster.manifest = structuredClone(undo.oldManifest)
    for (const member of cluster.manifest.members) member.pid = 0
    cluster.save()
    const timeoutMs = this.deps.healthTimeoutMs ?? 60_000
    await Promise.all(cluster.activeMembers().map((member) => cluster.start(member.name, timeoutMs)))
    this.deps.localClusters.refreshProfile(name, cluster)
  }
}

/** The certificates in `certDir`, CA first. */
function certificateSummaries(certDir: string): TlsCertificateSummary[] {
  return readdirSync(certDir)
    .filter((file) => file.endsWith('.crt'))
    .map((file) => {
      const info = inspectCertificateFile(join(certDir, file))
      return { file, subject: info.subject, subjectAltNames: info.subjectAltNames, notAfter: info.notAfter, isCa: info.isCa }
    })
    .sort((a, b) => Number(b.isCa) - Number(a.isCa) || a.file.localeCompare(b.file))
}
