import { describe, expect, it } from 'vitest'
import { mustSync } from '../../core/server/member-store'
import { EntryType } from '../../core/raft/types'

// etcd raft MustSync: only new entries, a snapshot, or a term/vote change need an fsync before messages go out.
describe('mustSync', () => {
  const hs = { term: 3, vote: 1n, commit: 10 }
  const entry = { term: 3, index: 11, type: EntryType.Normal, data: new Uint8Array() }

  it('syncs new entries and the first hard state', () => {
    expect(mustSync({ entries: [entry] }, hs)).toBe(true)
    expect(mustSync({ entries: [], hardState: hs }, null)).toBe(true)
  })

  it('syncs a changed term or vote', () => {
    expect(mustSync({ entries: [], hardState: { ...hs, term: 4 } }, hs)).toBe(true)
    expect(mustSync({ entries: [], hardState: { ...hs, vote: 2n } }, hs)).toBe(true)
  })

  it('does not sync a commit-only change or a Ready with nothing to persist', () => {
    expect(mustSync({ entries: [], hardState: { ...hs, commit: 12 } }, hs)).toBe(false)
    expect(mustSync({ entries: [] }, hs)).toBe(false)
  })
})
