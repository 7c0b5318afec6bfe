// The RaftStorage contract, run against every implementation (MemoryStorage and the SQLite storage).
import { afterEach, describe, expect, it } from 'vitest'
import type { RaftStorage } from '../../core/raft/storage'
import type { ConfState, Entry, HardState, Snapshot } from '../../core/raft/types'

/** The write side a host uses, adapted per implementation. */
export interface StorageUnderTest {
  storage: RaftStorage
  append(entries: Entry[]): void
  setHardState(hs: HardState): void
  applySnapshot(snap: Snapshot): void
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot
  compact(index: number): void
  cleanup(): void
}

function entry(index: number, term: number, data = `e${index}`): Entry {
  return { index, term, type: 0, data: Buffer.from(data) }
}

function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = []
  for (let i = from; i <= to; i++) out.push(entry(i, term))
  return out
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return (error as { code?: string; name?: string }).code ?? (error as Error).name
  }
  return undefined
}

const conf: ConfState = { voters: [1n, 2n, 3n], learners: [4n] }

/** Registers the contract tests for one implementation. */
export function raftStorageContract(name: string, make: () => StorageUnderTest): void {
  describe(`RaftStorage contract: ${name}`, () => {
    let s: StorageUnderTest
    afterEach(() => s?.cleanup())

    it('a fresh storage has an empty log after the dummy entry 0 of term 0', () => {
      s = make()
      expect(s.storage.firstIndex()).toBe(1)
      expect(s.storage.lastIndex()).toBe(0)
      expect(s.storage.term(0)).toBe(0)
      expect(s.storage.entries(1, 1, Infinity)).toEqual([])
      expect(s.storage.initialState().hardState).toEqual({ term: 0, vote: 0n, commit: 0 })
      expect(codeOf(() => s.storage.term(1))).toBe('RAFT_UNAVAILABLE')
    })

    it('entries returns [lo, hi) and rejects compacted or unavailable bounds', () => {
      s = make()
      s.append(entries(1, 5, 1))
      expect(s.storage.entries(2, 4, Infinity).map((e) => [e.index, e.term, Buffer.from(e.data).toString()])).toEqual([
        [2, 1, 'e2'],
        [3, 1, 'e3'],
      ])
      expect(codeOf(() => s.storage.entries(0, 2, Infinity))).toBe('RAFT_COMPACTED')
      expect(codeOf(() => s.storage.entries(1, 7, Infinity))).toBe('RAFT_UNAVAILABLE')
      expect(s.storage.entries(1, 6, Infinity)).toHaveLength(5)
    })

    it('entries are cut at maxSizeBytes but always include at least one', () => {
      s = make()
      s.append(entries(1, 5, 1))
      expect(s.storage.entries(1, 6, 0)).toHaveLength(1)
      // each entry counts 2 payload bytes + 16
      expect(s.storage.entries(1, 6, 18 * 3)).toHaveLength(3)
      expect(s.storage.entries(1, 6, 18 * 3 - 1)).toHaveLength(2)
    })

    it('append replaces a conflicting suffix and ignores entries below the first index', () => {
      s = make()
      s.append(entries(1, 5, 1))
      s.append([entry(3, 2, 'x3'), entry(4, 2, 'x4')])
      expect(s.storage.lastIndex()).toBe(4)
      expect(s.storage.term(3)).toBe(2)
      expect(Buffer.from(s.storage.entries(3, 4, Infinity)[0].data).toString()).toBe('x3')
      s.compact(2)
      s.append([entry(1, 1), entry(2, 1)])
      expect(s.storage.firstIndex()).toBe(3)
      expect(s.storage.lastIndex()).toBe(4)
    })

    it('append that would leave a gap is refused', () => {
      s = make()
      s.append(entries(1, 2, 1))
      expect(codeOf(() => s.append([entry(4, 1)]))).toBe('AssertionError')
      expect(s.storage.lastIndex()).toBe(2)
    })

    it('compact keeps the term of the compaction point readable and nothing before it', () => {
      s = make()
      s.append(entries(1, 5, 1))
      s.append(entries(6, 7, 2))
      s.compact(6)
      expect(s.storage.firstIndex()).toBe(7)
      expect(s.storage.term(6)).toBe(2)
      expect(codeOf(() => s.storage.term(5))).toBe('RAFT_COMPACTED')
      expect(codeOf(() => s.storage.entries(6, 7, Infinity))).toBe('RAFT_COMPACTED')
      expect(s.storage.entries(7, 8, Infinity).map((e) => e.index)).toEqual([7])
      expect(codeOf(() => s.compact(6))).toBe('RAFT_COMPACTED')
    })

    it('createSnapshot records index, term and conf state; an older snapshot is refused', () => {
      s = make()
      s.append(entries(1, 3, 1))
      s.append(entries(4, 5, 3))
      s.createSnapshot(4, conf, Buffer.from('state'))
      const snap = s.storage.snapshot()
      expect(snap.metadata).toEqual({ index: 4, term: 3, confState: conf })
      expect(Buffer.from(snap.data).toString()).toBe('state')
      expect(codeOf(() => s.createSnapshot(3, conf, Buffer.alloc(0)))).toBe('RAFT_SNAPSHOT_OUT_OF_DATE')
      // the log is untouched by createSnapshot
      expect(s.storage.firstIndex()).toBe(1)
    })

    it('applySnapshot replaces the whole log; the log continues after it', () => {
      s = make()
      s.append(entries(1, 3, 1))
      s.applySnapshot({ data: Buffer.from('img'), metadata: { index: 10, term: 4, confState: conf } })
      expect(s.storage.firstIndex()).toBe(11)
      expect(s.storage.lastIndex()).toBe(10)
      expect(s.storage.term(10)).toBe(4)
      expect(codeOf(() => s.storage.term(9))).toBe('RAFT_COMPACTED')
      expect(s.storage.initialState().confState).toEqual(conf)
      s.append([entry(11, 4)])
      expect(s.storage.lastIndex()).toBe(11)
      expect(codeOf(() => s.applySnapshot({ data: Buffer.alloc(0), metadata: { index: 10, term: 4, confState: conf } }))).toBe(
        'RAFT_SNAPSHOT_OUT_OF_DATE',
      )
    })

    it('initialState returns the last HardState set', () => {
      s = make()
      s.setHardState({ term: 7, vote: 0xffff_ffff_ffff_fffen, commit: 0 })
      s.append(entries(1, 2, 7))
      s.setHardState({ term: 7, vote: 0xffff_ffff_ffff_fffen, commit: 2 })
      expect(s.storage.initialState().hardState).toEqual({ term: 7, vote: 0xffff_ffff_ffff_fffen, commit: 2 })
    })
  })
}
