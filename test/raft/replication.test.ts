import { describe, expect, test } from 'vitest'
import { newMessage } from '../../core/raft/raft'
import { ProposalDroppedError } from '../../core/raft/errors'
import { ProgressState } from '../../core/raft/tracker/progress'
import { MessageType, StateType, type Entry } from '../../core/raft/types'
import { NO_LIMIT } from '../../core/raft/util'
import { Cluster } from './sim/cluster'
import { clusterWithLeader, dec, enc, flush, inflightOf } from './helpers'

const entry = (term: number, index: number, data = ''): Entry => ({ term, index, type: 0, data: enc(data) })

describe('log replication (Raft §5.3, §5.4)', () => {
  test('follower rejects an append whose previous entry does not match, with a conflict hint, §5.3', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const f = c.get(2n).node
    const last = f.raft.raftLog.lastIndex() // 4, term 2
    f.step(newMessage(MessageType.MsgApp, { from: 1n, to: 2n, term: 2, index: last + 3, logTerm: 2, entries: [entry(2, last + 4)] }))
    const [resp] = f.ready().messages
    expect(resp.type).toBe(MessageType.MsgAppResp)
    expect(resp.reject).toBe(true)
    expect(resp.index).toBe(last + 3)
    expect(resp.rejectHint).toBe(last)
    expect(resp.logTerm).toBe(2)
  })

  test('follower truncates a conflicting uncommitted suffix and appends the leader entries, §5.3', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const f = c.get(2n).node
    const last = f.raft.raftLog.lastIndex()
    f.step(newMessage(MessageType.MsgApp, { from: 1n, to: 2n, term: 2, index: last, logTerm: 2, entries: [entry(2, last + 1, 'old1'), entry(2, last + 2, 'old2')] }))
    f.step(newMessage(MessageType.MsgApp, { from: 3n, to: 2n, term: 3, index: last, logTerm: 2, entries: [entry(3, last + 1, 'new')] }))
    const log = f.raft.raftLog
    expect(log.lastIndex()).toBe(last + 1)
    expect(dec(log.slice(last + 1, last + 2, NO_LIMIT)[0].data)).toBe('new')
  })

  test('an append whose entries are all present does not truncate newer entries (idempotent), §5.3', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const f = c.get(2n).node
    const last = f.raft.raftLog.lastIndex()
    f.step(newMessage(MessageType.MsgApp, { from: 1n, to: 2n, term: 2, index: last, logTerm: 2, entries: [entry(2, last + 1, 'a'), entry(2, last + 2, 'b')] }))
    f.step(newMessage(MessageType.MsgApp, { from: 1n, to: 2n, term: 2, index: last, logTerm: 2, entries: [entry(2, last + 1, 'a')] }))
    expect(f.raft.raftLog.lastIndex()).toBe(last + 2)
  })

  test('leader backs off a whole conflicting term per round trip (fast back-off), §5.3', () => {
    // Node 2 leads term 2 alone and appends 20 entries nobody else gets.
    const c = clusterWithLeader([1n, 2n, 3n], 2n)
    c.isolate(2n)
    for (let i = 0; i < 20; i++) c.get(2n).node.propose(enc(`stale${i}`))
    flush(c)
    // Node 1 leads term 3 with node 3 and appends 25 entries.
    c.get(1n).node.campaign()
    c.stabilize()
    for (let i = 0; i < 25; i++) c.get(1n).node.propose(enc(`good${i}`))
    c.stabilize()
    // Node 1 is re-elected with node 2 reachable: it probes node 2 at its last index (term 3).
    c.heal()
    const r1 = c.get(1n).node.raft
    r1.becomeFollower(r1.term + 1, 0n)
    let rejections = 0
    const step = c.get(1n).node.step.bind(c.get(1n).node)
    c.get(1n).node.step = (m) => {
      if (m.type === MessageType.MsgAppResp && m.reject && m.from === 2n) rejections++
      step(m)
    }
    c.get(1n).node.campaign()
    c.stabilize()
    expect(r1.state).toBe(StateType.Leader)
    // One rejection skips all 20 conflicting entries of term 2 (without the hint it would take 20+).
    expect(rejections).toBe(1)
    expect(c.get(2n).node.raft.raftLog.allEntries()).toEqual(r1.raftLog.allEntries())
  })

  test('leader does not commit an earlier-term entry by counting replicas, only via an entry of its own term (Figure 8), §5.4.2', () => {
    // Now replay the Figure 8 danger: followers acknowledge X (old term) but not yet the new empty entry.
    const fresh = clusterWithLeader([1n, 2n, 3n], 1n)
    const leader = fresh.get(1n).node.raft
    fresh.isolate(1n)
    fresh.get(1n).node.propose(enc('X'))
    flush(fresh)
    const xi = leader.raftLog.lastIndex()
    leader.becomeFollower(leader.term + 1, 0n)
    fresh.get(1n).node.campaign()
    // Grant the vote by hand so no append reaches the followers.
    fresh.get(1n).node.step(newMessage(MessageType.MsgVoteResp, { from: 2n, to: 1n, term: leader.term }))
    expect(leader.state).toBe(StateType.Leader)
    const committed = leader.raftLog.committed
    fresh.get(1n).node.step(newMessage(MessageType.MsgAppResp, { from: 2n, to: 1n, term: leader.term, index: xi }))
    expect(leader.raftLog.committed).toBe(committed) // X is on a majority (1, 2) but from an older term
    fresh.get(1n).node.step(newMessage(MessageType.MsgAppResp, { from: 2n, to: 1n, term: leader.term, index: xi + 1 }))
    expect(leader.raftLog.committed).toBe(xi + 1) // the new term's entry commits X with it
  })

  test('maybeCommit refuses an index of an older term even if a majority has it, §5.4.2', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const r = c.get(1n).node.raft
    const committed = r.raftLog.committed
    c.isolate(1n)
    r.becomeFollower(r.term + 1, 0n)
    // Re-elected in a later term without having committed anything new.
    const oldTermIndex = r.raftLog.lastIndex()
    expect(r.raftLog.maybeCommit(oldTermIndex, r.term)).toBe(false)
    expect(r.raftLog.committed).toBe(committed)
  })

  test('proposals are batched: many proposals go out in one Ready and one MsgApp', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const leader = c.get(1n).node
    for (let i = 0; i < 50; i++) leader.propose(enc(`p${i}`))
    const rd = leader.ready()
    expect(rd.entries.length).toBe(50)
    // Replicate state with an open window: the first proposal was sent at once, the rest follow per ack.
    expect(rd.messages.filter((m) => m.type === MessageType.MsgApp && m.to === 2n).length).toBeLessThanOrEqual(50)
    leader.advance()
    c.stabilize()
    expect(c.get(3n).sm.applied).toBe(c.get(1n).node.raft.raftLog.lastIndex())
  })

  test('flow control: no more than maxInflightMsgs MsgApp in flight to a replicating follower', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { maxInflightMsgs: 3, maxSizePerMsg: 0 })
    const leader = c.get(1n).node
    for (let i = 0; i < 10; i++) {
      leader.propose(enc(`p${i}`))
      c.handleReady(1n)
    }
    const toTwo = inflightOf(c, MessageType.MsgApp, 2n).filter((m) => m.entries.length > 0)
    expect(toTwo.length).toBe(3)
    const pr = leader.status().progress.get(2n)
    expect(pr?.state).toBe(ProgressState.Replicate)
    expect(pr?.paused).toBe(true)
    c.stabilize()
    expect(c.get(2n).sm.applied).toBe(leader.raft.raftLog.lastIndex())
  })

  test('maxSizePerMsg bounds the bytes of entries per MsgApp (at least one entry)', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { maxSizePerMsg: 100 })
    c.isolate(2n)
    for (let i = 0; i < 10; i++) c.get(1n).node.propose(new Uint8Array(40))
    c.stabilize()
    c.heal()
    c.inflight = []
    c.get(1n).node.reportUnreachable(2n)
    c.get(1n).node.raft.step(newMessage(MessageType.MsgBeat, { from: 1n }))
    let maxEntries = 0
    for (let i = 0; i < 30; i++) {
      flush(c)
      for (const m of inflightOf(c, MessageType.MsgApp, 2n)) maxEntries = Math.max(maxEntries, m.entries.length)
      c.deliverAll()
    }
    expect(maxEntries).toBe(1)
    expect(c.get(2n).sm.applied).toBe(c.get(1n).node.raft.raftLog.lastIndex())
  })

  test('maxUncommittedEntriesSize drops proposals once the uncommitted tail is too large', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { maxUncommittedEntriesSize: 100 })
    c.isolate(1n)
    const leader = c.get(1n).node
    leader.propose(new Uint8Array(60))
    leader.propose(new Uint8Array(30))
    expect(() => leader.propose(new Uint8Array(30))).toThrow(ProposalDroppedError)
    c.heal()
    c.stabilize()
    leader.propose(new Uint8Array(30))
  })

  test('follower forwards proposals to the leader', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.get(3n).node.propose(enc('via-follower'))
    c.stabilize()
    const log = c.get(1n).node.raft.raftLog
    expect(dec(log.slice(log.lastIndex(), log.lastIndex() + 1, NO_LIMIT)[0].data)).toBe('via-follower')
    expect(c.get(2n).sm.applied).toBe(log.lastIndex())
  })

  test('heartbeats carry min(match, commit) so a follower never commits entries it may lack, §5.3', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.cutLink(1n, 3n)
    c.get(1n).node.propose(enc('a'))
    c.stabilize()
    c.heal()
    c.get(1n).node.raft.step(newMessage(MessageType.MsgBeat, { from: 1n }))
    flush(c)
    const hb = inflightOf(c, MessageType.MsgHeartbeat, 3n)[0]
    expect(hb.commit).toBe(c.get(1n).node.raft.trk.progress.get(3n)?.match)
    expect(hb.commit).toBeLessThan(c.get(1n).node.raft.raftLog.committed)
  })

  test('a lost MsgApp is recovered: unreachable peer goes back to probe and catches up', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.get(1n).node.propose(enc('a'))
    flush(c)
    c.inflight = c.inflight.filter((m) => !(m.type === MessageType.MsgApp && m.to === 2n))
    c.get(1n).node.reportUnreachable(2n)
    expect(c.get(1n).node.status().progress.get(2n)?.state).toBe(ProgressState.Probe)
    c.stabilize()
    c.tickAll(1)
    c.stabilize()
    expect(c.get(2n).sm.applied).toBe(c.get(1n).node.raft.raftLog.lastIndex())
  })

  test('maxCommittedSizePerReady splits committed entries over several Readies, in order', () => {
    const c = Cluster.bootstrap([1n], { maxCommittedSizePerReady: 100 })
    const n = c.get(1n).node
    n.campaign()
    c.stabilize()
    for (let i = 0; i < 5; i++) n.propose(new Uint8Array(60))
    const sizes: number[] = []
    let next = n.raft.raftLog.applied + 1
    for (let i = 0; i < 10 && n.hasReady(); i++) {
      const rd = n.ready()
      c.get(1n).storage.append(rd.entries)
      if (rd.hardState) c.get(1n).storage.setHardState(rd.hardState)
      for (const e of rd.committedEntries) expect(e.index).toBe(next++)
      if (rd.committedEntries.length > 0) sizes.push(rd.committedEntries.length)
      n.advance()
    }
    expect(sizes).toEqual([1, 1, 1, 1, 1])
  })

  test('committed entries are handed out once, in order, after their entries are in a Ready', () => {
    const c = Cluster.bootstrap([1n])
    const n = c.get(1n).node
    n.campaign()
    n.propose(enc('a'))
    const rd = n.ready()
    expect(rd.entries.map((e) => e.index)).toEqual([2, 3])
    expect(rd.committedEntries.map((e) => e.index)).toEqual([2, 3])
    expect(n.hasReady()).toBe(false)
    c.get(1n).storage.append(rd.entries)
    n.advance()
    n.propose(enc('b'))
    expect(n.ready().committedEntries.map((e) => e.index)).toEqual([4])
  })
})
