// A read-only reader for bbolt files (etcd's backend database and `etcdctl snapshot save` output).
//
// Hand-written because no npm package reads bbolt/BoltDB files (the registry list has none; "bolt" packages
// are Slack, Lightning and Neo4j tools), and etcd snapshots are only readable through this format. The logic
// follows etcd-io/bbolt (MIT): meta selection from db.go, the B+tree walk from cursor.go, bucket opening from
// bucket.go. It never writes, never maps the file, and reads one page span at a time through PageReader.

import { BoltError } from './errors'
import {
  BUCKET_HEADER_SIZE,
  MAX_PAGE_SIZE,
  MIN_PAGE_SIZE,
  PAGE_HEADER_SIZE,
  META_SIZE,
  PageView,
  corrupt,
  readMeta,
  type BoltMeta,
  type LeafElement,
  type MetaReading,
} from './layout'
import { PageReader, type ByteSource, type PageCacheStats } from './page-reader'

/** Options for `BoltDb.open`. */
export interface BoltOpenOptions {
  /** Upper bound of the page cache in bytes (default 4 MiB). Pages larger than this are read but not kept. */
  maxCacheBytes?: number
}

/** One key/value pair of a bucket, in key order. `value` is null for a nested bucket, as in bbolt's ForEach. */
export interface BoltEntry {
  key: Buffer
  value: Buffer | null
}

// A B+tree deeper than this is a cycle in a corrupt file: 2^64 keys fit in far fewer levels.
const MAX_TREE_DEPTH = 64
const DEFAULT_CACHE_BYTES = 4 << 20

/**
 * An open bbolt file. Holds the source open until `close()`. Everything is synchronous (positional reads on
 * one descriptor); callers on a latency-sensitive event loop should run long scans in a worker.
 */
export class BoltDb {
  private constructor(
    private readonly source: ByteSource,
    private readonly pages: PageReader,
    /** The meta page in use: the valid one with the highest txid (bbolt db.go `meta()`). */
    readonly meta: BoltMeta,
    /** Both meta pages as read, index = page id, for diagnostics and tests. */
    readonly metaPages: readonly [MetaReading, MetaReading],
  ) {}

  /**
   * Opens a bbolt file. Finds the page size as bbolt does (meta 0 at offset 0, else meta 1 probed at every
   * power of two from 1 KiB to 16 MiB), picks the valid meta page with the highest txid, and checks that the
   * source is long enough for the high-water mark. Throws BoltError; on error the source is left open.
   */
  static open(source: ByteSource, options: BoltOpenOptions = {}): BoltDb {
    const pageSize = findPageSize(source)
    const metaPages: [MetaReading, MetaReading] = [readMetaAt(source, 0, pageSize), readMetaAt(source, pageSize, pageSize)]
    const ordered = metaPages[1].meta.txid > metaPages[0].meta.txid ? [metaPages[1], metaPages[0]] : [metaPages[0], metaPages[1]]
    const chosen = ordered.find((reading) => reading.problem === null)
    if (!chosen) throw metaError(metaPages)
    const meta = chosen.meta
    if (meta.pageSize !== pageSize) {
      throw new BoltError('BOLT_CORRUPT', `meta page size ${meta.pageSize} differs from the probed page size ${pageSize}`)
    }
    if (meta.pgid < 2) throw new BoltError('BOLT_CORRUPT', `meta high-water mark ${meta.pgid} is below the two meta pages`)
    const needed = meta.pgid * pageSize
    if (source.size < needed) {
      throw new BoltError(
        'BOLT_TRUNCATED',
        `bbolt file truncated: the meta page needs ${needed} bytes (${meta.pgid} pages of ${pageSize}), the file has ${source.size}`,
      )
    }
    if (meta.rootPgid < 2 || meta.rootPgid >= meta.pgid) {
      throw new BoltError('BOLT_CORRUPT', `root bucket page ${meta.rootPgid} outside [2, ${meta.pgid})`)
    }
    const pages = new PageReader(source, pageSize, meta.pgid, options.maxCacheBytes ?? DEFAULT_CACHE_BYTES)
    return new BoltDb(source, pages, meta, metaPages)
  }

  /** Page size in bytes. */
  get pageSize(): number {
    return this.meta.pageSize
  }

  /** Size of the database in bytes, pgid × pageSize: what bbolt's `Tx.Size()` and etcd's TotalSize report. */
  get size(): number {
    return this.meta.pgid * this.meta.pageSize
  }

  /** The root bucket; its entries are the top-level buckets (all of them buckets in etcd's files). */
  root(): BoltBucket {
    return new BoltBucket(this.pages, this.meta.rootPgid, null, this.meta.rootSequence)
  }

  /** Top-level bucket `name`, or undefined if absent. */
  bucket(name: string | Buffer): BoltBucket | undefined {
    return this.root().bucket(name)
  }

  /** Page cache counters. */
  cacheStats(): PageCacheStats {
    return this.pages.stats()
  }

  /** Closes the underlying source; cursors and buckets must not be used afterwards. */
  close(): void {
    this.source.close()
  }
}

