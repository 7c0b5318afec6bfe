// A simulated Raft cluster for tests: real RawNodes over MemoryStorage, a message queue the test controls,
// crashes at any point of the Ready cycle, and a tiny replicated state machine (a hash chain of applied
// entries) that is durable together with its applied index, as the real host's MVCC store is.
import { decodeConfChange } from '../../../core/raft/confchange/codec'
import { MemoryStorage } from '../../../core/raft/memory-storage'
import type { Config } from '../../../core/raft/raft'
import { RawNode } from '../../../core/raft/raw-node'
import { StepPeerNotFoundError } from '../../../core/raft/errors'
import {
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  StateType,
  type ConfState,
  type Entry,
  type Message,
  type NodeId,
  type Ready,
  type Snapshot,
} from '../../../core/raft/types'
import { seededRand, type Rand } from '../../../core/util/rand'

/** Where a crash interrupts the host's Ready handling. */
export type CrashPoint = 'before-persist' | 'after-persist' | 'after-send' | 'after-apply'

/** The replicated state machine: durable together with its applied index (STYLE §3). */
export interface StateMachine {
  applied: number
  /** Hash chain over applied entries: equal hashes at equal indexes mean equal applied prefixes. */
  hash: number
  confState: ConfState
}

/** Options shared by every node of the cluster. */
export type NodeOptions = Partial<Omit<Config, 'id' | 'storage' | 'rand' | 'applied'>>

/** Hooks the invariant checker attaches to. */
export interface ClusterObserver {
  onApply?(node: SimNode, entry: Entry, sm: StateMachine): void
  onRestoreSnapshot?(node: SimNode, snapshot: Snapshot, sm: StateMachine): void
  onReadState?(node: SimNode, index: number, ctx: Uint8Array): void
}

/** One simulated member. */
export class SimNode {
  node: RawNode
  sm: StateMachine
  /** Durable copy of the state machine (what survives a crash). */
  constructor(
    readonly id: NodeId,
    readonly storage: MemoryStorage,
    private readonly makeNode: (storage: MemoryStorage) => RawNode,
  ) {
    this.node = makeNode(storage)
    const snap = storage.snapshot()
    this.sm = snap.metadata.index > 0 ? decodeSm(snap) : { applied: 0, hash: 0, confState: storage.initialState().confState }
  }

  /**
   * Rebuilds the RawNode from storage; the state machine survives (it is durable). If the crash came after
   * a snapshot was persisted but before the state machine installed it, install it now (etcd does the same:
   * on start it restores the backend from a snapshot newer than the backend's consistent index).
   */
  restart(): void {
    this.node = this.makeNode(this.storage)
    const snap = this.storage.snapshot()
    if (snap.metadata.index > this.sm.applied) this.sm = decodeSm(snap)
  }
}

/** FNV-1a style mixing of an entry into the hash chain. */
export function mixHash(h: number, e: Entry): number {
  let x = (h ^ e.index) >>> 0
  x = Math.imul(x ^ e.term, 16777619) >>> 0
  for (const b of e.data) x = Math.imul(x ^ b, 16777619) >>> 0
  return Math.imul(x ^ e.type, 16777619) >>> 0
}

export function encodeSm(sm: StateMachine): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ applied: sm.applied, hash: sm.hash }))
}

function decodeSm(snap: Snapshot): StateMachine {
  const { applied, hash } = JSON.parse(new TextDecoder().decode(snap.data)) as { applied: number; hash: number }
  const cs = snap.metadata.confState
  return { applied, hash, confState: { voters: [...cs.voters], learners: [...cs.learners] } }
}

/**
 * The cluster. Messages sent by nodes go into `inflight` (unless the link is cut); the test decides when
 * and in which order they are delivered.
 */
export class Cluster {
  readonly nodes = new Map<NodeId, SimNode>()
  inflight: Message[] = []
  /** Cut directed links, as `from-to`. */
  private readonly cut = new Set<string>()
  /** Nodes removed from the cluster: they are stopped and their links dropped (as etcd's transport does). */
  readonly removed = new Set<NodeId>()
  /** Crashed nodes: not ticked, messages to them dropped, until restart(). */
  readonly down = new Set<NodeId>()
  readonly rand: Rand
  observer: ClusterObserver = {}
  /** Test-only host bug: send a Ready's messages before persisting it (must be caught by the invariants). */
  sendBeforePersist = false
  /** Election jitter per node; by default drawn from the cluster's seed. Transcripts pin it to 0. */
  nodeRand: ((id: NodeId) => Rand) | undefined
  /** When set, each handled Ready and each delivered message is described here (transcripts). */
  trace: ((line: string) => void) | undefined

  constructor(
    readonly options: NodeOptions = {},
    seed = 1,
  ) {
    this.rand = seededRand(seed)
  }

