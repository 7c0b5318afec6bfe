import { RawNode } from '../raft/raw-node'
import { StepLocalMessageError, StepPeerNotFoundError } from '../raft/errors'
import {
  MessageType,
  StateType,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type ReadState,
  type Snapshot,
  type SoftState,
} from '../raft/types'
import { assert } from '../util/assert'
import { coalesceMessages } from './coalesce-messages'

/** What the host persists and applies for one Ready. */
export interface ReadyWork {
  hardState?: HardState
  entries: Entry[]
  snapshot?: Snapshot
  committedEntries: Entry[]
}

/** Applies a committed membership change to Raft and returns the resulting configuration. */
export type ConfChangeApplier = (change: ConfChange) => ConfState

/**
 * The member's durable state: Raft log and replicated state machine (MVCC, leases, auth, membership) in one
 * database, written only by the host.
 */
export interface HostStore {
  /** Index of the last applied entry, as durably recorded with the state it produced. */
  appliedIndex(): number
  /**
   * In ONE durable transaction, in this order: install the snapshot (log and state machine), append the
   * entries, store the hard state, apply the committed entries in log order (normal entries to the state
   * machine; conf changes through `applyConfChange`, then recorded) and record the last applied index.
   * Entries at or below the applied index are skipped (replay after a crash). Results for waiting callers
   * are published only after the commit, or, for a Ready that applies without syncing, once its commit is
   * deferred (`hasDeferredCommit`): a crash then loses only applied state that Raft replays.
   */
  commitReady(work: ReadyWork, applyConfChange: ConfChangeApplier): void
  /**
   * Whether a Ready that needed no fsync (only applied entries and a new commit index) was applied but left
   * uncommitted, to be committed with the next Ready's transaction (etcd batches backend commits the same way).
   */
  hasDeferredCommit?(): boolean
  /** Commits what `hasDeferredCommit` reports (the host calls it when no Ready came for a while). */
  commitDeferred?(): void
  /**
   * Records a snapshot at applied `index` (its term comes from the log) with `confState`, and drops log
   * entries before `compactIndex` (<= index), keeping a catch-up margin for slow followers.
   */
  createSnapshot(index: number, confState: ConfState, compactIndex: number): void
}

/** What the host needs from the peer transport. */
export interface HostTransport {
  send(messages: readonly Message[]): void
}

export interface NodeHostOptions {
  node: RawNode
  store: HostStore
  transport: HostTransport
  /** Wall-clock ms between Raft ticks (etcd: --heartbeat-interval; one heartbeat per tick). */
  tickMs: number
  /** Applied entries between snapshots (--snapshot-count). */
  snapshotCount: number
  /** Log entries kept behind a snapshot so slow followers can catch up without one (etcd: 5000). */
  snapshotCatchUpEntries?: number
  onSoftState?: (state: SoftState) => void
  onReadStates?: (states: ReadState[]) => void
  /** Called after every applied batch with the new applied index (wakes ReadIndex waiters). */
  onApplied?: (index: number) => void
  /**
   * Called when Readies are about to be taken, before the first one: the member feeds the proposals queued
   * since the last call to Raft in one batch (one MsgProp, one append, one round of MsgApps).
   */
  beforeReady?: () => void
  /** Called once when a storage or apply step throws: the member must stop (fail-stop). */
  onFatal?: (error: Error) => void
  /** Duration of each Ready's durable transaction (persist + apply + fsync) in ms, for metrics. */
  onTimings?: (timings: { commitMs: number; entries: number; committed: number }) => void
}

/**
 * How long applied entries may wait uncommitted for a Ready that commits them along (HostStore.hasDeferredCommit)
 * before the host commits them alone: under load the next append comes first, so they cost no commit (and no
 * fsync) of their own. etcd's backend commits its batch every 100 ms (--backend-batch-interval) the same way.
 */
const DEFERRED_COMMIT_MS = 100

