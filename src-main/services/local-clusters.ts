import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { LocalCluster, type MemberCommand } from '../../core/cluster/launcher'
import { MANIFEST_FILE } from '../../core/cluster/manifest'
import { addMember, moveLeader, promoteMember, removeMember } from '../../core/cluster/membership-ops'
import { clusterStatus } from '../../core/cluster/status'
import type { LocalClusterInfo, LocalClusterInput, LocalMemberAction, LocalMemberInfo } from '../api/admin-api'
import type { ConnectionService } from './connections'
import { ServiceError } from './result'

// Local clusters of the app: `quorum node` child processes (detached, so they outlive a restart of the app)
// under <dataDir>/clusters/<name>, described by core/cluster's cluster.json. Each one is paired with a
// connection profile so the overview page shows it like any remote cluster.

/** Written next to cluster.json: the connection profile that shows this cluster. */
const APP_FILE = 'quorum-app.json'

/** Names usable as a directory name on every OS. */
export const LOCAL_CLUSTER_NAME = /^[a-z0-9][a-z0-9-]{0,39}$/

/** The name of the cluster `npm start` / `quorum ui` creates on first start. */
export const PLAYGROUND_NAME = 'playground'

/** What the service needs: where clusters live, how members start, and the profiles to register. */
export interface LocalClusterServiceDeps {
  clustersDir: string
  connections: ConnectionService
  quorumCommand: MemberCommand
  healthTimeoutMs?: number
}

/**
 * Creates, lists, operates and deletes the app's local clusters. Every operation that changes membership
 * updates the paired connection profile's endpoints. Operations on one cluster are serialised.
 */
export class LocalClusterService {
  private readonly busy = new Map<string, Promise<unknown>>()

  constructor(private readonly deps: LocalClusterServiceDeps) {
    mkdirSync(deps.clustersDir, { recursive: true, mode: 0o700 })
  }

  /** Every cluster under the clusters directory, with the live state of its members. */
  async list(): Promise<LocalClusterInfo[]> {
    const names = readdirSync(this.deps.clustersDir).filter((name) => existsSync(join(this.deps.clustersDir, name, MANIFEST_FILE))).sort()
    return Promise.all(names.map((name) => this.info(name)))
  }

  /** True when a cluster of that name exists. */
  exists(name: string): boolean {
    return existsSync(join(this.dir(name), MANIFEST_FILE))
  }

  /** Starts a new cluster, waits until every member is healthy and registers its connection profile. */
  async create(input: LocalClusterInput): Promise<LocalClusterInfo> {
    if (!LOCAL_CLUSTER_NAME.test(input.name)) throw new ServiceError('invalid_argument', `"${input.name}" is not a valid cluster name (a-z, 0-9, -)`)
    if (existsSync(this.dir(input.name))) throw new ServiceError('invalid_argument', `a local cluster named "${input.name}" already exists`)
    return this.serialised(input.name, async () => {
      const cluster = await LocalCluster.up({
        dir: this.dir(input.name),
        size: input.size,
        tls: input.tls,
        quorumCommand: this.deps.quorumCommand,
        healthTimeoutMs: this.deps.healthTimeoutMs ?? 60_000,
      }).catch((error: Error) => {
        rmSync(this.dir(input.name), { recursive: true, force: true })
        throw new ServiceError('unavailable', `the cluster did not start: ${error.message}`)
      })
      this.register(input.name, cluster)
      return this.info(input.name)
    })
  }

  /**
   * Registers a cluster that `build` starts in `dir(name)` (e.g. members restored from a snapshot): the same
   * name checks and connection profile as `create`. When `build` fails the directory is removed.
   */
  async adopt(name: string, build: (dir: string) => Promise<LocalCluster>): Promise<LocalClusterInfo> {
    if (!LOCAL_CLUSTER_NAME.test(name)) throw new ServiceError('invalid_argument', `"${name}" is not a valid cluster name (a-z, 0-9, -)`)
    if (existsSync(this.dir(name))) throw new ServiceError('invalid_argument', `a local cluster named "${name}" already exists`)
    return this.serialised(name, async () => {
      const cluster = await build(this.dir(name)).catch((error: Error) => {
        rmSync(this.dir(name), { recursive: true, force: true })
        throw error instanceof ServiceError ? error : new ServiceError('unavailable', `the cluster did not start: ${error.message}`)
      })
      this.register(name, cluster)
      return this.info(name)
    })
  }

  /** Stops every member, removes the data directory and the connection profile. */
  async delete(name: string): Promise<null> {
    const cluster = this.open(name)
    return this.serialised(name, async () => {
      await cluster.down({ remove: true })
      const connectionId = this.connectionIdOf(name, cluster)
      if (connectionId && this.deps.connections.list().some((profile) => profile.id === connectionId)) this.deps.connections.delete(connectionId)
      return null
    })
  }

