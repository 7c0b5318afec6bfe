import { describe, expect, it } from 'vitest'
import { BoltDb } from '../../../core/snapshot/bbolt/db'
import { BoltError } from '../../../core/snapshot/bbolt/errors'
import { BOLT_MAGIC, PAGE_HEADER_SIZE } from '../../../core/snapshot/bbolt/layout'
import { bufferByteSource } from '../../../core/snapshot/bbolt/page-reader'
import { resealMeta, tinyDatabase } from '../fixtures/tiny'
import { BoltFileBuilder } from './bolt-builder'

// The fixture is a real etcd 3.4 snapshot (see fixtures/make-tiny-snapshot.sh): 4 KiB pages, ten buckets,
// the `key` bucket a two-level tree, one 10 000-byte value on overflow pages.
const PAGE = 4096
const open = (bytes: Buffer, maxCacheBytes?: number) => BoltDb.open(bufferByteSource(bytes), { maxCacheBytes })

function boltError(read: () => unknown): BoltError {
  try {
    read()
  } catch (error) {
    if (error instanceof BoltError) return error
    throw error
  }
  throw new Error('expected a BoltError')
}

function allKeys(db: BoltDb, bucket: string): Buffer[] {
  return [...db.bucket(bucket)!.entries()].map((entry) => Buffer.from(entry.key))
}

describe('bbolt meta pages (db.go, meta.go)', () => {
  it('reads magic, version 2 and the page size, and uses the valid meta with the highest txid', () => {
    const db = open(tinyDatabase())
    const [meta0, meta1] = db.metaPages
    expect(meta0.meta.magic).toBe(BOLT_MAGIC)
    expect(meta0.meta.version).toBe(2)
    expect(db.pageSize).toBe(PAGE)
    // tx.WriteTo writes meta 1 with txid - 1, so meta 0 wins.
    expect(meta0.problem).toBeNull()
    expect(meta1.problem).toBeNull()
    expect(meta0.meta.txid).toBe(meta1.meta.txid + 1n)
    expect(db.meta.txid).toBe(meta0.meta.txid)
    expect(db.size).toBe(db.meta.pgid * PAGE)
  })

  it('falls back to the older meta page when the newer one fails its FNV-64a checksum', () => {
    const bytes = tinyDatabase()
    bytes[PAGE_HEADER_SIZE + 48] ^= 0x40 // a txid bit of meta 0, checksum left stale
    const db = open(bytes)
    expect(db.metaPages[0].problem).toBe('BOLT_CHECKSUM')
    expect(db.meta.txid).toBe(db.metaPages[1].meta.txid)
    expect(db.bucket('key')).toBeDefined()
  })

  it('finds the page size from meta 1 when meta 0 has lost its magic', () => {
    const bytes = tinyDatabase()
    bytes.writeUInt32LE(0, PAGE_HEADER_SIZE)
    const db = open(bytes)
    expect(db.pageSize).toBe(PAGE)
    expect(db.metaPages[0].problem).toBe('BOLT_INVALID')
    expect(db.meta.txid).toBe(db.metaPages[1].meta.txid)
  })

  it('rejects bytes without a meta page as BOLT_INVALID', () => {
    expect(boltError(() => open(Buffer.alloc(3 * PAGE, 0x5a))).code).toBe('BOLT_INVALID')
    expect(boltError(() => open(Buffer.from('hello'))).code).toBe('BOLT_INVALID')
  })

  it('rejects a newer format version with BOLT_VERSION_MISMATCH even when checksums are valid', () => {
    const bytes = tinyDatabase()
    for (const offset of [0, PAGE]) {
      bytes.writeUInt32LE(3, offset + PAGE_HEADER_SIZE + 4)
      resealMeta(bytes, offset)
    }
    const error = boltError(() => open(bytes))
    expect(error.code).toBe('BOLT_VERSION_MISMATCH')
    expect(error.message).toContain('version 3')
  })

  it('rejects two meta pages with bad checksums as BOLT_CHECKSUM', () => {
    const bytes = tinyDatabase()
    bytes[PAGE_HEADER_SIZE + 40] ^= 1
    bytes[PAGE + PAGE_HEADER_SIZE + 40] ^= 1
    expect(boltError(() => open(bytes)).code).toBe('BOLT_CHECKSUM')
  })

  it('rejects a file shorter than the high-water mark as BOLT_TRUNCATED', () => {
    const bytes = tinyDatabase()
    const error = boltError(() => open(bytes.subarray(0, bytes.length - PAGE)))
    expect(error.code).toBe('BOLT_TRUNCATED')
    expect(error.message).toContain(`needs ${bytes.length} bytes`)
  })
})

