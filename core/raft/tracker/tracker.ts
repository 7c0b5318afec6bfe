// The leader's bookkeeping of the configuration, progress and votes. Ported from etcd-io/raft
// tracker/tracker.go (Apache-2.0), single-step configurations only.
import type { ConfState, NodeId } from '../types'
import { committedIndex, voteResult, VoteResult } from '../quorum/majority'
import type { Progress } from './progress'
import { compareIds } from '../util'

/** The active membership: voters count toward quorum; learners only receive the log. Disjoint sets. */
export interface TrackerConfig {
  voters: Set<NodeId>
  learners: Set<NodeId>
}

/** A deep copy of `c`, so a change can be computed on it and swapped in only when valid. */
export function cloneConfig(c: TrackerConfig): TrackerConfig {
  return { voters: new Set(c.voters), learners: new Set(c.learners) }
}

/** Sorted ConfState of a config (sorted so that output is deterministic). */
export function confStateOf(c: TrackerConfig): ConfState {
  const sort = (s: Set<NodeId>): NodeId[] => [...s].sort(compareIds)
  return { voters: sort(c.voters), learners: sort(c.learners) }
}

/** Configuration, per-node progress and votes of the current election. */
export class ProgressTracker {
  config: TrackerConfig = { voters: new Set(), learners: new Set() }
  progress = new Map<NodeId, Progress>()
  votes = new Map<NodeId, boolean>()

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  /** Highest index replicated on a majority of voters. */
  committed(): number {
    return committedIndex(this.config.voters, (id) => this.progress.get(id)?.match)
  }

  /** Whether a majority of voters was recently active (CheckQuorum, Raft thesis §6.2). */
  quorumActive(): boolean {
    const votes = new Map<NodeId, boolean>()
    for (const [id, pr] of this.progress) if (!pr.isLearner) votes.set(id, pr.recentActive)
    return voteResult(this.config.voters, votes) === VoteResult.Won
  }

  /** Whether this node is the only voter: then it can commit and win elections alone. */
  isSingleton(): boolean {
    return this.config.voters.size === 1
  }

  /** Voter ids sorted ascending (deterministic iteration for message order). */
  sortedIds(): NodeId[] {
    return [...this.progress.keys()].sort(compareIds)
  }

  resetVotes(): void {
    this.votes.clear()
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted)
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0
    let rejected = 0
    for (const [id, v] of this.votes) {
      if (!this.config.voters.has(id)) continue
      if (v) granted++
      else rejected++
    }
    return { granted, rejected, result: voteResult(this.config.voters, this.votes) }
  }
}
