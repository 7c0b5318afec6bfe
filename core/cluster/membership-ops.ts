import { EtcdClient } from '../client'
import { formatId, parseId } from '../server/ids'
import { freePorts } from './ports'
import { ClusterOperationError, clusterTlsFiles, ensureClusterCertificates, type LocalCluster } from './launcher'
import type { ManifestMember } from './manifest'
import { join } from 'node:path'

// Membership changes of a local cluster through the etcd API (works for both engines), plus the process
// work around them: a new member gets ports and a data dir and is started to join; a removed member is
// stopped and never started again.

/** A client for the cluster (with the root client certificate of a TLS cluster). */
export function clusterClient(cluster: LocalCluster, endpoints = cluster.activeMembers().map((m) => m.clientURL), callTimeoutMs = 10_000): EtcdClient {
  const tls = cluster.manifest.tls ? clusterTlsFiles(cluster.manifest.tls) : undefined
  return new EtcdClient({ endpoints, callTimeoutMs, ...(tls ? { tls } : {}) })
}

const client = clusterClient

async function idOf(cluster: LocalCluster, member: ManifestMember): Promise<bigint> {
  if (member.id) return parseId(member.id)
  const etcd = client(cluster)
  try {
    const { members } = await etcd.cluster.memberList()
    const found = members.find((m) => m.peerUrls.includes(member.peerURL))
    if (!found) throw new ClusterOperationError(`member ${member.name} is not in the cluster's member list`)
    member.id = formatId(found.id)
    cluster.save()
    return found.id
  } finally {
    etcd.close()
  }
}

/** The member the cluster currently reports as leader. */
export async function currentLeader(cluster: LocalCluster): Promise<ManifestMember> {
  for (const member of cluster.activeMembers()) {
    const etcd = client(cluster, [member.clientURL])
    try {
      const status = await etcd.maintenance.status({ timeoutMs: 2000 })
      if (status.leader !== 0n) {
        const leader = cluster.activeMembers().find((m) => m.id === formatId(status.leader))
        if (leader) return leader
        // IDs may not be recorded yet: resolve them once.
        for (const m of cluster.activeMembers()) await idOf(cluster, m)
        const resolved = cluster.activeMembers().find((m) => m.id === formatId(status.leader))
        if (resolved) return resolved
      }
    } catch {
      // try the next member
    } finally {
      etcd.close()
    }
  }
  throw new ClusterOperationError('no member reports a leader (has the cluster lost quorum?)')
}

/**
 * The manifest entry of a member about to be added with `peerURL`: a data dir and log under the cluster dir,
 * free client (same scheme as the peer URL) and metrics ports; it starts with `--initial-cluster-state existing`.
 * Not recorded in the manifest yet.
 */
export async function plannedMember(cluster: LocalCluster, name: string, peerURL: string): Promise<ManifestMember> {
  const peer = new URL(peerURL)
  const [clientPort, metricsPort] = (await freePorts(3)).filter((port) => String(port) !== peer.port)
  return {
    name,
    id: '',
    clientURL: `${peer.protocol}//127.0.0.1:${clientPort}`,
    peerURL,
    metricsURL: `http://127.0.0.1:${metricsPort}`,
    dataDir: join(cluster.dir, name),
    logFile: join(cluster.dir, `${name}.log`),
    pid: 0,
    bootstrapped: false,
    added: true,
  }
}

/**
 * Runs a membership call again while it is refused with an error `retryable` accepts, every `delayMs` up to
 * `timeoutMs` (then the refusal is thrown); `onFirstRetry` is told once. Only for refusals that come before
 * anything is proposed, so a retry is safe.
 */
async function retryRefused<T>(
  call: () => Promise<T>,
  retryable: (message: string) => boolean,
  options: { timeoutMs: number; delayMs: number; onFirstRetry?: () => void },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs
  for (let retries = 0; ; retries++) {
    try {
      return await call()
    } catch (error) {
      if (!retryable((error as Error).message) || Date.now() > deadline) throw error
      if (retries === 0) options.onFirstRetry?.()
      await new Promise((resolve) => setTimeout(resolve, options.delayMs))
    }
  }
}