describe('bbolt buckets and pages (bucket.go, page.go)', () => {
  it("lists etcd's buckets in byte order, with small buckets inline and the key bucket on a branch page", () => {
    const db = open(tinyDatabase())
    expect(db.root().bucketNames().map(String)).toEqual([
      'alarm', 'auth', 'authRoles', 'authUsers', 'cluster', 'key', 'lease', 'members', 'members_removed', 'meta',
    ])
    expect(db.bucket('meta')!.isInline).toBe(true)
    const key = db.bucket('key')!
    expect(key.isInline).toBe(false)
    expect(key.rootPage().isBranch).toBe(true)
    expect(key.rootPage().count).toBeGreaterThan(1)
  })

  it('get returns values of plain keys only; bucket returns nested buckets only', () => {
    const db = open(tinyDatabase())
    const meta = db.bucket('meta')!
    expect(meta.get('consistent_index')).toHaveLength(8)
    expect(meta.get('no-such-key')).toBeUndefined()
    expect(db.root().get('meta')).toBeUndefined()
    expect(meta.bucket('consistent_index')).toBeUndefined()
    expect(db.bucket('nope')).toBeUndefined()
  })

  it('reads a value that spans overflow pages byte for byte', () => {
    const db = open(tinyDatabase())
    const big = [...db.bucket('key')!.entries()].find((entry) => (entry.value?.length ?? 0) > PAGE)
    expect(big).toBeDefined()
    expect(big!.value!.includes(Buffer.alloc(10_000, 'x'))).toBe(true)
  })
})

describe('bbolt cursor (cursor.go)', () => {
  it('visits every key of a multi-page bucket once, in strictly increasing byte order', () => {
    const db = open(tinyDatabase())
    const keys = allKeys(db, 'key')
    const leafCounts = Array.from({ length: db.bucket('key')!.rootPage().count }, (_, i) => {
      const pgid = db.bucket('key')!.rootPage().branchChild(i)
      return db.bucket('key')!.childPage(pgid).count
    })
    expect(keys.length).toBe(leafCounts.reduce((a, b) => a + b, 0))
    for (let i = 1; i < keys.length; i++) expect(Buffer.compare(keys[i - 1], keys[i])).toBe(-1)
  })

  it('seek lands on the key itself, else on the next larger key, else returns undefined', () => {
    const db = open(tinyDatabase())
    const keys = allKeys(db, 'key')
    const cursor = db.bucket('key')!.cursor()
    const middle = keys[Math.floor(keys.length / 2)]
    expect(cursor.seek(middle)!.key.equals(middle)).toBe(true)
    expect(cursor.next()!.key.equals(keys[Math.floor(keys.length / 2) + 1])).toBe(true)
    const between = Buffer.concat([middle, Buffer.from([0])])
    expect(cursor.seek(between)!.key.equals(keys[Math.floor(keys.length / 2) + 1])).toBe(true)
    expect(cursor.seek(Buffer.alloc(0))!.key.equals(keys[0])).toBe(true)
    expect(cursor.seek(Buffer.alloc(20, 0xff))).toBeUndefined()
  })

  it('returns undefined after the last entry, and keeps doing so', () => {
    const db = open(tinyDatabase())
    const cursor = db.bucket('meta')!.cursor()
    let count = 0
    for (let entry = cursor.first(); entry; entry = cursor.next()) count++
    expect(count).toBeGreaterThan(0)
    expect(cursor.next()).toBeUndefined()
  })
})

