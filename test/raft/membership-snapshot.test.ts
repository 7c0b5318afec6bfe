import { describe, expect, test } from 'vitest'
import { newMessage } from '../../core/raft/raft'
import { ProgressState } from '../../core/raft/tracker/progress'
import { ConfChangeType, EntryType, MessageType, StateType, type ConfChange, type NodeId } from '../../core/raft/types'
import { NO_LIMIT } from '../../core/raft/util'
import type { Cluster } from './sim/cluster'
import { clusterWithLeader, enc, flush, inflightOf, stateOf } from './helpers'

const cc = (type: ConfChangeType, nodeId: NodeId): ConfChange => ({ type, nodeId, context: new Uint8Array(0) })

function config(c: Cluster, id: NodeId) {
  return c.get(id).node.status().config
}

describe('membership changes (thesis §4.1-§4.3, single-step as etcd)', () => {
  test('adding a voter: the new node catches up from the log and joins the quorum', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.addNode(4n)
    c.get(1n).node.proposeConfChange(cc(ConfChangeType.AddNode, 4n))
    c.stabilize()
    c.tick(1n)
    c.stabilize()
    for (const id of [1n, 2n, 3n, 4n]) expect(config(c, id).voters).toEqual([1n, 2n, 3n, 4n])
    expect(c.get(4n).sm.applied).toBe(c.get(1n).sm.applied)
  })

  test('a learner receives the log but never counts toward the quorum, thesis §4.2.1', () => {
    const c = clusterWithLeader([1n, 2n], 1n, {}, [3n])
    expect(config(c, 1n)).toEqual({ voters: [1n, 2n], learners: [3n] })
    c.isolate(2n)
    c.get(1n).node.propose(enc('x'))
    c.stabilize()
    const leader = c.get(1n).node.raft
    // Replicated to the learner 3, but with voter 2 unreachable nothing commits.
    expect(c.get(3n).node.raft.raftLog.lastIndex()).toBe(leader.raftLog.lastIndex())
    expect(leader.raftLog.committed).toBeLessThan(leader.raftLog.lastIndex())
    c.heal()
    c.tick(1n)
    c.stabilize()
    expect(leader.raftLog.committed).toBe(leader.raftLog.lastIndex())
    expect(c.get(3n).sm.applied).toBe(leader.raftLog.lastIndex())
  })

  test('promoting a learner makes it a voter that counts toward the quorum and can campaign', () => {
    const c = clusterWithLeader([1n, 2n], 1n, {}, [3n])
    c.get(1n).node.proposeConfChange(cc(ConfChangeType.AddNode, 3n))
    c.stabilize()
    expect(config(c, 3n)).toEqual({ voters: [1n, 2n, 3n], learners: [] })
    c.isolate(2n)
    c.get(1n).node.propose(enc('with 3'))
    c.stabilize()
    const leader = c.get(1n).node.raft
    expect(leader.raftLog.committed).toBe(leader.raftLog.lastIndex())
    c.get(3n).node.campaign()
    expect(stateOf(c, 3n)).toBe(StateType.Candidate)
  })

  test('only one conf change may be pending: a second one becomes an empty entry, thesis §4.1', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.isolate(1n)
    const leader = c.get(1n).node
    leader.proposeConfChange(cc(ConfChangeType.AddLearnerNode, 4n))
    leader.proposeConfChange(cc(ConfChangeType.AddLearnerNode, 5n))
    const log = leader.raft.raftLog
    const tail = log.slice(log.lastIndex() - 1, log.lastIndex() + 1, NO_LIMIT)
    expect(tail.map((e) => e.type)).toEqual([EntryType.ConfChange, EntryType.Normal])
    expect(tail[1].data.length).toBe(0)
  })

  test('a rejected change (removing the last voter) leaves the configuration untouched', () => {
    const c = clusterWithLeader([1n], 1n, {}, [2n])
    const before = config(c, 1n)
    const after = c.get(1n).node.applyConfChange(cc(ConfChangeType.RemoveNode, 1n))
    expect(after).toEqual(before)
    expect(config(c, 1n)).toEqual(before)
    expect(stateOf(c, 1n)).toBe(StateType.Leader)
  })

  test('removing a voter shrinks the quorum: the leader commits with the remaining majority', () => {
    const c = clusterWithLeader([1n, 2n, 3n, 4n], 1n)
    c.get(1n).node.proposeConfChange(cc(ConfChangeType.RemoveNode, 4n))
    c.stabilize()
    expect(config(c, 1n).voters).toEqual([1n, 2n, 3n])
    expect(c.removed.has(4n)).toBe(true)
    c.isolate(3n)
    c.get(1n).node.propose(enc('2 of 3'))
    c.stabilize()
    const log = c.get(1n).node.raft.raftLog
    expect(log.committed).toBe(log.lastIndex())
  })

  test('a removed leader steps down and the remaining voters elect a new leader, thesis §4.2.2', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.get(1n).node.proposeConfChange(cc(ConfChangeType.RemoveNode, 1n))
    c.stabilize()
    expect(stateOf(c, 1n)).toBe(StateType.Follower)
    for (let i = 0; i < 40 && !c.leader(); i++) {
      c.tickAll(1)
      c.stabilize()
    }
    const leader = c.leader()
    expect(leader?.id === 2n || leader?.id === 3n).toBe(true)
    expect(config(c, leader?.id ?? 0n).voters).toEqual([2n, 3n])
  })

  test('a node with an unapplied committed conf change does not campaign', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.get(1n).node.proposeConfChange(cc(ConfChangeType.AddLearnerNode, 4n))
    flush(c)
    c.deliverAll()
    flush(c)
    c.deliverAll()
    flush(c)
    // Node 2 receives the commit but does not apply it (no Ready handled).
    c.deliverAll()
    const r2 = c.get(2n).node.raft
    expect(r2.raftLog.committed).toBeGreaterThan(r2.raftLog.applied)
    const term = r2.term
    c.get(2n).node.campaign()
    expect(r2.term).toBe(term)
    expect(r2.state).toBe(StateType.Follower)
  })
})

