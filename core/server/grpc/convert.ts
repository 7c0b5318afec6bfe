import { status } from '@grpc/grpc-js'
import type * as pb from '../../proto/types'
import type * as mvcc from '../../mvcc/types'
import { EtcdError, type EtcdErrorCode } from './errors'

// Conversion between etcd's wire messages (core/proto: snake_case, int64 as decimal strings, enums as
// numbers) and the MVCC store's types (core/mvcc: camelCase, numbers, bigint lease IDs, string enums).
// Validation that etcd does before a request reaches the store (v3rpc/key.go) lives here too.

/** A malformed request etcd has no dedicated error for: INVALID_ARGUMENT with our own message. */
export class InvalidArgumentError extends Error {
  readonly code = status.INVALID_ARGUMENT
  constructor(readonly details: string) {
    super(details)
  }
}

// The MVCC store's error codes (core/mvcc/errors.ts) mapped to the etcd error table.
const MVCC_TO_ETCD: Record<string, EtcdErrorCode> = {
  MVCC_COMPACTED: 'COMPACTED',
  MVCC_FUTURE_REV: 'FUTURE_REV',
  KEY_NOT_FOUND: 'KEY_NOT_FOUND',
  LEASE_NOT_FOUND: 'LEASE_NOT_FOUND',
  LEASE_EXISTS: 'LEASE_EXIST',
  LEASE_TTL_TOO_LARGE: 'LEASE_TTL_TOO_LARGE',
  LEASE_NOT_PRIMARY: 'NOT_LEADER',
  NO_SPACE: 'NO_SPACE',
  EMPTY_KEY: 'EMPTY_KEY',
  TOO_MANY_OPS: 'TOO_MANY_OPS',
  DUPLICATE_KEY: 'DUPLICATE_KEY',
  VALUE_PROVIDED: 'VALUE_PROVIDED',
  LEASE_PROVIDED: 'LEASE_PROVIDED',
}

/** Converts an MVCC error into the etcd error clients expect; other errors pass through unchanged. */
export function fromMvccError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && code in MVCC_TO_ETCD) return new EtcdError(MVCC_TO_ETCD[code], { cause: error })
  return error
}

const SORT_ORDERS: readonly mvcc.SortOrder[] = ['NONE', 'ASCEND', 'DESCEND']
const SORT_TARGETS: readonly mvcc.SortTarget[] = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE']
const COMPARE_RESULTS: readonly mvcc.CompareResult[] = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL']

/** An int64 field as a number. Revisions and counts fit; anything else is a client error. */
export function int64(value: pb.Int64 | undefined | null): number {
  if (value === undefined || value === null || value === '') return 0
  const parsed = Number(value)
  if (!Number.isSafeInteger(parsed)) throw new InvalidArgumentError(`etcdserver: value ${value} out of range`)
  return parsed
}

/** An int64/uint64 ID field (lease, member) as bigint; int64 lease IDs may be negative on the wire. */
export function id64(value: pb.Int64 | undefined | null): bigint {
  if (value === undefined || value === null || value === '') return 0n
  return BigInt(value)
}