/** A bucket: a B+tree rooted at a file page, or an inline bucket whose one leaf page lives in its parent's value. */
export class BoltBucket {
  constructor(
    private readonly pages: PageReader,
    /** Root page id; 0 for an inline bucket. */
    readonly rootPgid: number,
    private readonly inlinePage: PageView | null,
    /** The bucket's sequence counter (NextSequence). */
    readonly sequence: bigint,
  ) {}

  /** Whether the bucket is stored inline in its parent's leaf (bbolt does this for small buckets). */
  get isInline(): boolean {
    return this.inlinePage !== null
  }

  /** A new cursor, positioned nowhere until first() or seek(). */
  cursor(): BoltCursor {
    return new BoltCursor(this)
  }

  /** Value of `key`; undefined if absent or if `key` names a nested bucket (bbolt's Get). */
  get(key: string | Buffer): Buffer | undefined {
    const wanted = toBytes(key)
    const element = this.cursor().seekElement(wanted)
    if (!element || element.isBucket || !element.key.equals(wanted)) return undefined
    return element.value
  }

  /** Nested bucket `name`, or undefined if absent or not a bucket. */
  bucket(name: string | Buffer): BoltBucket | undefined {
    const wanted = toBytes(name)
    const element = this.cursor().seekElement(wanted)
    if (!element || !element.isBucket || !element.key.equals(wanted)) return undefined
    return this.openChild(element)
  }

  /** Every entry in key order; nested buckets appear with a null value. */
  *entries(): Generator<BoltEntry> {
    const cursor = this.cursor()
    for (let entry = cursor.first(); entry; entry = cursor.next()) yield entry
  }

  /** Names of the nested buckets, in key order. */
  bucketNames(): Buffer[] {
    const names: Buffer[] = []
    const cursor = this.cursor()
    for (let element = cursor.firstElement(); element; element = cursor.nextElement()) {
      if (element.isBucket) names.push(element.key)
    }
    return names
  }

  /** The bucket's root page (the inline page, or the file page at rootPgid). */
  rootPage(): PageView {
    return this.inlinePage ?? this.pages.page(this.rootPgid)
  }

  /** A child page of this bucket's tree (never called for inline buckets, whose page is a leaf). */
  childPage(pgid: number): PageView {
    if (this.inlinePage) throw corrupt(0, 'an inline bucket page points at a child page')
    return this.pages.page(pgid)
  }

  private openChild(element: LeafElement): BoltBucket {
    const value = element.value
    if (value.length < BUCKET_HEADER_SIZE) {
      throw new BoltError('BOLT_CORRUPT', `bucket ${JSON.stringify(element.key.toString('latin1'))} header is ${value.length} bytes`)
    }
    const root = value.readBigUInt64LE(0)
    const sequence = value.readBigUInt64LE(8)
    if (root === 0n) {
      const inline = new PageView(value.subarray(BUCKET_HEADER_SIZE), 0)
      if (!inline.isLeaf) throw corrupt(0, `inline bucket page has flags 0x${inline.flags.toString(16)}, not a leaf`)
      return new BoltBucket(this.pages, 0, inline, sequence)
    }
    const rootPgid = root <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(root) : -1
    return new BoltBucket(this.pages, rootPgid, null, sequence)
  }
}

interface StackFrame {
  page: PageView
  index: number
}

/**
 * Walks a bucket's B+tree in key order with a stack of (page, index) from the root to a leaf, as bbolt's
 * Cursor does. Keys and values are views into page buffers (see PageView). Empty leaf pages are skipped
 * (boltdb/bolt#450). After the last entry, next() keeps returning undefined.
 */
export class BoltCursor {
  private stack: StackFrame[] = []

  constructor(private readonly bucket: BoltBucket) {}

  /** Moves to the first entry; undefined if the bucket is empty. */
  first(): BoltEntry | undefined {
    return toEntry(this.firstElement())
  }

  /** Moves to the next entry; undefined at the end. */
  next(): BoltEntry | undefined {
    return toEntry(this.nextElement())
  }

  /** Moves to the first entry with key >= `key`; undefined if there is none. */
  seek(key: string | Buffer): BoltEntry | undefined {
    return toEntry(this.seekElement(toBytes(key)))
  }

  /** first(), returning the raw leaf element (bucket values included). */
  firstElement(): LeafElement | undefined {
    this.stack = [{ page: this.checkedTreePage(this.bucket.rootPage()), index: 0 }]
    this.descendToFirst()
    if (this.top().page.count === 0) return this.nextElement()
    return this.current()
  }

  /** next(), returning the raw leaf element. */
  nextElement(): LeafElement | undefined {
    for (;;) {
      let level = this.stack.length - 1
      for (; level >= 0; level--) {
        const frame = this.stack[level]
        if (frame.index < frame.page.count - 1) {
          frame.index++
          break
        }
      }
      if (level < 0) return undefined
      this.stack.length = level + 1
      this.descendToFirst()
      if (this.top().page.count === 0) continue
      return this.current()
    }
  }

