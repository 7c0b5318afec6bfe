import { afterEach, describe, expect, it } from 'vitest'
import { MemoryStorage } from '../../core/raft/memory-storage'
import { RawNode } from '../../core/raft/raw-node'
import { decodeConfChange } from '../../core/raft/confchange/codec'
import { ConfChangeType, EntryType, StateType, type ConfChange, type ConfState, type Message, type NodeId } from '../../core/raft/types'
import { NodeHost, type ConfChangeApplier, type HostStore, type ReadyWork } from '../../core/server/node-host'
import { seededRand } from '../../core/util/rand'

// Drives three NodeHosts in one process over MemoryStorage, with messages delivered on the next turn of the
// event loop, to check the host's Ready ordering and apply bookkeeping (the Raft rules have their own tests).

class RecordingStore implements HostStore {
  readonly storage = new MemoryStorage()
  applied = 0
  readonly values: string[] = []
  readonly changes: ConfChange[] = []
  /** Like MemberStore: a Ready with applied entries and nothing to sync is left uncommitted. */
  deferred = false
  private deferredAt = 0
  /** How long the last deferred apply waited for commitDeferred, in ms. */
  deferredFor = 0
  failDeferredCommit = false
  constructor(readonly events: string[]) {}
  hasDeferredCommit(): boolean {
    return this.deferred
  }
  commitDeferred(): void {
    if (this.failDeferredCommit) throw new Error('disk full')
    this.deferred = false
    this.deferredFor = performance.now() - this.deferredAt
    this.events.push('commitDeferred')
  }
  appliedIndex(): number {
    return this.applied
  }
  commitReady(work: ReadyWork, applyConfChange: ConfChangeApplier): void {
    if (work.snapshot) {
      this.storage.applySnapshot(work.snapshot)
      this.applied = work.snapshot.metadata.index
    }
    if (work.entries.length > 0) this.storage.append(work.entries)
    if (work.hardState) this.storage.setHardState(work.hardState)
    for (const entry of work.committedEntries) {
      if (entry.type === EntryType.ConfChange) {
        const change = decodeConfChange(entry.data)
        applyConfChange(change)
        this.changes.push(change)
      } else if (entry.data.length > 0) {
        this.values.push(new TextDecoder().decode(entry.data))
      }
      this.applied = entry.index
    }
    // without entries or a snapshot nothing needs an fsync: the write joins the uncommitted one, else commits it
    const deferred = work.entries.length === 0 && !work.snapshot && (this.deferred || work.committedEntries.length > 0)
    if (deferred && !this.deferred) this.deferredAt = performance.now()
    this.deferred = deferred
    this.events.push(`persist:${work.entries.map((e) => e.index).join(',')}`)
    if (work.committedEntries.length > 0) this.events.push(`apply:${work.committedEntries.map((e) => e.index).join(',')}`)
  }
  createSnapshot(index: number, confState: ConfState, compactIndex: number): void {
    this.storage.createSnapshot(index, confState, new Uint8Array())
    this.storage.compact(compactIndex)
    this.events.push(`snapshot:${index}`)
  }
}

