// The Raft state machine. Ported from etcd-io/raft raft.go (Apache-2.0), with single-step membership changes
// and synchronous storage writes (the host persists each Ready before advance()). Section numbers refer to
// the Raft paper (§5.x) and Ongaro's thesis (thesis §x.y).
import { assert } from '../util/assert'
import type { Rand } from '../util/rand'
import { applySimple, restoreConfState, type ChangeResult } from './confchange/confchange'
import { ProposalDroppedError, RaftConfigError, type ProposalDropReason } from './errors'
import { RaftLog } from './log'
import { VoteResult, voteResult } from './quorum/majority'
import { ReadOnly, type ReadOnlyOption } from './read-only'
import { CompactedError, SnapshotTemporarilyUnavailableError, UnavailableError, type RaftStorage } from './storage'
import { Progress, ProgressState } from './tracker/progress'
import { ProgressTracker, confStateOf } from './tracker/tracker'
import {
  EntryType,
  MessageType,
  NONE,
  StateType,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type ReadState,
  type Snapshot,
  type SoftState,
} from './types'
import { NO_LIMIT, bytesEqual, isEmptyHardState, payloadsSize } from './util'

/** Configuration of one Raft node. Sizes are bytes; times are ticks. */
export interface Config {
  /** This node's id (non-zero). */
  id: NodeId
  /** Ticks without hearing from a leader before a follower campaigns (default 10). Must exceed heartbeatTick. */
  electionTick?: number
  /** Ticks between leader heartbeats (default 1). */
  heartbeatTick?: number
  storage: RaftStorage
  /**
   * The last applied index when restarting (0 = the storage's snapshot index): committed entries at or below
   * it are not handed out again. NB: conf change entries at or below it are then not re-delivered either, so
   * storage.initialState().confState must be the configuration as of `applied` (not only as of the snapshot).
   * Leaving it 0 and skipping already-applied normal entries in the host, as etcd does, avoids the issue.
   */
  applied?: number
  /** Max bytes of entries per MsgApp (default 1 MiB; 0 = one entry per message). */
  maxSizePerMsg?: number
  /** Max bytes of committed entries per Ready (default = no limit). */
  maxCommittedSizePerReady?: number
  /** Max MsgApp in flight per follower in Replicate state (default 256). */
  maxInflightMsgs?: number
  /** Max bytes in flight per follower (default 0 = unlimited). */
  maxInflightBytes?: number
  /** Max payload bytes of uncommitted entries on the leader; proposals beyond are dropped (default unlimited). */
  maxUncommittedEntriesSize?: number
  /** Leader steps down when it has not heard from a quorum within an election timeout (thesis §6.2). */
  checkQuorum?: boolean
  /** Run a pre-election before incrementing the term (thesis §9.6). */
  preVote?: boolean
  readOnlyOption?: ReadOnlyOption
  /** A leader removed from (or demoted out of) the voters steps down (default true; etcd's default is false). */
  stepDownOnRemoval?: boolean
  /** Source of election jitter: the timeout is drawn from [electionTick, 2*electionTick). */
  rand: Rand
  /** Optional log sink for notable events. */
  logger?: (level: 'debug' | 'info' | 'warn', message: string) => void
}

/** Why a campaign started: pre-election, real election, or leadership transfer (skips pre-vote and leases). */
export enum CampaignType {
  PreElection = 'pre-election',
  Election = 'election',
  Transfer = 'transfer',
}

/** Marks a MsgVote sent because of leadership transfer, so followers grant it despite their lease. */
export const CAMPAIGN_TRANSFER = new TextEncoder().encode('CampaignTransfer')

/** Copy of one follower's progress for status(). */
export interface ProgressStatus {
  match: number
  next: number
  state: ProgressState
  isLearner: boolean
  recentActive: boolean
  paused: boolean
}

/** A snapshot of a node's state (for hosts, UI and tests). */
export interface Status {
  id: NodeId
  term: number
  vote: NodeId
  commit: number
  applied: number
  lead: NodeId
  raftState: StateType
  /** Only on the leader: every tracked node's replication progress. */
  progress: Map<NodeId, ProgressStatus>
  leadTransferee: NodeId
  config: ConfState
}

/** A blank message of `type`; callers fill the fields they need. */
export function newMessage(type: MessageType, fields: Partial<Message> = {}): Message {
  return {
    type,
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: new Uint8Array(0),
    ...fields,
  }
}

/** Messages only the local node generates; they must not arrive from the network. */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum
  )
}

