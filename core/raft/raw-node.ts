// The public façade of the Raft core. Ported from etcd-io/raft rawnode.go (Apache-2.0), synchronous storage
// writes only (etcd's default): the host persists each Ready before sending its messages and calls advance().
import { encodeConfChange } from './confchange/codec'
import { ConfChangeError } from './confchange/confchange'
import { ProposalDroppedError, RaftConfigError, StepLocalMessageError, StepPeerNotFoundError } from './errors'
import { Raft, isLocalMessage, isResponseMessage, newMessage, type Config, type Status } from './raft'
import {
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type SoftState,
} from './types'
import { isEmptyHardState, isHardStateEqual, payloadsSize } from './util'

/** Re-exported so hosts need only raw-node.ts: the node configuration and status snapshot. */
export type { Config, Status } from './raft'

/** What the last ready() handed out, to be marked durable/applied by advance(). */
interface AcceptedReady {
  lastEntry?: { index: number; term: number }
  snapshotIndex?: number
  lastCommitted?: number
  committedSize: number
}

/**
 * A single Raft node driven by its host. The host loop (core/server/node-host.ts) does, in this order:
 *
 *   tick() on a timer; step() for each received message; propose()/readIndex() for client requests;
 *   when hasReady(): rd = ready(); persist rd.snapshot + rd.hardState + rd.entries in one durable write;
 *   send rd.messages; apply rd.snapshot then rd.committedEntries (applyConfChange for conf change entries);
 *   advance().
 *
 * Not thread-safe (nothing in JS is); no I/O, clock or randomness except the Config's rand.
 */
export class RawNode {
  readonly raft: Raft
  private prevSoftState: SoftState
  private prevHardState: HardState
  private accepted: AcceptedReady | undefined

  constructor(config: Config) {
    this.raft = new Raft(config)
    this.prevSoftState = this.raft.softState()
    this.prevHardState = this.raft.hardState()
  }

