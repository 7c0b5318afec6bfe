// Safety properties checked after every step of a simulation (Raft §5.4 / Figure 3): election safety, log
// matching, leader completeness via "committed entries never change", state machine safety, monotonic
// commit/applied, and linearizable ReadIndex.
import type { RawNode } from '../../../core/raft/raw-node'
import { StateType, type Entry, type NodeId } from '../../../core/raft/types'
import { NO_LIMIT, bytesKey } from '../../../core/raft/util'
import type { Cluster, SimNode, StateMachine } from './cluster'

/** A broken safety property; the message says which and where. */
export class InvariantViolation extends Error {
  override name = 'InvariantViolation'
}

function fail(msg: string): never {
  throw new InvariantViolation(msg)
}

function entryKey(e: Entry): string {
  return `${e.term}|${e.type}|${bytesKey(e.data)}`
}

/** Tracks what the cluster has promised so far and fails as soon as a promise is broken. */
export class Invariants {
  private readonly termLeader = new Map<number, NodeId>()
  /** index -> key of the committed entry (first seen). */
  private readonly committed = new Map<number, string>()
  /** index -> state machine hash after applying it. */
  private readonly appliedHash = new Map<number, number>()
  private readonly commitByIncarnation = new WeakMap<RawNode, number>()
  private readonly persisted = new Map<NodeId, { term: number; commit: number; applied: number }>()
  private readonly checkedCommit = new Map<NodeId, number>()
  /** Highest commit index any node has known: anything up to it may have been acknowledged to a client. */
  globalCommit = 0
  /** Outstanding ReadIndex requests: ctx -> the least index a linearizable answer may carry. */
  private readonly reads = new Map<string, number>()
  readsServed = 0
  leadersSeen = 0

  constructor(private readonly cluster: Cluster) {
    cluster.observer = {
      onApply: (n, e, sm) => this.onApply(n, e, sm),
      onRestoreSnapshot: (n, _s, sm) => this.checkHash(n, sm),
      onReadState: (n, index, ctx) => this.onReadState(n, index, ctx),
    }
  }

  /** Registers a ReadIndex request issued now. */
  readStarted(ctx: Uint8Array): void {
    this.reads.set(bytesKey(ctx), this.globalCommit)
  }

  private onReadState(n: SimNode, index: number, ctx: Uint8Array): void {
    const min = this.reads.get(bytesKey(ctx))
    if (min === undefined) return
    if (index < min) fail(`stale ReadIndex on node ${n.id}: read index ${index} < index ${min} committed before the read started`)
    this.readsServed++
  }

  private onApply(n: SimNode, e: Entry, sm: StateMachine): void {
    this.checkCommitted(n, e)
    this.checkHash(n, sm)
  }

  private checkHash(n: SimNode, sm: StateMachine): void {
    const h = this.appliedHash.get(sm.applied)
    if (h === undefined) this.appliedHash.set(sm.applied, sm.hash)
    else if (h !== sm.hash) fail(`node ${n.id} applied a different prefix up to ${sm.applied}`)
  }

  private checkCommitted(n: SimNode, e: Entry): void {
    const key = entryKey(e)
    const prev = this.committed.get(e.index)
    if (prev === undefined) this.committed.set(e.index, key)
    else if (prev !== key) fail(`committed entry ${e.index} changed on node ${n.id}: ${prev} vs ${key}`)
  }

  /** Checks every live node; `full` also checks log matching over whole logs. */
  check(full: boolean): void {
    for (const n of this.cluster.nodes.values()) {
      if (this.cluster.down.has(n.id) || this.cluster.removed.has(n.id)) continue
      this.checkNode(n, full)
    }
  }

  private checkNode(n: SimNode, full: boolean): void {
    const r = n.node.raft
    if (r.state === StateType.Leader) {
      const l = this.termLeader.get(r.term)
      if (l === undefined) {
        this.termLeader.set(r.term, n.id)
        this.leadersSeen++
      } else if (l !== n.id) fail(`two leaders in term ${r.term}: ${l} and ${n.id}`)
    }
    const commit = r.raftLog.committed
    const prevCommit = this.commitByIncarnation.get(n.node) ?? 0
    if (commit < prevCommit) fail(`node ${n.id} commit went back from ${prevCommit} to ${commit}`)
    this.commitByIncarnation.set(n.node, commit)
    this.globalCommit = Math.max(this.globalCommit, commit)

    const hs = n.storage.getHardState()
    const p = this.persisted.get(n.id) ?? { term: 0, commit: 0, applied: 0 }
    if (hs.term < p.term) fail(`node ${n.id} persisted term went back from ${p.term} to ${hs.term}`)
    if (hs.commit < p.commit) fail(`node ${n.id} persisted commit went back from ${p.commit} to ${hs.commit}`)
    if (n.sm.applied < p.applied) fail(`node ${n.id} applied went back from ${p.applied} to ${n.sm.applied}`)
    if (n.sm.applied > Math.max(hs.commit, n.storage.snapshot().metadata.index)) {
      fail(`node ${n.id} applied ${n.sm.applied} beyond its durable commit ${hs.commit}`)
    }
    this.persisted.set(n.id, { term: hs.term, commit: hs.commit, applied: n.sm.applied })

    // Newly committed entries must agree with what was committed before (leader completeness).
    const first = r.raftLog.firstIndex()
    const from = Math.max((this.checkedCommit.get(n.id) ?? 0) + 1, first)
    if (from <= commit) for (const e of r.raftLog.slice(from, commit + 1, NO_LIMIT)) this.checkCommitted(n, e)
    this.checkedCommit.set(n.id, Math.max(this.checkedCommit.get(n.id) ?? 0, commit))

    if (full) this.checkLog(n)
  }

  private readonly logPairs = new Map<string, string>()

  /**
   * Log matching (§5.3): entries with equal (index, term) have equal payloads and equal predecessors' terms,
   * so by induction the logs are identical up to them. Committed entries must match the committed record.
   */
  private checkLog(n: SimNode): void {
    const log = n.node.raft.raftLog
    const entries = log.allEntries()
    let prevTerm = log.termOrZero(log.firstIndex() - 1)
    for (const e of entries) {
      const k = `${e.index}:${e.term}`
      const v = `${prevTerm}|${entryKey(e)}`
      const seen = this.logPairs.get(k)
      if (seen === undefined) this.logPairs.set(k, v)
      else if (seen !== v) fail(`log matching violated at ${k} on node ${n.id}`)
      if (e.index <= log.committed) this.checkCommitted(n, e)
      prevTerm = e.term
    }
  }
}
