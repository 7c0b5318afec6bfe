import fnv1a from '@sindresorhus/fnv1a'
import { BoltError } from './errors'

// The on-disk layout of bbolt (etcd-io/bbolt, MIT), read from internal/common/{page,meta,types}.go, bucket.go
// and cursor.go. All integers are little-endian: bbolt writes its structs in host order, and every platform
// etcd ships for that writes snapshots (amd64, arm64, ppc64le, s390x is the exception and unsupported here)
// is little-endian.
//
//   page header (16 bytes)          meta (64 bytes, right after a meta page's header)
//   +0  id        uint64            +0  magic     uint32  0xED0CDAED
//   +8  flags     uint16            +4  version   uint32  2
//   +10 count     uint16            +8  pageSize  uint32
//   +12 overflow  uint32            +12 flags     uint32
//                                   +16 root      {root pgid uint64, sequence uint64}
//   branch element (16 bytes)       +32 freelist  pgid uint64 (all ones: no freelist on disk)
//   +0 pos uint32  +4 ksize uint32  +40 pgid      uint64  high-water mark: pages [0, pgid) are in use
//   +8 pgid uint64                  +48 txid      uint64
//                                   +56 checksum  uint64  FNV-1a 64 of bytes [0, 56)
//   leaf element (16 bytes)
//   +0 flags uint32 (1 = nested bucket)  +4 pos uint32  +8 ksize uint32  +12 vsize uint32
//
// An element's key starts `pos` bytes after the element itself; a leaf value follows its key. A page with
// `overflow` n spans n+1 consecutive pages. A bucket value is {root pgid, sequence}; root 0 means an inline
// bucket whose single leaf page follows those 16 bytes inside the value.

/** bbolt's magic number, the first field of a meta page. */
export const BOLT_MAGIC = 0xed0cdaed
/** The only bbolt data format version that exists (bbolt 1.3 and 1.4 both write 2). */
export const BOLT_VERSION = 2
/** Bytes in a page header. */
export const PAGE_HEADER_SIZE = 16
/** Bytes in one branch or leaf element header. */
export const ELEMENT_SIZE = 16
/** Bytes of the {root, sequence} header at the start of a bucket value. */
export const BUCKET_HEADER_SIZE = 16
/** Bytes of a meta struct, checksum included. */
export const META_SIZE = 64
const META_CHECKSUM_OFFSET = 56
/** Smallest and largest page sizes bbolt probes for (1 KiB to 16 MiB, db.go getPageSizeFromSecondMeta). */
export const MIN_PAGE_SIZE = 1024
export const MAX_PAGE_SIZE = 1024 << 14

/** Page type flags; a valid page has exactly one. */
export const PageFlags = { branch: 0x01, leaf: 0x02, meta: 0x04, freelist: 0x10 } as const
/** Leaf element flag marking a nested bucket. */
export const BUCKET_LEAF_FLAG = 0x01

/** A decoded meta page. 64-bit ids that must address the file are numbers (asserted safe); txid is exact. */
export interface BoltMeta {
  magic: number
  version: number
  pageSize: number
  flags: number
  /** Root page of the root bucket (whose keys are the top-level bucket names). */
  rootPgid: number
  rootSequence: bigint
  /** Freelist page, or `NO_FREELIST` when the freelist is not synced to disk (etcd's default since 3.4). */
  freelist: bigint
  /** High-water mark: pages [0, pgid) are in use, so the data file is at least pgid × pageSize bytes. */
  pgid: number
  txid: bigint
  checksum: bigint
}

/** `freelist` value meaning no freelist page is stored (bbolt's PgidNoFreelist). */
export const NO_FREELIST = 0xffffffffffffffffn

/** Outcome of reading one meta page: the meta, and why it is not usable (null when it is valid). */
export interface MetaReading {
  meta: BoltMeta
  problem: null | 'BOLT_INVALID' | 'BOLT_VERSION_MISMATCH' | 'BOLT_CHECKSUM'
}

/**
 * Decodes the meta struct that starts `PAGE_HEADER_SIZE` bytes into `page` and validates it the way bbolt's
 * `Meta.Validate` does: magic, then version, then the FNV-64a checksum of the first 56 bytes. `page` must
 * hold at least header + META_SIZE bytes.
 */
export function readMeta(page: Buffer): MetaReading {
  if (page.length < PAGE_HEADER_SIZE + META_SIZE) {
    throw new BoltError('BOLT_INVALID', `file too small for a bbolt meta page (${page.length} bytes)`)
  }
  const m = page.subarray(PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + META_SIZE)
  const rootPgid = m.readBigUInt64LE(16)
  const pgid = m.readBigUInt64LE(40)
  const meta: BoltMeta = {
    magic: m.readUInt32LE(0),
    version: m.readUInt32LE(4),
    pageSize: m.readUInt32LE(8),
    flags: m.readUInt32LE(12),
    rootPgid: toSafeNumber(rootPgid),
    rootSequence: m.readBigUInt64LE(24),
    freelist: m.readBigUInt64LE(32),
    pgid: toSafeNumber(pgid),
    txid: m.readBigUInt64LE(48),
    checksum: m.readBigUInt64LE(META_CHECKSUM_OFFSET),
  }
  let problem: MetaReading['problem'] = null
  if (meta.magic !== BOLT_MAGIC) problem = 'BOLT_INVALID'
  else if (meta.version !== BOLT_VERSION) problem = 'BOLT_VERSION_MISMATCH'
  else if (meta.checksum !== metaChecksum(m)) problem = 'BOLT_CHECKSUM'
  return { meta, problem }
}

