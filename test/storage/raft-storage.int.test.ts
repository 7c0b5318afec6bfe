import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { MemoryStorage } from '../../core/raft/memory-storage'
import { MemberDb } from '../../core/storage/member-db'
import { getAppliedIndex, setAppliedIndex } from '../../core/storage/metadata'
import {
  DEFAULT_SNAPSHOT_COUNT,
  applySnapshot,
  appendEntries,
  compactLog,
  createSnapshot,
  maybeSnapshotAndCompact,
  persistReady,
  setHardState,
} from '../../core/storage/raft-storage'
import { tempDir } from '../support/temp-dir'
import { type StorageUnderTest, raftStorageContract } from './raft-storage-contract'

raftStorageContract('MemoryStorage', (): StorageUnderTest => {
  const m = new MemoryStorage()
  return {
    storage: m,
    append: (e) => m.append(e),
    setHardState: (hs) => m.setHardState(hs),
    applySnapshot: (snap) => m.applySnapshot(snap),
    createSnapshot: (i, cs, data) => m.createSnapshot(i, cs, data),
    compact: (i) => m.compact(i),
    cleanup: () => {},
  }
})

raftStorageContract('SQLite', (): StorageUnderTest => {
  const dir = tempDir('quorum-raft-')
  const db = MemberDb.open({ dataDir: dir.path })
  return {
    storage: db.raftStorage,
    append: (e) => db.transaction((tx) => appendEntries(tx, e)),
    setHardState: (hs) => db.transaction((tx) => setHardState(tx, hs)),
    applySnapshot: (snap) => db.transaction((tx) => applySnapshot(tx, snap)),
    createSnapshot: (i, cs, data) => db.transaction((tx) => createSnapshot(tx, i, cs, data)),
    compact: (i) => db.transaction((tx) => compactLog(tx, i)),
    cleanup: () => {
      db.close()
      dir.remove()
    },
  }
})

