import { serviceMethods } from '../proto/services'
import { CompareResult, CompareTarget, SortOrder, SortTarget, type Encodable } from '../proto/types'
import type * as pb from '../proto/types'
import { unreachable } from '../util/assert'
import {
  fromHeader,
  fromKeyValue,
  idToWire,
  rangeEndFor,
  toBuffer,
  toNumber,
  type Bytes,
  type KeyRange,
  type KeyValue,
  type ResponseHeader,
} from './convert'
import type { CallOptions, Transport } from './transport'

/** Options of a Range (etcdctl `get`). */
export interface RangeOptions extends KeyRange {
  /** At most this many keys; 0 or absent means no limit. */
  limit?: number
  /** Read the store as of this revision; 0 or absent means the newest. */
  revision?: number
  sortOrder?: 'none' | 'ascend' | 'descend'
  sortTarget?: 'key' | 'version' | 'create' | 'mod' | 'value'
  /** Served from the member's local state, without a linearizable read (may be stale). */
  serializable?: boolean
  keysOnly?: boolean
  countOnly?: boolean
  minModRevision?: number
  maxModRevision?: number
  minCreateRevision?: number
  maxCreateRevision?: number
}

/** The result of a Range. */
export interface RangeResult {
  header: ResponseHeader
  kvs: KeyValue[]
  /** More keys matched than `limit` returned. */
  more: boolean
  /** How many keys the range holds (ignoring `limit`). */
  count: number
}

/** Options of a Put. */
export interface PutOptions {
  /** Attach the key to this lease (0n or absent: none). */
  lease?: bigint
  /** Return the previous key-value pair. */
  prevKv?: boolean
  /** Keep the current value (the key must exist; the value argument must be empty). */
  ignoreValue?: boolean
  /** Keep the current lease (the key must exist). */
  ignoreLease?: boolean
}

/** The result of a Put. */
export interface PutResult {
  header: ResponseHeader
  prevKv: KeyValue | null
}

/** Options of a DeleteRange. */
export interface DeleteOptions extends KeyRange {
  prevKv?: boolean
}

/** The result of a DeleteRange. */
export interface DeleteResult {
  header: ResponseHeader
  deleted: number
  prevKvs: KeyValue[]
}

/** One comparison of a transaction's guard: `target(key) result value`, over `[key, rangeEnd)` if given. */
export interface TxnCompare {
  key: Bytes
  rangeEnd?: Bytes
  target: 'version' | 'create' | 'mod' | 'value' | 'lease'
  result: '=' | '!=' | '<' | '>'
  /** A number for version/create/mod, bytes for value, a bigint (or number) lease ID for lease. */
  value: number | bigint | Bytes
}

/** One operation inside a transaction. */
export type TxnOp =
  | { type: 'range'; key: Bytes; options?: RangeOptions }
  | { type: 'put'; key: Bytes; value: Bytes; options?: PutOptions }
  | { type: 'delete'; key: Bytes; options?: DeleteOptions }
  | { type: 'txn'; txn: TxnSpec }

/** A transaction: if every compare holds, run `success`, else `failure`; atomically, at one revision. */
export interface TxnSpec {
  compare?: TxnCompare[]
  success?: TxnOp[]
  failure?: TxnOp[]
}

/** The result of one transaction operation, in the order of the branch that ran. */
export type TxnOpResult =
  | { type: 'range'; range: RangeResult }
  | { type: 'put'; put: PutResult }
  | { type: 'delete'; delete: DeleteResult }
  | { type: 'txn'; txn: TxnResult }

/** The result of a Txn. */
export interface TxnResult {
  header: ResponseHeader
  succeeded: boolean
  responses: TxnOpResult[]
}

/** The result of a Compact. */
export interface CompactResult {
  header: ResponseHeader
}

