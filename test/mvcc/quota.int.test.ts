// Quota over a real SQLite member database: writes beyond --quota-backend-bytes raise NOSPACE, writes are
// then rejected with etcd's error while deletes and compaction work; defragment frees the space and, after
// the alarm is disarmed, writes work again. Also: Hash/HashKV equal on two members with the same history.
import { afterEach, describe, expect, it } from 'vitest'
import { openMvcc } from '../../core/mvcc/mvcc'
import { checkNoSpace, quotaCost } from '../../core/mvcc/quota'
import { fragmentWatchResponse } from '../../core/mvcc/watch-fragment'
import { MemberDb } from '../../core/storage/member-db'
import { FakeClock } from '../../core/util/clock'
import { tempDir } from '../support/temp-dir'

const MEMBER = 0x11n

describe('quota and alarms', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c()
  })
  function open() {
    const dir = tempDir('quorum-quota-')
    const db = MemberDb.open({ dataDir: dir.path })
    cleanups.push(dir.remove, () => db.close())
    return { db, mvcc: openMvcc(db, { clock: new FakeClock(), quotaBackendBytes: 1024 * 1024 }) }
  }

  it('NOSPACE: raised at the quota, rejects puts with etcd error, cleared by compact + defragment + disarm', () => {
    const { db, mvcc } = open()
    const value = Buffer.alloc(16 * 1024, 1)
    let i = 0
    // the server's pre-proposal check (etcd quotaKVServer)
    for (; i < 1000; i++) {
      const put = { key: Buffer.from(`key-${i % 10}`), value }
      if (!mvcc.quota.available(quotaCost({ put }))) break
      db.transaction((tx) => mvcc.kv.put(tx, put))
    }
    expect(i).toBeGreaterThan(10)
    expect(i).toBeLessThan(1000)
    db.transaction((tx) => mvcc.alarms.activate(tx, MEMBER, 'NOSPACE'))
    const put = { key: Buffer.from('more'), value: Buffer.from('x') }
    let message = ''
    try {
      checkNoSpace(mvcc.alarms, { put })
    } catch (error) {
      message = (error as Error).message
      expect((error as { code?: string }).code).toBe('NO_SPACE')
    }
    expect(message).toBe('etcdserver: mvcc: database space exceeded')
    expect(() => checkNoSpace(mvcc.alarms, { leaseGrant: true })).toThrow('database space exceeded')
    // deletes and read-only txns still pass; compaction still works
    checkNoSpace(mvcc.alarms, { txn: { compare: [], success: [{ requestDeleteRange: { key: Buffer.from('key-1') } }], failure: [] } })
    db.transaction((tx) => mvcc.kv.compact(tx, mvcc.kv.rev()))
    const before = db.sizeBytes()
    db.defragment()
    expect(db.sizeBytes()).toBeLessThan(before / 2)
    expect(mvcc.quota.available(quotaCost({ put }))).toBe(true)
    // the alarm survives a restart until disarmed
    expect(openMvcc(db, { clock: new FakeClock() }).alarms.list()).toEqual([{ memberId: MEMBER, alarm: 'NOSPACE' }])
    db.transaction((tx) => mvcc.alarms.deactivate(tx, MEMBER, 'NOSPACE'))
    checkNoSpace(mvcc.alarms, { put })
    expect(db.transaction((tx) => mvcc.kv.put(tx, put)).revision).toBe(mvcc.kv.rev())
  })

  it('Hash and HashKV are equal on members that applied the same history, on SQLite and after reopening', () => {
    const a = open()
    const b = open()
    for (const m of [a, b]) {
      m.db.transaction((tx) => m.mvcc.lessor.grant(tx, 9n, 100))
      for (let i = 0; i < 50; i++) m.db.transaction((tx) => m.mvcc.kv.put(tx, { key: Buffer.from(`k${i % 7}`), value: Buffer.from(`v${i}`), lease: i % 3 === 0 ? 9n : 0n }))
      m.db.transaction((tx) => m.mvcc.kv.compact(tx, 30))
      m.db.transaction((tx) => m.mvcc.lessor.revoke(tx, 9n))
    }
    expect(a.mvcc.kv.hashKv(0)).toEqual(b.mvcc.kv.hashKv(0))
    expect(a.mvcc.kv.hashKv(40)).toEqual(b.mvcc.kv.hashKv(40))
    expect(a.mvcc.kv.hash()).toBe(b.mvcc.kv.hash())
    const reopened = openMvcc(a.db, { clock: new FakeClock() })
    expect(reopened.kv.hashKv(0)).toEqual(a.mvcc.kv.hashKv(0))
    b.db.transaction((tx) => b.mvcc.kv.put(tx, { key: Buffer.from('extra'), value: Buffer.from('1') }))
    expect(b.mvcc.kv.hashKv(0).hash).not.toBe(a.mvcc.kv.hashKv(0).hash)
    expect(b.mvcc.kv.hash()).not.toBe(a.mvcc.kv.hash())
  })

  it('watch responses are fragmented below the request size limit, each piece with at least one event', () => {
    const event = (n: number) => ({ type: 'PUT' as const, kv: { key: Buffer.from(`k${n}`), value: Buffer.alloc(100), createRevision: 2, modRevision: 2, version: 1, lease: 0n } })
    const resp = { watchId: 1, events: [0, 1, 2, 3, 4].map(event), revision: 2, compactRevision: 0, canceled: false }
    const sizeOf = (r: { events: unknown[] }) => 10 + 110 * r.events.length
    const pieces = fragmentWatchResponse(resp, 250, sizeOf)
    expect(pieces.map((p) => [p.events.length, p.fragment])).toEqual([
      [2, true],
      [2, true],
      [1, false],
    ])
    expect(fragmentWatchResponse(resp, 10_000, sizeOf).map((p) => p.fragment)).toEqual([false])
  })
})
