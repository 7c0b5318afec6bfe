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

/** One injected fault, for the report. Times are monotonic ms, like the history. */
export interface FaultRecord {
  kind: 'kill' | 'pause' | 'partition'
  member: number
  role: 'leader' | 'follower' | 'unknown'
  start: number
  end: number
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

async function pickTarget(cluster: ClusterUnderTest, family: FaultFamily, rand: Rand): Promise<{ member: number; role: FaultRecord['role'] }> {
  const leader = await waitForLeader(cluster, 15_000)
  const followers = cluster.members.map((_, i) => i).filter((i) => i !== leader)
  if (family.endsWith('leader')) return { member: leader, role: 'leader' }
  if (family.endsWith('follower')) return { member: followers[rand.int(followers.length)], role: 'follower' }
  const member = rand.int(cluster.members.length)
  return { member, role: member === leader ? 'leader' : 'follower' }
}

/**
 * Injects faults of one family in cycles until `untilMs` (monotonic): wait 1 s ± 200 ms (etcd robustness
 * `failpoint` cadence), pick a target, inject, recover, and wait for a leader again. A kill is SIGKILL then a
 * restart after 0.5–1.5 s; a pause is SIGSTOP for 1.5–3 s (longer than the 1 s election timeout) then SIGCONT;
 * a partition isolates the member from its peers (clients still reach it) for 2–4 s, then heals.
 * Every fault is recovered before this returns, also on error.
 */
export async function injectFaults(cluster: ClusterUnderTest, family: FaultFamily, rand: Rand, untilMs: number, log: FaultRecord[]): Promise<void> {
  if (family === 'none') return
  const kind: FaultRecord['kind'] = family.startsWith('kill') ? 'kill' : family.startsWith('pause') ? 'pause' : 'partition'
  const { partition } = cluster
  if (kind === 'partition' && !partition) throw new Error(`${cluster.label} cannot partition its network here`)
  while (monotonicMs() + 4000 < untilMs) {
    await sleep(800 + rand.next() * 400)
    const { member, role } = await pickTarget(cluster, family, rand)
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
