import { describe, expect, test } from 'vitest'
import { MemoryStorage } from '../../core/raft/memory-storage'
import { RaftConfigError, ProposalDroppedError } from '../../core/raft/errors'
import { RawNode } from '../../core/raft/raw-node'
import { newMessage } from '../../core/raft/raft'
import { EntryType, MessageType, NONE, StateType } from '../../core/raft/types'
import { seededRand } from '../../core/util/rand'
import { Cluster } from './sim/cluster'
import { clusterWithLeader, enc, flush, inflightOf, stateOf, tickUntilCampaign } from './helpers'

function singleNode(options: Partial<ConstructorParameters<typeof RawNode>[0]> = {}): RawNode {
  const storage = MemoryStorage.withConfState({ voters: [1n, 2n, 3n], learners: [] })
  return new RawNode({ id: 1n, storage, rand: seededRand(1), ...options })
}

describe('leader election (Raft §5.2, thesis §3.4, §9.6)', () => {
  test('follower campaigns after a randomized election timeout in [electionTick, 2*electionTick), §5.2', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const storage = MemoryStorage.withConfState({ voters: [1n, 2n, 3n], learners: [] })
      const n = new RawNode({ id: 1n, storage, rand: seededRand(seed), electionTick: 10 })
      let ticks = 0
      while (n.raft.state === StateType.Follower) {
        n.tick()
        ticks++
      }
      expect(ticks).toBeGreaterThanOrEqual(10)
      expect(ticks).toBeLessThan(20)
      expect(n.raft.state).toBe(StateType.Candidate)
      expect(n.raft.term).toBe(1)
      expect(n.raft.vote).toBe(1n)
    }
  })

  test('candidate requests votes carrying its last log index and term, §5.2 §5.4.1', () => {
    const n = singleNode()
    n.campaign()
    const votes = n.ready().messages.filter((m) => m.type === MessageType.MsgVote)
    expect(votes.map((m) => m.to)).toEqual([2n, 3n])
    expect(votes.every((m) => m.term === 1 && m.index === 0 && m.logTerm === 0)).toBe(true)
  })

  test('candidate that wins a majority becomes leader and appends an empty entry of its term, §5.2 §5.4.2', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    expect(stateOf(c, 1n)).toBe(StateType.Leader)
    const log = c.get(1n).node.raft.raftLog
    const last = log.slice(log.lastIndex(), log.lastIndex() + 1, 1e9)[0]
    expect(last.term).toBe(2)
    expect(last.data.length).toBe(0)
    expect(last.type).toBe(EntryType.Normal)
    for (const id of [2n, 3n]) expect(c.get(id).node.raft.lead).toBe(1n)
    expect(c.get(3n).sm.applied).toBe(log.lastIndex())
  })

  test('a node grants at most one vote per term, §5.2', () => {
    const n = singleNode()
    n.step(newMessage(MessageType.MsgVote, { from: 2n, to: 1n, term: 5, index: 10, logTerm: 4 }))
    n.step(newMessage(MessageType.MsgVote, { from: 3n, to: 1n, term: 5, index: 10, logTerm: 4 }))
    const resp = n.ready().messages
    expect(resp.map((m) => [m.to, m.reject])).toEqual([
      [2n, false],
      [3n, true],
    ])
    expect(n.raft.vote).toBe(2n)
  })

  test('voter rejects a candidate whose log is less up-to-date, §5.4.1', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const n2 = c.get(2n).node
    const last = n2.raft.raftLog.lastIndex()
    n2.step(newMessage(MessageType.MsgVote, { from: 3n, to: 2n, term: 10, index: last - 1, logTerm: n2.raft.raftLog.lastTerm() }))
    const [resp] = n2.ready().messages
    expect(resp.type).toBe(MessageType.MsgVoteResp)
    expect(resp.reject).toBe(true)
    expect(n2.raft.term).toBe(10)
  })

  test('any node seeing a higher term becomes follower of that term, §5.1', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const leader = c.get(1n).node
    leader.step(newMessage(MessageType.MsgAppResp, { from: 2n, to: 1n, term: 9 }))
    expect(leader.raft.state).toBe(StateType.Follower)
    expect(leader.raft.term).toBe(9)
    expect(leader.raft.lead).toBe(NONE)
  })

  test('messages with a stale term are ignored, §5.1', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const f = c.get(2n).node
    const before = f.raft.raftLog.lastIndex()
    f.step(newMessage(MessageType.MsgApp, { from: 3n, to: 2n, term: 1, index: before, logTerm: 2, entries: [{ term: 1, index: before + 1, type: 0, data: enc('x') }] }))
    expect(f.raft.raftLog.lastIndex()).toBe(before)
    expect(f.raft.lead).toBe(1n)
  })

  test('candidate steps down when it receives MsgApp from a leader of its term, §5.2', () => {
    const c = Cluster.bootstrap([1n, 2n, 3n])
    const n = c.get(2n).node
    n.campaign()
    expect(n.raft.state).toBe(StateType.Candidate)
    n.step(newMessage(MessageType.MsgApp, { from: 3n, to: 2n, term: n.raft.term, index: 3, logTerm: 1, commit: 3 }))
    expect(n.raft.state).toBe(StateType.Follower)
    expect(n.raft.lead).toBe(3n)
  })

  test('a single voter elects itself at once and commits alone', () => {
    const c = Cluster.bootstrap([1n])
    c.get(1n).node.campaign()
    expect(stateOf(c, 1n)).toBe(StateType.Leader)
    c.get(1n).node.propose(enc('a'))
    c.stabilize()
    expect(c.get(1n).sm.applied).toBe(3)
  })

  test('pre-vote: a partitioned node does not raise its term, so it cannot disrupt the cluster when it returns, thesis §9.6', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { preVote: true })
    const term = c.get(1n).node.raft.term
    c.isolate(3n)
    for (let i = 0; i < 100; i++) {
      c.tick(3n)
      c.stabilize()
    }
    expect(c.get(3n).node.raft.term).toBe(term)
    expect(stateOf(c, 3n)).toBe(StateType.PreCandidate)
    c.heal()
    c.tickAll(1)
    c.stabilize()
    expect(stateOf(c, 1n)).toBe(StateType.Leader)
    expect(c.get(1n).node.raft.term).toBe(term)
    expect(c.get(3n).node.raft.lead).toBe(1n)
  })

  test('without pre-vote a returning partitioned node forces a new election (the problem pre-vote solves), thesis §9.6', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const term = c.get(1n).node.raft.term
    c.isolate(3n)
    tickUntilCampaign(c, 3n)
    c.stabilize()
    expect(c.get(3n).node.raft.term).toBe(term + 1)
    c.heal()
    c.get(3n).node.campaign()
    c.stabilize()
    expect(c.get(1n).node.raft.term).toBeGreaterThan(term)
  })

  test('check-quorum: a leader that hears from no quorum within an election timeout steps down, thesis §6.2', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { checkQuorum: true, electionTick: 10 })
    c.isolate(1n)
    for (let i = 0; i < 20; i++) {
      c.tick(1n)
      c.stabilize()
    }
    expect(stateOf(c, 1n)).toBe(StateType.Follower)
    expect(c.get(1n).node.raft.lead).toBe(NONE)
  })

  test('check-quorum: a leader that keeps hearing from a quorum stays leader, thesis §6.2', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { checkQuorum: true, electionTick: 10 })
    c.isolate(3n)
    for (let i = 0; i < 50; i++) {
      c.tick(1n)
      c.tick(2n)
      c.stabilize()
    }
    expect(stateOf(c, 1n)).toBe(StateType.Leader)
  })

  test('leader stickiness: with check-quorum a follower in lease ignores MsgVote from a higher term, thesis §4.2.3', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { checkQuorum: true })
    const f = c.get(2n).node
    const term = f.raft.term
    f.step(newMessage(MessageType.MsgVote, { from: 3n, to: 2n, term: term + 5, index: 100, logTerm: term + 4 }))
    expect(f.raft.term).toBe(term)
    expect(f.ready().messages.filter((m) => m.type === MessageType.MsgVoteResp)).toEqual([])
  })

  test('a stale leader learns the new term from a follower that ignores its append (check-quorum/pre-vote), etcd raft.go', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { checkQuorum: true, preVote: true })
    const f = c.get(2n).node
    f.step(newMessage(MessageType.MsgHeartbeat, { from: 3n, to: 2n, term: 1 }))
    const [resp] = f.ready().messages
    expect(resp.type).toBe(MessageType.MsgAppResp)
    expect(resp.term).toBe(f.raft.term)
  })

  test('a learner never campaigns, thesis §4.2.1', () => {
    const c = Cluster.bootstrap([1n, 2n], {}, 1, [3n])
    for (let i = 0; i < 50; i++) c.tick(3n)
    expect(stateOf(c, 3n)).toBe(StateType.Follower)
    expect(c.get(3n).node.raft.term).toBe(1)
  })

  test('proposal without a known leader is dropped with ProposalDroppedError(no-leader)', () => {
    const n = singleNode()
    expect(() => n.propose(enc('x'))).toThrow(ProposalDroppedError)
    try {
      n.propose(enc('x'))
    } catch (e) {
      expect((e as ProposalDroppedError).code).toBe('RAFT_PROPOSAL_DROPPED')
      expect((e as ProposalDroppedError).reason).toBe('no-leader')
    }
  })

  test('config: election tick must exceed heartbeat tick; lease-based reads need check-quorum', () => {
    expect(() => singleNode({ electionTick: 1, heartbeatTick: 1 })).toThrow(RaftConfigError)
    expect(() => singleNode({ readOnlyOption: 'lease-based' })).toThrow(RaftConfigError)
  })

  test('votes are persisted before vote messages are sent: the Ready with MsgVote carries the vote in HardState, §5.2 Figure 2', () => {
    const n = singleNode()
    n.campaign()
    const rd = n.ready()
    expect(rd.hardState).toEqual({ term: 1, vote: 1n, commit: 0 })
    expect(rd.mustSync).toBe(true)
    expect(rd.messages.length).toBe(2)
  })

  test('restart from storage restores term, vote and commit, §5 Figure 2', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.get(1n).node.propose(enc('a'))
    c.stabilize()
    const before = c.get(2n).node.raft.hardState()
    c.restart(2n)
    expect(c.get(2n).node.raft.hardState()).toEqual(before)
    flush(c)
    expect(inflightOf(c, MessageType.MsgVote)).toEqual([])
  })
})