/** Responses, which are only meaningful from a node in the configuration. */
export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp
  )
}

function voteRespType(t: MessageType): MessageType {
  return t === MessageType.MsgVote ? MessageType.MsgVoteResp : MessageType.MsgPreVoteResp
}

/**
 * The Raft state machine of one node. Not used directly by hosts: RawNode wraps it with the Ready cycle.
 * Invariant: applied <= committed <= lastIndex; the node never sends or writes, it only appends to `msgs`.
 */
export class Raft {
  readonly id: NodeId
  term = 0
  vote: NodeId = NONE
  lead: NodeId = NONE
  state = StateType.Follower
  isLearner = false
  readonly raftLog: RaftLog
  readonly trk: ProgressTracker
  /** Outbox, handed to the host by Ready. */
  msgs: Message[] = []
  readStates: ReadState[] = []
  readOnly: ReadOnly
  /** The node we are handing leadership to, or NONE. */
  leadTransferee: NodeId = NONE
  /** Index of the latest conf change in the log; only one may be unapplied at a time. */
  pendingConfIndex = 0
  /** Payload bytes of uncommitted entries appended as leader. */
  uncommittedSize = 0
  /** ReadIndex requests that arrived before the leader committed an entry of its term (thesis §6.4). */
  pendingReadIndexMessages: Message[] = []

  private electionElapsed = 0
  private heartbeatElapsed = 0
  private randomizedElectionTimeout = 0
  readonly electionTimeout: number
  readonly heartbeatTimeout: number
  readonly checkQuorum: boolean
  readonly preVote: boolean
  readonly stepDownOnRemoval: boolean
  private readonly maxMsgSize: number
  private readonly maxUncommittedSize: number
  private readonly rand: Rand
  private readonly log: (level: 'debug' | 'info' | 'warn', message: string) => void

  constructor(c: Config) {
    if (c.id === NONE) throw new RaftConfigError('cannot use none as id')
    this.id = c.id
    this.electionTimeout = c.electionTick ?? 10
    this.heartbeatTimeout = c.heartbeatTick ?? 1
    if (this.heartbeatTimeout <= 0) throw new RaftConfigError('heartbeat tick must be greater than 0')
    if (this.electionTimeout <= this.heartbeatTimeout) throw new RaftConfigError('election tick must be greater than heartbeat tick')
    const maxInflight = c.maxInflightMsgs ?? 256
    if (maxInflight <= 0) throw new RaftConfigError('max inflight messages must be greater than 0')
    const maxInflightBytes = c.maxInflightBytes ?? 0
    this.maxMsgSize = c.maxSizePerMsg ?? 1024 * 1024
    if (maxInflightBytes > 0 && maxInflightBytes < this.maxMsgSize) {
      throw new RaftConfigError('max inflight bytes must be >= max message size')
    }
    this.maxUncommittedSize = c.maxUncommittedEntriesSize || NO_LIMIT
    this.checkQuorum = c.checkQuorum ?? false
    this.preVote = c.preVote ?? false
    this.stepDownOnRemoval = c.stepDownOnRemoval ?? true
    const option = c.readOnlyOption ?? 'safe'
    if (option === 'lease-based' && !this.checkQuorum) {
      throw new RaftConfigError('CheckQuorum must be enabled when ReadOnlyOption is lease-based')
    }
    this.readOnly = new ReadOnly(option)
    this.rand = c.rand
    this.log = c.logger ?? (() => undefined)
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady || NO_LIMIT)
    this.trk = new ProgressTracker(maxInflight, maxInflightBytes)