/**
 * Message types a leader may send before its own log write of the same Ready is durable. Raft thesis
 * §10.2.1: the leader writes its log in parallel with replicating it; an entry still counts as committed only
 * once a quorum has it durably, and the leader applies nothing of a later Ready before this write is done.
 * etcd compat: etcdserver raft.go sends the leader's messages before saving the Ready to the WAL.
 */
const LEADER_EARLY_TYPES = new Set<MessageType>([MessageType.MsgApp, MessageType.MsgHeartbeat])

/**
 * Drives one RawNode. The only place that orders I/O; for every Ready, in this order:
 *
 *   0. leader only: send MsgApp/MsgHeartbeat, and let the socket flush before 1 (Raft thesis §10.2.1)
 *   1. one durable transaction: snapshot + entries + hard state, then the committed entries applied in log
 *      order with the applied index                          (Raft §5: state is durable before messages)
 *   2. send the other messages                                (only after 1 is on disk: acks, votes)
 *   3. advance(), then tell waiters what was applied
 *
 * Persisting and applying in one transaction costs one fsync per Ready instead of two; it is safe because
 * applying only reads entries that are committed, hence already durable on a quorum, and it is atomic. A Ready
 * that only applies (its hard state changed only the commit index) is not committed at all: the store leaves
 * it to the next Ready's transaction, or the host commits it after DEFERRED_COMMIT_MS without one.
 * Ticks come from a timer; Readies are processed on the next turn of the event loop after any input
 * (`step`, `propose`, tick), so proposals that arrive together are persisted in one write (group commit), and
 * everything that arrives while a write is in flight goes into the next one. Everything is synchronous
 * (better-sqlite3); the only gap is the one between 0 and 1, in which inputs may be stepped into Raft but no
 * other Ready is taken (RawNode allows step between ready() and advance()).
 */
export class NodeHost {
  private readonly options: NodeHostOptions
  private tickTimer: NodeJS.Timeout | null = null
  private deferredCommitTimer: NodeJS.Timeout | null = null
  private scheduled = false
  private stopped = false
  /** A leader Ready whose messages went out and whose write waits for the socket flush (step 0 -> 1). */
  private inFlight: Ready | null = null
  private appliedIndex: number
  private snapshotIndex: number
  private leader: NodeId = 0n
  private role: StateType = StateType.Follower
  private term = 0

  constructor(options: NodeHostOptions) {
    this.options = options
    this.appliedIndex = options.store.appliedIndex()
    this.snapshotIndex = this.appliedIndex
    this.term = options.node.status().term
  }

  /** The RawNode; callers (gRPC handlers) must call `kick()` after feeding it input. */
  get node(): RawNode {
    return this.options.node
  }

  /** Current leader as last reported by Raft (0n when unknown). */
  get leaderId(): NodeId {
    return this.leader
  }

  /** Current Raft term (from the last persisted HardState). */
  get currentTerm(): number {
    return this.term
  }

  /** Current Raft role. */
  get raftState(): StateType {
    return this.role
  }

  /** Index of the last applied entry. */
  get applied(): number {
    return this.appliedIndex
  }

  /** Starts ticking. */
  start(): void {
    this.tickTimer = setInterval(() => {
      this.options.node.tick()
      this.kick()
    }, this.options.tickMs)
    this.kick()
  }

  /**
   * Steps a message from a peer. etcd compat: responses from members that are no longer in the
   * configuration (a removed member's late answers) and local-only message types are dropped, not fatal.
   */
  step(message: Message): void {
    if (this.stopped) return
    try {
      this.options.node.step(message)
    } catch (error) {
      if (error instanceof StepPeerNotFoundError || error instanceof StepLocalMessageError) return
      throw error
    }
    this.kick()
  }