describe('SQLite raft storage', () => {
  const dirs: { remove(): void }[] = []
  const dbs: MemberDb[] = []
  afterEach(() => {
    for (const db of dbs.splice(0)) db.close()
    for (const d of dirs.splice(0)) d.remove()
  })
  function open(path?: string): { db: MemberDb; path: string } {
    let p = path
    if (p === undefined) {
      const d = tempDir('quorum-raft-')
      dirs.push(d)
      p = d.path
    }
    const db = MemberDb.open({ dataDir: p })
    dbs.push(db)
    return { db, path: p }
  }

  it('a persisted Ready (snapshot, entries, hard state) survives close and reopen', () => {
    const { db, path } = open()
    db.transaction((tx) =>
      persistReady(tx, {
        snapshot: { data: Buffer.from('s'), metadata: { index: 5, term: 2, confState: { voters: [1n], learners: [] } } },
        entries: [
          { index: 6, term: 2, type: 0, data: Buffer.from('a') },
          { index: 7, term: 3, type: 1, data: Buffer.from('b') },
        ],
        hardState: { term: 3, vote: 1n, commit: 6 },
      }),
    )
    db.close()
    const again = open(path).db
    expect(again.raftStorage.initialState()).toEqual({ hardState: { term: 3, vote: 1n, commit: 6 }, confState: { voters: [1n], learners: [] } })
    expect(again.raftStorage.firstIndex()).toBe(6)
    expect(again.raftStorage.entries(6, 8, Infinity).map((e) => [e.index, e.term, e.type])).toEqual([
      [6, 2, 0],
      [7, 3, 1],
    ])
  })

  it('a transaction that throws leaves nothing behind (one Ready is all or nothing)', () => {
    const { db } = open()
    expect(() =>
      db.transaction((tx) => {
        persistReady(tx, { entries: [{ index: 1, term: 1, type: 0, data: Buffer.from('x') }], hardState: { term: 1, vote: 0n, commit: 0 } })
        setAppliedIndex(tx, 1)
        throw new Error('crash before commit')
      }),
    ).toThrow('crash before commit')
    expect(db.raftStorage.lastIndex()).toBe(0)
    expect(db.raftStorage.initialState().hardState.term).toBe(0)
    expect(getAppliedIndex(db)).toBe(0)
  })

  it('the in-memory tail always answers like the database: appends, conflicting suffixes, rollbacks, compaction, snapshots', () => {
    const { db, path } = open()
    const storage = db.raftStorage
    // The truth: the table itself, through a second (read-only) connection.
    const reference = new Database(join(path, 'member.db'), { readonly: true })
    const table = () => reference.prepare('SELECT idx, term, data FROM raft_entry ORDER BY idx').all() as { idx: number; term: number; data: Buffer }[]
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const check = (step: number) => {
      const rows = table()
      const first = storage.firstIndex()
      const last = storage.lastIndex()
      expect([first - 1, last], `step ${step}`).toEqual([rows[0].idx, rows.at(-1)!.idx])
      expect(Array.from({ length: last - first + 2 }, (_, i) => storage.term(first - 1 + i)), `step ${step}`).toEqual(rows.map((row) => row.term))
      if (last < first) return
      const entries = storage.entries(first, last + 1, Infinity).map((e) => [e.index, e.term, Buffer.from(e.data).toString()])
      expect(entries, `step ${step}`).toEqual(rows.slice(1).map((row) => [row.idx, row.term, row.data.toString()]))
      if (random(5) === 0) {
        // a size limit cuts the same entries from memory and from the table
        const fromTail = storage.entries(first, last + 1, 40).length
        storage.forgetTail()
        expect(storage.entries(first, last + 1, 40).length, `step ${step}`).toBe(fromTail)
      }
    }
    let term = 1
    for (let step = 0; step < 400; step++) {
      const first = storage.firstIndex()
      const last = storage.lastIndex()
      const action = random(10)
      if (action < 6) {
        // append at a random point from the first index to one past the end (a conflicting suffix or new entries)
        const from = first + random(last - first + 2)
        if (random(3) === 0) term++
        const entries = Array.from({ length: 1 + random(5) }, (_, i) => ({ index: from + i, term, type: 0, data: Buffer.from(`e${step}-${i}`) }))
        db.transaction((tx) => appendEntries(tx, entries))
      } else if (action === 6) {
        const entries = [{ index: first + random(last - first + 2), term: term + 1, type: 0, data: Buffer.from('rolled back') }]
        expect(() =>
          db.transaction((tx) => {
            appendEntries(tx, entries)
            throw new Error('rollback')
          }),
        ).toThrow('rollback')
      } else if (action === 7 && last > first + 2) {
        db.transaction((tx) => compactLog(tx, first + random(last - first)))
      } else if (action === 8 && random(4) === 0) {
        term++
        db.transaction((tx) => applySnapshot(tx, { data: Buffer.alloc(0), metadata: { index: first + random(last - first + 4), term, confState: { voters: [1n], learners: [] } } }))
      }
      check(step)
    }
    expect(storage.lastIndex()).toBeGreaterThan(50)
    reference.close()
  })

  it('past its size limit the in-memory tail keeps the newest entries, bounded, and still answers like the database', () => {
    const { db, path } = open()
    const storage = db.raftStorage
    const reference = new Database(join(path, 'member.db'), { readonly: true })
    const tailLength = () => (storage as unknown as { tail: unknown[] }).tail.length
    let index = storage.lastIndex()
    const lengths: number[] = []
    for (let batch = 0; batch < 1500; batch++) {
      const entries = Array.from({ length: 7 }, () => ({ index: ++index, term: 1 + (index >> 10), type: 0, data: Buffer.from(`t${index}`) }))
      db.transaction((tx) => appendEntries(tx, entries))
      lengths.push(tailLength())
    }
    expect(Math.max(...lengths)).toBeLessThanOrEqual(4096)
    expect(Math.min(...lengths.slice(1000))).toBeGreaterThanOrEqual(3072)
    const rows = reference.prepare('SELECT idx, term, data FROM raft_entry WHERE idx >= ? ORDER BY idx').all(index - 5000) as { idx: number; term: number; data: Buffer }[]
    const entries = storage.entries(index - 5000, index + 1, Infinity)
    expect(entries.map((e) => [e.index, e.term, Buffer.from(e.data).toString()])).toEqual(rows.map((row) => [row.idx, row.term, row.data.toString()]))
    for (const row of rows) expect(storage.term(row.idx)).toBe(row.term)
    reference.close()
  })

  it('snapshot-count triggers a snapshot at the applied index and keeps the catch-up margin', () => {
    const { db } = open()
    const cs = { voters: [1n], learners: [] }
    db.transaction((tx) => appendEntries(tx, Array.from({ length: 30 }, (_, i) => ({ index: i + 1, term: 1, type: 0, data: Buffer.alloc(0) }))))
    expect(DEFAULT_SNAPSHOT_COUNT).toBe(100_000)
    expect(db.transaction((tx) => maybeSnapshotAndCompact(tx, 10, cs, { snapshotCount: 10, catchUpEntries: 5 }))).toBeUndefined()
    const snap = db.transaction((tx) => maybeSnapshotAndCompact(tx, 25, cs, { snapshotCount: 10, catchUpEntries: 5 }))
    expect(snap?.metadata.index).toBe(25)
    expect(db.raftStorage.snapshot().metadata.index).toBe(25)
    // entries 21..30 stay so a follower 5 behind the snapshot can still catch up from the log
    expect(db.raftStorage.firstIndex()).toBe(21)
    expect(db.raftStorage.lastIndex()).toBe(30)
  })

  it('the applied index never goes backwards', () => {
    const { db } = open()
    db.transaction((tx) => setAppliedIndex(tx, 5))
    expect(() => db.transaction((tx) => setAppliedIndex(tx, 4))).toThrow(/applied index 4 < stored 5/)
    expect(getAppliedIndex(db)).toBe(5)
  })
})