describe('bbolt page cache and corruption', () => {
  it('caches branch pages only, within its byte bound, and serves them again from the cache', () => {
    const none = open(tinyDatabase(), 0)
    allKeys(none, 'key')
    expect(none.cacheStats().cachedBytes).toBe(0)

    const db = open(tinyDatabase(), 1 << 20)
    allKeys(db, 'key')
    // The key bucket's root is the file's only branch page; leaves (and the root bucket's leaf) are not kept.
    expect(db.cacheStats().cachedBytes).toBe(PAGE)
    const { reads, hits } = db.cacheStats()
    allKeys(db, 'key')
    expect(db.cacheStats().hits).toBe(hits + 1)
    expect(db.cacheStats().reads - reads).toBe(db.bucket('key')!.rootPage().count + 1) // leaves + root bucket leaf
  })

  it('reports a page whose header names another page as BOLT_CORRUPT', () => {
    const bytes = tinyDatabase()
    const root = open(bytes).bucket('key')!.rootPgid
    bytes.writeBigUInt64LE(9999n, root * PAGE)
    const error = boltError(() => allKeys(open(bytes), 'key'))
    expect(error.code).toBe('BOLT_CORRUPT')
    expect(error.message).toContain(`page ${root}`)
  })

  it('reports a child page id beyond the high-water mark as BOLT_CORRUPT', () => {
    const bytes = tinyDatabase()
    const root = open(bytes).bucket('key')!.rootPgid
    bytes.writeBigUInt64LE(1_000_000n, root * PAGE + PAGE_HEADER_SIZE + 8) // branch element 0's pgid
    expect(boltError(() => allKeys(open(bytes), 'key')).message).toContain('out of range')
  })

  it('reports a leaf element pointing past its page as BOLT_CORRUPT', () => {
    const bytes = tinyDatabase()
    const db = open(bytes)
    const leaf = db.bucket('key')!.rootPage().branchChild(0)
    bytes.writeUInt32LE(0x7fff_0000, leaf * PAGE + PAGE_HEADER_SIZE + 4) // leaf element 0's pos
    const error = boltError(() => allKeys(open(bytes), 'key'))
    expect(error.code).toBe('BOLT_CORRUPT')
    expect(error.message).toMatch(/past/)
  })

  it('reports a page whose element count does not fit in it as BOLT_CORRUPT', () => {
    const bytes = tinyDatabase()
    const leaf = open(bytes).bucket('key')!.rootPage().branchChild(0)
    bytes.writeUInt16LE(0xffff, leaf * PAGE + 10)
    const error = boltError(() => allKeys(open(bytes), 'key'))
    expect(error.code).toBe('BOLT_CORRUPT')
    expect(error.message).toContain('65535 elements do not fit')
  })

  it('reports a meta page pointing at a non-tree page as BOLT_CORRUPT', () => {
    const bytes = tinyDatabase()
    const root = open(bytes).meta.rootPgid
    bytes.writeUInt16LE(0x10, root * PAGE + 8) // root page flags: freelist
    expect(boltError(() => open(bytes).root().bucketNames()).code).toBe('BOLT_CORRUPT')
  })
})

describe('hand-built bbolt files (shapes etcd 3.4 on amd64 does not write)', () => {
  const value = (text: string) => Buffer.from(text)

  // meta 0: txid 4, an old root; meta 1: txid 5, root -> bucket "outer" (branch page over three leaves, the
  // middle one empty) holding an inline bucket "inner" and a page bucket "nested" with an overflow value.
  function build(pageSize: number): Buffer {
    const builder = new BoltFileBuilder(pageSize)
    const deep = builder.leaf([
      { key: 'x', value: value('1') },
      { key: 'y', value: Buffer.alloc(2.5 * pageSize, 7) },
    ])
    const left = builder.leaf([
      { key: 'a1', value: value('va1') },
      { key: 'a2', value: value('va2') },
    ])
    const empty = builder.leaf([])
    const right = builder.leaf([
      { key: 'b1', value: value('vb1') },
      { key: 'inner', value: BoltFileBuilder.inlineBucket([{ key: 'i', value: value('j') }]), isBucket: true },
      { key: 'nested', value: BoltFileBuilder.bucket(deep, 5n), isBucket: true },
    ])
    const outer = builder.branch([
      { key: 'a1', pgid: left },
      { key: 'b0', pgid: empty },
      { key: 'b1', pgid: right },
    ])
    const newRoot = builder.leaf([{ key: 'outer', value: BoltFileBuilder.bucket(outer, 9n), isBucket: true }])
    const oldRoot = builder.leaf([{ key: 'stale', value: BoltFileBuilder.inlineBucket([]), isBucket: true }])
    return builder.finish({ root: oldRoot, txid: 4 }, { root: newRoot, txid: 5 })
  }

  it('uses meta 1 when its txid is the higher one', () => {
    const db = open(build(PAGE))
    expect(db.meta.txid).toBe(5n)
    expect(db.root().bucketNames().map(String)).toEqual(['outer'])
  })

  it('walks buckets nested two levels deep, skipping an empty leaf page, with 16 KiB pages', () => {
    const db = open(build(16384))
    expect(db.pageSize).toBe(16384)
    const outer = db.bucket('outer')!
    expect(outer.sequence).toBe(9n)
    expect([...outer.entries()].map((entry) => [String(entry.key), entry.value && String(entry.value)])).toEqual([
      ['a1', 'va1'],
      ['a2', 'va2'],
      ['b1', 'vb1'],
      ['inner', null],
      ['nested', null],
    ])
    expect(String(outer.cursor().seek('b0')!.key)).toBe('b1') // lands in the empty leaf, moves on
    expect(outer.bucket('inner')!.isInline).toBe(true)
    expect(String(outer.bucket('inner')!.get('i'))).toBe('j')
    const nested = outer.bucket('nested')!
    expect(nested.sequence).toBe(5n)
    expect(nested.get('y')!.equals(Buffer.alloc(2.5 * 16384, 7))).toBe(true)
  })

  it('probes for the page size through meta 1 when meta 0 is unreadable (64 KiB pages, as on some arm64)', () => {
    const bytes = build(65536)
    bytes.fill(0, 0, 4096)
    const db = open(bytes)
    expect(db.pageSize).toBe(65536)
    expect([...db.bucket('outer')!.entries()]).toHaveLength(5)
  })
})
