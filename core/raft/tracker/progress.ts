// A leader's view of one follower. Ported from etcd-io/raft tracker/progress.go (Apache-2.0).
import { assert } from '../../util/assert'
import { Inflights } from './inflights'

/**
 * How the leader replicates to a follower:
 *
 *   Probe ──(ack matches)──▶ Replicate ──(reject / unreachable)──▶ Probe
 *     │                          │
 *     └──(log compacted)──▶ Snapshot ◀──┘      Snapshot ──(follower caught up / reportSnapshot)──▶ Probe
 *
 * Probe: at most one MsgApp per heartbeat interval until the match point is found.
 * Replicate: optimistic pipelining of MsgApp, bounded by the inflights window.
 * Snapshot: a MsgSnap is in flight; nothing else is sent until it is reported.
 */
export enum ProgressState {
  Probe = 0,
  Replicate = 1,
  Snapshot = 2,
}

/** Per-follower replication state. Invariant: match < next. */
export class Progress {
  /** Highest index known to be replicated on the follower. */
  match = 0
  /** Next index to send. */
  next: number
  state = ProgressState.Probe
  /** In Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0
  /** Whether the follower was heard from since the last CheckQuorum round. */
  recentActive = false
  /** In Probe state: a MsgApp was sent and we wait for its reply (or the next heartbeat) before sending more. */
  msgAppFlowPaused = false
  inflights: Inflights
  isLearner: boolean

  constructor(next: number, maxInflight: number, maxInflightBytes: number, isLearner: boolean) {
    this.next = next
    this.inflights = new Inflights(maxInflight, maxInflightBytes)
    this.isLearner = isLearner
  }

  /** An independent copy (membership changes are computed on copies). */
  clone(): Progress {
    const c = new Progress(this.next, this.inflights.maxCount, this.inflights.maxBytes, this.isLearner)
    c.match = this.match
    c.state = this.state
    c.pendingSnapshot = this.pendingSnapshot
    c.recentActive = this.recentActive
    c.msgAppFlowPaused = this.msgAppFlowPaused
    c.inflights = this.inflights.clone()
    return c
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false
    this.pendingSnapshot = 0
    this.state = state
    this.inflights.reset()
  }

  becomeProbe(): void {
    // After a snapshot, resume probing right after it (etcd: max(match+1, pendingSnapshot+1)).
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot
      this.resetState(ProgressState.Probe)
      this.next = Math.max(this.match + 1, pending + 1)
    } else {
      this.resetState(ProgressState.Probe)
      this.next = this.match + 1
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate)
    this.next = this.match + 1
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot)
    this.pendingSnapshot = snapshotIndex
  }

  /**
   * Bookkeeping after sending a MsgApp with `entries` entries of `bytes` bytes starting right after
   * `next - 1`. In Replicate state next moves optimistically; in Probe state further sends pause.
   */
  sentEntries(entries: number, bytes: number): void {
    switch (this.state) {
      case ProgressState.Replicate:
        if (entries > 0) {
          this.next += entries
          this.inflights.add(this.next - 1, bytes)
        }
        this.msgAppFlowPaused = this.inflights.full()
        break
      case ProgressState.Probe:
        if (entries > 0) this.msgAppFlowPaused = true
        break
      default:
        assert(false, `sending append in unhandled progress state ${ProgressState[this.state]}`)
    }
  }

  /** Acknowledges that the follower has entries up to `n`. Returns false if the ack is stale. */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false
    this.match = n
    this.next = Math.max(this.next, n + 1)
    this.msgAppFlowPaused = false
    return true
  }

  /**
   * Handles a rejected MsgApp for index `rejected` with the follower's hint `matchHint` (fast back-off,
   * Raft thesis §5.3 end / etcd findConflictByTerm). Returns false if the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // A rejection below match is stale (out of order delivery).
      if (rejected <= this.match) return false
      this.next = this.match + 1
      return true
    }
    // Probe/Snapshot: only the rejection of the last probe is meaningful.
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1)
    this.msgAppFlowPaused = false
    return true
  }

  /** Whether the leader must hold off sending MsgApp to this follower. */
  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.msgAppFlowPaused
      case ProgressState.Replicate:
        return this.msgAppFlowPaused
      case ProgressState.Snapshot:
        return true
    }
  }

  describe(): string {
    let s = `${ProgressState[this.state]} match=${this.match} next=${this.next}`
    if (this.isLearner) s += ' learner'
    if (this.isPaused()) s += ' paused'
    if (this.state === ProgressState.Snapshot) s += ` pendingSnap=${this.pendingSnapshot}`
    if (this.inflights.count() > 0) s += ` inflight=${this.inflights.count()}`
    if (this.inflights.full()) s += '[full]'
    return s
  }
}
