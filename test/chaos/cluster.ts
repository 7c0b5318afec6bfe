import { Etcd3 } from 'etcd3'
import { chmodSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { LocalCluster } from '../../core/cluster/launcher'
import { startEtcd, type EtcdCluster } from '../support/etcd'
import { tempDir } from '../support/temp-dir'
import type { ViolationCode } from './checker/violation'
import { noRetries } from './drivers/etcd3'
import { applyPartition, etcdUidWrapper, inPrivateNetns, uidWrapper } from './netns'

/**
 * The system under test, as the chaos harness sees it: members with client URLs, process-level faults, and
 * (optionally) network partitions. Real etcd 3.4 implements it today (`startEtcdUnderTest`); Quorum's own
 * cluster launcher plugs in here later, and the whole suite (traffic, faults, checkers) runs unchanged.
 *
 * Contract: the cluster starts empty (revision 1, no keys); every method targets a member by index; a
 * killed member keeps its data dir and `restart` brings it back with the same identity.
 */
export interface ClusterUnderTest {
  /** Name for reports, e.g. "etcd 3.4.23". */
  readonly label: string
  readonly members: ReadonlyArray<{ name: string; clientUrl: string }>
  /** Index of the member that currently believes it leads, or null if none answers as leader. */
  leaderIndex(): Promise<number | null>
  /** SIGKILL (no clean shutdown); resolves once the process is gone. */
  kill(index: number): Promise<void>
  /** Starts a killed member again and waits until it serves. */
  restart(index: number): Promise<void>
  /** SIGSTOP / SIGCONT of the member's process. */
  pause(index: number): void
  resume(index: number): void
  isRunning(index: number): boolean
  /** Kills every member and removes all data. */
  stop(): Promise<void>
  /**
   * Present when the target can partition its network: members in different groups stop reaching each
   * other (both directions); `[]` heals. Clients still reach every member.
   */
  partition?(groups: number[][]): void
  /**
   * Bugs of this target that are known upstream and that the checkers do find. Violations with these codes
   * are reported separately and do not fail the run. Quorum's list is empty.
   */
  readonly knownIssues: KnownIssue[]
}

/** A documented upstream bug the suite reproduces on a reference target. */
export interface KnownIssue {
  code: ViolationCode
  reference: string
  description: string
}

/**
 * etcd before 3.4.31 / 3.5.13: a deposed leader that was stalled (SIGSTOP, slow disk, CPU starvation) still
 * revokes the leases it believes expired once it runs again, so keys vanish right after a successful
 * keep-alive on the new leader. Found by our pause-leader scenario on 3.4.23.
 */
const ETCD_STALE_LEADER_LEASE_REVOKE: KnownIssue = {
  code: 'lease-expired-early',
  reference: 'etcd-io/etcd#15247, #12528; fixed in 3.4.31 (PR #17465) and 3.5.13 (PR #17425)',
  description: "an old leader resumed after a pause revokes leases the new leader has just renewed",
}

/** Known issues of an etcd release (`major.minor.patch`). */
export function etcdKnownIssues(version: string): KnownIssue[] {
  const [major, minor, patch] = version.split('.').map(Number)
  const fixed = major > 3 || (major === 3 && (minor > 5 || (minor === 5 && patch >= 13) || (minor === 4 && patch >= 31)))
  return fixed ? [] : [ETCD_STALE_LEADER_LEASE_REVOKE]
}

/** Options for the etcd adapter. */
export interface EtcdUnderTestOptions {
  size?: number
  /** Passed to etcd as --snapshot-count (small values exercise snapshot sending on restart). */
  snapshotCount?: number
  /** Run members under their own uids so `partition` works (only inside the run's private netns). */
  partitionable?: boolean
}

/** Starts a real etcd 3.4 cluster (test/support/etcd.ts) behind the `ClusterUnderTest` interface. */
export async function startEtcdUnderTest(options: EtcdUnderTestOptions = {}): Promise<ClusterUnderTest> {
  if (options.partitionable && !inPrivateNetns()) throw new Error('a partitionable cluster must run inside the private network namespace (see netns.ts)')
  const wrapper = options.partitionable ? etcdUidWrapper() : null
  let cluster: EtcdCluster
  try {
    cluster = await startEtcd({
      size: options.size ?? 3,
      extraArgs: ['--snapshot-count', String(options.snapshotCount ?? 500)],
      env: wrapper ? { PATH: `${wrapper.dir}:${process.env.PATH ?? ''}` } : undefined,
    })
  } catch (error) {
    wrapper?.remove()
    throw error
  }
  const peerPorts = cluster.members.map((m) => Number(new URL(m.peerUrl).port))
  const version = (await (await fetch(`${cluster.members[0].clientUrl}/version`)).json()) as { etcdserver?: string }
  const leader = leaderLookup(cluster.members.map((m) => m.clientUrl))
  const signal = (index: number, name: NodeJS.Signals) => {
    const child = cluster.members[index].process
    if (child && child.exitCode === null && child.signalCode === null) child.kill(name)
  }
  return {
    label: `etcd ${version.etcdserver ?? 'unknown'}`,
    knownIssues: etcdKnownIssues(version.etcdserver ?? '0.0.0'),
    members: cluster.members.map((m) => ({ name: m.name, clientUrl: m.clientUrl })),
    leaderIndex: () => leader.find((index) => cluster.members[index].process !== null),
    kill: async (index) => cluster.kill(index),
    restart: (index) => cluster.restart(index),
    pause: (index) => signal(index, 'SIGSTOP'),
    resume: (index) => signal(index, 'SIGCONT'),
    isRunning: (index) => cluster.members[index].process !== null,
    partition: wrapper ? (groups) => applyPartition(groups, peerPorts) : undefined,
    async stop() {
      leader.close()
      if (wrapper) applyPartition([], peerPorts)
      await cluster.stop()
      wrapper?.remove()
    },
  }
}

/** Asks members for Maintenance.Status and returns the index of one that says it leads. */
function leaderLookup(clientUrls: string[]) {
  const admins = clientUrls.map((url) => new Etcd3({ hosts: url, faultHandling: noRetries() }))
  return {
    async find(isRunning: (index: number) => boolean): Promise<number | null> {
      const answers = await Promise.all(
        admins.map(async (admin, index) => {
          if (!isRunning(index)) return null
          try {
            const status = await admin.maintenance.status({ deadline: Date.now() + 500 })
            return status.leader === status.header.member_id ? index : null
          } catch {
            return null // a paused, partitioned or restarting member cannot say; ask the others
          }
        }),
      )
      return answers.find((a) => a !== null) ?? null
    },
    close: () => admins.forEach((admin) => admin.close()),
  }
}

/**
 * Starts a local Quorum cluster (`quorum node` members through core/cluster's LocalCluster, the bundled CLI
 * from `npm run build`) behind the same interface. It has no known issues: every violation counts. With
 * `partitionable`, members run under their own uids (inside the run's private netns) so `partition` works.
 */
export async function startQuorumUnderTest(options: { size?: number; snapshotCount?: number; partitionable?: boolean } = {}): Promise<ClusterUnderTest> {
  if (options.partitionable && !inPrivateNetns()) throw new Error('a partitionable cluster must run inside the private network namespace (see netns.ts)')
  const dir = tempDir('quorum-chaos-q-')
  const node = [process.execPath, resolve('build/bin/quorum.mjs'), 'node']
  const wrapper = options.partitionable ? uidWrapper('quorum-node', node) : null
  // Members under their own uids must traverse the run directory.
  if (wrapper) chmodSync(dir.path, 0o755)
  let cluster: LocalCluster
  try {
    cluster = await LocalCluster.up({
      dir: join(dir.path, 'cluster'),
      size: options.size ?? 3,
      snapshotCount: options.snapshotCount ?? 500,
      quorumCommand: wrapper ? { command: wrapper.path, args: [] } : { command: node[0], args: node.slice(1) },
    })
  } catch (error) {
    wrapper?.remove()
    dir.remove()
    throw error
  }
  const peerPorts = cluster.activeMembers().map((m) => Number(new URL(m.peerURL).port))
  const members = cluster.activeMembers().map((m) => ({ name: m.name, clientUrl: m.clientURL }))
  const running = new Set(members.map((_, i) => i))
  const leader = leaderLookup(members.map((m) => m.clientUrl))
  return {
    label: 'quorum',
    members,
    knownIssues: [],
    leaderIndex: () => leader.find((index) => running.has(index)),
    async kill(index) {
      running.delete(index)
      await cluster.kill(members[index].name)
    },
    async restart(index) {
      await cluster.start(members[index].name)
      running.add(index)
    },
    pause: (index) => cluster.pause(members[index].name),
    resume: (index) => cluster.resume(members[index].name),
    isRunning: (index) => running.has(index),
    partition: wrapper ? (groups) => applyPartition(groups, peerPorts) : undefined,
    async stop() {
      leader.close()
      if (wrapper) applyPartition([], peerPorts)
      await cluster.down({ remove: true })
      wrapper?.remove()
      dir.remove()
    },
  }
}