/**
 * Runs a membership change, waiting out "etcdserver: unhealthy cluster": etcd (and Quorum, as etcd) refuse
 * changes until every peer connection has been up for 5 s, e.g. just after a member restarted.
 */
function onceSettled<T>(change: () => Promise<T>, onProgress?: (line: string) => void): Promise<T> {
  return retryRefused(change, (message) => message.includes('unhealthy cluster'), {
    timeoutMs: 15_000,
    delayMs: 500,
    onFirstRetry: () => onProgress?.('waiting for peer connections to settle (membership changes wait until every peer has been connected for 5 s)'),
  })
}

/**
 * Adds a member (`etcdctl member add`), gives it ports and a data dir, starts it with
 * `--initial-cluster-state existing` and waits until it is healthy. Returns its manifest entry.
 */
export async function addMember(cluster: LocalCluster, options: { learner?: boolean; onProgress?: (line: string) => void } = {}): Promise<ManifestMember> {
  const taken = new Set(cluster.manifest.members.map((m) => m.name))
  let index = cluster.manifest.members.length + 1
  while (taken.has(`member${index}`)) index++
  const name = `member${index}`
  const [peerPort] = await freePorts(1)
  const scheme = cluster.manifest.tls ? 'https' : 'http'
  if (cluster.manifest.tls) await ensureClusterCertificates(cluster.dir, [name])
  const member = await plannedMember(cluster, name, `${scheme}://127.0.0.1:${peerPort}`)
  const etcd = client(cluster)
  try {
    const added = await onceSettled(() => etcd.cluster.memberAdd([member.peerURL], { isLearner: options.learner ?? false }), options.onProgress)
    member.id = formatId(added.member.id)
  } finally {
    etcd.close()
  }
  cluster.manifest.members.push(member)
  cluster.save()
  options.onProgress?.(`added ${name} (${member.id})${options.learner ? ' as a learner' : ''}; starting it`)
  await cluster.start(name, 60_000)
  return member
}

/**
 * Promotes a learner to voter once it has caught up: retries while the cluster answers "learner not ready"
 * (etcd refuses a learner below 90% of the leader's log), up to `timeoutMs`.
 */
export async function promoteMember(cluster: LocalCluster, name: string, timeoutMs = 30_000): Promise<void> {
  const member = cluster.member(name)
  const id = await idOf(cluster, member)
  const etcd = client(cluster)
  try {
    await retryRefused(() => etcd.cluster.memberPromote(id), (message) => message.includes('learner member which is in sync with leader'), {
      timeoutMs,
      delayMs: 300,
    })
  } finally {
    etcd.close()
  }
}

/** Moves leadership to `name` (etcd MoveLeader, sent to the current leader). */
export async function moveLeader(cluster: LocalCluster, name: string): Promise<void> {
  const target = cluster.member(name)
  const targetId = await idOf(cluster, target)
  const leader = await currentLeader(cluster)
  if (leader.name === name) return
  const etcd = client(cluster, [leader.clientURL])
  try {
    await etcd.maintenance.moveLeader(targetId, { endpoint: leader.clientURL })
  } finally {
    etcd.close()
  }
}

/**
 * Removes a member (etcd MemberRemove). If it leads, leadership moves to another voter first so the cluster
 * never waits for an election. The process is stopped afterwards and its data dir kept (it cannot rejoin).
 */
export async function removeMember(cluster: LocalCluster, name: string, options: { onProgress?: (line: string) => void } = {}): Promise<void> {
  const member = cluster.member(name)
  const id = await idOf(cluster, member)
  const leader = await currentLeader(cluster).catch(() => null)
  if (leader?.name === name) {
    const successor = cluster.activeMembers().find((m) => m.name !== name)
    if (!successor) throw new ClusterOperationError('cannot remove the only member of the cluster')
    await moveLeader(cluster, successor.name)
  }
  const etcd = client(cluster, cluster.activeMembers().filter((m) => m.name !== name).map((m) => m.clientURL))
  try {
    await onceSettled(() => etcd.cluster.memberRemove(id), options.onProgress)
  } finally {
    etcd.close()
  }
  member.removed = true
  cluster.save()
  await cluster.stopIfRunning(name)
}