const SORT_ORDERS = { none: SortOrder.NONE, ascend: SortOrder.ASCEND, descend: SortOrder.DESCEND } as const
const SORT_TARGETS = {
  key: SortTarget.KEY,
  version: SortTarget.VERSION,
  create: SortTarget.CREATE,
  mod: SortTarget.MOD,
  value: SortTarget.VALUE,
} as const
const COMPARE_RESULTS = {
  '=': CompareResult.EQUAL,
  '!=': CompareResult.NOT_EQUAL,
  '<': CompareResult.LESS,
  '>': CompareResult.GREATER,
} as const

/** The wire RangeRequest for `key` and `options`. */
export function rangeRequest(key: Bytes, options: RangeOptions = {}): Encodable<pb.RangeRequest> {
  const keyBytes = toBuffer(key)
  return {
    key: keyBytes,
    range_end: rangeEndFor(keyBytes, options),
    limit: options.limit ?? 0,
    revision: options.revision ?? 0,
    sort_order: SORT_ORDERS[options.sortOrder ?? 'none'],
    sort_target: SORT_TARGETS[options.sortTarget ?? 'key'],
    serializable: options.serializable ?? false,
    keys_only: options.keysOnly ?? false,
    count_only: options.countOnly ?? false,
    min_mod_revision: options.minModRevision ?? 0,
    max_mod_revision: options.maxModRevision ?? 0,
    min_create_revision: options.minCreateRevision ?? 0,
    max_create_revision: options.maxCreateRevision ?? 0,
  }
}

/** The wire PutRequest. */
export function putRequest(key: Bytes, value: Bytes, options: PutOptions = {}): Encodable<pb.PutRequest> {
  return {
    key: toBuffer(key),
    value: toBuffer(value),
    lease: idToWire(options.lease ?? 0n),
    prev_kv: options.prevKv ?? false,
    ignore_value: options.ignoreValue ?? false,
    ignore_lease: options.ignoreLease ?? false,
  }
}

/** The wire DeleteRangeRequest. */
export function deleteRequest(key: Bytes, options: DeleteOptions = {}): Encodable<pb.DeleteRangeRequest> {
  const keyBytes = toBuffer(key)
  return { key: keyBytes, range_end: rangeEndFor(keyBytes, options), prev_kv: options.prevKv ?? false }
}

function compareToWire(compare: TxnCompare): Encodable<pb.Compare> {
  const base = {
    key: toBuffer(compare.key),
    range_end: compare.rangeEnd === undefined ? undefined : toBuffer(compare.rangeEnd),
    result: COMPARE_RESULTS[compare.result],
  }
  const { value } = compare
  const integer = () => {
    if (typeof value === 'number' || typeof value === 'bigint') return value.toString()
    throw new Error(`etcd client: compare on ${compare.target} needs a number, got bytes`)
  }
  switch (compare.target) {
    case 'version':
      return { ...base, target: CompareTarget.VERSION, version: integer() }
    case 'create':
      return { ...base, target: CompareTarget.CREATE, create_revision: integer() }
    case 'mod':
      return { ...base, target: CompareTarget.MOD, mod_revision: integer() }
    case 'lease':
      return { ...base, target: CompareTarget.LEASE, lease: integer() }
    case 'value':
      if (typeof value === 'number' || typeof value === 'bigint') throw new Error('etcd client: compare on value needs bytes')
      return { ...base, target: CompareTarget.VALUE, value: toBuffer(value) }
    default:
      return unreachable(compare.target, 'compare target')
  }
}

function opToWire(op: TxnOp): Encodable<pb.RequestOp> {
  switch (op.type) {
    case 'range':
      return { request_range: rangeRequest(op.key, op.options) }
    case 'put':
      return { request_put: putRequest(op.key, op.value, op.options) }
    case 'delete':
      return { request_delete_range: deleteRequest(op.key, op.options) }
    case 'txn':
      return { request_txn: txnRequest(op.txn) }
    default:
      return unreachable(op, 'txn op')
  }
}

/** The wire TxnRequest. */
export function txnRequest(spec: TxnSpec): Encodable<pb.TxnRequest> {
  return {
    compare: (spec.compare ?? []).map(compareToWire),
    success: (spec.success ?? []).map(opToWire),
    failure: (spec.failure ?? []).map(opToWire),
  }
}

