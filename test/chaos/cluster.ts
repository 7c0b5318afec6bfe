import { Etcd3 } from 'etcd3'
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { formatId, parseId } from '../../core/server/ids'
import { LocalCluster } from '../../core/cluster/launcher'
import { isAlive } from '../../core/cluster/process'
import type { ManifestMember } from '../../core/cluster/manifest'
import { clusterClient, promoteMember } from '../../core/cluster/membership-ops'
import { startEtcd, type EtcdCluster } from '../support/etcd'
import { tempDir } from '../support/temp-dir'
import type { ViolationCode } from './checker/violation'
import { noRetries } from './drivers/etcd3'
import { monotonicMs } from './history'
import { applyLoss, applyPartition, applySlowLoopback, clockWrapper, etcdUidWrapper, fillDisk, inPrivateNetns, mountSmallDisk, uidWrapper } from './netns'

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
   * Present when the target can change its membership under load: removes member `index` (MemberRemove sent
   * to the other members while it still runs; a leader commits its own removal and steps down), kills it,
   * wipes its data, and adds a fresh member with the same client and peer URLs (MemberAdd, with `learner`
   * as a learner that is promoted once in sync). The replacement has a new member ID and a new data dir;
   * clients and watchers pinned to the URLs reach it. Resolves once the replacement serves as a voter.
   */
  replaceMember?(index: number, options: { learner: boolean }): Promise<void>
  /**
   * Present when partitions are: degrades every peer link (`lossPercent` of packets dropped) or the whole
   * loopback (clients too: `rateKbit` token bucket); null restores the network.
   */
  degradeNetwork?(fault: NetworkDegradation | null): void
  /** Present when members run under libfaketime: sets member `index`'s wall-clock offset ("+30s", "-1h", "+0"). */
  setClockOffset?(index: number, offset: string): void
  /**
   * Present when every member's data lives on one small tmpfs: fills it until ENOSPC and resolves with the
   * release, which frees the space and restarts members that stopped meanwhile (a member may fail-stop on a
   * write error), resolving once all serve again.
   */
  fillDisk?(): Promise<{ bytes: number; release: () => Promise<void> }>
  /**
   * Bugs of this target that are known upstream and that the checkers do find. Violations with these codes
   * are reported separately and do not fail the run. Quorum's list is empty.
   */
  readonly knownIssues: KnownIssue[]
}

/** A network degradation (see ClusterUnderTest.degradeNetwork). */
export type NetworkDegradation = { lossPercent: number } | { rateKbit: number }

