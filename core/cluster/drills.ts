import { formatId } from '../server/ids'
import { ClusterOperationError, type LocalCluster } from './launcher'
import {
  faultKey,
  linkProxyRequest,
  normalizeFault,
  planLinkProxies,
  readLinkProxyConfig,
  writeLinkProxyConfig,
  type LinkFaultSpec,
  type LinkProxyState,
} from './link-proxy'
import { clusterClient, currentLeader } from './membership-ops'
import { isAlive } from './process'

// Failure drills of local clusters (issue 15): network faults through the link proxies (partition, split,
// latency, loss, heal), the quorum maths that says which side can still write, and live probes that show it.
// Process faults (kill, pause, stop) are LocalCluster's own operations.

/** The network drills. */
export type DrillKind = 'partition' | 'split' | 'latency' | 'loss' | 'heal'

/** Which way a partition cuts: `both`; `out` the members' messages are lost; `in` nothing reaches them. */
export type PartitionDirection = 'both' | 'in' | 'out'

/** One drill to apply. Faults of other links stay unless the drill replaces them (heal clears all). */
export interface DrillRequest {
  kind: DrillKind
  /**
   * partition: the members to cut off from the rest; split: the minority side; both default to the leader.
   * latency and loss: with two or more members the links among them, with one the links from and to it,
   * with none every link.
   */
  members?: string[]
  /** partition and split: which way to cut (default both). */
  direction?: PartitionDirection
  /** latency: added round trip in ms (half each way), e.g. 200 for two regions apart. */
  ms?: number
  /** latency: added random round-trip jitter in ms (half each way). */
  jitterMs?: number
  /** loss: probability in [0, 1] that a chunk is lost (and retransmitted after a TCP timeout). */
  rate?: number
}

/** The directed links a drill touches, as [from, to] pairs of member names. */
export function drillLinks(names: readonly string[], request: DrillRequest): Array<[string, string]> {
  const chosen = request.members ?? []
  for (const name of chosen) if (!names.includes(name)) throw new ClusterOperationError(`no member named "${name}" (members: ${names.join(', ')})`)
  const pairs = names.flatMap((from) => names.filter((to) => to !== from).map((to): [string, string] => [from, to]))
  switch (request.kind) {
    case 'heal':
      return pairs
    case 'partition':
    case 'split': {
      if (chosen.length === 0) throw new ClusterOperationError(`${request.kind} needs at least one member`)
      if (chosen.length >= names.length) throw new ClusterOperationError(`${request.kind} needs members on both sides`)
      const direction = request.direction ?? 'both'
      return pairs.filter(([from, to]) => {
        const out = chosen.includes(from) && !chosen.includes(to)
        const into = !chosen.includes(from) && chosen.includes(to)
        return direction === 'both' ? out || into : direction === 'out' ? out : into
      })
    }
    case 'latency':
    case 'loss':
      if (chosen.length === 0) return pairs
      if (chosen.length === 1) return pairs.filter(([from, to]) => from === chosen[0] || to === chosen[0])
      return pairs.filter(([from, to]) => chosen.includes(from) && chosen.includes(to))
  }
}

/**
 * The complete fault table after `request`, starting from `current` (key `from>to`). Partitions set
 * `blocked`, latency and loss set their numbers and keep the rest of each link's fault; heal clears all.
 */
export function planDrill(names: readonly string[], current: Readonly<Record<string, LinkFaultSpec>>, request: DrillRequest): Record<string, LinkFaultSpec> {
  if (request.kind === 'heal') return {}
  const next: Record<string, LinkFaultSpec> = { ...current }
  for (const [from, to] of drillLinks(names, request)) {
    const key = faultKey(from, to)
    const fault = normalizeFault(current[key] ?? {})
    switch (request.kind) {
      case 'partition':
      case 'split':
        next[key] = { ...fault, blocked: true }
        break
      case 'latency':
        next[key] = normalizeFault({ ...fault, delayMs: (request.ms ?? 0) / 2, jitterMs: (request.jitterMs ?? 0) / 2 })
        break
      case 'loss':
        next[key] = normalizeFault({ ...fault, lossRate: request.rate ?? 0 })
        break
    }
  }
  return next
}

/** Who can still talk to whom, and what the quorum maths says about it. */
export interface QuorumAnalysis {
  voters: number
  /** floor(voters / 2) + 1 (Raft thesis §3.6: a majority must acknowledge every commit and every vote). */
  quorumSize: number
  /** Groups of members connected both ways (a one-way cut counts as a cut: Raft needs the replies). */
  sides: string[][]
  /** The side with at least quorumSize voters, or null when no side has one. */
  majoritySide: string[] | null
  /** Plain-words explanation for the UI and the CLI. */
  explanation: string
}