describe('node host Ready loop', () => {
  const hosts: NodeHost[] = []
  afterEach(() => {
    for (const host of hosts.splice(0)) host.stop()
  })

  function cluster(size: number, snapshotCount = 1000, onFatal?: (error: Error) => void) {
    const ids = Array.from({ length: size }, (_, i) => BigInt(i + 1))
    const byId = new Map<NodeId, { host: NodeHost; log: RecordingStore; sm: RecordingStore; events: string[] }>()
    for (const id of ids) {
      const events: string[] = []
      const store = new RecordingStore(events)
      store.storage.applySnapshot({ data: new Uint8Array(), metadata: { index: 1, term: 1, confState: { voters: ids, learners: [] } } })
      store.applied = 1
      const node = new RawNode({ id, storage: store.storage, electionTick: 10, heartbeatTick: 1, checkQuorum: true, preVote: true, rand: seededRand(Number(id)) })
      const host = new NodeHost({
        node,
        store,
        tickMs: 5,
        snapshotCount,
        snapshotCatchUpEntries: 5,
        onFatal,
        transport: {
          send: (messages: readonly Message[]) => {
            events.push(`send:${messages.length}`)
            for (const message of messages) setImmediate(() => byId.get(message.to)?.host.step(message))
          },
        },
      })
      byId.set(id, { host, log: store, sm: store, events })
      hosts.push(host)
    }
    for (const { host } of byId.values()) host.start()
    return byId
  }

  async function leaderOf(nodes: ReturnType<typeof cluster>): Promise<NodeHost> {
    for (let i = 0; i < 400; i++) {
      const leader = [...nodes.values()].find(({ host }) => host.raftState === StateType.Leader)
      if (leader) return leader.host
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    throw new Error('no leader elected')
  }

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 1000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(condition()).toBe(true)
  }

  it('elects a leader and applies proposals in the same order on every member', async () => {
    const nodes = cluster(3)
    const leader = await leaderOf(nodes)
    for (let i = 0; i < 50; i++) leader.node.propose(new TextEncoder().encode(`v${i}`))
    leader.kick()
    await until(() => [...nodes.values()].every(({ sm }) => sm.values.length === 50))
    const expected = Array.from({ length: 50 }, (_, i) => `v${i}`)
    for (const { sm } of nodes.values()) expect(sm.values).toEqual(expected)
    expect(new Set([...nodes.values()].map(({ host }) => host.leaderId)).size).toBe(1)
  })

  it('a follower persists before it acks; the leader sends MsgApp before its own write but applies after it (Raft thesis §10.2.1)', async () => {
    const nodes = cluster(3)
    const leader = await leaderOf(nodes)
    const entries = [...nodes.values()]
    const leaderEntry = entries.find(({ host }) => host === leader)!
    const follower = entries.find(({ host }) => host !== leader)!
    await until(() => leader.applied >= 2 && entries.every(({ host }) => host.applied === leader.applied))
    for (const { events } of entries) events.length = 0
    const target = String(leader.applied + 1)
    leader.node.propose(new TextEncoder().encode('ordered'))
    leader.kick()
    await until(() => entries.every(({ sm }) => sm.values.includes('ordered')))
    const persistOf = (events: string[]) => events.findIndex((event) => event.startsWith('persist:') && event.slice(8).split(',').includes(target))
    const applyOf = (events: string[]) => events.findIndex((event) => event.startsWith('apply:') && event.slice(6).split(',').includes(target))
    const sendBefore = (events: string[], to: number) => events.some((event, i) => i < to && event.startsWith('send:') && event !== 'send:0')
    // follower: the MsgAppResp goes out right after its write of the entry, in the same Ready
    const followerPersist = persistOf(follower.events)
    expect(followerPersist).toBeGreaterThanOrEqual(0)
    expect(follower.events.slice(followerPersist + 1).find((event) => !event.startsWith('apply:'))).toMatch(/^send:[1-9]/)
    // leader: the MsgApp goes out before its own write; the entry is applied only in a later write
    const leaderPersist = persistOf(leaderEntry.events)
    expect(leaderPersist).toBeGreaterThanOrEqual(0)
    expect(sendBefore(leaderEntry.events, leaderPersist)).toBe(true)
    expect(applyOf(leaderEntry.events)).toBeGreaterThan(leaderPersist + 1)
  })

  it('batches proposals made in one turn of the event loop into one persisted write', async () => {
    const nodes = cluster(1)
    const leader = await leaderOf(nodes)
    const { events } = [...nodes.values()][0]
    events.length = 0
    for (let i = 0; i < 100; i++) leader.node.propose(new TextEncoder().encode(`b${i}`))
    leader.kick()
    await until(() => [...nodes.values()][0].sm.values.length === 100)
    const writes = events.filter((event) => event.startsWith('persist:') && event.split(',').length === 100)
    expect(writes).toHaveLength(1)
  })

  it('takes a snapshot every snapshot-count applied entries and compacts the log behind it', async () => {
    const nodes = cluster(1, 20)
    const leader = await leaderOf(nodes)
    for (let i = 0; i < 45; i++) {
      leader.node.propose(new TextEncoder().encode(`s${i}`))
      leader.kick()
      await new Promise((resolve) => setImmediate(resolve))
    }
    const { events, log, sm } = [...nodes.values()][0]
    await until(() => sm.values.length === 45)
    expect(events.filter((event) => event.startsWith('snapshot:')).length).toBeGreaterThanOrEqual(2)
    expect(log.storage.firstIndex()).toBeGreaterThan(1)
  })

  it('commits an apply left uncommitted once no Ready follows it for a while, and only then', async () => {
    const nodes = cluster(3)
    const leader = await leaderOf(nodes)
    const { events, sm } = [...nodes.values()].find(({ host }) => host === leader)!
    await until(() => !sm.deferred)
    events.length = 0
    leader.node.propose(new TextEncoder().encode('idle'))
    leader.kick()
    await until(() => events.includes('commitDeferred'))
    expect(sm.values).toContain('idle')
    expect(events.filter((event) => event === 'commitDeferred')).toHaveLength(1)
    expect(events.indexOf('commitDeferred')).toBeGreaterThan(events.findIndex((event) => event.startsWith('apply:')))
    // not at once: a Ready that comes within DEFERRED_COMMIT_MS (100 ms) would have committed it along
    expect(sm.deferredFor).toBeGreaterThanOrEqual(95)
  })

  it('a failing deferred commit stops the host as a failed Ready does', async () => {
    const fatal: Error[] = []
    const nodes = cluster(3, 1000, (error) => fatal.push(error))
    const leader = await leaderOf(nodes)
    const { sm } = [...nodes.values()].find(({ host }) => host === leader)!
    sm.failDeferredCommit = true
    leader.node.propose(new TextEncoder().encode('lost'))
    leader.kick()
    await until(() => fatal.length > 0)
    expect(fatal.map((error) => error.message)).toEqual(['disk full'])
    const applied = leader.applied
    leader.node.propose(new TextEncoder().encode('after'))
    leader.kick()
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(leader.applied).toBe(applied)
  })

  it('applies an accepted membership change to Raft and the state machine', async () => {
    const nodes = cluster(3)
    const leader = await leaderOf(nodes)
    leader.node.proposeConfChange({ type: ConfChangeType.AddLearnerNode, nodeId: 9n, context: new Uint8Array() })
    leader.kick()
    await until(() => [...nodes.values()].every(({ sm }) => sm.changes.length === 1))
    expect(leader.node.status().config.learners).toEqual([9n])
  })
})
