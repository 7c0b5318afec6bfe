import { describe, expect, it } from 'vitest'
import { PAGE_HEADER_SIZE } from '../../core/snapshot/bbolt/layout'
import { SnapshotError } from '../../core/snapshot/errors'
import { decodeRevisionKey, encodeRevisionKey } from '../../core/snapshot/etcd-records'
import { openEtcdSnapshotBuffer, type EtcdSnapshot, type OpenEtcdSnapshotOptions } from '../../core/snapshot/etcd-snapshot'
import { etcdctlLiveKeys, fixtureText, snapshotLiveKeys, resealMeta, tinyDatabase, tinySnapshot, withTrailer } from './fixtures/tiny'

const PAGE = 4096

function snapshotError(bytes: Buffer, options?: OpenEtcdSnapshotOptions): SnapshotError {
  try {
    openEtcdSnapshotBuffer(bytes, options).close()
  } catch (error) {
    if (error instanceof SnapshotError) return error
    throw error
  }
  throw new Error('expected a SnapshotError')
}

function withSnapshot<T>(bytes: Buffer, use: (snapshot: EtcdSnapshot) => T, options?: OpenEtcdSnapshotOptions): T {
  const snapshot = openEtcdSnapshotBuffer(bytes, options)
  try {
    return use(snapshot)
  } finally {
    snapshot.close()
  }
}

describe('etcd snapshot status (clientv3/snapshot Status)', () => {
  it('equals `etcdctl snapshot status -w json` for a snapshot etcd wrote', () => {
    const expected = JSON.parse(fixtureText('tiny.status.json'))
    withSnapshot(tinySnapshot(), (snapshot) => {
      expect(snapshot.status()).toEqual(expected)
      expect(snapshot.hashVerified).toBe(true)
      expect(snapshot.format).toBe('etcd-bbolt')
    })
  })

  it('reads a raw database without the sha256 trailer (member/snap/db) with the same status', () => {
    const expected = JSON.parse(fixtureText('tiny.status.json'))
    withSnapshot(tinyDatabase(), (snapshot) => {
      expect(snapshot.sha256).toBeNull()
      expect(snapshot.hashVerified).toBe(false)
      expect(snapshot.status()).toEqual(expected)
    })
  })
})

