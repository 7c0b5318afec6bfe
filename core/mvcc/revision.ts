// Revisions, ported from etcd mvcc/revision.go (Apache-2.0).
import { assert } from '../util/assert'

/**
 * A point in the store's history: `main` is the revision of a write transaction, `sub` the index of a change
 * inside it. Both are safe non-negative integers.
 */
export interface Revision {
  main: number
  sub: number
}

/** Orders revisions by (main, sub). */
export function compareRevision(a: Revision, b: Revision): number {
  return a.main !== b.main ? a.main - b.main : a.sub - b.sub
}

/** True when a > b. */
export function revisionGreater(a: Revision, b: Revision): boolean {
  return compareRevision(a, b) > 0
}

/** A Map/Set key for a revision. */
export function revisionId(rev: Revision): string {
  return `${rev.main}_${rev.sub}`
}

/**
 * etcd's on-disk revision key: 8 bytes big-endian main, '_', 8 bytes big-endian sub, plus a trailing 't' for
 * a tombstone (etcd compat: mvcc/revision.go revToBytes + appendMarkTombstone). Used for HashKV so that our
 * hashes are computed over the same bytes etcd hashes.
 */
export function revisionToBytes(rev: Revision, tombstone: boolean): Buffer {
  assert(Number.isSafeInteger(rev.main) && Number.isSafeInteger(rev.sub), () => `bad revision ${rev.main}_${rev.sub}`)
  const out = Buffer.alloc(tombstone ? 18 : 17)
  out.writeBigUInt64BE(BigInt(rev.main), 0)
  out[8] = 0x5f
  out.writeBigUInt64BE(BigInt(rev.sub), 9)
  if (tombstone) out[17] = 0x74
  return out
}