  /**
   * A new cluster: every member bootstraps the same ConfChange entries (RawNode.bootstrap, as etcd does) and
   * persists them at once.
   */
  static bootstrap(ids: NodeId[], options: NodeOptions = {}, seed = 1, learners: NodeId[] = []): Cluster {
    const c = new Cluster(options, seed)
    for (const id of [...ids, ...learners]) {
      c.addNode(id).node.bootstrap(ids, learners)
      c.handleReady(id)
    }
    return c
  }

  /** Starts a node with an initial configuration (empty for a node that joins an existing cluster). */
  addNode(id: NodeId, confState: ConfState = { voters: [], learners: [] }): SimNode {
    const storage = MemoryStorage.withConfState(confState)
    const nodeRand = this.nodeRand?.(id) ?? seededRand(this.rand.int(2 ** 31))
    const make = (s: MemoryStorage): RawNode => new RawNode({ ...this.options, id, storage: s, rand: nodeRand })
    const n = new SimNode(id, storage, make)
    this.nodes.set(id, n)
    return n
  }

  get(id: NodeId): SimNode {
    const n = this.nodes.get(id)
    if (!n) throw new Error(`no node ${id}`)
    return n
  }

  isLive(id: NodeId): boolean {
    return !this.down.has(id) && !this.removed.has(id)
  }

  liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => this.isLive(n.id))
  }

  // ---- network ----

  partition(...groups: NodeId[][]): void {
    for (const a of groups) for (const b of groups) {
      if (a === b) continue
      for (const x of a) for (const y of b) this.cut.add(`${x}-${y}`)
    }
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue
      this.cut.add(`${id}-${other}`)
      this.cut.add(`${other}-${id}`)
    }
  }

  /** Cuts one directed link. */
  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}-${to}`)
  }

  heal(): void {
    this.cut.clear()
  }

  private linkUp(from: NodeId, to: NodeId): boolean {
    if (this.cut.size > 0 && this.cut.has(`${from}-${to}`)) return false
    return this.isLive(from) && this.isLive(to) && this.nodes.has(to)
  }

  private send(msgs: Message[]): void {
    for (let m of msgs) {
      if (m.type === MessageType.MsgSnap) m = this.mergedSnapshot(m)
      if (this.linkUp(m.from, m.to)) this.inflight.push(m)
      else this.lost(m)
    }
  }

  /**
   * etcd compat (etcdserver createMergedSnapshotMessage): the host replaces the snapshot Raft picked from
   * storage by a fresh one of its applied state and current membership, so that a member added after the
   * last stored snapshot finds itself in the snapshot's ConfState.
   */
  private mergedSnapshot(m: Message): Message {
    const n = this.get(m.from)
    const snap = m.snapshot
    if (!snap || n.sm.applied <= snap.metadata.index) return m
    const term = n.node.raft.raftLog.term(n.sm.applied)
    const cs = n.sm.confState
    return {
      ...m,
      snapshot: { data: encodeSm(n.sm), metadata: { index: n.sm.applied, term, confState: { voters: [...cs.voters], learners: [...cs.learners] } } },
    }
  }

  /**
   * A message was lost. Like a real transport, tell the sender: a lost snapshot is reported as failed
   * (otherwise the follower's progress would stay in Snapshot state) and the peer as unreachable.
   */
  lost(m: Message): void {
    if (!this.isLive(m.from)) return
    const sender = this.get(m.from).node
    if (m.type === MessageType.MsgSnap) sender.reportSnapshot(m.to, false)
    else if (m.type === MessageType.MsgApp) sender.reportUnreachable(m.to)
  }

  /** Drops the in-flight message at position `i`. */
  dropAt(i: number): void {
    const [m] = this.inflight.splice(i, 1)
    this.lost(m)
  }

  /** Delivers one in-flight message (by position). Dropped if the link went down meanwhile. */
  deliverAt(i: number): void {
    const [m] = this.inflight.splice(i, 1)
    this.deliver(m)
  }

  deliver(m: Message): void {
    if (!this.linkUp(m.from, m.to)) {
      this.lost(m)
      return
    }
    this.trace?.(`deliver ${m.from}->${m.to}`)
    try {
      this.get(m.to).node.step(m)
    } catch (e) {
      // A response from a node no longer in our configuration is refused, as in etcd; nothing to do.
      if (!(e instanceof StepPeerNotFoundError)) throw e
    }
    if (m.type === MessageType.MsgSnap && this.isLive(m.from)) this.get(m.from).node.reportSnapshot(m.to, true)
  }

  /** Delivers every in-flight message addressed to `to` (or all), in order; returns how many. */
  deliverAll(to?: NodeId): number {
    const mine = to === undefined ? this.inflight : this.inflight.filter((m) => m.to === to)
    this.inflight = to === undefined ? [] : this.inflight.filter((m) => m.to !== to)
    for (const m of mine) this.deliver(m)
    return mine.length
  }

  // ---- time ----

  tick(id: NodeId, n = 1): void {
    if (!this.isLive(id)) return
    for (let i = 0; i < n; i++) this.get(id).node.tick()
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const node of this.liveNodes()) node.node.tick()
  }

  // ---- the host's Ready cycle ----

  /**
   * Runs one Ready cycle on `id`: persist snapshot + entries + hard state, send, apply, advance. With
   * `crashAt` the node crashes at that point (what was done stays done; the rest is lost) and is restarted
   * from storage. Returns the Ready, or undefined if there was none.
   */
  handleReady(id: NodeId, crashAt?: CrashPoint): Ready | undefined {
    const n = this.get(id)
    if (!this.isLive(id) || !n.node.hasReady()) return undefined
    const rd = n.node.ready()
    if (this.sendBeforePersist) {
      // Negative control: a broken host that sends before its writes are durable.
      this.send(rd.messages)
      rd.messages = []
    }
    if (crashAt === 'before-persist') return this.crashRestart(n, rd)
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot)
    n.storage.append(rd.entries)
    if (rd.hardState) n.storage.setHardState(rd.hardState)
    if (crashAt === 'after-persist') return this.crashRestart(n, rd)
    this.send(rd.messages)
    if (crashAt === 'after-send') return this.crashRestart(n, rd)
    for (const rs of rd.readStates) this.observer.onReadState?.(n, rs.index, rs.requestCtx)
    if (rd.snapshot && rd.snapshot.metadata.index > n.sm.applied) {
      n.sm = decodeSm(rd.snapshot)
      this.observer.onRestoreSnapshot?.(n, rd.snapshot, n.sm)
    }
    for (const e of rd.committedEntries) this.apply(n, e)
    if (crashAt === 'after-apply') return this.crashRestart(n, rd)
    n.node.advance()
    return rd
  }

  private crashRestart(n: SimNode, rd: Ready): Ready {
    this.trace?.(`crash ${n.id}`)
    n.restart()
    return rd
  }

  private apply(n: SimNode, e: Entry): void {
    if (e.type === EntryType.ConfChange) {
      // Conf changes are re-applied to Raft after a restart even when the state machine has them (etcd does
      // the same): Raft rebuilds its configuration from the snapshot's ConfState.
      const cc = decodeConfChange(e.data)
      const cs = n.node.applyConfChange(cc)
      if (e.index > n.sm.applied) {
        n.sm.confState = cs
        if (cc.type === ConfChangeType.RemoveNode && cs.voters.indexOf(cc.nodeId) < 0 && cs.learners.indexOf(cc.nodeId) < 0) {
          this.removed.add(cc.nodeId)
          this.inflight = this.inflight.filter((m) => m.from !== cc.nodeId && m.to !== cc.nodeId)
        }
      }
    }
    if (e.index <= n.sm.applied) return
    if (e.index !== n.sm.applied + 1) throw new Error(`node ${n.id} applies ${e.index} after ${n.sm.applied}: gap`)
    n.sm.hash = mixHash(n.sm.hash, e)
    n.sm.applied = e.index
    this.observer.onApply?.(n, e, n.sm)
  }

  /** Crashes `id` now: everything not persisted is lost; it stays down until restart(). */
  crash(id: NodeId): void {
    this.down.add(id)
    const lost = this.inflight.filter((m) => m.to === id)
    this.inflight = this.inflight.filter((m) => m.to !== id)
    for (const m of lost) this.lost(m)
  }

  restart(id: NodeId): void {
    this.down.delete(id)
    this.get(id).restart()
  }

  /**
   * Takes a snapshot of `id`'s state machine at its applied index and compacts its log, keeping `keep`
   * entries before it. Only when Raft has caught up with the state machine (after a restart it re-delivers
   * entries from the previous snapshot).
   */
  compact(id: NodeId, keep = 0): boolean {
    const n = this.get(id)
    const applied = n.node.status().applied
    if (applied !== n.sm.applied || applied <= n.storage.snapshot().metadata.index) return false
    n.storage.createSnapshot(applied, n.sm.confState, encodeSm(n.sm))
    const to = applied - keep
    if (to > n.storage.firstIndex() - 1) n.storage.compact(to)
    return true
  }

  /** Repeats Ready handling and delivery until nothing moves; returns the number of rounds. */
  stabilize(maxRounds = 1000): number {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false
      for (const n of this.nodes.values()) if (this.handleReady(n.id)) moved = true
      if (this.deliverAll() > 0) moved = true
      if (!moved) return round
    }
    throw new Error(`cluster did not stabilize within ${maxRounds} rounds`)
  }

  /** The live leader with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined
    for (const n of this.liveNodes()) {
      const r = n.node.raft
      if (r.state === StateType.Leader && (!best || r.term > best.node.raft.term)) best = n
    }
    return best
  }

  /** The id every live voter agrees is leader (or NONE). */
  agreedLeader(): NodeId {
    const l = this.leader()
    if (!l) return NONE
    for (const n of this.liveNodes()) {
      if (!l.node.raft.trk.config.voters.has(n.id)) continue
      if (n.node.raft.lead !== l.id || n.node.raft.term !== l.node.raft.term) return NONE
    }
    return l.id
  }
}