  /** Schedules Ready processing for the next turn of the event loop (coalescing repeated calls). */
  kick(): void {
    if (this.scheduled || this.stopped || this.inFlight) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.processReadies(true)
    })
  }

  /** Stops ticking and processing. Pending Readies are dropped; the durable state stays consistent. */
  stop(): void {
    this.stopped = true
    if (this.tickTimer) clearInterval(this.tickTimer)
    this.tickTimer = null
    if (this.deferredCommitTimer) clearTimeout(this.deferredCommitTimer)
    this.deferredCommitTimer = null
  }

  /**
   * Processes every available Ready now (tests and shutdown call it directly, synchronously). With
   * `pipelined`, a leader's Ready sends its MsgApp/MsgHeartbeat first and finishes on the next turn of the
   * event loop, so that the followers write while this member writes.
   */
  processReadies(pipelined = false): void {
    const { node, transport } = this.options
    try {
      if (this.inFlight) this.finishReady(this.inFlight)
      if (!this.stopped) this.options.beforeReady?.()
      while (!this.stopped && node.hasReady()) {
        const ready = node.ready()
        if (ready.softState) {
          this.leader = ready.softState.lead
          this.role = ready.softState.raftState
          this.options.onSoftState?.(ready.softState)
        }
        if (ready.hardState) this.term = ready.hardState.term
        const hasWrite = ready.hardState !== undefined || ready.entries.length > 0 || ready.snapshot !== undefined
        if (pipelined && this.role === StateType.Leader && hasWrite && ready.messages.some((m) => LEADER_EARLY_TYPES.has(m.type))) {
          transport.send(coalesceMessages(ready.messages.filter((m) => LEADER_EARLY_TYPES.has(m.type))))
          ready.messages = ready.messages.filter((m) => !LEADER_EARLY_TYPES.has(m.type))
          this.inFlight = ready
          setImmediate(() => this.processReadies(true))
          return
        }
        this.finishReady(ready)
      }
      if (!this.stopped && !this.deferredCommitTimer && this.options.store.hasDeferredCommit?.()) {
        this.deferredCommitTimer = setTimeout(() => this.commitDeferred(), DEFERRED_COMMIT_MS)
      }
    } catch (error) {
      this.fail(error as Error)
    }
  }

  private commitDeferred(): void {
    this.deferredCommitTimer = null
    if (this.stopped) return
    try {
      this.options.store.commitDeferred?.()
    } catch (error) {
      this.fail(error as Error)
    }
  }

  private fail(error: Error): void {
    this.stop()
    this.options.onFatal?.(error)
  }

  /** Steps 1-3 of a Ready (see the class comment). */
  private finishReady(ready: Ready): void {
    const { node, store, transport } = this.options
    this.inFlight = null
    if (this.stopped) return
    const started = performance.now()
    const committed = ready.committedEntries.filter((entry) => entry.index > this.appliedIndex)
    if (ready.hardState || ready.entries.length > 0 || ready.snapshot || committed.length > 0) {
      store.commitReady(
        { hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot, committedEntries: committed },
        (change) => node.applyConfChange(change),
      )
    }
    const commitMs = performance.now() - started
    if (ready.messages.length > 0) {
      transport.send(coalesceMessages(ready.messages))
    }
    if (ready.snapshot) {
      this.appliedIndex = ready.snapshot.metadata.index
      this.snapshotIndex = this.appliedIndex
    }
    if (committed.length > 0) {
      assert(committed[0].index === this.appliedIndex + 1, () => `apply gap: entry ${committed[0].index} after applied ${this.appliedIndex}`)
      this.appliedIndex = committed[committed.length - 1].index
    }
    if (ready.readStates.length > 0) this.options.onReadStates?.(ready.readStates)
    node.advance()
    if (committed.length > 0 || ready.snapshot) this.options.onApplied?.(this.appliedIndex)
    this.options.onTimings?.({ commitMs, entries: ready.entries.length, committed: committed.length })
    this.maybeSnapshot()
  }

  private maybeSnapshot(): void {
    const { snapshotCount } = this.options
    if (this.appliedIndex - this.snapshotIndex < snapshotCount) return
    const status = this.options.node.status()
    const catchUp = this.options.snapshotCatchUpEntries ?? 5000
    const compactIndex = Math.max(1, this.appliedIndex - catchUp)
    this.options.store.createSnapshot(this.appliedIndex, status.config, compactIndex)
    this.snapshotIndex = this.appliedIndex
  }
}