describe('etcd MVCC content', () => {
  it('latest state equals `etcdctl get "" --from-key` byte for byte (keys, values, revisions, versions, leases)', () => {
    const expected = etcdctlLiveKeys(fixtureText('tiny.get.json'))
    const actual = withSnapshot(tinySnapshot(), (snapshot) => snapshotLiveKeys(snapshot.latestState()))
    expect(actual.length).toBeGreaterThan(200)
    expect(actual).toEqual(expected)
    withSnapshot(tinySnapshot(), (snapshot) => expect(snapshot.liveKeyCount()).toBe(expected.length))
  })

  it('yields the latest state in revision order, each key once', () => {
    withSnapshot(tinySnapshot(), (snapshot) => {
      const live = [...snapshot.latestState()]
      for (let i = 1; i < live.length; i++) expect(live[i - 1].modRevision).toBeLessThanOrEqual(live[i].modRevision)
      expect(new Set(live.map((kv) => kv.key.toString('latin1'))).size).toBe(live.length)
    })
  })

  it('iterates revisions in order, sub revisions inside one transaction, tombstones marked and keyed', () => {
    withSnapshot(tinySnapshot(), (snapshot) => {
      const entries = [...snapshot.revisions()]
      for (let i = 1; i < entries.length; i++) {
        const [a, b] = [entries[i - 1].revision, entries[i].revision]
        expect(a.main < b.main || (a.main === b.main && a.sub < b.sub)).toBe(true)
      }
      // The first transaction put 100 keys at one main revision (subs 0..99); some survive compaction.
      expect(Math.max(...entries.map((entry) => entry.revision.sub))).toBeGreaterThan(50)
      const tombstone = entries.find((entry) => entry.revision.tombstone)
      expect(tombstone?.kv.key.toString()).toBe('k/003') // deleted after the compaction, so kept
      expect(tombstone?.kv.value).toHaveLength(0)
      const last = entries[entries.length - 1]
      expect(last.revision.main).toBe(snapshot.status().revision)
    })
  })

  it('decodes the meta bucket: consistent index and the compaction etcdctl ran', () => {
    const compacted = Number(fixtureText('tiny.compact-revision.txt'))
    withSnapshot(tinySnapshot(), (snapshot) => {
      const meta = snapshot.meta()
      expect(meta.consistentIndex).toBeGreaterThan(0n)
      expect(meta.scheduledCompactRevision).toBe(compacted)
      expect(meta.finishedCompactRevision).toBe(compacted)
      expect(meta.term).toBeNull() // etcd 3.4 does not store it
    })
  })

  it('decodes leases with their TTLs, and keys carry the lease id they were put with', () => {
    const leaseId = BigInt(`0x${fixtureText('tiny.lease.txt').trim()}`)
    withSnapshot(tinySnapshot(), (snapshot) => {
      const leases = snapshot.leases()
      expect(leases.map((lease) => lease.ttlSeconds).sort()).toEqual([3600, 7200])
      expect(leases.find((lease) => lease.id === leaseId)?.ttlSeconds).toBe(3600)
      const leased = [...snapshot.latestState()].filter((kv) => kv.lease === leaseId).map((kv) => kv.key.toString())
      expect(leased).toEqual(['leased/a', 'leased/b'])
    })
  })

  it('decodes membership and auth state', () => {
    withSnapshot(tinySnapshot(), (snapshot) => {
      const { members, removedIds } = snapshot.membership()
      expect(members).toHaveLength(1)
      expect(members[0].name).toBe('tiny')
      expect(members[0].peerURLs[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(removedIds).toEqual([])
      expect(snapshot.auth()).toMatchObject({ enabled: false, users: [], roles: [] })
    })
  })

  it('encodes and decodes revision keys as etcd does (big-endian main, "_", sub, optional "t")', () => {
    const bytes = encodeRevisionKey({ main: 258, sub: 3 }, true)
    expect(bytes.toString('hex')).toBe('0000000000000102' + '5f' + '0000000000000003' + '74')
    expect(decodeRevisionKey(bytes)).toEqual({ main: 258, sub: 3, tombstone: true })
    expect(() => decodeRevisionKey(Buffer.from('not-a-revision'))).toThrow(SnapshotError)
  })
})

describe('bad snapshot files are refused with a clear error', () => {
  it('an empty file', () => {
    const error = snapshotError(Buffer.alloc(0))
    expect(error.code).toBe('SNAPSHOT_EMPTY')
    expect(error.message).toBe('snapshot file is empty')
  })

  it('a file truncated in the middle', () => {
    const snapshot = tinySnapshot()
    const error = snapshotError(snapshot.subarray(0, Math.floor(snapshot.length / 2)))
    expect(error.code).toBe('SNAPSHOT_TRUNCATED')
    expect(error.message).toMatch(/truncated/)
  })

  it('a file whose sha256 trailer is cut short', () => {
    const snapshot = tinySnapshot()
    const error = snapshotError(snapshot.subarray(0, snapshot.length - 10))
    expect(error.code).toBe('SNAPSHOT_TRUNCATED')
    expect(error.message).toContain('22 of the 32 sha256 trailer bytes')
  })

  it("one flipped byte in the middle, with etcd's wording", () => {
    const snapshot = tinySnapshot()
    snapshot[Math.floor(snapshot.length / 2)] ^= 0x01
    const error = snapshotError(snapshot)
    expect(error.code).toBe('SNAPSHOT_HASH_MISMATCH')
    expect(error.message).toMatch(/^expected sha256 \[(\d{1,3} ){31}\d{1,3}\], got \[(\d{1,3} ){31}\d{1,3}\]$/)
  })

  it('random bytes and a SQLite file are not etcd snapshots', () => {
    expect(snapshotError(Buffer.alloc(5000, 7)).code).toBe('SNAPSHOT_NOT_ETCD')
    const sqlite = Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), Buffer.alloc(4080)])
    const error = snapshotError(sqlite)
    expect(error.code).toBe('SNAPSHOT_NOT_ETCD')
    expect(error.message).toContain('SQLite')
  })

  it('a raw database when the caller requires the hash, as etcd restore without --skip-hash-check', () => {
    const error = snapshotError(tinyDatabase(), { hashCheck: 'require' })
    expect(error.code).toBe('SNAPSHOT_MISSING_HASH')
    expect(error.message).toBe('snapshot missing hash but --skip-hash-check=false')
  })

  it('a snapshot from a newer bbolt format version', () => {
    const db = tinyDatabase()
    for (const offset of [0, PAGE]) {
      db.writeUInt32LE(3, offset + PAGE_HEADER_SIZE + 4)
      resealMeta(db, offset)
    }
    const error = snapshotError(withTrailer(db))
    expect(error.code).toBe('SNAPSHOT_UNSUPPORTED_VERSION')
    expect(error.message).toContain('version 3')
  })

  it('a corrupt page behind a matching sha256 fails status as SNAPSHOT_CORRUPT', () => {
    const db = tinyDatabase()
    const keyRoot = withSnapshot(db, (snapshot) => snapshot.db.bucket('key')!.rootPgid)
    db.writeUInt16LE(0x04, keyRoot * PAGE + 8) // the key bucket's root page now claims to be a meta page
    withSnapshot(withTrailer(db), (snapshot) => {
      let caught: unknown
      try {
        snapshot.status()
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(SnapshotError)
      expect((caught as SnapshotError).code).toBe('SNAPSHOT_CORRUPT')
    })
  })
})
