import { RawNode } from '../raft/raw-node'
import { decodeConfChange } from '../raft/confchange/codec'
import {
  EntryType,
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
} from '../raft/types'
import { assert } from '../util/assert'

/** The durable side of the Raft log, written only by the host. */
export interface HostLogStorage {
  /**
   * Makes snapshot (if any), entries and hard state durable in ONE transaction. Must not return before the
   * data is on disk when `mustSync` is true.
   */
  persistReady(ready: { hardState?: HardState; entries: Entry[]; snapshot?: Snapshot }, mustSync: boolean): void
  /**
   * Records a snapshot at applied `index` (its term comes from the log) with `confState`, and drops log
   * entries before `compactIndex` (<= index), keeping a catch-up margin for slow followers.
   */
  createSnapshot(index: number, confState: ConfState, compactIndex: number): void
}

/** The replicated state machine (MVCC, leases, auth, membership), applied by the host in log order. */
export interface StateMachine {
  /** Index of the last applied entry, as durably recorded with the state it produced. */
  appliedIndex(): number
  /** Applies one normal entry; records `entry.index` as applied in the same transaction. */
  applyEntry(entry: Entry): void
  /** Applies a membership change after Raft accepted it; records the index and the new ConfState. */
  applyConfChange(entry: Entry, change: ConfChange, confState: ConfState): void
  /** Replaces the whole state with a snapshot received from the leader. */
  restoreSnapshot(snapshot: Snapshot): void
}

/** What the host needs from the peer transport. */
export interface HostTransport {
  send(messages: readonly Message[]): void
}

export interface NodeHostOptions {
  node: RawNode
  log: HostLogStorage
  stateMachine: StateMachine
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
  /** Called once when a storage or apply step throws: the member must stop (fail-stop). */
  onFatal?: (error: Error) => void
  /** Durations for metrics: persist (fsync) and apply of each Ready, in ms. */
  onTimings?: (timings: { persistMs: number; applyMs: number; entries: number; committed: number }) => void
}

/**
 * Drives one RawNode. The only place that orders I/O; for every Ready, in this order:
 *
 *   1. persist snapshot + hard state + entries in one durable transaction   (Raft §5: state before messages)
 *   2. send messages                                                         (only after 1 is durable)
 *   3. restore the snapshot, then apply committed entries in log order       (each records its index)
 *   4. advance()
 *
 * Ticks come from a timer; Readies are processed on the next turn of the event loop after any input
 * (`step`, `propose`, tick), so proposals that arrive together are persisted in one write (batching).
 * Everything is synchronous (better-sqlite3), so no input interleaves with a Ready in progress.
 */
export class NodeHost {
  private readonly options: NodeHostOptions
  private tickTimer: NodeJS.Timeout | null = null
  private scheduled = false
  private stopped = false
  private appliedIndex: number
  private snapshotIndex: number
  private leader: NodeId = 0n
  private role: StateType = StateType.Follower

  constructor(options: NodeHostOptions) {
    this.options = options
    this.appliedIndex = options.stateMachine.appliedIndex()
    this.snapshotIndex = this.appliedIndex
  }

  /** The RawNode; callers (gRPC handlers) must call `kick()` after feeding it input. */
  get node(): RawNode {
    return this.options.node
  }

  /** Current leader as last reported by Raft (0n when unknown). */
  get leaderId(): NodeId {
    return this.leader
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

  /** Steps a message from a peer. */
  step(message: Message): void {
    if (this.stopped) return
    this.options.node.step(message)
    this.kick()
  }

  /** Schedules Ready processing for the next turn of the event loop (coalescing repeated calls). */
  kick(): void {
    if (this.scheduled || this.stopped) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.processReadies()
    })
  }

  /** Stops ticking and processing. Pending Readies are dropped; the durable state stays consistent. */
  stop(): void {
    this.stopped = true
    if (this.tickTimer) clearInterval(this.tickTimer)
    this.tickTimer = null
  }

  /** Processes every available Ready now (tests and shutdown call it directly). */
  processReadies(): void {
    const { node, log, stateMachine, transport } = this.options
    try {
      while (!this.stopped && node.hasReady()) {
        const ready = node.ready()
        if (ready.softState) {
          this.leader = ready.softState.lead
          this.role = ready.softState.raftState
          this.options.onSoftState?.(ready.softState)
        }
        const persistStart = performance.now()
        if (ready.hardState || ready.entries.length > 0 || ready.snapshot) {
          log.persistReady({ hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot }, ready.mustSync)
        }
        const persistMs = performance.now() - persistStart
        transport.send(ready.messages)
        const applyStart = performance.now()
        if (ready.snapshot) {
          stateMachine.restoreSnapshot(ready.snapshot)
          this.appliedIndex = ready.snapshot.metadata.index
          this.snapshotIndex = this.appliedIndex
        }
        for (const entry of ready.committedEntries) this.applyEntry(entry)
        if (ready.readStates.length > 0) this.options.onReadStates?.(ready.readStates)
        node.advance()
        if (ready.committedEntries.length > 0 || ready.snapshot) this.options.onApplied?.(this.appliedIndex)
        this.options.onTimings?.({
          persistMs,
          applyMs: performance.now() - applyStart,
          entries: ready.entries.length,
          committed: ready.committedEntries.length,
        })
        this.maybeSnapshot()
      }
    } catch (error) {
      this.stop()
      this.options.onFatal?.(error as Error)
    }
  }

  private applyEntry(entry: Entry): void {
    assert(entry.index === this.appliedIndex + 1 || entry.index <= this.appliedIndex, () => `apply gap: entry ${entry.index} after applied ${this.appliedIndex}`)
    if (entry.index <= this.appliedIndex) return // already applied before a restart (replay skips it)
    if (entry.type === EntryType.ConfChange) {
      const change = decodeConfChange(entry.data)
      const confState = this.options.node.applyConfChange(change)
      this.options.stateMachine.applyConfChange(entry, change, confState)
    } else {
      this.options.stateMachine.applyEntry(entry)
    }
    this.appliedIndex = entry.index
  }

  private maybeSnapshot(): void {
    const { snapshotCount } = this.options
    if (this.appliedIndex - this.snapshotIndex < snapshotCount) return
    const status = this.options.node.status()
    const catchUp = this.options.snapshotCatchUpEntries ?? 5000
    const compactIndex = Math.max(1, this.appliedIndex - catchUp)
    this.options.log.createSnapshot(this.appliedIndex, status.config, compactIndex)
    this.snapshotIndex = this.appliedIndex
  }
}