    const { hardState, confState } = c.storage.initialState()
    const restored = restoreConfState(confState, this.changerContext())
    this.switchToConfig(restored)
    if (!isEmptyHardState(hardState)) this.loadState(hardState)
    if (c.applied) this.raftLog.appliedTo(c.applied)
    this.becomeFollower(this.term, NONE)
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed }
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state }
  }

  status(): Status {
    const progress = new Map<NodeId, ProgressStatus>()
    if (this.state === StateType.Leader) {
      for (const id of this.trk.sortedIds()) {
        const pr = this.trk.progress.get(id) as Progress
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
          paused: pr.isPaused(),
        })
      }
    }
    return {
      id: this.id,
      term: this.term,
      vote: this.vote,
      commit: this.raftLog.committed,
      applied: this.raftLog.applied,
      lead: this.lead,
      raftState: this.state,
      progress,
      leadTransferee: this.leadTransferee,
      config: confStateOf(this.trk.config),
    }
  }

  private changerContext() {
    return {
      lastIndex: this.raftLog.lastIndex(),
      maxInflight: this.trk.maxInflight,
      maxInflightBytes: this.trk.maxInflightBytes,
    }
  }

  private loadState(hs: HardState): void {
    assert(
      hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(),
      () => `${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
    )
    this.raftLog.committed = hs.commit
    this.term = hs.term
    this.vote = hs.vote
  }

  // ---- sending ----

  /** Queues `m` in the outbox, stamping from and (except for proposals and forwarded reads) the term. */
  private send(m: Message): void {
    m.from = this.id
    if (
      m.type === MessageType.MsgVote ||
      m.type === MessageType.MsgVoteResp ||
      m.type === MessageType.MsgPreVote ||
      m.type === MessageType.MsgPreVoteResp
    ) {
      // Vote messages carry the term they are about (the next term for a pre-vote), set by the caller.
      assert(m.term !== 0, () => `term should be set when sending ${MessageType[m.type]}`)
    } else {
      assert(m.term === 0, () => `term should not be set when sending ${MessageType[m.type]} (was ${m.term})`)
      // Proposals and ReadIndex are forwarded to the leader as local messages (term 0).
      if (m.type !== MessageType.MsgProp && m.type !== MessageType.MsgReadIndex) m.term = this.term
    }
    this.msgs.push(m)
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true)
  }

  /**
   * Sends a MsgApp with new entries (or an empty one if sendIfEmpty) to `to`, or a snapshot if the entries it
   * needs were compacted. Returns whether a message was sent.
   */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to)
    if (!pr || pr.isPaused()) return false
    const prevIndex = pr.next - 1
    let prevTerm: number
    try {
      prevTerm = this.raftLog.term(prevIndex)
    } catch (e) {
      // The log was compacted past what the follower needs: send a snapshot instead.
      if (e instanceof CompactedError || e instanceof UnavailableError) return this.maybeSendSnapshot(to, pr)
      throw e
    }
    // In a throttled Replicate state send only an empty MsgApp: if every inflight message was lost, its ack
    // or rejection still frees the window (etcd compat).
    let entries: Entry[] = []
    if (pr.state !== ProgressState.Replicate || !pr.inflights.full()) {
      entries = this.raftLog.entries(pr.next, this.maxMsgSize)
    }
    if (entries.length === 0 && !sendIfEmpty) return false
    this.send(
      newMessage(MessageType.MsgApp, { to, index: prevIndex, logTerm: prevTerm, entries, commit: this.raftLog.committed }),
    )
    pr.sentEntries(entries.length, payloadsSize(entries))
    return true
  }

  /** Sends the latest snapshot to a follower whose next entries were compacted away (§7). */
  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) {
      this.log('debug', `ignore sending snapshot to ${to} since it is not recently active`)
      return false
    }
    let snapshot: Snapshot
    try {
      snapshot = this.raftLog.snapshot()
    } catch (e) {
      if (e instanceof SnapshotTemporarilyUnavailableError) {
        this.log('debug', `${this.id} failed to send snapshot to ${to} because snapshot is temporarily unavailable`)
        return false
      }
      throw e
    }
    assert(snapshot.metadata.index > 0, 'need non-empty snapshot')
    pr.becomeSnapshot(snapshot.metadata.index)
    this.send(newMessage(MessageType.MsgSnap, { to, snapshot }))
    return true
  }

  private sendHeartbeat(to: NodeId, context: Uint8Array): void {
    const pr = this.trk.progress.get(to) as Progress
    // Never advance a follower's commit beyond what it is known to have (it might not have the entries).
    const commit = Math.min(pr.match, this.raftLog.committed)
    this.send(newMessage(MessageType.MsgHeartbeat, { to, commit, context }))
  }

  private forEachPeer(f: (id: NodeId, pr: Progress) => void): void {
    for (const id of this.trk.sortedIds()) {
      if (id !== this.id) f(id, this.trk.progress.get(id) as Progress)
    }
  }

  private bcastAppend(): void {
    this.forEachPeer((id) => this.sendAppend(id))
  }

  private bcastHeartbeat(): void {
    this.bcastHeartbeatWithCtx(this.readOnly.lastPendingRequestCtx() ?? new Uint8Array(0))
  }

  private bcastHeartbeatWithCtx(ctx: Uint8Array): void {
    this.forEachPeer((id) => this.sendHeartbeat(id, ctx))
  }

  // ---- state transitions ----

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term
      this.vote = NONE
    }
    this.lead = NONE
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.resetRandomizedElectionTimeout()
    this.abortLeaderTransfer()
    this.trk.resetVotes()
    const last = this.raftLog.lastIndex()
    for (const [id, pr] of this.trk.progress) {
      const fresh = new Progress(last + 1, this.trk.maxInflight, this.trk.maxInflightBytes, pr.isLearner)
      if (id === this.id) fresh.match = last
      this.trk.progress.set(id, fresh)
    }
    this.pendingConfIndex = 0
    this.uncommittedSize = 0
    this.readOnly = new ReadOnly(this.readOnly.option)
    this.pendingReadIndexMessages = []
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rand.int(this.electionTimeout)
  }

  /** Whether the randomized election timeout elapsed (§5.2). */
  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term)
    this.lead = lead
    this.state = StateType.Follower
    this.log('info', `${this.id} became follower at term ${this.term}`)
  }

  private becomeCandidate(): void {
    assert(this.state !== StateType.Leader, 'invalid transition [leader -> candidate]')
    this.reset(this.term + 1)
    this.vote = this.id
    this.state = StateType.Candidate
    this.log('info', `${this.id} became candidate at term ${this.term}`)
  }

  private becomePreCandidate(): void {
    assert(this.state !== StateType.Leader, 'invalid transition [leader -> pre-candidate]')
    // A pre-candidate changes neither term nor vote (thesis §9.6).
    this.trk.resetVotes()
    this.lead = NONE
    this.state = StateType.PreCandidate
    this.log('info', `${this.id} became pre-candidate at term ${this.term}`)
  }

  private becomeLeader(): void {
    assert(this.state !== StateType.Follower, 'invalid transition [follower -> leader]')
    this.reset(this.term)
    this.lead = this.id
    this.state = StateType.Leader
    const self = this.trk.progress.get(this.id) as Progress
    self.becomeReplicate()
    self.recentActive = true
    // Conservatively treat every entry up to the last index as a possible unapplied conf change.
    this.pendingConfIndex = this.raftLog.lastIndex()
    // The empty entry of the new term lets the leader commit earlier entries (§5.4.2, §8).
    const ok = this.appendEntry([{ term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }])
    assert(ok, 'empty entry was dropped')
    this.log('info', `${this.id} became leader at term ${this.term}`)
  }

  /** Whether this node may campaign: it is a voter and has no snapshot pending. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id)
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasNextOrInProgressSnapshot()
  }

  private hup(t: CampaignType): void {
    if (this.state === StateType.Leader) return
    if (!this.promotable()) {
      this.log('warn', `${this.id} is unpromotable and can not campaign`)
      return
    }
    // A node with an unapplied committed conf change must not campaign: it may be about to leave the config.
    if (this.raftLog.committed > this.raftLog.applied) {
      const ents = this.raftLog.slice(this.raftLog.applied + 1, this.raftLog.committed + 1, NO_LIMIT)
      if (ents.some((e) => e.type === EntryType.ConfChange)) {
        this.log('warn', `${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`)
        return
      }
    }
    this.campaign(t)
  }

  /** Starts a (pre-)election: votes for itself and asks every other voter (§5.2, thesis §9.6). */
  private campaign(t: CampaignType): void {
    let voteMsg: MessageType
    let term: number
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate()
      voteMsg = MessageType.MsgPreVote
      term = this.term + 1 // pre-votes are asked for the term we would campaign in
    } else {
      this.becomeCandidate()
      voteMsg = MessageType.MsgVote
      term = this.term
    }
    if (this.poll(this.id, true) === VoteResult.Won) {
      // Single voter: won already.
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election)
      else this.becomeLeader()
      return
    }
    const context = t === CampaignType.Transfer ? CAMPAIGN_TRANSFER : new Uint8Array(0)
    for (const id of this.trk.sortedIds()) {
      if (id === this.id || !this.trk.config.voters.has(id)) continue
      this.send(
        newMessage(voteMsg, { to: id, term, index: this.raftLog.lastIndex(), logTerm: this.raftLog.lastTerm(), context }),
      )
    }
  }

  private poll(id: NodeId, granted: boolean): VoteResult {
    this.trk.recordVote(id, granted)
    return this.trk.tallyVotes().result
  }

  // ---- ticks ----

  tick(): void {
    if (this.state === StateType.Leader) this.tickHeartbeat()
    else this.tickElection()
  }

  /** Followers and candidates: campaign after the randomized election timeout (§5.2). */
  private tickElection(): void {
    this.electionElapsed++
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0
      this.step(newMessage(MessageType.MsgHup, { from: this.id }))
    }
  }

  /** Leader: heartbeat every heartbeatTick; CheckQuorum and transfer timeout every electionTick. */
  private tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0
      if (this.checkQuorum) this.step(newMessage(MessageType.MsgCheckQuorum, { from: this.id }))
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.state === StateType.Leader && this.leadTransferee !== NONE) this.abortLeaderTransfer()
    }
    if (this.state !== StateType.Leader) return
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0
      this.step(newMessage(MessageType.MsgBeat, { from: this.id }))
    }
  }

  // ---- step ----

  /** Processes one message (network or local). Throws ProposalDroppedError for dropped local proposals. */
  step(m: Message): void {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER)
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout
        if (!force && inLease) {
          // Leader stickiness (thesis §4.2.3): we heard from a leader within the election timeout, so a
          // disruptive candidate (e.g. a rejoining partitioned node) is ignored without raising our term.
          this.log('info', `${this.id} [term: ${this.term}] ignored ${MessageType[m.type]} from ${m.from} at term ${m.term}: lease is not expired`)
          return
        }
      }
      if (m.type === MessageType.MsgPreVote) {
        // Never change our term in response to a pre-vote.
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // The term in a granted pre-vote response is the future term; we raise ours when we win.
      } else if (m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnap) {
        this.becomeFollower(m.term, m.from)
      } else {
        this.becomeFollower(m.term, NONE)
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)) {
        // A leader stranded by a partition would otherwise never learn of the new term when its messages are
        // ignored (with CheckQuorum/PreVote we don't raise terms on MsgVote). Tell it (etcd raft.go).
        this.send(newMessage(MessageType.MsgAppResp, { to: m.from }))
      } else if (m.type === MessageType.MsgPreVote) {
        // Reject so a pre-candidate with an old term does not wait forever.
        this.send(newMessage(MessageType.MsgPreVoteResp, { to: m.from, term: this.term, reject: true }))
      }
      return
    }

    switch (m.type) {
      case MessageType.MsgHup:
        this.hup(this.preVote ? CampaignType.PreElection : CampaignType.Election)
        return
      case MessageType.MsgVote:
      case MessageType.MsgPreVote: {
        // We can vote if this is a repeat of a vote we cast, or we have not voted and know no leader, or it
        // is a pre-vote for a future term (§5.2, §5.4.1, thesis §9.6).
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === MessageType.MsgPreVote && m.term > this.term)
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          // The response carries the message's term (for a pre-vote, the future term), not ours.
          this.send(newMessage(voteRespType(m.type), { to: m.from, term: m.term }))
          if (m.type === MessageType.MsgVote) {
            this.electionElapsed = 0
            this.vote = m.from
          }
        } else {
          this.send(newMessage(voteRespType(m.type), { to: m.from, term: this.term, reject: true }))
        }
        return
      }
      default:
        switch (this.state) {
          case StateType.Leader:
            this.stepLeader(m)
            return
          case StateType.Candidate:
          case StateType.PreCandidate:
            this.stepCandidate(m)
            return
          case StateType.Follower:
            this.stepFollower(m)
            return
        }
    }
  }

  private drop(reason: ProposalDropReason): never {
    throw new ProposalDroppedError(reason)
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.MsgBeat:
        this.bcastHeartbeat()
        return
      case MessageType.MsgCheckQuorum:
        if (!this.trk.quorumActive()) {
          this.log('warn', `${this.id} stepped down to follower since quorum is not active`)
          this.becomeFollower(this.term, NONE)
        }
        for (const [id, pr] of this.trk.progress) if (id !== this.id) pr.recentActive = false
        return
      case MessageType.MsgProp:
        this.leaderPropose(m)
        return
      case MessageType.MsgReadIndex:
        if (this.trk.isSingleton()) {
          this.respondToReadIndex(m, this.raftLog.committed)
          return
        }
        // Thesis §6.4: the leader must have committed an entry of its own term before its commit index is
        // known to be current; until then, park the request.
        if (!this.committedEntryInCurrentTerm()) {
          this.pendingReadIndexMessages.push(m)
          return
        }
        this.sendReadIndexResponse(m)
        return
    }

    const pr = this.trk.progress.get(m.from)
    if (!pr) return
    switch (m.type) {
      case MessageType.MsgAppResp:
        pr.recentActive = true
        if (m.reject) this.handleAppendRejection(m, pr)
        else this.handleAppendSuccess(m, pr)
        return
      case MessageType.MsgHeartbeatResp: {
        pr.recentActive = true
        pr.msgAppFlowPaused = false
        if (pr.match < this.raftLog.lastIndex() || pr.state === ProgressState.Probe) this.sendAppend(m.from)
        if (this.readOnly.option !== 'safe' || m.context.length === 0) return
        const acks = this.readOnly.recvAck(m.from, m.context)
        if (!acks || voteResult(this.trk.config.voters, acks) !== VoteResult.Won) return
        for (const rs of this.readOnly.advance(m.context)) this.respondToReadIndex(rs.req, rs.index)
        return
      }
      case MessageType.MsgSnapStatus:
        if (pr.state !== ProgressState.Snapshot) return
        if (m.reject) pr.pendingSnapshot = 0
        pr.becomeProbe()
        // Wait for the follower's next MsgAppResp or heartbeat before probing again (etcd compat).
        pr.msgAppFlowPaused = true
        return
      case MessageType.MsgUnreachable:
        // The last MsgApp may have been lost: fall back to probing.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe()
        return
      case MessageType.MsgTransferLeader: {
        if (pr.isLearner) return
        const transferee = m.from
        if (this.leadTransferee !== NONE) {
          if (this.leadTransferee === transferee) return
          this.abortLeaderTransfer()
        }
        if (transferee === this.id) return
        // Thesis §3.10: stop accepting proposals, bring the transferee up to date, then MsgTimeoutNow. The
        // transfer must finish within an election timeout.
        this.electionElapsed = 0
        this.leadTransferee = transferee
        if (pr.match === this.raftLog.lastIndex()) this.sendTimeoutNow(transferee)
        else this.sendAppend(transferee)
        return
      }
    }
  }

  private leaderPropose(m: Message): void {
    assert(m.entries.length > 0, `${this.id} stepped empty MsgProp`)
    if (!this.trk.progress.has(this.id)) this.drop('not-in-config')
    if (this.leadTransferee !== NONE) this.drop('leader-transfer')
    const entries = m.entries.map((e) => ({ ...e }))
    for (let i = 0; i < entries.length; i++) {
      if (entries[i].type !== EntryType.ConfChange) continue
      // One membership change at a time: a second one is replaced by an empty entry while an earlier one is
      // unapplied (etcd compat; thesis §4.1).
      if (this.pendingConfIndex > this.raftLog.applied) {
        this.log('info', `${this.id} ignoring conf change at index ${this.raftLog.lastIndex() + i + 1}: possible unapplied conf change at index ${this.pendingConfIndex} (applied to ${this.raftLog.applied})`)
        entries[i] = { term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) }
      } else {
        this.pendingConfIndex = this.raftLog.lastIndex() + i + 1
      }
    }
    if (!this.appendEntry(entries)) this.drop('uncommitted-size-limit')
    this.bcastAppend()
  }

  private handleAppendRejection(m: Message, pr: Progress): void {
    // Fast back-off: the follower's hint (index, term at it) lets us skip a whole term of mismatches at once
    // (§5.3 optimisation; etcd findConflictByTerm on both sides).
    let nextProbe = m.rejectHint
    if (m.logTerm > 0) nextProbe = this.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === ProgressState.Replicate) pr.becomeProbe()
      this.sendAppend(m.from)
    }
  }

  private handleAppendSuccess(m: Message, pr: Progress): void {
    const oldPaused = pr.isPaused()
    if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === ProgressState.Probe)) return
    if (pr.state === ProgressState.Probe) {
      pr.becomeReplicate()
    } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= this.raftLog.firstIndex()) {
      // The follower caught up past our compaction point (e.g. by another leader's entries): resume appends.
      pr.becomeProbe()
      pr.becomeReplicate()
    } else if (pr.state === ProgressState.Replicate) {
      pr.inflights.freeLE(m.index)
    }
    if (this.maybeCommit()) {
      this.releasePendingReadIndexMessages()
      this.bcastAppend()
    } else if (oldPaused) {
      this.sendAppend(m.from)
    }
    // Send as much as flow control allows.
    while (this.maybeSendAppend(m.from, false)) {
      // keep sending
    }
    if (m.from === this.leadTransferee && pr.match === this.raftLog.lastIndex()) {
      this.log('info', `${this.id} sent MsgTimeoutNow to ${m.from} after received MsgAppResp`)
      this.sendTimeoutNow(m.from)
    }
  }

  private stepCandidate(m: Message): void {
    const myVoteResp = this.state === StateType.PreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp
    switch (m.type) {
      case MessageType.MsgProp:
        this.drop('candidate')
        return
      case MessageType.MsgApp:
        this.becomeFollower(m.term, m.from) // a leader of our term exists (§5.2)
        this.handleAppendEntries(m)
        return
      case MessageType.MsgHeartbeat:
        this.becomeFollower(m.term, m.from)
        this.handleHeartbeat(m)
        return
      case MessageType.MsgSnap:
        this.becomeFollower(m.term, m.from)
        this.handleSnapshot(m)
        return
      case myVoteResp: {
        const result = this.poll(m.from, !m.reject)
        if (result === VoteResult.Won) {
          if (this.state === StateType.PreCandidate) {
            this.campaign(CampaignType.Election)
          } else {
            this.becomeLeader()
            this.bcastAppend()
          }
        } else if (result === VoteResult.Lost) {
          // A pre-candidate that lost keeps its term; a candidate keeps the term it raised.
          this.becomeFollower(this.term, NONE)
        }
        return
      }
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.MsgProp:
        if (this.lead === NONE) this.drop('no-leader')
        this.send({ ...m, to: this.lead })
        return
      case MessageType.MsgApp:
        this.electionElapsed = 0
        this.lead = m.from
        this.handleAppendEntries(m)
        return
      case MessageType.MsgHeartbeat:
        this.electionElapsed = 0
        this.lead = m.from
        this.handleHeartbeat(m)
        return
      case MessageType.MsgSnap:
        this.electionElapsed = 0
        this.lead = m.from
        this.handleSnapshot(m)
        return
      case MessageType.MsgTransferLeader:
        if (this.lead === NONE) return
        this.send({ ...m, to: this.lead, term: 0 })
        return
      case MessageType.MsgTimeoutNow:
        // Leadership transfer: campaign at once, skipping pre-vote; voters grant it despite their lease.
        this.hup(CampaignType.Transfer)
        return
      case MessageType.MsgReadIndex:
        if (this.lead === NONE) return
        this.send({ ...m, to: this.lead })
        return
      case MessageType.MsgReadIndexResp:
        this.readStates.push({ index: m.index, requestCtx: m.context })
        return
    }
  }

  // ---- follower handlers ----

  /** AppendEntries receiver (§5.3, Figure 2). */
  private handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Everything up to our commit index matches by the Log Matching property; tell the leader.
      this.send(newMessage(MessageType.MsgAppResp, { to: m.from, index: this.raftLog.committed }))
      return
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries)
    if (lastNew !== undefined) {
      this.send(newMessage(MessageType.MsgAppResp, { to: m.from, index: lastNew }))
      return
    }
    // Reject, with a hint: the largest index <= min(m.index, lastIndex) whose term <= m.logTerm. The leader
    // can skip every index after it (fast back-off, etcd-io/raft #35).
    const hint = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm)
    this.send(
      newMessage(MessageType.MsgAppResp, { to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }),
    )
  }

  private handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit)
    this.send(newMessage(MessageType.MsgHeartbeatResp, { to: m.from, context: m.context }))
  }

  private handleSnapshot(m: Message): void {
    const snap = m.snapshot
    assert(snap !== undefined, 'MsgSnap without snapshot')
    if (this.restore(snap)) {
      this.log('info', `${this.id} restored snapshot [index: ${snap.metadata.index}, term: ${snap.metadata.term}]`)
      this.send(newMessage(MessageType.MsgAppResp, { to: m.from, index: this.raftLog.lastIndex() }))
    } else {
      this.log('info', `${this.id} ignored snapshot [index: ${snap.metadata.index}, term: ${snap.metadata.term}]`)
      this.send(newMessage(MessageType.MsgAppResp, { to: m.from, index: this.raftLog.committed }))
    }
  }

  /** Installs a snapshot from the leader if it is newer than our commit and includes us (§7). */
  private restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false
    if (this.state !== StateType.Follower) {
      // Defense in depth (etcd): only a follower may restore; a non-follower must not be sent a snapshot.
      this.log('warn', `${this.id} attempted to restore snapshot as leader; should never happen`)
      this.becomeFollower(this.term + 1, NONE)
      return false
    }
    const cs = s.metadata.confState
    if (!cs.voters.includes(this.id) && !cs.learners.includes(this.id)) {
      this.log('warn', `${this.id} attempted to restore snapshot but it is not in the ConfState; should never happen`)
      return false
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the snapshot's last entry: just fast-forward the commit index.
      this.raftLog.commitTo(s.metadata.index)
      return false
    }
    this.raftLog.restore(s)
    this.switchToConfig(restoreConfState(cs, this.changerContext()))
    return true
  }

  // ---- leader helpers ----

  /** Appends entries as leader (stamping term and index); false if the uncommitted-size limit drops them. */
  private appendEntry(entries: Entry[]): boolean {
    let last = this.raftLog.lastIndex()
    for (let i = 0; i < entries.length; i++) {
      entries[i] = { ...entries[i], term: this.term, index: last + 1 + i }
    }
    if (!this.increaseUncommittedSize(entries)) {
      this.log('warn', `${this.id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`)
      return false
    }
    last = this.raftLog.append(entries)
    // The leader acknowledges its own entries at once; they are persisted before any message is sent.
    ;(this.trk.progress.get(this.id) as Progress | undefined)?.maybeUpdate(last)
    this.maybeCommit()
    return true
  }

  /** Advances the commit index to what a quorum has, if that entry is from our term (§5.4.2). */
  private maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term)
  }

  private increaseUncommittedSize(entries: Entry[]): boolean {
    const s = payloadsSize(entries)
    // The first proposal is always allowed so that a single large one cannot block forever.
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false
    this.uncommittedSize += s
    return true
  }

  /** Called as committed entries are applied. */
  reduceUncommittedSize(size: number): void {
    this.uncommittedSize = size > this.uncommittedSize ? 0 : this.uncommittedSize - size
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrZero(this.raftLog.committed) === this.term
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return
    const msgs = this.pendingReadIndexMessages
    this.pendingReadIndexMessages = []
    for (const m of msgs) this.sendReadIndexResponse(m)
  }

  private sendReadIndexResponse(m: Message): void {
    if (this.readOnly.option === 'safe') {
      // Record the commit index, then confirm leadership with a heartbeat round carrying the request context.
      this.readOnly.addRequest(this.raftLog.committed, m)
      this.readOnly.recvAck(this.id, m.context)
      this.bcastHeartbeatWithCtx(m.context)
    } else {
      this.respondToReadIndex(m, this.raftLog.committed)
    }
  }

  private respondToReadIndex(req: Message, readIndex: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: req.context })
      return
    }
    this.send(newMessage(MessageType.MsgReadIndexResp, { to: req.from, index: readIndex, context: req.context }))
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(newMessage(MessageType.MsgTimeoutNow, { to }))
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE
  }

  // ---- configuration ----

  /**
   * Applies a committed conf change. Computed on a copy: a rejected change throws ConfChangeError and leaves
   * the configuration untouched.
   */
  applyConfChange(cc: ConfChange): ConfState {
    const result = applySimple(this.trk.config, this.trk.progress, cc, this.changerContext())
    return this.switchToConfig(result)
  }

  private switchToConfig(result: ChangeResult): ConfState {
    this.trk.config = result.config
    this.trk.progress = result.progress
    const cs = confStateOf(this.trk.config)
    const pr = this.trk.progress.get(this.id)
    this.isLearner = pr !== undefined && pr.isLearner
    if ((pr === undefined || this.isLearner) && this.state === StateType.Leader) {
      // A removed or demoted leader stops leading (thesis §4.2.2) so the rest elect a new one.
      if (this.stepDownOnRemoval) this.becomeFollower(this.term, NONE)
      return cs
    }
    if (this.state !== StateType.Leader || cs.voters.length === 0) return cs
    // The quorum changed: maybe more is committed now; new nodes need appends.
    if (this.maybeCommit()) this.bcastAppend()
    else this.forEachPeer((id) => this.maybeSendAppend(id, false))
    if (this.leadTransferee !== NONE && !this.trk.config.voters.has(this.leadTransferee)) this.abortLeaderTransfer()
    return cs
  }

  /** Records that the host applied up to `index`; `size` payload bytes leave the uncommitted budget. */
  appliedTo(index: number, size: number): void {
    this.raftLog.appliedTo(Math.max(index, this.raftLog.applied))
    this.reduceUncommittedSize(size)
  }
}