/** A number or bigint as an int64 field to encode: a number when it is a safe integer, else its decimal string. */
export function wireInt(value: number | bigint): pb.Encodable<pb.Int64> {
  // A safe integer goes out as a number: protobufjs turns a decimal string into a Long digit by digit on every
  // encode (about 0.4 us each), and a KeyValue has four of them. Larger values (lease IDs) stay exact as strings.
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : String(value)
  return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : String(value)
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** etcd compat (v3rpc/key.go checkRangeRequest): key required, known sort enums (3.5 rule; 3.4 accepted any). */
export function rangeFromWire(request: pb.RangeRequest): mvcc.RangeRequest {
  if (request.key.length === 0) throw new EtcdError('EMPTY_KEY')
  const sortOrder = SORT_ORDERS[request.sort_order]
  const sortTarget = SORT_TARGETS[request.sort_target]
  if (sortOrder === undefined || sortTarget === undefined) throw new EtcdError('INVALID_SORT_OPTION')
  return {
    key: request.key,
    rangeEnd: request.range_end,
    limit: int64(request.limit),
    revision: int64(request.revision),
    sortOrder,
    sortTarget,
    serializable: request.serializable,
    keysOnly: request.keys_only,
    countOnly: request.count_only,
    minModRevision: int64(request.min_mod_revision),
    maxModRevision: int64(request.max_mod_revision),
    minCreateRevision: int64(request.min_create_revision),
    maxCreateRevision: int64(request.max_create_revision),
  }
}

/** etcd compat (checkPutRequest): key required; ignore_value/ignore_lease exclude value/lease. */
export function putFromWire(request: pb.PutRequest): mvcc.PutRequest {
  if (request.key.length === 0) throw new EtcdError('EMPTY_KEY')
  if (request.ignore_value && request.value.length !== 0) throw new EtcdError('VALUE_PROVIDED')
  if (request.ignore_lease && id64(request.lease) !== 0n) throw new EtcdError('LEASE_PROVIDED')
  return {
    key: request.key,
    value: request.value,
    lease: id64(request.lease),
    prevKv: request.prev_kv,
    ignoreValue: request.ignore_value,
    ignoreLease: request.ignore_lease,
  }
}

/** etcd compat (checkDeleteRequest): key required. */
export function deleteRangeFromWire(request: pb.DeleteRangeRequest): mvcc.DeleteRangeRequest {
  if (request.key.length === 0) throw new EtcdError('EMPTY_KEY')
  return { key: request.key, rangeEnd: request.range_end, prevKv: request.prev_kv }
}

function compareFromWire(compare: pb.Compare): mvcc.Compare {
  const result = COMPARE_RESULTS[compare.result]
  if (result === undefined) throw new InvalidArgumentError(`etcdserver: unknown compare result ${compare.result}`)
  const base = { key: compare.key, rangeEnd: compare.range_end, result }
  // etcd compat: the target picks the operand; a oneof holding another member reads as zero (Go getters).
  const pick = <K extends NonNullable<pb.Compare['target_union']>>(name: K) => (compare.target_union === name ? compare[name] : undefined)
  switch (compare.target) {
    case 0:
      return { ...base, target: 'VERSION', version: int64(pick('version')) }
    case 1:
      return { ...base, target: 'CREATE', createRevision: int64(pick('create_revision')) }
    case 2:
      return { ...base, target: 'MOD', modRevision: int64(pick('mod_revision')) }
    case 3:
      return { ...base, target: 'VALUE', value: pick('value') ?? Buffer.alloc(0) }
    case 4:
      return { ...base, target: 'LEASE', lease: id64(pick('lease')) }
    default:
      throw new InvalidArgumentError(`etcdserver: unknown compare target ${compare.target}`)
  }
}

function requestOpFromWire(op: pb.RequestOp, maxTxnOps: number, depth: number): mvcc.RequestOp {
  if (op.request_range) return { requestRange: rangeFromWire(op.request_range) }
  if (op.request_put) return { requestPut: putFromWire(op.request_put) }
  if (op.request_delete_range) return { requestDeleteRange: deleteRangeFromWire(op.request_delete_range) }
  if (op.request_txn) return { requestTxn: txnFromWire(op.request_txn, maxTxnOps, depth + 1) }
  // etcd compat: an empty RequestOp is rejected by checkTxnRequest ("key is not provided" via nil range).
  throw new EtcdError('EMPTY_KEY')
}

/** Nesting beyond this is refused instead of recursing without bound (etcd has no limit; a stack overflow would crash). */
export const MAX_TXN_DEPTH = 64

/**
 * etcd compat (checkTxnRequest): at most `maxTxnOps` compares and at most that many ops per branch; every op
 * valid. Duplicate keys are checked by the store when it applies the txn (it knows overlapping ranges).
 */
export function txnFromWire(request: pb.TxnRequest, maxTxnOps: number, depth = 0): mvcc.TxnRequest {
  if (depth > MAX_TXN_DEPTH) throw new InvalidArgumentError(`etcdserver: txn nested deeper than ${MAX_TXN_DEPTH} levels`)
  if (request.compare.length > maxTxnOps || request.success.length > maxTxnOps || request.failure.length > maxTxnOps) {
    throw new EtcdError('TOO_MANY_OPS')
  }
  return {
    compare: request.compare.map(compareFromWire),
    success: request.success.map((op) => requestOpFromWire(op, maxTxnOps, depth)),
    failure: request.failure.map((op) => requestOpFromWire(op, maxTxnOps, depth)),
  }
}

/** A stored KeyValue as the wire message. */
export function keyValueToWire(kv: mvcc.KeyValue): pb.Encodable<pb.KeyValue> {
  return {
    key: kv.key,
    create_revision: wireInt(kv.createRevision),
    mod_revision: wireInt(kv.modRevision),
    version: wireInt(kv.version),
    value: kv.value,
    lease: wireInt(kv.lease),
  }
}

/** Builds a response header; the caller fills the member's identity. */
export type HeaderFactory = (revision: number) => pb.Encodable<pb.ResponseHeader>

export function rangeToWire(response: mvcc.RangeResponse, header: HeaderFactory): pb.Encodable<pb.RangeResponse> {
  return { header: header(response.revision), kvs: response.kvs.map(keyValueToWire), more: response.more, count: wireInt(response.count) }
}

export function putToWire(response: mvcc.PutResponse, header: HeaderFactory): pb.Encodable<pb.PutResponse> {
  return { header: header(response.revision), prev_kv: response.prevKv ? keyValueToWire(response.prevKv) : null }
}

export function deleteRangeToWire(response: mvcc.DeleteRangeResponse, header: HeaderFactory): pb.Encodable<pb.DeleteRangeResponse> {
  return { header: header(response.revision), deleted: wireInt(response.deleted), prev_kvs: response.prevKvs.map(keyValueToWire) }
}

/**
 * etcd compat: responses nested in a Txn carry a header with only the revision set (etcd's applyTxn). Numbers,
 * not strings (see wireInt): a bulk Txn of 100 puts encodes in half the time.
 */
const nestedHeader: HeaderFactory = (revision) => ({ cluster_id: 0, member_id: 0, revision, raft_term: 0 })

export function txnToWire(response: mvcc.TxnResponse, header: HeaderFactory): pb.Encodable<pb.TxnResponse> {
  return {
    header: header(response.revision),
    succeeded: response.succeeded,
    responses: response.responses.map((op): pb.Encodable<pb.ResponseOp> => {
      if ('responseRange' in op) return { response_range: rangeToWire(op.responseRange, nestedHeader), response: 'response_range' }
      if ('responsePut' in op) return { response_put: putToWire(op.responsePut, nestedHeader), response: 'response_put' }
      if ('responseDeleteRange' in op) return { response_delete_range: deleteRangeToWire(op.responseDeleteRange, nestedHeader), response: 'response_delete_range' }
      return { response_txn: txnToWire(op.responseTxn, nestedHeader), response: 'response_txn' }
    }),
  }
}

/** CompactionRequest; the store checks the revision against its current and compacted revisions. */
export function compactionFromWire(request: pb.CompactionRequest): mvcc.CompactionRequest {
  return { revision: int64(request.revision), physical: request.physical }
}
