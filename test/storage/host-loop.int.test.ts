// The host loop the server will run, on a real member database: one transaction per Ready (persistReady),
// one per applied entry (MVCC change + applied index). A restart replays exactly the committed entries that
// were not applied, so each put is applied once. Also a reference for core/server/node-host.ts.
import { afterEach, describe, expect, it } from 'vitest'
import { openMvcc, type Mvcc } from '../../core/mvcc/mvcc'
import { decodeConfChange } from '../../core/raft/confchange/codec'
import { RawNode } from '../../core/raft/raw-node'
import { EntryType, type Entry } from '../../core/raft/types'
import { MemberDb } from '../../core/storage/member-db'
import { getAppliedIndex, setAppliedIndex, setConfState } from '../../core/storage/metadata'
import { persistReady } from '../../core/storage/raft-storage'
import { FakeClock } from '../../core/util/clock'
import { seededRand } from '../../core/util/rand'
import { tempDir } from '../support/temp-dir'

interface Member {
  db: MemberDb
  node: RawNode
  mvcc: Mvcc
}

function start(dataDir: string, fresh: boolean): Member {
  const db = MemberDb.open({ dataDir })
  const node = new RawNode({ id: 1n, storage: db.raftStorage, applied: getAppliedIndex(db), rand: seededRand(1) })
  if (fresh) node.bootstrap([1n])
  return { db, node, mvcc: openMvcc(db, { clock: new FakeClock() }) }
}

/** Applies one committed entry in its own transaction, recording the applied index with its effects. */
function applyEntry(m: Member, entry: Entry): void {
  m.db.transaction((tx) => {
    if (entry.type === EntryType.ConfChange) {
      setConfState(tx, m.node.applyConfChange(decodeConfChange(entry.data)))
    } else if (entry.data.length > 0) {
      const { key, value } = JSON.parse(Buffer.from(entry.data).toString()) as { key: string; value: string }
      m.mvcc.kv.put(tx, { key: Buffer.from(key), value: Buffer.from(value) })
    }
    setAppliedIndex(tx, entry.index)
  })
}

/** Runs ready/persist/apply/advance until quiet. `crashBeforeApply` stops after persisting (a crash). */
function drive(m: Member, crashBeforeApply = false): void {
  for (let i = 0; i < 100 && m.node.hasReady(); i++) {
    const rd = m.node.ready()
    m.db.transaction((tx) => persistReady(tx, { hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot }))
    // (a multi-member host sends rd.messages here, after the commit)
    if (crashBeforeApply && rd.committedEntries.length > 0) return
    for (const entry of rd.committedEntries) applyEntry(m, entry)
    m.node.advance()
  }
}

function elect(m: Member): void {
  m.node.campaign()
  drive(m)
  expect(m.node.isLeader()).toBe(true)
}

describe('host loop over the member database', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c()
  })

  it('committed but unapplied entries are replayed exactly once after a restart', () => {
    const dir = tempDir('quorum-host-')
    cleanups.push(dir.remove)
    let m = start(dir.path, true)
    drive(m)
    elect(m)
    for (let i = 0; i < 5; i++) m.node.propose(Buffer.from(JSON.stringify({ key: `k${i}`, value: `v${i}` })))
    drive(m)
    const applied = getAppliedIndex(m.db)
    expect(m.mvcc.kv.range({ key: Buffer.from('k'), rangeEnd: Buffer.from('l') }).count).toBe(5)
    // entries 5..7 get committed and persisted, then the process dies before applying them
    for (let i = 5; i < 8; i++) m.node.propose(Buffer.from(JSON.stringify({ key: `k${i}`, value: `v${i}` })))
    drive(m, true)
    expect(getAppliedIndex(m.db)).toBe(applied)
    m.db.close()

    m = start(dir.path, false)
    cleanups.push(() => m.db.close())
    expect(m.db.raftStorage.initialState().confState.voters).toEqual([1n])
    drive(m)
    const kvs = m.mvcc.kv.range({ key: Buffer.from('k'), rangeEnd: Buffer.from('l') }).kvs
    expect(kvs.map((kv) => [kv.key.toString(), kv.version])).toEqual(Array.from({ length: 8 }, (_, i) => [`k${i}`, 1]))
    expect(getAppliedIndex(m.db)).toBe(m.db.raftStorage.initialState().hardState.commit)
    elect(m)
    m.node.propose(Buffer.from(JSON.stringify({ key: 'after', value: 'restart' })))
    drive(m)
    expect(m.mvcc.kv.range({ key: Buffer.from('after') }).kvs[0].value.toString()).toBe('restart')
  })
})
