import type { Rand } from '../../core/util/rand'
import type { ClusterUnderTest } from './cluster'
import { monotonicMs } from './history'

/** One family of faults per scenario (as etcd's robustness suite injects one failpoint per run). */
export type FaultFamily =
  | 'none'
  | 'kill-leader'
  | 'kill-follower'
  | 'kill-random'
  | 'pause-leader'
  | 'pause-follower'
  | 'pause-random'
  | 'partition-leader'
  | 'partition-follower'
  | 'member-replace'
  | 'flaky-network'
  | 'slow-network'
  | 'clock-jump'
  | 'disk-full'

/** One injected fault, for the report. Times are monotonic ms, like the history. */
export interface FaultRecord {
  kind: 'kill' | 'pause' | 'partition' | 'membership' | 'network' | 'clock' | 'disk'
  /** Index of the member hit, or -1 for a fault of the whole network. */
  member: number
  role: 'leader' | 'follower' | 'unknown'
  start: number
  end: number
  /** Membership faults: whether the replacement joined as a learner (then was promoted). */
  learner?: boolean
  /** Network and clock faults: what was done ("30% loss", "256 kbit/s", "+31s then back"). */
  detail?: string
}

/** Thrown when the cluster does not recover from a fault in time (a liveness failure, not a harness bug). */
export class LivenessError extends Error {
  readonly code = 'LIVENESS'
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits up to `timeoutMs` for some member to report itself leader. */
export async function waitForLeader(cluster: ClusterUnderTest, timeoutMs: number): Promise<number> {
  const deadline = monotonicMs() + timeoutMs
  while (monotonicMs() < deadline) {
    const leader = await cluster.leaderIndex()
    if (leader !== null) return leader
    await sleep(100)
  }
  throw new LivenessError(`no leader within ${timeoutMs} ms`)
}

type Target = 'leader' | 'follower' | 'random'

async function pickTarget(cluster: ClusterUnderTest, target: Target, rand: Rand): Promise<{ member: number; role: FaultRecord['role'] }> {
  const leader = await waitForLeader(cluster, 15_000)
  const followers = cluster.members.map((_, i) => i).filter((i) => i !== leader)
  if (target === 'leader') return { member: leader, role: 'leader' }
  if (target === 'follower') return { member: followers[rand.int(followers.length)], role: 'follower' }
  const member = rand.int(cluster.members.length)
  return { member, role: member === leader ? 'leader' : 'follower' }
}

/** The fault kind of a family (families are named `<kind>-<target>`). */
function kindOf(family: Exclude<FaultFamily, 'none'>): FaultRecord['kind'] {
  if (family.startsWith('kill')) return 'kill'
  if (family.startsWith('pause')) return 'pause'
  if (family.startsWith('partition')) return 'partition'
  if (family.endsWith('network')) return 'network'
  if (family.startsWith('clock')) return 'clock'
  if (family.startsWith('disk')) return 'disk'
  return 'membership'
}

/**
 * Injects faults of one family in cycles until `untilMs` (monotonic): wait 1 s ± 200 ms (etcd robustness
 * `failpoint` cadence), pick a target, inject, recover, and wait for a leader again. A kill is SIGKILL then a
 * restart after 0.5–1.5 s; a pause is SIGSTOP for 1.5–3 s (longer than the 1 s election timeout) then SIGCONT;
 * a partition isolates the member from its peers (clients still reach it) for 2–4 s, then heals; a membership
 * fault replaces the member (`ClusterUnderTest.replaceMember`: remove it under load, wipe, add a fresh one);
 * a network fault drops 20–40% of all peer packets or throttles the loopback to 128–512 kbit/s for 2–4 s; a
 * clock fault jumps the leader's wall clock 20–40 s ahead for 2–4 s, then back; a disk fault fills the
 * members' (shared, tmpfs) disk for 2–4 s, then frees it and restarts members that stopped.
 * At least `minFaults` faults are injected even if that takes longer than `untilMs` (slow restarts on a loaded
 * machine). Every fault is recovered before this returns, also on error.
 */
export async function injectFaults(cluster: ClusterUnderTest, family: FaultFamily, rand: Rand, untilMs: number, log: FaultRecord[], minFaults = 0): Promise<void> {
  if (family === 'none') return
  const kind = kindOf(family)
  const { partition, replaceMember, degradeNetwork, setClockOffset, fillDisk } = cluster
  if (kind === 'partition' && !partition) throw new Error(`${cluster.label} cannot partition its network here`)
  if (kind === 'membership' && !replaceMember) throw new Error(`${cluster.label} cannot change its membership here`)
  if (kind === 'network' && !degradeNetwork) throw new Error(`${cluster.label} cannot degrade its network here`)
  if (kind === 'clock' && !setClockOffset) throw new Error(`${cluster.label} cannot shift its members' clocks here`)
  if (kind === 'disk' && !fillDisk) throw new Error(`${cluster.label} cannot fill its members' disk here`)
  for (let cycle = 0; monotonicMs() + 4000 < untilMs || cycle < minFaults; cycle++) {
    await sleep(800 + rand.next() * 400)
    // Membership: alternate a follower and the leader, so a short run removes both kinds.
    const target: Target = kind === 'membership' ? (cycle % 2 === 0 ? 'follower' : 'leader') : kind === 'clock' || family.endsWith('leader') ? 'leader' : family.endsWith('follower') ? 'follower' : 'random'
    const picked = await pickTarget(cluster, target, rand)
    const { member, role } = kind === 'network' || kind === 'disk' ? { member: -1, role: 'unknown' as const } : picked
    const record: FaultRecord = { kind, member, role, start: monotonicMs(), end: 0 }
    log.push(record)
    if (kind === 'kill') {
      await cluster.kill(member)
      try {
        await sleep(500 + rand.next() * 1000)
      } finally {
        await cluster.restart(member)
      }
    } else if (kind === 'pause') {
      cluster.pause(member)
      try {
        await sleep(1500 + rand.next() * 1500)
      } finally {
        cluster.resume(member)
      }
    } else if (kind === 'membership' && replaceMember) {
      record.learner = rand.next() < 0.5
      await replaceMember(member, { learner: record.learner })
    } else if (kind === 'network' && degradeNetwork) {
      const fault = family === 'flaky-network' ? { lossPercent: 20 + rand.int(21) } : { rateKbit: 128 + 128 * rand.int(4) }
      record.detail = 'lossPercent' in fault ? `${fault.lossPercent}% loss on every peer link` : `loopback limited to ${fault.rateKbit} kbit/s`
      degradeNetwork(fault)
      try {
        await sleep(2000 + rand.next() * 2000)
      } finally {
        degradeNetwork(null)
      }
    } else if (kind === 'clock' && setClockOffset) {
      // Wall-clock jump on the leader, past every lease TTL, then back: leases are timed by a monotonic clock.
      const offset = `+${20 + rand.int(21)}s`
      record.detail = `${offset} then back`
      setClockOffset(member, offset)
      try {
        await sleep(2000 + rand.next() * 2000)
      } finally {
        setClockOffset(member, '+0')
      }
    } else if (kind === 'disk' && fillDisk) {
      // The disk every member writes to fills up under load, stays full for 2-4 s, then is freed.
      const filler = await fillDisk()
      record.detail = `disk full (${(filler.bytes / 2 ** 20).toFixed(0)} MiB filler)`
      try {
        await sleep(2000 + rand.next() * 2000)
      } finally {
        await filler.release()
      }
    } else if (partition) {
      partition([[member], cluster.members.map((_, i) => i).filter((i) => i !== member)])
      try {
        await sleep(2000 + rand.next() * 2000)
      } finally {
        partition([])
      }
    }
    record.end = monotonicMs()
    await waitForLeader(cluster, 15_000)
  }
}
