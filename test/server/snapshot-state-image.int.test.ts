// The state image a Raft snapshot carries: installed into another member's database it reproduces the state
// machine exactly (HashKV, leases with their keys, alarms, membership) while the receiver keeps its identity;
// a damaged, foreign, empty or newer image is refused and the receiver's state is unchanged.
import { afterEach, describe, expect, it } from 'vitest'
import { openMvcc } from '../../core/mvcc/mvcc'
import { MemberDb } from '../../core/storage/member-db'
import { getAppliedIndex, getIdentity, setAppliedIndex, setIdentity } from '../../core/storage/metadata'
import { STATE_IMAGE_VERSION, exportStateImage, inspectStateImage, installStateImage } from '../../core/storage/state-snapshot'
import { FakeClock } from '../../core/util/clock'
import { tempDir } from '../support/temp-dir'

const CONF = { voters: [1n, 2n, 3n], learners: [4n] }

describe('Raft snapshot state image', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c()
  })

  function member(memberId: bigint) {
    const d = tempDir('quorum-state-image-')
    const db = MemberDb.open({ dataDir: d.path })
    cleanups.push(d.remove, () => db.close())
    db.transaction((tx) => setIdentity(tx, { clusterId: 9n, memberId }))
    return { db, mvcc: openMvcc(db, { clock: new FakeClock() }) }
  }

  function leader() {
    const m = member(1n)
    m.db.transaction((tx) => m.mvcc.lessor.grant(tx, 0x7fff_ffff_ffff_fff0n, 60))
    for (let i = 0; i < 200; i++) {
      m.db.transaction((tx) => m.mvcc.kv.put(tx, { key: Buffer.from(`k${i % 40}`), value: Buffer.alloc(50, i), lease: i % 7 === 0 ? 0x7fff_ffff_ffff_fff0n : 0n }))
    }
    m.db.transaction((tx) => m.mvcc.kv.deleteRange(tx, { key: Buffer.from('k1') }))
    m.db.transaction((tx) => m.mvcc.kv.compact(tx, 100))
    m.db.transaction((tx) => {
      m.mvcc.alarms.activate(tx, 2n, 'NOSPACE')
      tx.statements.memberMetaSet.run('membership', '{"members":[],"removed":["5"]}')
      setAppliedIndex(tx, 250)
    })
    return m
  }

  it('an installed image reproduces HashKV, leases, alarms and membership; the receiver keeps its identity', () => {
    const source = leader()
    const image = source.db.transaction((tx) => exportStateImage(tx, 250))
    expect(inspectStateImage(image).index).toBe(250)

    const target = member(3n)
    target.db.transaction((tx) => target.mvcc.kv.put(tx, { key: Buffer.from('stale'), value: Buffer.from('x') }))
    target.db.transaction((tx) => installStateImage(tx, image, 250, CONF))
    const reopened = openMvcc(target.db, { clock: new FakeClock() })

    expect(reopened.kv.hashKv(0)).toEqual(source.mvcc.kv.hashKv(0))
    expect(reopened.kv.range({ key: Buffer.from('stale') }).kvs).toHaveLength(0)
    expect(reopened.lessor.leases()).toEqual([0x7fff_ffff_ffff_fff0n])
    const keys = Array.from({ length: 40 }, (_, i) => Buffer.from(`k${i}`))
    expect(keys.map((k) => reopened.lessor.leaseOf(k))).toEqual(keys.map((k) => source.mvcc.lessor.leaseOf(k)))
    expect(keys.filter((k) => reopened.lessor.leaseOf(k) !== 0n).length).toBeGreaterThan(0)
    expect(reopened.alarms.list()).toEqual([{ memberId: 2n, alarm: 'NOSPACE' }])
    expect(target.db.getMemberMeta('membership')).toBe('{"members":[],"removed":["5"]}')
    expect(getIdentity(target.db)).toEqual({ clusterId: 9n, memberId: 3n })
    expect(getAppliedIndex(target.db)).toBe(250)
    expect(target.db.confState()).toEqual(CONF)
  })

  it('in-memory views reload in place from an installed image (KvStore, Lessor, alarms)', () => {
    const source = leader()
    const image = source.db.transaction((tx) => exportStateImage(tx, 250))
    const target = member(3n)
    target.db.transaction((tx) => {
      installStateImage(tx, image, 250, CONF)
      target.mvcc.kv.reload()
      target.mvcc.lessor.reload()
      target.mvcc.alarms.reload(target.db.reader())
    })
    expect(target.mvcc.kv.rev()).toBe(source.mvcc.kv.rev())
    expect(target.mvcc.kv.compactRevision()).toBe(100)
    expect(target.mvcc.kv.hashKv(0)).toEqual(source.mvcc.kv.hashKv(0))
    expect(target.mvcc.lessor.leases()).toEqual([0x7fff_ffff_ffff_fff0n])
    expect(target.mvcc.alarms.hasNoSpace()).toBe(true)
  })

  it('refuses empty, foreign, damaged, newer and mismatched images and leaves the receiver unchanged', () => {
    const source = leader()
    const image = source.db.transaction((tx) => exportStateImage(tx, 250))
    const target = member(3n)
    target.db.transaction((tx) => target.mvcc.kv.put(tx, { key: Buffer.from('mine'), value: Buffer.from('x') }))
    const before = target.mvcc.kv.hashKv(0)

    const flipped = Buffer.from(image)
    flipped[flipped.length - 100] ^= 0xff
    const newer = Buffer.from(image)
    newer[8] = STATE_IMAGE_VERSION + 1
    const cases: Array<[Uint8Array, number, RegExp]> = [
      [new Uint8Array(), 250, /carries no state/],
      [Buffer.from('SQLite format 3\0 and more bytes than the header needs to be'), 250, /not a Quorum state image/],
      [flipped, 250, /sha256 mismatch/],
      [image.subarray(0, image.length - 10), 250, /sha256 mismatch/],
      [newer, 250, /newer than supported/],
      [image, 251, /image is at index 250, the snapshot at 251/],
    ]
    for (const [data, index, message] of cases) {
      expect(() => target.db.transaction((tx) => installStateImage(tx, data, index, CONF))).toThrow(message)
    }
    expect(openMvcc(target.db, { clock: new FakeClock() }).kv.hashKv(0)).toEqual(before)
    expect(getAppliedIndex(target.db)).toBe(0)
  })
})
