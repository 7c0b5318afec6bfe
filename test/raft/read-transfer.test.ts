import { describe, expect, test } from 'vitest'
import { ProposalDroppedError } from '../../core/raft/errors'
import { newMessage } from '../../core/raft/raft'
import { MessageType, NONE, StateType, type ReadState } from '../../core/raft/types'
import type { Cluster } from './sim/cluster'
import { clusterWithLeader, dec, enc, flush, inflightOf, stateOf } from './helpers'

/** Collects ReadStates handed out by Ready on every node. */
function collectReads(c: Cluster): Map<bigint, ReadState[]> {
  const reads = new Map<bigint, ReadState[]>()
  c.observer = {
    onReadState: (n, index, requestCtx) => reads.set(n.id, [...(reads.get(n.id) ?? []), { index, requestCtx }]),
  }
  return reads
}

describe('ReadIndex (thesis §6.4)', () => {
  test('safe ReadIndex on the leader is answered after a heartbeat round with a quorum, at the commit index', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const reads = collectReads(c)
    const leader = c.get(1n).node
    leader.readIndex(enc('r1'))
    flush(c)
    const hbs = inflightOf(c, MessageType.MsgHeartbeat)
    expect(hbs.length).toBe(2)
    expect(hbs.every((m) => dec(m.context) === 'r1')).toBe(true)
    expect(reads.get(1n)).toBeUndefined()
    c.stabilize()
    expect(reads.get(1n)?.map((r) => [dec(r.requestCtx), r.index])).toEqual([['r1', leader.raft.raftLog.committed]])
  })

  test('safe ReadIndex is not answered by a leader cut off from the quorum (no stale reads)', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const reads = collectReads(c)
    c.isolate(1n)
    c.get(1n).node.readIndex(enc('r1'))
    c.stabilize()
    expect(reads.size).toBe(0)
  })

  test('ReadIndex waits until the new leader has committed an entry of its term, thesis §6.4', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const reads = collectReads(c)
    c.get(2n).node.campaign()
    flush(c)
    c.deliverAll() // votes
    flush(c)
    c.deliverAll() // vote responses: 2 becomes leader, its empty entry not yet committed
    const leader = c.get(2n).node
    expect(leader.raft.state).toBe(StateType.Leader)
    expect(leader.raft.raftLog.term(leader.raft.raftLog.committed)).toBeLessThan(leader.raft.term)
    leader.readIndex(enc('early'))
    expect(leader.raft.pendingReadIndexMessages.length).toBe(1)
    c.stabilize()
    const got = reads.get(2n) ?? []
    expect(got.map((r) => dec(r.requestCtx))).toEqual(['early'])
    expect(leader.raft.raftLog.term(got[0].index)).toBe(leader.raft.term)
  })

  test('ReadIndex on a follower is forwarded to the leader and answered to the follower', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const reads = collectReads(c)
    c.get(3n).node.readIndex(enc('f'))
    c.stabilize()
    expect(reads.get(3n)?.map((r) => [dec(r.requestCtx), r.index])).toEqual([['f', c.get(1n).node.raft.raftLog.committed]])
  })

  test('lease-based ReadIndex is answered by the leader without a heartbeat round', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { checkQuorum: true, readOnlyOption: 'lease-based' })
    const reads = collectReads(c)
    c.get(1n).node.readIndex(enc('lease'))
    flush(c)
    expect(inflightOf(c, MessageType.MsgHeartbeat)).toEqual([])
    expect(reads.get(1n)?.map((r) => dec(r.requestCtx))).toEqual(['lease'])
  })

  test('several pending reads are all confirmed by the heartbeat acks of the latest one', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const reads = collectReads(c)
    c.get(1n).node.readIndex(enc('a'))
    c.get(1n).node.readIndex(enc('b'))
    c.inflight = []
    flush(c)
    c.inflight = c.inflight.filter((m) => dec(m.context) !== 'a')
    c.stabilize()
    expect(reads.get(1n)?.map((r) => dec(r.requestCtx))).toEqual(['a', 'b'])
  })
})

describe('leadership transfer (thesis §3.10)', () => {
  test('transfer to an up-to-date follower: MsgTimeoutNow, the target campaigns and wins', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { checkQuorum: true, preVote: true })
    c.get(1n).node.transferLeader(3n)
    flush(c)
    expect(inflightOf(c, MessageType.MsgTimeoutNow, 3n).length).toBe(1)
    c.stabilize()
    expect(stateOf(c, 3n)).toBe(StateType.Leader)
    expect(c.get(1n).node.raft.lead).toBe(3n)
  })

  test('transfer to a lagging follower first brings it up to date', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.isolate(3n)
    for (let i = 0; i < 5; i++) c.get(1n).node.propose(enc(`p${i}`))
    c.stabilize()
    c.heal()
    c.get(1n).node.transferLeader(3n)
    expect(c.get(1n).node.status().leadTransferee).toBe(3n)
    c.stabilize()
    c.tick(1n)
    c.stabilize()
    expect(stateOf(c, 3n)).toBe(StateType.Leader)
    expect(c.get(3n).node.raft.raftLog.lastIndex()).toBeGreaterThan(c.get(2n).node.raft.raftLog.committed - 1)
  })

  test('the leader refuses proposals while a transfer is in progress', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.isolate(3n)
    c.get(1n).node.transferLeader(3n)
    let err: unknown
    try {
      c.get(1n).node.propose(enc('x'))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ProposalDroppedError)
    expect((err as ProposalDroppedError).reason).toBe('leader-transfer')
  })

  test('a transfer that does not finish within an election timeout is aborted', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { electionTick: 10 })
    c.isolate(3n)
    c.get(1n).node.transferLeader(3n)
    for (let i = 0; i < 10; i++) c.tick(1n)
    expect(c.get(1n).node.status().leadTransferee).toBe(NONE)
    c.get(1n).node.propose(enc('ok again'))
  })

  test('a follower forwards a transfer request to the leader', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.get(2n).node.transferLeader(2n)
    c.stabilize()
    expect(stateOf(c, 2n)).toBe(StateType.Leader)
  })

  test('MsgTimeoutNow bypasses leader stickiness: voters in lease grant the transfer vote, thesis §3.10', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n, { checkQuorum: true })
    const f = c.get(2n).node
    const term = f.raft.term
    f.step(newMessage(MessageType.MsgTimeoutNow, { from: 1n, to: 2n, term }))
    expect(f.raft.state).toBe(StateType.Candidate)
    c.stabilize()
    expect(stateOf(c, 2n)).toBe(StateType.Leader)
    expect(c.get(2n).node.raft.term).toBe(term + 1)
  })
})
