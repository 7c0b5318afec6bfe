// Request/response shapes of the KV API, mirroring etcd's protocol (etcdserverpb / mvccpb) in camelCase.
// Keys and values are raw bytes; revisions are numbers; lease IDs are bigint (0n = no lease).

/** mvccpb.KeyValue. For a deleted key in a watch event only `key` and `modRevision` are set. */
export interface KeyValue {
  key: Buffer
  createRevision: number
  modRevision: number
  version: number
  value: Buffer
  lease: bigint
}

/** mvccpb.Event. */
export interface KvEvent {
  type: 'PUT' | 'DELETE'
  kv: KeyValue
  prevKv?: KeyValue
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND'
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE'

/**
 * RangeRequest. `rangeEnd` absent or empty: the single key; `\0`: every key >= key; otherwise [key, rangeEnd).
 * `limit` <= 0 means no limit; `revision` <= 0 means the current revision.
 */
export interface RangeRequest {
  key: Uint8Array
  rangeEnd?: Uint8Array
  limit?: number
  revision?: number
  sortOrder?: SortOrder
  sortTarget?: SortTarget
  serializable?: boolean
  keysOnly?: boolean
  countOnly?: boolean
  minModRevision?: number
  maxModRevision?: number
  minCreateRevision?: number
  maxCreateRevision?: number
}

/** RangeResponse; `revision` is the header revision (the store's current revision). */
export interface RangeResponse {
  revision: number
  kvs: KeyValue[]
  more: boolean
  count: number
}

export interface PutRequest {
  key: Uint8Array
  value?: Uint8Array
  lease?: bigint
  prevKv?: boolean
  ignoreValue?: boolean
  ignoreLease?: boolean
}

export interface PutResponse {
  revision: number
  prevKv?: KeyValue
}

export interface DeleteRangeRequest {
  key: Uint8Array
  rangeEnd?: Uint8Array
  prevKv?: boolean
}

export interface DeleteRangeResponse {
  revision: number
  deleted: number
  prevKvs: KeyValue[]
}

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL'

/** Compare: exactly one target and its operand (etcd's oneof target_union). */
export type Compare = {
  key: Uint8Array
  rangeEnd?: Uint8Array
  result: CompareResult
} & (
  | { target: 'VERSION'; version: number }
  | { target: 'CREATE'; createRevision: number }
  | { target: 'MOD'; modRevision: number }
  | { target: 'VALUE'; value: Uint8Array }
  | { target: 'LEASE'; lease: bigint }
)

/** RequestOp: exactly one operation. */
export type RequestOp =
  | { requestRange: RangeRequest }
  | { requestPut: PutRequest }
  | { requestDeleteRange: DeleteRangeRequest }
  | { requestTxn: TxnRequest }

export type ResponseOp =
  | { responseRange: RangeResponse }
  | { responsePut: PutResponse }
  | { responseDeleteRange: DeleteRangeResponse }
  | { responseTxn: TxnResponse }

export interface TxnRequest {
  compare: Compare[]
  success: RequestOp[]
  failure: RequestOp[]
}

export interface TxnResponse {
  revision: number
  succeeded: boolean
  responses: ResponseOp[]
}

/** CompactionRequest. */
export interface CompactionRequest {
  revision: number
  physical?: boolean
}

/** Copies a KeyValue (the returned object is the caller's). */
export function cloneKeyValue(kv: KeyValue): KeyValue {
  return { ...kv }
}