function listNames(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`
}

/**
 * Splits `names` (the voters) into sides by the blocked links of `faults` and explains which side keeps a
 * quorum. Latency and loss do not cut a link; they are mentioned when present.
 */
export function analyzeQuorum(names: readonly string[], faults: Readonly<Record<string, LinkFaultSpec>>): QuorumAnalysis {
  const quorumSize = Math.floor(names.length / 2) + 1
  const cut = (a: string, b: string) => faults[faultKey(a, b)]?.blocked === true || faults[faultKey(b, a)]?.blocked === true
  const sides: string[][] = []
  const seen = new Set<string>()
  for (const start of names) {
    if (seen.has(start)) continue
    const side: string[] = []
    const queue = [start]
    seen.add(start)
    while (queue.length > 0) {
      const name = queue.shift()!
      side.push(name)
      for (const other of names) {
        if (!seen.has(other) && !cut(name, other)) {
          seen.add(other)
          queue.push(other)
        }
      }
    }
    sides.push(side.sort())
  }
  sides.sort((a, b) => b.length - a.length)
  const majoritySide = sides[0].length >= quorumSize ? sides[0] : null
  const parts: string[] = []
  if (sides.length === 1) {
    parts.push(`All ${names.length} members can talk: ${names.length} of ${names.length} ≥ quorum ${quorumSize}, so the cluster elects a leader and accepts writes.`)
  } else if (majoritySide) {
    const others = sides.filter((side) => side !== majoritySide)
    parts.push(
      `${listNames(majoritySide)} can talk: ${majoritySide.length} of ${names.length} ≥ quorum ${quorumSize}, so quorum is held on their side: they keep (or elect) a leader and accept writes.`,
    )
    for (const side of others) {
      parts.push(
        `${listNames(side)} ${side.length === 1 ? 'is' : 'are'} cut off: ${side.length} of ${names.length} < ${quorumSize}, so ${side.length === 1 ? 'it' : 'they'} cannot elect a leader or commit writes (writes there time out) until the partition heals.`,
      )
    }
  } else {
    parts.push(
      `No side has a quorum (largest side ${sides[0].length} of ${names.length} < ${quorumSize}): no leader can be elected and no write can commit anywhere until the partition heals.`,
    )
  }
  const slow = Object.entries(faults).filter(([, fault]) => !fault.blocked && (fault.delayMs > 0 || fault.jitterMs > 0))
  if (slow.length > 0) {
    const maxRoundTrip = Math.max(...slow.map(([, fault]) => 2 * fault.delayMs))
    parts.push(
      `${slow.length} link direction(s) are slowed (up to ${maxRoundTrip} ms added round trip): a write commits when a quorum has it, so commit latency grows by the round trip to the fastest majority; heartbeats arrive later, and round trips near the election timeout cause needless elections.`,
    )
  }
  const lossy = Object.values(faults).filter((fault) => !fault.blocked && fault.lossRate > 0)
  if (lossy.length > 0) {
    parts.push(`${lossy.length} link direction(s) lose chunks (TCP resends them after ≥ 200 ms): latency spikes, and heavy loss can look like a partition.`)
  }
  return { voters: names.length, quorumSize, sides, majoritySide, explanation: parts.join(' ') }
}

/** Whether the cluster in `cluster.dir` has link proxies (network drills enabled). */
export function drillsEnabled(cluster: LocalCluster): boolean {
  return readLinkProxyConfig(cluster.dir) !== null
}

/**
 * Enables network drills on an existing quorum-engine cluster: plans a proxy per directed pair of the active
 * members, starts the proxy process and restarts the running members one at a time (each waits for health,
 * so quorum is kept) so they dial through the proxies. Idempotent: with proxies already set up it only makes
 * sure the proxy process runs.
 */
export async function enableDrills(cluster: LocalCluster, onProgress?: (line: string) => void): Promise<void> {
  if (cluster.manifest.engine !== 'quorum') throw new ClusterOperationError('network drills need the quorum engine (etcd cannot dial through the link proxies)')
  if (drillsEnabled(cluster)) {
    await cluster.ensureLinkProxies()
    return
  }
  const ports = cluster.manifest.members.flatMap((member) => [member.clientURL, member.peerURL, member.metricsURL].map((url) => Number(new URL(url).port)))
  writeLinkProxyConfig(cluster.dir, await planLinkProxies(cluster.activeMembers(), ports))
  await cluster.ensureLinkProxies()
  for (const member of cluster.activeMembers()) {
    if (!isAlive(member.pid)) continue
    await cluster.restart(member.name)
    onProgress?.(`member ${member.name} restarted with its peer links through the proxies`)
  }
}

/** The faults in force and live connection counts, straight from the proxy process. */
export async function linkState(cluster: LocalCluster): Promise<LinkProxyState> {
  await cluster.ensureLinkProxies()
  return linkProxyRequest(cluster.dir, 'GET')
}

/**
 * Applies a network drill and returns the quorum analysis of the new fault table. Partition and split without
 * members cut off the current leader.
 */
export async function applyDrill(cluster: LocalCluster, request: DrillRequest): Promise<QuorumAnalysis> {
  const config = readLinkProxyConfig(cluster.dir)
  if (!config) throw new ClusterOperationError('network drills are not enabled on this cluster (`quorum cluster drill enable` restarts each member once)')
  // Members added after drills were enabled have no proxied links: they are left out of every drill.
  const linked = new Set(config.links.map((link) => link.from))
  const names = cluster.activeMembers().map((member) => member.name).filter((name) => linked.has(name))
  const resolved = { ...request }
  if ((request.kind === 'partition' || request.kind === 'split') && (request.members ?? []).length === 0) {
    resolved.members = [(await currentLeader(cluster)).name]
  }
  const state = await linkState(cluster)
  const faults = planDrill(names, state.faults, resolved)
  const next = await linkProxyRequest(cluster.dir, 'PUT', { faults, replace: true })
  return analyzeQuorum(names, next.faults)
}

/** What one member reports during a drill. */
export interface DrillMemberView {
  name: string
  running: boolean
  /** Name of the leader this member follows ('' when it knows none or did not answer). */
  leader: string
  raftTerm: number | null
  /** Whether a write sent to this member committed within the probe's deadline (null: not probed). */
  canWrite: boolean | null
  writeMs: number | null
  error: string
}

/** A live look at a cluster under drill: each member's view, the faults, and the quorum maths. */
export interface DrillReport {
  members: DrillMemberView[]
  faults: Record<string, LinkFaultSpec>
  analysis: QuorumAnalysis
}

/**
 * Asks every active member for its leader and term and (with `probeWrites`) sends it one write with a
 * `timeoutMs` deadline (key `quorum-drill/probe`), so the report shows which side can really write.
 */
export async function drillReport(cluster: LocalCluster, options: { probeWrites?: boolean; timeoutMs?: number } = {}): Promise<DrillReport> {
  const timeoutMs = options.timeoutMs ?? 2000
  const faults = drillsEnabled(cluster) ? (await linkState(cluster)).faults : {}
  const members = cluster.activeMembers()
  await recordMemberIds(cluster, timeoutMs)
  const views = await Promise.all(
    members.map(async (member): Promise<DrillMemberView> => {
      const view: DrillMemberView = { name: member.name, running: isAlive(member.pid), leader: '', raftTerm: null, canWrite: null, writeMs: null, error: '' }
      if (!view.running) return { ...view, error: 'not running' }
      const client = clusterClient(cluster, [member.clientURL], timeoutMs)
      try {
        const status = await client.maintenance.status({ timeoutMs })
        view.raftTerm = status.raftTerm
        view.leader = status.leader === 0n ? '' : (members.find((m) => m.id === formatId(status.leader))?.name ?? formatId(status.leader))
        if (options.probeWrites) {
          const started = Date.now()
          // One deadline for the probe; an error that comes back early (a leader change, no leader yet) is
          // retried inside it, so a member that just joined the new leader's term is not reported as cut off.
          for (;;) {
            const left = timeoutMs - (Date.now() - started)
            try {
              await client.kv.put('quorum-drill/probe', `${member.name} ${new Date().toISOString()}`, {}, { timeoutMs: Math.max(left, 1) })
              view.canWrite = true
              view.writeMs = Date.now() - started
              view.error = ''
              break
            } catch (error) {
              view.canWrite = false
              view.error = (error as Error).message
              if (timeoutMs - (Date.now() - started) < 250) break
              await new Promise((resolve) => setTimeout(resolve, 200))
            }
          }
        }
      } catch (error) {
        view.error = (error as Error).message
      } finally {
        client.close()
      }
      return view
    }),
  )
  return { members: views, faults, analysis: analyzeQuorum(members.map((member) => member.name), faults) }
}

/**
 * Fills in member IDs the manifest does not know yet (clusters started by the app record none) from the
 * member list of any answering member, matching by peer URL, so leaders can be shown by name.
 */
async function recordMemberIds(cluster: LocalCluster, timeoutMs: number): Promise<void> {
  const unknown = cluster.activeMembers().filter((member) => member.id === '')
  if (unknown.length === 0) return
  for (const member of cluster.activeMembers().filter((m) => isAlive(m.pid))) {
    const client = clusterClient(cluster, [member.clientURL], timeoutMs)
    try {
      const { members } = await client.cluster.memberList()
      for (const target of unknown) {
        const listed = members.find((m) => m.peerUrls.includes(target.peerURL))
        if (listed) target.id = formatId(listed.id)
      }
      cluster.save()
      return
    } catch {
      // try the next member
    } finally {
      client.close()
    }
  }
}

/** Latency figures of sequential puts, in ms. */
export interface PutLatency {
  count: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

/** The value at quantile `q` (nearest rank) of `samples` (not modified). */
export function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
}

/** Sends `count` sequential puts (key `quorum-drill/latency`) through `endpoint` and measures each. */
export async function measurePuts(cluster: LocalCluster, endpoint: string, count: number, timeoutMs = 5000): Promise<PutLatency> {
  const client = clusterClient(cluster, [endpoint], timeoutMs)
  const samples: number[] = []
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now()
      await client.kv.put('quorum-drill/latency', String(i), {}, { timeoutMs })
      samples.push(performance.now() - started)
    }
  } finally {
    client.close()
  }
  const round = (value: number) => Math.round(value * 10) / 10
  return { count, p50Ms: round(quantile(samples, 0.5)), p99Ms: round(quantile(samples, 0.99)), maxMs: round(Math.max(...samples)) }
}
