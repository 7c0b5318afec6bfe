import { describe, expect, it } from 'vitest'
import { MemoryStorage } from '../../core/raft/memory-storage'
import { newMessage } from '../../core/raft/raft'
import { RawNode } from '../../core/raft/raw-node'
import { EntryType, MessageType, StateType, type Entry, type Message, type NodeId } from '../../core/raft/types'
import { coalesceMessages } from '../../core/server/coalesce-messages'
import { seededRand } from '../../core/util/rand'

// The host merges a Ready's messages to one member where one says all the other says (appends that continue
// each other, superseded append answers, forwarded proposals). First the rules, then the property that
// matters: three Raft nodes under a proposal storm from every member commit exactly the same log whether
// their messages are merged or not, with far fewer messages when they are.

const entry = (index: number, term: number, size = 10): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array(size) })
const message = ({ type, ...fields }: Partial<Message> & Pick<Message, 'type' | 'to'>): Message => newMessage(type, { from: 1n, term: 2, ...fields })
const app = (to: NodeId, index: number, logTerm: number, entries: Entry[], commit: number, term = 2) =>
  message({ type: MessageType.MsgApp, to, index, logTerm, entries, commit, term })
const resp = (to: NodeId, index: number, reject = false, term = 2) => message({ type: MessageType.MsgAppResp, to, index, reject, term })

describe('coalesceMessages: rules', () => {
  it('merges an append that continues the previous one to the same follower, across messages to other members', () => {
    const merged = coalesceMessages([
      app(2n, 10, 2, [entry(11, 2), entry(12, 2)], 10),
      app(3n, 10, 2, [entry(11, 2), entry(12, 2)], 10),
      app(2n, 12, 2, [entry(13, 2)], 11),
      app(3n, 12, 2, [entry(13, 2)], 11),
      app(2n, 13, 2, [], 13), // commit-only append
    ])
    expect(merged.map((m) => [m.to, m.index, m.logTerm, m.entries.map((e) => e.index), m.commit])).toEqual([
      [2n, 10, 2, [11, 12, 13], 13],
      [3n, 10, 2, [11, 12, 13], 11],
    ])
  })

  it('keeps appends apart when something else to that follower is between them, when they do not continue each other, or in another term', () => {
    const heartbeat = message({ type: MessageType.MsgHeartbeat, to: 2n, commit: 10 })
    const cases: Message[][] = [
      [app(2n, 10, 2, [entry(11, 2)], 10), heartbeat, app(2n, 11, 2, [entry(12, 2)], 10)],
      [app(2n, 10, 2, [entry(11, 2)], 10), app(2n, 12, 2, [entry(13, 2)], 10)], // gap
      [app(2n, 10, 2, [entry(11, 2)], 10), app(2n, 11, 1, [entry(12, 2)], 10)], // wrong log term
      [app(2n, 10, 2, [entry(11, 2)], 10), app(2n, 11, 2, [entry(12, 3)], 10, 3)], // newer term
    ]
    for (const messages of cases) expect(coalesceMessages(messages)).toEqual(messages)
  })

  it('stops merging appends at 1 MiB of entries', () => {
    const big = (index: number) => app(2n, index - 1, 2, [entry(index, 2, 400 * 1024)], 0)
    const merged = coalesceMessages([big(11), big(12), big(13), big(14)])
    expect(merged.map((m) => m.entries.map((e) => e.index))).toEqual([
      [11, 12],
      [13, 14],
    ])
  })

  it('keeps only the newest of accepting append answers, but every rejection and every answer that goes back', () => {
    expect(coalesceMessages([resp(1n, 11), resp(1n, 13), resp(1n, 14)]).map((m) => m.index)).toEqual([14])
    const rejected = [resp(1n, 11), resp(1n, 12, true), resp(1n, 13)]
    expect(coalesceMessages(rejected)).toEqual(rejected)
    const backwards = [resp(1n, 20), resp(1n, 15)]
    expect(coalesceMessages(backwards)).toEqual(backwards)
  })

  it('merges proposals forwarded to the leader into one, entries in order', () => {
    const prop = (data: number) => message({ type: MessageType.MsgProp, to: 1n, from: 2n, term: 0, entries: [{ ...entry(0, 0), data: new Uint8Array([data]) }] })
    const merged = coalesceMessages([prop(1), prop(2), prop(3)])
    expect(merged).toHaveLength(1)
    expect(merged[0].entries.map((e) => e.data[0])).toEqual([1, 2, 3])
  })
})

