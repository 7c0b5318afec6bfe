// A write of the member's store that fails while an entry is applied (a full disk, an I/O error) must stop the
// member, not become that request's error: otherwise this member skips part of a committed entry and differs
// from the others for good. The failure is made real with a SQLite trigger that aborts inserts into mvcc_kv,
// created by a second connection as an operator's tool could.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openMvcc } from '../../core/mvcc/mvcc'
import { EntryType, type Entry } from '../../core/raft/types'
import { MemberStore } from '../../core/server/member-store'
import { Membership } from '../../core/server/membership'
import { encodeRaftRequest, type InternalRaftRequest } from '../../core/server/raft-request'
import { MemberDb } from '../../core/storage/member-db'
import { setIdentity } from '../../core/storage/metadata'
import { FakeClock } from '../../core/util/clock'
import { tempDir } from '../support/temp-dir'

describe('MemberStore apply', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup()
  })

  function open() {
    const dir = tempDir('quorum-member-store-')
    const db = MemberDb.open({ dataDir: dir.path })
    cleanups.push(dir.remove, () => db.close())
    db.transaction((tx) => setIdentity(tx, { clusterId: 9n, memberId: 1n }))
    const mvcc = openMvcc(db, { clock: new FakeClock() })
    const results: { id: bigint; error?: unknown }[] = []
    const store = new MemberStore({
      db,
      kv: mvcc.kv,
      lessor: mvcc.lessor,
      watchable: mvcc.watchable,
      alarms: mvcc.alarms,
      membership: new Membership(),
      maxTxnOps: 128,
      onResults: (applied) => results.push(...applied),
      onConfChanges: () => undefined,
    })
    return { dir, db, mvcc, store, results }
  }

  const put = (index: number, key: string, lease = '0'): Entry => ({
    term: 1,
    index,
    type: EntryType.Normal,
    data: encodeRaftRequest({
      header: { id: String(index), username: '', auth_revision: '0' },
      request: 'put',
      put: { key: Buffer.from(key), value: Buffer.from('v'), lease, prev_kv: false, ignore_value: false, ignore_lease: false },
    } as unknown as InternalRaftRequest),
  })

  it('answers a request error to the request, but stops on a failed store write and keeps nothing of that Ready', () => {
    const { dir, db, mvcc, store, results } = open()
    const ready = (entry: Entry) => store.commitReady({ hardState: { term: 1, vote: 0n, commit: entry.index }, entries: [entry], committedEntries: [entry] }, () => ({ voters: [1n], learners: [] }))

    ready(put(1, 'a'))
    expect(results).toEqual([{ id: 1n, value: expect.anything() }])
    // a request error (an unknown lease) is that request's answer; the entry counts as applied
    ready(put(2, 'c', '12345'))
    expect(results[1]).toEqual({ id: 2n, error: expect.objectContaining({ code: 'LEASE_NOT_FOUND' }) })
    expect(store.appliedIndex()).toBe(2)

    const other = new Database(join(dir.path, 'member.db'))
    other.exec("CREATE TRIGGER fail_writes BEFORE INSERT ON mvcc_kv BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END")
    other.close()

    expect(() => ready(put(3, 'b'))).toThrow(expect.objectContaining({ name: 'SqliteError', message: 'simulated write failure' }))
    expect(results).toHaveLength(2)
    expect(store.appliedIndex()).toBe(2)
    expect(db.raftStorage.lastIndex()).toBe(2)
    expect(mvcc.kv.range({ key: Buffer.from('b') }).kvs).toHaveLength(0)
    expect(mvcc.kv.range({ key: Buffer.from('a') }).kvs).toHaveLength(1)
  })
})