/** A RangeResponse from the wire. */
export function fromRangeResponse(response: pb.RangeResponse): RangeResult {
  return {
    header: fromHeader(response.header),
    kvs: response.kvs.map(fromKeyValue),
    more: response.more,
    count: toNumber(response.count, 'count'),
  }
}

function fromPutResponse(response: pb.PutResponse): PutResult {
  return { header: fromHeader(response.header), prevKv: response.prev_kv ? fromKeyValue(response.prev_kv) : null }
}

function fromDeleteResponse(response: pb.DeleteRangeResponse): DeleteResult {
  return {
    header: fromHeader(response.header),
    deleted: toNumber(response.deleted, 'deleted'),
    prevKvs: response.prev_kvs.map(fromKeyValue),
  }
}

function fromResponseOp(op: pb.ResponseOp): TxnOpResult {
  if (op.response_range) return { type: 'range', range: fromRangeResponse(op.response_range) }
  if (op.response_put) return { type: 'put', put: fromPutResponse(op.response_put) }
  if (op.response_delete_range) return { type: 'delete', delete: fromDeleteResponse(op.response_delete_range) }
  if (op.response_txn) return { type: 'txn', txn: fromTxnResponse(op.response_txn) }
  throw new Error(`etcd client: empty txn response op ${JSON.stringify(op)}`)
}

/** A TxnResponse from the wire. */
export function fromTxnResponse(response: pb.TxnResponse): TxnResult {
  return {
    header: fromHeader(response.header),
    succeeded: response.succeeded,
    responses: response.responses.map(fromResponseOp),
  }
}

/** The KV service: Range, Put, DeleteRange, Txn, Compact. Reads retry on another endpoint; writes only unsent. */
export class KvClient {
  private readonly methods = serviceMethods('etcdserverpb.KV')

  constructor(private readonly transport: Transport) {}

  /** Reads `key` (or a range of keys, see {@link RangeOptions}). Linearizable unless `serializable`. */
  async range(key: Bytes, options: RangeOptions = {}, call: CallOptions = {}): Promise<RangeResult> {
    const response = await this.transport.unary(this.methods.Range, rangeRequest(key, options), call, { idempotent: true })
    return fromRangeResponse(response)
  }

  /** The value of one key, or null when it does not exist. */
  async get(key: Bytes, options: Pick<RangeOptions, 'revision' | 'serializable'> = {}, call: CallOptions = {}): Promise<Buffer | null> {
    const result = await this.range(key, options, call)
    return result.kvs[0]?.value ?? null
  }

  /** Writes `key` = `value`. */
  async put(key: Bytes, value: Bytes, options: PutOptions = {}, call: CallOptions = {}): Promise<PutResult> {
    const response = await this.transport.unary(this.methods.Put, putRequest(key, value, options), call, { idempotent: false })
    return fromPutResponse(response)
  }

  /** Deletes `key` (or a range of keys). */
  async delete(key: Bytes, options: DeleteOptions = {}, call: CallOptions = {}): Promise<DeleteResult> {
    const response = await this.transport.unary(this.methods.DeleteRange, deleteRequest(key, options), call, {
      idempotent: false,
    })
    return fromDeleteResponse(response)
  }

  /** Runs a transaction. */
  async txn(spec: TxnSpec, call: CallOptions = {}): Promise<TxnResult> {
    const response = await this.transport.unary(this.methods.Txn, txnRequest(spec), call, { idempotent: false })
    return fromTxnResponse(response)
  }

  /**
   * Compacts the history below `revision`. With `physical`, answers only once the compaction is applied to the
   * backend. Fails with COMPACTED if already compacted past it, FUTURE_REV if it is ahead of the store.
   */
  async compact(revision: number, options: { physical?: boolean } = {}, call: CallOptions = {}): Promise<CompactResult> {
    const response = await this.transport.unary(
      this.methods.Compact,
      { revision, physical: options.physical ?? false },
      call,
      { idempotent: true },
    )
    return { header: fromHeader(response.header) }
  }
}
