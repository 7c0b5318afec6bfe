// Majority quorum maths. Ported from etcd-io/raft quorum/majority.go (Apache-2.0), reduced to what
// single-step membership changes need (no joint configurations).
import type { NodeId } from '../types'

/** Outcome of counting votes: still open, won by a majority, or lost (a majority can no longer be reached). */
export enum VoteResult {
  Pending = 1,
  Lost = 2,
  Won = 3,
}

/**
 * The index that a majority of `voters` has acknowledged: the largest index `i` such that at least
 * floor(n/2)+1 voters report `ackedIndex(id) >= i`. An empty configuration commits everything
 * (Number.MAX_SAFE_INTEGER), as in etcd, so that callers take min() with other bounds.
 */
export function committedIndex(voters: ReadonlySet<NodeId>, ackedIndex: (id: NodeId) => number | undefined): number {
  const n = voters.size
  if (n === 0) return Number.MAX_SAFE_INTEGER
  const indexes: number[] = []
  for (const id of voters) indexes.push(ackedIndex(id) ?? 0)
  indexes.sort((a, b) => a - b)
  // The (n/2+1)-th largest: e.g. n=5 sorted ascending [1,2,3,4,5], quorum 3 acked index 3 = indexes[5-3].
  return indexes[n - (Math.floor(n / 2) + 1)]
}

/**
 * Tallies `votes` (true = granted) over `voters`. Missing voters count as pending. An empty configuration
 * wins (etcd compat: this lets a learner-only or fresh node that is not a voter never block).
 */
export function voteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return VoteResult.Won
  let granted = 0
  let missing = 0
  for (const id of voters) {
    const v = votes.get(id)
    if (v === undefined) missing++
    else if (v) granted++
  }
  const q = Math.floor(voters.size / 2) + 1
  if (granted >= q) return VoteResult.Won
  if (granted + missing >= q) return VoteResult.Pending
  return VoteResult.Lost
}