/** bbolt's `Meta.Sum64`: FNV-1a 64 over the meta bytes before the checksum field. */
export function metaChecksum(meta: Buffer): bigint {
  return fnv1a(meta.subarray(0, META_CHECKSUM_OFFSET), { size: 64 })
}

// A corrupt value above 2^53 must not silently round; -1 is never a valid page id, so range checks reject it.
function toSafeNumber(value: bigint): number {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : -1
}

/** One leaf element: a key/value pair, or a nested bucket (then `value` is the raw bucket header + inline page). */
export interface LeafElement {
  key: Buffer
  value: Buffer
  isBucket: boolean
}

/**
 * A read-only view of one page (with its overflow pages) or of an inline bucket's page. Keys and values
 * returned are views into `bytes`; they stay valid (the buffer is never reused) but pin it while held.
 * Every element access is bounds-checked, so a corrupt file raises BOLT_CORRUPT instead of reading garbage.
 */
export class PageView {
  readonly flags: number
  readonly count: number
  readonly overflow: number

  constructor(
    /** The page bytes, starting at the page header; length = (overflow + 1) × pageSize for file pages. */
    readonly bytes: Buffer,
    /** The page id (0 for an inline page). */
    readonly id: number,
  ) {
    if (bytes.length < PAGE_HEADER_SIZE) throw corrupt(id, `only ${bytes.length} bytes, less than a page header`)
    this.flags = bytes.readUInt16LE(8)
    this.count = bytes.readUInt16LE(10)
    this.overflow = bytes.readUInt32LE(12)
    if (PAGE_HEADER_SIZE + this.count * ELEMENT_SIZE > bytes.length) {
      throw corrupt(id, `${this.count} elements do not fit in ${bytes.length} bytes`)
    }
  }

  /** The page id written in the header (equals `id` for a sound file page). */
  get headerId(): bigint {
    return this.bytes.readBigUInt64LE(0)
  }

  get isLeaf(): boolean {
    return this.flags === PageFlags.leaf
  }

  get isBranch(): boolean {
    return this.flags === PageFlags.branch
  }

  /** Leaf element `index` in [0, count). */
  leaf(index: number): LeafElement {
    const at = this.elementOffset(index)
    const flags = this.bytes.readUInt32LE(at)
    const keyStart = at + this.bytes.readUInt32LE(at + 4)
    const keySize = this.bytes.readUInt32LE(at + 8)
    const valueSize = this.bytes.readUInt32LE(at + 12)
    const end = keyStart + keySize + valueSize
    if (end > this.bytes.length) throw corrupt(this.id, `leaf element ${index} ends at ${end}, past ${this.bytes.length}`)
    return {
      key: this.bytes.subarray(keyStart, keyStart + keySize),
      value: this.bytes.subarray(keyStart + keySize, end),
      isBucket: (flags & BUCKET_LEAF_FLAG) !== 0,
    }
  }

  /** Key of leaf element `index` (no value slicing; for binary search). */
  leafKey(index: number): Buffer {
    return this.elementKey(index)
  }

  /** Key of branch element `index`: the smallest key in the child page's subtree. */
  branchKey(index: number): Buffer {
    return this.elementKey(index)
  }

  /** Child page id of branch element `index`. */
  branchChild(index: number): number {
    const at = this.elementOffset(index)
    return toSafeNumber(this.bytes.readBigUInt64LE(at + 8))
  }

  private elementKey(index: number): Buffer {
    const at = this.elementOffset(index)
    // Branch elements are {pos, ksize, pgid}; leaf elements are {flags, pos, ksize, vsize}.
    const posOffset = this.isBranch ? 0 : 4
    const keyStart = at + this.bytes.readUInt32LE(at + posOffset)
    const keySize = this.bytes.readUInt32LE(at + posOffset + 4)
    if (keyStart + keySize > this.bytes.length) {
      throw corrupt(this.id, `element ${index} key ends at ${keyStart + keySize}, past ${this.bytes.length}`)
    }
    return this.bytes.subarray(keyStart, keyStart + keySize)
  }

  private elementOffset(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw corrupt(this.id, `element ${index} out of range [0, ${this.count})`)
    }
    return PAGE_HEADER_SIZE + index * ELEMENT_SIZE
  }
}

/** A BOLT_CORRUPT error naming the page. */
export function corrupt(pageId: number, detail: string): BoltError {
  return new BoltError('BOLT_CORRUPT', `bbolt page ${pageId}: ${detail}`)
}