describe('coalesceMessages: three Raft nodes under a proposal storm', () => {
  /** Runs a deterministic 3-node cluster; returns every node's committed data and the number of messages sent. */
  function run(coalesce: boolean): { logs: string[][]; sent: number } {
    const ids = [1n, 2n, 3n]
    const nodes = new Map<NodeId, { node: RawNode; storage: MemoryStorage; committed: string[] }>()
    for (const id of ids) {
      const storage = new MemoryStorage()
      storage.applySnapshot({ data: new Uint8Array(), metadata: { index: 1, term: 1, confState: { voters: ids, learners: [] } } })
      nodes.set(id, { node: new RawNode({ id, storage, electionTick: 10, heartbeatTick: 1, preVote: true, rand: seededRand(Number(id)) }), storage, committed: [] })
    }
    let inbox: Message[] = []
    let sent = 0
    const drain = () => {
      for (const { node, storage, committed } of nodes.values()) {
        while (node.hasReady()) {
          const ready = node.ready()
          if (ready.snapshot) storage.applySnapshot(ready.snapshot)
          if (ready.entries.length > 0) storage.append(ready.entries)
          if (ready.hardState) storage.setHardState(ready.hardState)
          const messages = coalesce ? coalesceMessages(ready.messages) : ready.messages
          sent += messages.length
          inbox.push(...messages)
          for (const e of ready.committedEntries) if (e.type === EntryType.Normal && e.data.length > 0) committed.push(new TextDecoder().decode(e.data))
          node.advance()
        }
      }
    }
    let lossy = false
    let delivered = 0
    const deliver = () => {
      const batch = inbox
      inbox = []
      // while lossy, every 7th message is lost: the leader probes and resends, so appends that overlap or skip
      // reach the merger too
      for (const m of batch) if (!lossy || ++delivered % 7 !== 0) nodes.get(m.to)!.node.step(m)
    }
    nodes.get(1n)!.node.campaign()
    for (let i = 0; i < 20; i++) {
      drain()
      deliver()
    }
    expect(nodes.get(1n)!.node.status().raftState).toBe(StateType.Leader)
    // every member proposes in bursts; messages are delivered a round later, so appends, answers and
    // forwarded proposals pile up between Readies as they do under load
    lossy = true
    for (let round = 0; round < 40; round++) {
      for (const id of ids) for (let k = 0; k < 5; k++) nodes.get(id)!.node.propose(new TextEncoder().encode(`${id}-${round}-${k}`))
      drain()
      if (round % 3 !== 2) deliver()
    }
    lossy = false
    for (let i = 0; i < 60; i++) {
      for (const { node } of nodes.values()) node.tick()
      drain()
      deliver()
    }
    return { logs: ids.map((id) => nodes.get(id)!.committed), sent }
  }

  it('with lost messages and retransmissions, every node commits the same log with or without merging; merged sends far fewer messages', () => {
    const plain = run(false)
    const merged = run(true)
    for (const { logs } of [plain, merged]) {
      // proposals forwarded in a lost message are lost (Raft does not retry them; clients do)
      expect(logs[0].length).toBeGreaterThan(3 * 40 * 5 * 0.6)
      expect(logs[1]).toEqual(logs[0])
      expect(logs[2]).toEqual(logs[0])
    }
    // the leader's own proposals are never lost
    for (const { logs } of [plain, merged]) expect(logs[0].filter((data) => data.startsWith('1-'))).toHaveLength(40 * 5)
    expect(merged.sent).toBeLessThan(plain.sent / 2)
  })
})
