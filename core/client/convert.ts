import { assert } from '../util/assert'
import type * as pb from '../proto/types'

// Conversions at the client's edge (STYLE.md §3): revisions, counts, versions and terms become `number`
// (asserted safe); member, lease and cluster IDs become `bigint`; keys and values stay `Buffer`.

/** A key, value or range bound: bytes, or a string taken as UTF-8. */
export type Bytes = Buffer | Uint8Array | string

/** The header etcd puts on every response. */
export interface ResponseHeader {
  clusterId: bigint
  memberId: bigint
  /** The store revision when the request was applied (0 for calls that do not touch the store). */
  revision: number
  raftTerm: number
}

/** One key-value pair at a revision. */
export interface KeyValue {
  key: Buffer
  value: Buffer
  createRevision: number
  modRevision: number
  /** Number of modifications since creation; 0 for a deleted key (in delete events). */
  version: number
  /** Attached lease, 0n for none. */
  lease: bigint
}

/** Bytes as a Buffer (strings as UTF-8); never copies a Buffer. */
export function toBuffer(value: Bytes): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

/** A decoded 64-bit field as a safe JS number (revisions, counts, terms, TTLs). */
export function toNumber(value: pb.Int64, what: string): number {
  const number = Number(value)
  assert(Number.isSafeInteger(number), () => `${what} ${value} is not a safe integer`)
  return number
}

/** A decoded 64-bit field as a bigint (IDs). */
export function toBigInt(value: pb.Int64): bigint {
  return BigInt(value)
}

/** A bigint ID as the decimal string protobufjs encodes (it does not take bigint). */
export function idToWire(id: bigint): string {
  return id.toString()
}

/** The header of a response; a missing header (never sent by etcd) reads as zeros. */
export function fromHeader(header: pb.ResponseHeader | null): ResponseHeader {
  return {
    clusterId: toBigInt(header?.cluster_id ?? '0'),
    memberId: toBigInt(header?.member_id ?? '0'),
    revision: toNumber(header?.revision ?? '0', 'revision'),
    raftTerm: toNumber(header?.raft_term ?? '0', 'raft term'),
  }
}

/** A key-value pair from the wire. */
export function fromKeyValue(kv: pb.KeyValue): KeyValue {
  return {
    key: kv.key,
    value: kv.value,
    createRevision: toNumber(kv.create_revision, 'create revision'),
    modRevision: toNumber(kv.mod_revision, 'mod revision'),
    version: toNumber(kv.version, 'version'),
    lease: toBigInt(kv.lease),
  }
}

/**
 * The `range_end` that selects every key starting with `prefix` (etcd's `clientv3.GetPrefixRangeEnd`): the
 * prefix with its last byte below 0xff incremented and what follows dropped; `\0` (all keys) when the prefix is
 * empty or all 0xff.
 */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++
      return end.subarray(0, i + 1)
    }
  }
  return Buffer.from([0])
}

/** How a request selects keys: one key, `[key, rangeEnd)`, every key with prefix `key`, or every key ≥ `key`. */
export interface KeyRange {
  /** Explicit end of the half-open range `[key, rangeEnd)`; `'\0'` means "to the end". */
  rangeEnd?: Bytes
  /** Select every key that starts with the key. */
  prefix?: boolean
  /** Select every key ≥ the key. */
  fromKey?: boolean
}

/**
 * The wire `range_end` for a {@link KeyRange}; undefined for a single key. NB: the field must then be left
 * out, not sent empty: etcd (Go) treats a present-but-empty range_end as "this key and every key after it".
 */
export function rangeEndFor(key: Buffer, range: KeyRange): Buffer | undefined {
  const chosen = [range.rangeEnd !== undefined, range.prefix === true, range.fromKey === true].filter(Boolean)
  if (chosen.length > 1) throw new Error('etcd client: give only one of rangeEnd, prefix and fromKey')
  if (range.rangeEnd !== undefined) return toBuffer(range.rangeEnd)
  if (range.prefix) return prefixRangeEnd(key)
  if (range.fromKey) return Buffer.from([0])
  return undefined
}