  /** Runs a process or membership action on one member and returns the cluster's new state. */
  async memberAction(name: string, member: string, action: LocalMemberAction): Promise<LocalClusterInfo> {
    const cluster = this.open(name)
    cluster.member(member)
    await this.serialised(name, async () => {
      switch (action) {
        case 'start': return cluster.start(member)
        case 'stop': return cluster.stop(member)
        case 'kill': return cluster.kill(member)
        case 'pause': return cluster.pause(member)
        case 'resume': return cluster.resume(member)
        case 'restart': return cluster.restart(member)
        case 'promote': return promoteMember(cluster, member)
        case 'moveLeader': return moveLeader(cluster, member)
        case 'remove':
          await removeMember(cluster, member)
          return this.syncEndpoints(name, cluster)
      }
    })
    return this.info(name)
  }

  /** Adds a member (a learner when asked), starts it and returns the cluster's new state. */
  async addMember(name: string, learner: boolean): Promise<LocalClusterInfo> {
    const cluster = this.open(name)
    await this.serialised(name, async () => {
      await addMember(cluster, { learner })
      this.syncEndpoints(name, cluster)
    })
    return this.info(name)
  }

  /**
   * Runs `work` on the cluster named `name` while no other operation of this service runs on it (the TLS
   * conversion of src-main/services/tls-setup.ts uses it).
   */
  async exclusive<T>(name: string, work: (cluster: LocalCluster) => Promise<T>): Promise<T> {
    const cluster = this.open(name)
    return this.serialised(name, () => work(cluster))
  }

  /**
   * Points the cluster's paired connection profile (same id) at the manifest's current client URLs and TLS
   * files; registers a new profile when the old one is gone.
   */
  refreshProfile(name: string, cluster: LocalCluster): void {
    const id = this.connectionIdOf(name, cluster)
    this.register(name, cluster, this.deps.connections.list().some((profile) => profile.id === id) ? id : undefined)
  }

  /** Directory of a cluster. */
  dir(name: string): string {
    return join(this.deps.clustersDir, name)
  }

  /** Saves the connection profile that shows `cluster` and remembers it next to cluster.json. */
  private register(name: string, cluster: LocalCluster, id?: string): void {
    const profile = this.deps.connections.save({
      ...(id ? { id } : {}),
      name: `local: ${name}`,
      endpoints: cluster.activeMembers().map((member) => member.clientURL),
      readOnly: false,
      username: '',
      tls: {
        caCert: cluster.manifest.tls ? readFileSync(cluster.manifest.tls.caFile, 'utf8') : '',
        clientCert: cluster.manifest.tls ? readFileSync(cluster.manifest.tls.clientCertFile, 'utf8') : '',
        serverName: '',
      },
      clientKey: cluster.manifest.tls ? readFileSync(cluster.manifest.tls.clientKeyFile, 'utf8') : undefined,
    })
    writeFileSync(join(cluster.dir, APP_FILE), `${JSON.stringify({ connectionId: profile.id })}\n`, { mode: 0o600 })
  }

  private open(name: string): LocalCluster {
    if (!LOCAL_CLUSTER_NAME.test(name) || !this.exists(name)) throw new ServiceError('not_found', `no local cluster named "${name}"`)
    return LocalCluster.open(this.dir(name), this.deps.quorumCommand)
  }

  private connectionIdOf(name: string, cluster: LocalCluster): string {
    try {
      return (JSON.parse(readFileSync(join(cluster.dir, APP_FILE), 'utf8')) as { connectionId?: string }).connectionId ?? ''
    } catch {
      return this.deps.connections.list().find((profile) => profile.name === `local: ${name}`)?.id ?? ''
    }
  }

  private syncEndpoints(name: string, cluster: LocalCluster): void {
    const id = this.connectionIdOf(name, cluster)
    const profile = this.deps.connections.list().find((candidate) => candidate.id === id)
    if (!profile) return
    this.deps.connections.save({ ...profile, endpoints: cluster.activeMembers().map((member) => member.clientURL) })
  }

  private async info(name: string): Promise<LocalClusterInfo> {
    const cluster = LocalCluster.open(this.dir(name), this.deps.quorumCommand)
    const status = await clusterStatus(cluster, 1500)
    const members: LocalMemberInfo[] = cluster.manifest.members
      .filter((member) => !member.removed)
      .map((member) => {
        const row = status.members.find((candidate) => candidate.name === member.name)
        return {
          name: member.name,
          id: row?.id || member.id,
          clientUrl: member.clientURL,
          pid: row?.pid ?? 0,
          state: (row?.role ?? 'stopped') as LocalMemberInfo['state'],
          healthy: row?.healthy ?? false,
        }
      })
    return {
      name,
      dir: cluster.dir,
      tls: cluster.manifest.tls !== null,
      createdAt: Date.parse(cluster.manifest.createdAt),
      connectionId: this.connectionIdOf(name, cluster),
      leader: status.leader,
      hasQuorum: status.hasQuorum,
      members,
    }
  }

  private async serialised<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.busy.get(name) ?? Promise.resolve()
    const next = previous.catch(() => undefined).then(work)
    this.busy.set(name, next)
    try {
      return await next
    } catch (error) {
      if (error instanceof ServiceError) throw error
      throw new ServiceError('unavailable', (error as Error).message)
    } finally {
      if (this.busy.get(name) === next) this.busy.delete(name)
    }
  }
}
