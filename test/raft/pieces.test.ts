import { describe, expect, test } from 'vitest'
import { decodeConfChange, encodeConfChange } from '../../core/raft/confchange/codec'
import { MemoryStorage, SnapshotOutOfDateError } from '../../core/raft/memory-storage'
import { RaftLog } from '../../core/raft/log'
import { VoteResult, committedIndex, voteResult } from '../../core/raft/quorum/majority'
import { CompactedError, UnavailableError } from '../../core/raft/storage'
import { StepLocalMessageError } from '../../core/raft/errors'
import { newMessage } from '../../core/raft/raft'
import { RawNode } from '../../core/raft/raw-node'
import { Inflights } from '../../core/raft/tracker/inflights'
import { ConfChangeType, MessageType, type Entry } from '../../core/raft/types'
import { NO_LIMIT } from '../../core/raft/util'
import { seededRand } from '../../core/util/rand'

const e = (term: number, index: number, size = 0): Entry => ({ term, index, type: 0, data: new Uint8Array(size) })

describe('majority quorum (Raft §5.3 commitment, etcd quorum/majority.go)', () => {
  test('committed index is the highest index acknowledged by a majority', () => {
    const voters = new Set([1n, 2n, 3n, 4n, 5n])
    const acked = new Map([[1n, 5], [2n, 4], [3n, 3], [4n, 2], [5n, 1]])
    expect(committedIndex(voters, (id) => acked.get(id))).toBe(3)
    expect(committedIndex(new Set([1n, 2n, 3n, 4n]), (id) => acked.get(id))).toBe(3)
    expect(committedIndex(new Set([1n, 2n]), (id) => (id === 1n ? 10 : undefined))).toBe(0)
  })

  test('vote result is won with a majority, lost when a majority is impossible, else pending', () => {
    const v = new Set([1n, 2n, 3n])
    expect(voteResult(v, new Map([[1n, true], [2n, true]]))).toBe(VoteResult.Won)
    expect(voteResult(v, new Map([[1n, true], [2n, false]]))).toBe(VoteResult.Pending)
    expect(voteResult(v, new Map([[1n, false], [2n, false]]))).toBe(VoteResult.Lost)
    expect(voteResult(v, new Map([[9n, true], [8n, true]]))).toBe(VoteResult.Pending) // non-voters do not count
  })
})

describe('inflights window (flow control)', () => {
  test('full by count or by bytes; freeing acknowledged messages reopens it', () => {
    const inf = new Inflights(3, 100)
    inf.add(1, 10)
    inf.add(2, 10)
    expect(inf.full()).toBe(false)
    inf.add(3, 10)
    expect(inf.full()).toBe(true)
    inf.freeLE(2)
    expect(inf.count()).toBe(1)
    expect(inf.full()).toBe(false)
    inf.add(4, 95)
    expect(inf.full()).toBe(true)
    expect(() => inf.add(5, 1)).toThrow()
  })
})

describe('MemoryStorage (RaftStorage contract)', () => {
  test('append truncates conflicting entries; entries() honours [lo, hi) and the size limit', () => {
    const s = new MemoryStorage()
    s.append([e(1, 1, 10), e(1, 2, 10), e(1, 3, 10)])
    s.append([e(2, 3, 10), e(2, 4, 10)])
    expect(s.lastIndex()).toBe(4)
    expect(s.term(3)).toBe(2)
    expect(s.entries(1, 5, NO_LIMIT).map((x) => x.index)).toEqual([1, 2, 3, 4])
    expect(s.entries(2, 5, 30).map((x) => x.index)).toEqual([2]) // each entry counts 10 + 16 bytes
    expect(s.entries(2, 5, 0).map((x) => x.index)).toEqual([2]) // at least one
    expect(() => s.entries(1, 6, NO_LIMIT)).toThrow(UnavailableError)
  })

  test('compact keeps the compacted index as a readable dummy term and refuses older reads', () => {
    const s = new MemoryStorage()
    s.append([e(1, 1), e(1, 2), e(2, 3), e(2, 4)])
    s.compact(2)
    expect(s.firstIndex()).toBe(3)
    expect(s.term(2)).toBe(1)
    expect(() => s.term(1)).toThrow(CompactedError)
    expect(() => s.entries(2, 4, NO_LIMIT)).toThrow(CompactedError)
    expect(() => s.compact(2)).toThrow(CompactedError)
  })

  test('createSnapshot and applySnapshot refuse out-of-date snapshots', () => {
    const s = new MemoryStorage()
    s.append([e(1, 1), e(1, 2), e(2, 3)])
    const snap = s.createSnapshot(2, { voters: [1n], learners: [] }, new Uint8Array([7]))
    expect(snap.metadata).toEqual({ index: 2, term: 1, confState: { voters: [1n], learners: [] } })
    expect(() => s.createSnapshot(1, { voters: [1n], learners: [] }, new Uint8Array(0))).toThrow(SnapshotOutOfDateError)
    const t = new MemoryStorage()
    t.applySnapshot(snap)
    expect(t.firstIndex()).toBe(3)
    expect(t.lastIndex()).toBe(2)
    expect(t.term(2)).toBe(1)
    expect(() => t.applySnapshot(snap)).toThrow(SnapshotOutOfDateError)
  })
})

describe('raft log (etcd log.go)', () => {
  test('findConflictByTerm returns the last index whose term is <= the given term', () => {
    const s = new MemoryStorage()
    s.append([e(1, 1), e(1, 2), e(3, 3), e(3, 4), e(5, 5)])
    const log = new RaftLog(s, NO_LIMIT)
    expect(log.findConflictByTerm(5, 4)).toEqual({ index: 4, term: 3 })
    expect(log.findConflictByTerm(5, 2)).toEqual({ index: 2, term: 1 })
    expect(log.findConflictByTerm(5, 0)).toEqual({ index: 0, term: 0 })
  })

  test('appending below the commit index is a broken invariant (committed entries never change), §5.4', () => {
    const s = new MemoryStorage()
    s.append([e(1, 1), e(1, 2)])
    const log = new RaftLog(s, NO_LIMIT)
    log.commitTo(2)
    expect(() => log.append([e(2, 2)])).toThrow(/committed/)
    expect(() => log.maybeAppend(1, 1, 2, [e(2, 2)])).toThrow(/conflicts with committed/)
  })

  test('isUpToDate compares last term first, then last index, §5.4.1', () => {
    const s = new MemoryStorage()
    s.append([e(1, 1), e(2, 2)])
    const log = new RaftLog(s, NO_LIMIT)
    expect(log.isUpToDate(1, 3)).toBe(true)
    expect(log.isUpToDate(2, 2)).toBe(true)
    expect(log.isUpToDate(1, 2)).toBe(false)
    expect(log.isUpToDate(5, 1)).toBe(false)
  })
})

describe('conf change codec and RawNode input checks', () => {
  test('conf changes round-trip through entry data', () => {
    const cc = { type: ConfChangeType.AddLearnerNode, nodeId: 0xfedcba9876543210n, context: new Uint8Array([1, 2, 3]) }
    expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc)
  })

  test('step refuses local message types from the network', () => {
    const n = new RawNode({ id: 1n, storage: MemoryStorage.withConfState({ voters: [1n], learners: [] }), rand: seededRand(1) })
    expect(() => n.step(newMessage(MessageType.MsgHup, { from: 2n, to: 1n }))).toThrow(StepLocalMessageError)
  })
})