describe('snapshots and log compaction (Raft §7, thesis §5)', () => {
  test('leader sends a snapshot to a follower that needs compacted entries, and the follower restores it', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    c.isolate(3n)
    for (let i = 0; i < 10; i++) c.get(1n).node.propose(enc(`p${i}`))
    c.stabilize()
    expect(c.compact(1n)).toBe(true)
    const snapIndex = c.get(1n).storage.snapshot().metadata.index
    c.heal()
    c.tick(1n)
    flush(c)
    c.deliverAll()
    flush(c)
    c.deliverAll()
    flush(c)
    const snaps = inflightOf(c, MessageType.MsgSnap, 3n)
    expect(snaps.length).toBe(1)
    expect(snaps[0].snapshot?.metadata.index).toBe(snapIndex)
    expect(c.get(1n).node.status().progress.get(3n)?.state).toBe(ProgressState.Snapshot)
    c.stabilize()
    c.tick(1n)
    c.stabilize()
    const f = c.get(3n)
    expect(f.storage.snapshot().metadata.index).toBe(snapIndex)
    expect(f.sm.applied).toBe(c.get(1n).sm.applied)
    expect(f.sm.hash).toBe(c.get(1n).sm.hash)
    expect(c.get(1n).node.status().progress.get(3n)?.state).toBe(ProgressState.Replicate)
  })

  test('a snapshot that does not include the node is ignored', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const f = c.get(3n).node
    const commit = f.raft.raftLog.committed
    f.step(
      newMessage(MessageType.MsgSnap, {
        from: 1n,
        to: 3n,
        term: f.raft.term,
        snapshot: { data: new Uint8Array(0), metadata: { index: 100, term: f.raft.term, confState: { voters: [1n, 2n], learners: [] } } },
      }),
    )
    expect(f.raft.raftLog.committed).toBe(commit)
    const [resp] = f.ready().messages
    expect(resp.type).toBe(MessageType.MsgAppResp)
    expect(resp.index).toBe(commit)
  })

  test('a snapshot older than the commit index is ignored; one matching the log only fast-forwards commit', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const f = c.get(3n).node
    const log = f.raft.raftLog
    const meta = { index: log.committed, term: log.term(log.committed), confState: { voters: [1n, 2n, 3n], learners: [] } }
    f.step(newMessage(MessageType.MsgSnap, { from: 1n, to: 3n, term: f.raft.term, snapshot: { data: new Uint8Array(0), metadata: meta } }))
    expect(f.ready().snapshot).toBeUndefined()
  })

  test('a failed snapshot send returns the follower to probe, paused until it responds', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    const leader = c.get(1n).node
    leader.raft.trk.progress.get(3n)?.becomeSnapshot(10)
    leader.reportSnapshot(3n, false)
    const pr = leader.status().progress.get(3n)
    expect(pr?.state).toBe(ProgressState.Probe)
    expect(pr?.paused).toBe(true)
  })

  test('a node restarted from a compacted storage keeps its snapshot and continues', () => {
    const c = clusterWithLeader([1n, 2n, 3n], 1n)
    for (let i = 0; i < 5; i++) c.get(1n).node.propose(enc(`p${i}`))
    c.stabilize()
    expect(c.compact(2n, 1)).toBe(true)
    c.restart(2n)
    const r = c.get(2n).node.raft
    expect(r.raftLog.firstIndex()).toBe(c.get(2n).storage.firstIndex())
    c.get(1n).node.propose(enc('after restart'))
    c.stabilize()
    expect(c.get(2n).sm.applied).toBe(c.get(1n).sm.applied)
    expect(c.get(2n).sm.hash).toBe(c.get(1n).sm.hash)
  })
})