  /**
   * Bootstraps a brand-new cluster member (etcd-io/raft RawNode.Bootstrap): writes ConfChange entries adding
   * `voters` (then `learners`) at term 1 as committed entries 1..n and applies them. The next Ready carries
   * them (and the HardState) for the host to persist and apply. Every initial member bootstraps with the same
   * lists, so their logs agree; members added later start empty and catch up from the log or a snapshot.
   * Throws RaftConfigError if storage is not empty.
   */
  bootstrap(voters: NodeId[], learners: NodeId[] = []): void {
    if (voters.length === 0) throw new RaftConfigError('must provide at least one voter to bootstrap')
    if (this.raft.raftLog.storage.lastIndex() !== 0) throw new RaftConfigError("can't bootstrap a nonempty storage")
    // Nothing is persisted yet: start from an empty HardState so the first Ready carries one.
    this.prevHardState = { term: 0, vote: NONE, commit: 0 }
    this.raft.becomeFollower(1, NONE)
    const changes: ConfChange[] = [
      ...voters.map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId, context: new Uint8Array(0) })),
      ...learners.map((nodeId) => ({ type: ConfChangeType.AddLearnerNode, nodeId, context: new Uint8Array(0) })),
    ]
    const entries: Entry[] = changes.map((cc, i) => ({ term: 1, index: i + 1, type: EntryType.ConfChange, data: encodeConfChange(cc) }))
    this.raft.raftLog.append(entries)
    this.raft.raftLog.committed = entries.length
    for (const cc of changes) this.raft.applyConfChange(cc)
  }

  /** Advances logical time by one tick (election timeouts and heartbeats are counted in ticks). */
  tick(): void {
    this.raft.tick()
  }

  /** Starts an election now (a pre-election if preVote is on). */
  campaign(): void {
    this.raft.step(newMessage(MessageType.MsgHup, { from: this.raft.id }))
  }

  /**
   * Proposes `data` for the log. On a follower the proposal is forwarded to the leader (and may still be
   * lost: success here does not mean it will commit). Throws ProposalDroppedError when dropped at once.
   */
  propose(data: Uint8Array): void {
    this.proposeEntries([{ term: 0, index: 0, type: EntryType.Normal, data }])
  }

  /** Proposes several entries in one message (they are appended together). */
  proposeBatch(datas: Uint8Array[]): void {
    this.proposeEntries(datas.map((data) => ({ term: 0, index: 0, type: EntryType.Normal, data })))
  }

  /**
   * Proposes a membership change. It takes effect when the host applies the committed entry with
   * applyConfChange. A change proposed while another is unapplied is replaced by an empty entry.
   */
  proposeConfChange(cc: ConfChange): void {
    this.proposeEntries([{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) }])
  }

  private proposeEntries(entries: Entry[]): void {
    this.raft.step(newMessage(MessageType.MsgProp, { from: this.raft.id, entries }))
  }

  /**
   * Applies a committed conf change to the configuration and returns the new ConfState (to be stored with
   * the next snapshot). A rejected change (e.g. removing the last voter) leaves the configuration as it was
   * and returns the current ConfState; every member rejects it the same way since they apply the same log.
   */
  applyConfChange(cc: ConfChange): ConfState {
    try {
      return this.raft.applyConfChange(cc)
    } catch (e) {
      if (e instanceof ConfChangeError) return this.raft.status().config
      throw e
    }
  }

  /**
   * Processes a message from the network. Local message types are refused (StepLocalMessageError), responses
   * from unknown peers are refused (StepPeerNotFoundError). A proposal forwarded by a follower that this
   * leader drops is ignored silently, as etcd does: the proposer learns by timeout.
   */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new StepLocalMessageError(MessageType[m.type])
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from)) throw new StepPeerNotFoundError(m.from)
    try {
      this.raft.step(m)
    } catch (e) {
      if (e instanceof ProposalDroppedError && m.from !== this.raft.id) return
      throw e
    }
  }

  /** Asks the leader to hand leadership to `transferee` (thesis §3.10). Takes effect on the leader only. */
  transferLeader(transferee: NodeId): void {
    this.raft.step(newMessage(MessageType.MsgTransferLeader, { from: transferee }))
  }

  /**
   * Requests a linearizable read point. When confirmed, a ReadState with `ctx` appears in a later Ready;
   * once the host has applied up to its index, reading local state is linearizable (thesis §6.4). The
   * request may be silently lost (no leader, leader change): the host retries on timeout. `ctx` should be unique.
   */
  readIndex(ctx: Uint8Array): void {
    this.raft.step(newMessage(MessageType.MsgReadIndex, { context: ctx }))
  }

  /** Reports that the last message to `id` could not be delivered (the leader falls back to probing). */
  reportUnreachable(id: NodeId): void {
    this.raft.step(newMessage(MessageType.MsgUnreachable, { from: id }))
  }

  /** Reports the outcome of sending a snapshot to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(newMessage(MessageType.MsgSnapStatus, { from: id, reject: !ok }))
  }

  status(): Status {
    return this.raft.status()
  }

  /** Whether ready() would return anything. */
  hasReady(): boolean {
    const r = this.raft
    if (!isSoftStateEqual(r.softState(), this.prevSoftState)) return true
    const hs = r.hardState()
    if (!isEmptyHardState(hs) && !isHardStateEqual(hs, this.prevHardState)) return true
    if (r.raftLog.nextUnstableSnapshot() !== undefined) return true
    if (r.msgs.length > 0 || r.readStates.length > 0) return true
    return r.raftLog.hasNextUnstableEnts() || r.raftLog.hasNextCommittedEnts(true)
  }

  /**
   * Everything the host must do next (see the class comment for the order). Call advance() after handling
   * it before the next ready(). The returned arrays belong to the host.
   */
  ready(): Ready {
    const r = this.raft
    const entries = r.raftLog.nextUnstableEnts()
    // Committed entries may still be unstable: the host persists entries before applying (etcd compat:
    // applyUnstableEntries in synchronous mode).
    const committedEntries = r.raftLog.nextCommittedEnts(true)
    const snapshot = r.raftLog.nextUnstableSnapshot()
    const rd: Ready = {
      entries,
      committedEntries,
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: false,
    }
    const ss = r.softState()
    if (!isSoftStateEqual(ss, this.prevSoftState)) rd.softState = ss
    const hs = r.hardState()
    if (!isHardStateEqual(hs, this.prevHardState)) rd.hardState = hs
    if (snapshot) rd.snapshot = snapshot
    // etcd MustSync: term, vote or entries changed (the commit index alone can be recovered).
    rd.mustSync = entries.length > 0 || snapshot !== undefined || hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote

    // Accept: the next ready() must not hand out the same things again.
    this.prevSoftState = ss
    this.prevHardState = hs
    r.msgs = []
    r.readStates = []
    r.raftLog.acceptUnstable()
    const last = entries[entries.length - 1]
    const lastCommitted = committedEntries[committedEntries.length - 1]
    if (lastCommitted) r.raftLog.acceptApplying(lastCommitted.index)
    this.accepted = {
      lastEntry: last ? { index: last.index, term: last.term } : this.accepted?.lastEntry,
      snapshotIndex: snapshot?.metadata.index ?? this.accepted?.snapshotIndex,
      lastCommitted: lastCommitted?.index ?? this.accepted?.lastCommitted,
      committedSize: (this.accepted?.committedSize ?? 0) + payloadsSize(committedEntries),
    }
    return rd
  }

  /**
   * Tells Raft the host has persisted and applied everything of the last ready(): unstable entries become
   * stable, the snapshot is installed, and applied moves up.
   */
  advance(): void {
    const a = this.accepted
    this.accepted = undefined
    if (!a) return
    const r = this.raft
    if (a.lastEntry) r.raftLog.stableTo(a.lastEntry.index, a.lastEntry.term)
    if (a.snapshotIndex !== undefined) {
      r.raftLog.stableSnapTo(a.snapshotIndex)
      r.appliedTo(a.snapshotIndex, 0)
    }
    if (a.lastCommitted !== undefined) r.appliedTo(a.lastCommitted, a.committedSize)
  }

  /** The id of the node. */
  get id(): NodeId {
    return this.raft.id
  }

  /** Whether this node believes it is the leader. */
  isLeader(): boolean {
    return this.raft.lead === this.raft.id && this.raft.lead !== NONE
  }
}

function isSoftStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.raftState === b.raftState
}