/** Applies a degradation through nftables (loss on every member's peer traffic) or tc (slow loopback). */
function degradeNetwork(fault: NetworkDegradation | null, peerPorts: number[]): void {
  applyLoss(fault && 'lossPercent' in fault ? peerPorts.map((_, i) => i) : [], fault && 'lossPercent' in fault ? fault.lossPercent : 0, peerPorts)
  applySlowLoopback(fault && 'rateKbit' in fault ? fault.rateKbit : null)
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
    degradeNetwork: wrapper ? (fault) => degradeNetwork(fault, peerPorts) : undefined,
    async stop() {
      leader.close()
      if (wrapper) {
        applyPartition([], peerPorts)
        degradeNetwork(null, peerPorts)
      }
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
export async function startQuorumUnderTest(options: { size?: number; snapshotCount?: number; partitionable?: boolean; fakeClocks?: boolean; diskBytes?: number } = {}): Promise<ClusterUnderTest> {
  if (options.partitionable && !inPrivateNetns()) throw new Error('a partitionable cluster must run inside the private network namespace (see netns.ts)')
  const dir = tempDir('quorum-chaos-q-')
  const clocks = options.fakeClocks ? clockWrapper([process.execPath, resolve('build/bin/quorum.mjs'), 'node']) : null
  const node = clocks ? [clocks.path] : [process.execPath, resolve('build/bin/quorum.mjs'), 'node']
  const wrapper = options.partitionable ? uidWrapper('quorum-node', node) : null
  if (clocks && wrapper) chmodSync(clocks.dir, 0o777) // members under their own uids write their offset files
  // Members under their own uids must traverse the run directory.
  if (wrapper) chmodSync(dir.path, 0o755)
  let cluster: LocalCluster
  const clusterDir = join(dir.path, 'cluster')
  let unmount = () => undefined as void
  if (options.diskBytes) {
    mkdirSync(clusterDir)
    unmount = mountSmallDisk(clusterDir, options.diskBytes)
  }
  try {
    cluster = await LocalCluster.up({
      dir: clusterDir,
      size: options.size ?? 3,
      snapshotCount: options.snapshotCount ?? 500,
      quorumCommand: wrapper ? { command: wrapper.path, args: [] } : { command: node[0], args: node.slice(1) },
    })
  } catch (error) {
    wrapper?.remove()
    clocks?.remove()
    unmount()
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
    // Members run under uids derived from their names when partitionable, so only plain clusters are resized.
    replaceMember: wrapper ? undefined : (index, { learner }) => replaceQuorumMember(cluster, members[index], learner),
    degradeNetwork: wrapper ? (fault) => degradeNetwork(fault, peerPorts) : undefined,
    setClockOffset: clocks ? (index, offset) => clocks.setOffset(members[index].name, offset) : undefined,
    fillDisk: options.diskBytes
      ? async () => {
          const filler = fillDisk(clusterDir)
          return {
            bytes: filler.bytes,
            async release() {
              filler.release()
              for (const [index, member] of members.entries()) {
                if (running.has(index) && !isAlive(cluster.member(member.name).pid)) await cluster.start(member.name, 60_000)
              }
            },
          }
        }
      : undefined,
    async stop() {
      leader.close()
      if (wrapper) {
        applyPartition([], peerPorts)
        degradeNetwork(null, peerPorts)
      }
      // A tmpfs mount point cannot be removed while mounted: stop, unmount, then remove the whole run dir.
      await cluster.down()
      wrapper?.remove()
      clocks?.remove()
      // QUORUM_CHAOS_KEEP_LOGS=DIR: keep the members' logs of every run (for debugging a failed run).
      const keep = process.env.QUORUM_CHAOS_KEEP_LOGS
      if (keep) {
        const kept = join(keep, basename(dir.path))
        mkdirSync(kept, { recursive: true })
        for (const file of readdirSync(clusterDir)) if (file.endsWith('.log') || file === 'cluster.json') copyFileSync(join(clusterDir, file), join(kept, file))
      }
      unmount()
      dir.remove()
    },
  }
}

/** The member ID of the active manifest member serving `clientUrl`, as the cluster lists it. */
async function memberIdAt(cluster: LocalCluster, clientUrl: string): Promise<{ entry: ManifestMember; id: bigint }> {
  const entry = cluster.activeMembers().find((m) => m.clientURL === clientUrl)
  if (!entry) throw new Error(`no active member serves ${clientUrl}`)
  if (entry.id) return { entry, id: parseId(entry.id) }
  const client = clusterClient(cluster)
  try {
    const { members } = await client.cluster.memberList()
    const found = members.find((m) => m.peerUrls.includes(entry.peerURL))
    if (!found) throw new Error(`${entry.name} (${entry.peerURL}) is not in the member list`)
    entry.id = formatId(found.id)
    return { entry, id: found.id }
  } finally {
    client.close()
  }
}

/**
 * Runs a membership call until it succeeds or `done` says an error means it already took effect, retrying for
 * up to 20 s on anything else (no leader during the election after removing the leader, a timeout, a member
 * that just went away). A retried MemberAdd/MemberRemove may have been applied the first time: `done` decides.
 */
async function retryMembership<T>(call: () => Promise<T>, done: (error: Error) => Promise<T | undefined>): Promise<T> {
  const deadline = monotonicMs() + 20_000
  for (;;) {
    try {
      return await call()
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught))
      const result = await done(error).catch(() => undefined)
      if (result !== undefined) return result
      if (monotonicMs() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
  }
}

/**
 * etcd robustness `MemberReplace`, under load: remove the member serving `slot.clientUrl` while it runs, kill
 * it, wipe its data, then MemberAdd a new member on the same URLs and start it with
 * `--initial-cluster-state existing` (as a learner, promoted once in sync, when `learner`).
 */
async function replaceQuorumMember(cluster: LocalCluster, slot: { name: string; clientUrl: string }, learner: boolean): Promise<void> {
  const { entry, id } = await memberIdAt(cluster, slot.clientUrl)
  const others = cluster.activeMembers().filter((m) => m !== entry).map((m) => m.clientURL)
  const client = clusterClient(cluster, others, 5000)
  const listed = async () => (await client.cluster.memberList()).members
  try {
    await retryMembership(
      async () => Boolean(await client.cluster.memberRemove(id)),
      async () => ((await listed()).some((m) => m.id === id) ? undefined : true),
    )
    entry.removed = true
    cluster.save()
    if (entry.pid) await cluster.kill(entry.name).catch(() => undefined) // it may have stopped itself already
    rmSync(entry.dataDir, { recursive: true, force: true })
    const taken = new Set(cluster.manifest.members.map((m) => m.name))
    let n = cluster.manifest.members.length + 1
    while (taken.has(`member${n}`)) n++
    const name = `member${n}`
    const fresh: ManifestMember = { ...entry, name, id: '', dataDir: join(cluster.dir, name), logFile: join(cluster.dir, `${name}.log`), pid: 0, bootstrapped: false, added: true, removed: false }
    const newId = await retryMembership(
      async () => (await client.cluster.memberAdd([fresh.peerURL], { isLearner: learner })).member.id,
      async () => (await listed()).find((m) => m.peerUrls.includes(fresh.peerURL))?.id,
    )
    fresh.id = formatId(newId)
    cluster.manifest.members.push(fresh)
    cluster.save()
    await cluster.start(name, 60_000)
    if (learner) await promoteMember(cluster, name, 30_000)
    slot.name = name
  } finally {
    client.close()
  }
}