  /** seek(), returning the raw leaf element. */
  seekElement(key: Buffer): LeafElement | undefined {
    this.stack = []
    let page = this.checkedTreePage(this.bucket.rootPage())
    for (;;) {
      this.push(page)
      if (page.isLeaf) {
        this.top().index = lowerBound(page.count, (i) => page.leafKey(i).compare(key))
        break
      }
      // The child to follow is the last one whose first key is <= key (cursor.go searchPage).
      let exact = false
      let index = lowerBound(page.count, (i) => {
        const order = page.branchKey(i).compare(key)
        if (order === 0) exact = true
        return order
      })
      if (!exact && index > 0) index--
      this.top().index = index
      page = this.checkedTreePage(this.bucket.childPage(page.branchChild(index)))
    }
    const frame = this.top()
    if (frame.index >= frame.page.count) return this.nextElement()
    return this.current()
  }

  private descendToFirst(): void {
    for (let frame = this.top(); !frame.page.isLeaf; frame = this.top()) {
      const child = this.checkedTreePage(this.bucket.childPage(frame.page.branchChild(frame.index)))
      this.push(child)
    }
  }

  private push(page: PageView): void {
    if (this.stack.length >= MAX_TREE_DEPTH) throw corrupt(page.id, `tree deeper than ${MAX_TREE_DEPTH} levels (a cycle?)`)
    this.stack.push({ page, index: 0 })
  }

  private checkedTreePage(page: PageView): PageView {
    if (page.isLeaf) return page
    if (!page.isBranch) throw corrupt(page.id, `expected a branch or leaf page, found flags 0x${page.flags.toString(16)}`)
    if (page.count === 0) throw corrupt(page.id, 'empty branch page')
    return page
  }

  private top(): StackFrame {
    return this.stack[this.stack.length - 1]
  }

  private current(): LeafElement | undefined {
    const frame = this.top()
    if (frame.page.count === 0 || frame.index >= frame.page.count) return undefined
    return frame.page.leaf(frame.index)
  }
}

function toEntry(element: LeafElement | undefined): BoltEntry | undefined {
  if (!element) return undefined
  return { key: element.key, value: element.isBucket ? null : element.value }
}

// Lowest index in [0, count) whose comparison is >= 0, or count (sort.Search).
function lowerBound(count: number, compareAt: (index: number) => number): number {
  let low = 0
  let high = count
  while (low < high) {
    const mid = (low + high) >>> 1
    if (compareAt(mid) < 0) low = mid + 1
    else high = mid
  }
  return low
}

function toBytes(key: string | Buffer): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'utf8') : key
}

function readMetaAt(source: ByteSource, position: number, pageSize: number): MetaReading {
  const bytes = Buffer.alloc(Math.min(pageSize, PAGE_HEADER_SIZE + META_SIZE))
  const n = source.read(bytes, position)
  if (n < bytes.length) {
    throw new BoltError('BOLT_TRUNCATED', `bbolt file truncated: ${source.size} bytes, too short for two meta pages of ${pageSize}`)
  }
  return readMeta(bytes)
}

// db.go getPageSize: meta 0 first; if it is unreadable, probe for meta 1 at each possible page size.
function findPageSize(source: ByteSource): number {
  if (source.size < PAGE_HEADER_SIZE + META_SIZE) {
    throw new BoltError('BOLT_INVALID', `${source.size} bytes is too small for a bbolt file`)
  }
  const candidates: MetaReading[] = [readMetaAt(source, 0, MIN_PAGE_SIZE)]
  if (candidates[0].problem === null && isPageSize(candidates[0].meta.pageSize)) return candidates[0].meta.pageSize
  for (let position = MIN_PAGE_SIZE; position <= MAX_PAGE_SIZE && position < source.size - MIN_PAGE_SIZE; position *= 2) {
    const reading = readMetaAt(source, position, MIN_PAGE_SIZE)
    if (reading.problem === null && reading.meta.pageSize === position) return position
    candidates.push(reading)
  }
  throw metaError(candidates)
}

function isPageSize(size: number): boolean {
  return size >= MIN_PAGE_SIZE && size <= MAX_PAGE_SIZE && (size & (size - 1)) === 0
}

// The most specific reason among the meta pages seen: a newer version beats a bad checksum beats "not bbolt".
function metaError(readings: readonly MetaReading[]): BoltError {
  const version = readings.find((reading) => reading.problem === 'BOLT_VERSION_MISMATCH')
  if (version) {
    return new BoltError(
      'BOLT_VERSION_MISMATCH',
      `unsupported bbolt format version ${version.meta.version} (this reader understands version 2)`,
    )
  }
  if (readings.some((reading) => reading.problem === 'BOLT_CHECKSUM')) {
    return new BoltError('BOLT_CHECKSUM', 'both bbolt meta pages fail their checksum')
  }
  if (readings.some((reading) => reading.problem === null)) {
    return new BoltError('BOLT_CORRUPT', 'bbolt meta pages disagree about the page size')
  }
  return new BoltError('BOLT_INVALID', 'not a bbolt file: no meta page with magic 0xED0CDAED')
}
