import { BOLT_MAGIC, BOLT_VERSION, ELEMENT_SIZE, META_SIZE, NO_FREELIST, PAGE_HEADER_SIZE, PageFlags, metaChecksum } from '../../../core/snapshot/bbolt/layout'

/** A leaf element to write: a plain value, or a nested bucket (value = bucket header [+ inline page]). */
export interface BuiltElement {
  key: string | Buffer
  value: Buffer
  isBucket?: boolean
}

/**
 * Writes small bbolt files by hand for shapes real etcd does not produce (page sizes other than 4 KiB,
 * buckets nested inside buckets, empty leaf pages, the newer meta page in slot 1). Follows the layout in
 * core/snapshot/bbolt/layout.ts; nothing here is used outside tests.
 */
export class BoltFileBuilder {
  private readonly pages: Buffer[] = [Buffer.alloc(0), Buffer.alloc(0)]

  constructor(readonly pageSize: number) {}

  /** Appends a leaf page (with overflow pages if needed) and returns its page id. */
  leaf(elements: BuiltElement[]): number {
    return this.append(encodePage(PageFlags.leaf, elements.map(leafParts)))
  }

  /** Appends a branch page over (first key, child page id) pairs and returns its page id. */
  branch(children: { key: string | Buffer; pgid: number }[]): number {
    return this.append(
      encodePage(
        PageFlags.branch,
        children.map(({ key, pgid }) => {
          const header = Buffer.alloc(ELEMENT_SIZE)
          header.writeBigUInt64LE(BigInt(pgid), 8)
          return { header, posOffset: 0, data: bytes(key), sizes: [bytes(key).length] }
        }),
      ),
    )
  }

  /** A bucket value pointing at root page `pgid`. */
  static bucket(pgid: number, sequence = 0n): Buffer {
    const value = Buffer.alloc(16)
    value.writeBigUInt64LE(BigInt(pgid), 0)
    value.writeBigUInt64LE(sequence, 8)
    return value
  }

  /** An inline bucket value: header with root 0, then its single leaf page. */
  static inlineBucket(elements: BuiltElement[]): Buffer {
    return Buffer.concat([BoltFileBuilder.bucket(0), encodePage(PageFlags.leaf, elements.map(leafParts))])
  }

  /** The finished file: both meta pages (each with its own root and txid) and every appended page. */
  finish(meta0: { root: number; txid: number }, meta1: { root: number; txid: number }): Buffer {
    const pgid = this.pages.slice(2).reduce((n, page) => n + page.length / this.pageSize, 2)
    const metaPage = (id: number, { root, txid }: { root: number; txid: number }) => {
      const page = Buffer.alloc(this.pageSize)
      page.writeBigUInt64LE(BigInt(id), 0)
      page.writeUInt16LE(PageFlags.meta, 8)
      const meta = page.subarray(PAGE_HEADER_SIZE, PAGE_HEADER_SIZE + META_SIZE)
      meta.writeUInt32LE(BOLT_MAGIC, 0)
      meta.writeUInt32LE(BOLT_VERSION, 4)
      meta.writeUInt32LE(this.pageSize, 8)
      meta.writeBigUInt64LE(BigInt(root), 16)
      meta.writeBigUInt64LE(NO_FREELIST, 32)
      meta.writeBigUInt64LE(BigInt(pgid), 40)
      meta.writeBigUInt64LE(BigInt(txid), 48)
      meta.writeBigUInt64LE(metaChecksum(meta), 56)
      return page
    }
    return Buffer.concat([metaPage(0, meta0), metaPage(1, meta1), ...this.pages.slice(2)])
  }

  private append(encoded: Buffer): number {
    const pgid = this.pages.slice(2).reduce((n, page) => n + page.length / this.pageSize, 2)
    const span = Math.max(1, Math.ceil(encoded.length / this.pageSize))
    const page = Buffer.alloc(span * this.pageSize)
    encoded.copy(page)
    page.writeBigUInt64LE(BigInt(pgid), 0)
    page.writeUInt32LE(span - 1, 12)
    this.pages.push(page)
    return pgid
  }
}

interface ElementParts {
  header: Buffer
  /** Where pos and the sizes sit in the element header: 0 for branch {pos, ksize}, 4 for leaf {flags, pos, ...}. */
  posOffset: number
  data: Buffer
  sizes: number[]
}

function leafParts({ key, value, isBucket }: BuiltElement): ElementParts {
  const header = Buffer.alloc(ELEMENT_SIZE)
  header.writeUInt32LE(isBucket ? 1 : 0, 0)
  return { header, posOffset: 4, data: Buffer.concat([bytes(key), value]), sizes: [bytes(key).length, value.length] }
}

// Page header, element headers, then keys/values; each pos is relative to its own element header.
function encodePage(flags: number, elements: ElementParts[]): Buffer {
  const header = Buffer.alloc(PAGE_HEADER_SIZE)
  header.writeUInt16LE(flags, 8)
  header.writeUInt16LE(elements.length, 10)
  let dataOffset = PAGE_HEADER_SIZE + elements.length * ELEMENT_SIZE
  const headers = elements.map((element, i) => {
    const elementOffset = PAGE_HEADER_SIZE + i * ELEMENT_SIZE
    element.header.writeUInt32LE(dataOffset - elementOffset, element.posOffset)
    element.sizes.forEach((size, j) => element.header.writeUInt32LE(size, element.posOffset + 4 + 4 * j))
    dataOffset += element.data.length
    return element.header
  })
  return Buffer.concat([header, ...headers, ...elements.map((element) => element.data)])
}

function bytes(key: string | Buffer): Buffer {
  return typeof key === 'string' ? Buffer.from(key) : key
}
