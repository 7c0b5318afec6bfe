import { etcdctl } from '../support/etcd'
import type { ClusterUnderTest } from './cluster'
import { monotonicMs } from './history'

/** HashKV of every member at one revision (etcd robustness `CheckEndOfTestHashKV`). */
export interface Convergence {
  revision: number
  /** Per member: the hash as a decimal string, or null if the member never answered in time. */
  hashes: Array<string | null>
  /** True iff every member answered with the same hash. */
  equal: boolean
}

/** One member's HashKV at `revision` through etcdctl (a black-box client), or null on any error. */
function hashKv(clientUrl: string, revision: number): string | null {
  // NB: etcd3 1.1.2 cannot call HashKV (it looks up the grpc method `hashKV`, grpc-js names it `hashKv`).
  const result = etcdctl(clientUrl, ['endpoint', 'hashkv', `--rev=${revision}`, '-w', 'json', '--command-timeout=2s'])
  if (result.status !== 0) return null
  const [answer] = JSON.parse(result.stdout) as Array<{ HashKV?: { hash?: number } }>
  return answer?.HashKV?.hash === undefined ? null : String(answer.HashKV.hash)
}

/**
 * Asks every member for Maintenance.HashKV at `revision`, retrying for up to `timeoutMs` while a member is
 * still catching up ("future revision") or restarting. Members that hold the same keyspace history up to
 * `revision` must return the same hash.
 */
export async function checkConvergence(members: ClusterUnderTest['members'], revision: number, timeoutMs = 15_000): Promise<Convergence> {
  const deadline = monotonicMs() + timeoutMs
  const hashes: Array<string | null> = []
  for (const member of members) {
    let hash = hashKv(member.clientUrl, revision)
    while (hash === null && monotonicMs() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200)) // not caught up yet: ask again
      hash = hashKv(member.clientUrl, revision)
    }
    hashes.push(hash)
  }
  return { revision, hashes, equal: hashes.every((h) => h !== null && h === hashes[0]) }
}
