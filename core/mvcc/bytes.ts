// Byte-string helpers. Keys and values are raw bytes ordered by memcmp (etcd compat: bytes.Compare), never
// JS strings, so invalid UTF-8, 0x00 and 0xff keys sort exactly as etcd sorts them.

/** memcmp order: negative if a < b, 0 if equal, positive if a > b. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}

/** True when a and b hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

/** A Buffer view of `bytes` (no copy when it already is one). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** The empty byte string. Shared; never mutate. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0)

/**
 * The range end that selects every key with `prefix` (etcd clientv3 GetPrefixRangeEnd): increment the last
 * byte below 0xff and cut after it; a prefix of only 0xff bytes (or empty) gives `\0`, meaning "to the end".
 */
export function prefixRangeEnd(prefix: Uint8Array): Buffer {
  const end = Buffer.from(prefix)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i] += 1
      return end.subarray(0, i + 1)
    }
  }
  return Buffer.from([0])
}

/** True when rangeEnd is the single byte `\0`, etcd's "all keys >= key" marker. */
export function isGteRangeEnd(rangeEnd: Uint8Array | undefined): boolean {
  return rangeEnd !== undefined && rangeEnd.length === 1 && rangeEnd[0] === 0
}
