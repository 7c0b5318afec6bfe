/**
 * The operation record of a chaos run: every request a client sent, with invoke/complete times from one
 * monotonic clock, its result, and the response header revision. This is the only input of the checkers, so
 * it is plain data (JSON-serialisable except `Infinity` return times, see `historyToJson`).
 *
 * Assumptions the checkers rely on (as etcd's robustness suite, `tests/robustness/validate`):
 * - the run starts on an empty keyspace at revision 1, and only the recorded clients write under the prefix;
 * - every client is sequential (one request in flight), so its operations never overlap each other;
 * - every put (also inside a txn) writes a value that is unique in the whole history.
 */

/** A key-value as etcd returns it; `lease` is the lease ID as a decimal string, '0' for none. */
export interface KeyValue {
  key: string
  value: string
  createRevision: number
  modRevision: number
  version: number
  lease: string
}

/** One compare of a txn. etcd compat: a VALUE compare on a missing key is always false (`applyCompare`). */
export interface TxnCompare {
  key: string
  target: 'value' | 'version' | 'create' | 'mod'
  result: 'equal' | 'notEqual' | 'greater' | 'less'
  operand: string | number
}

/** A write inside a txn branch (single key). */
export type TxnWrite = { type: 'put'; key: string; value: string; lease?: string } | { type: 'delete'; key: string }

/** What a client asked for. `get` records the consistency it CLAIMS; the negative control lies here on purpose. */
export type Request =
  | { kind: 'get'; key: string; consistency: 'linearizable' | 'serializable' }
  | { kind: 'put'; key: string; value: string; lease?: string }
  | { kind: 'delete'; key: string }
  | { kind: 'txn'; compares: TxnCompare[]; success: TxnWrite[]; failure: TxnWrite[] }
  | { kind: 'leaseGrant'; ttlSeconds: number }
  | { kind: 'leaseRevoke'; leaseId: string }
  | { kind: 'leaseKeepAlive'; leaseId: string }

/** What the server answered; `revision` is always the response header revision. */
export type Response =
  | { kind: 'get'; revision: number; kv: KeyValue | null }
  | { kind: 'put'; revision: number; prevKv: KeyValue | null }
  | { kind: 'delete'; revision: number; deleted: number; prevKv: KeyValue | null }
  | { kind: 'txn'; revision: number; succeeded: boolean }
  | { kind: 'leaseGrant'; revision: number; leaseId: string; ttlSeconds: number }
  | { kind: 'leaseRevoke'; revision: number }
  | { kind: 'leaseKeepAlive'; revision: number; ttlSeconds: number }

/**
 * - `ok`: acknowledged, `response` is set.
 * - `failed`: a definite error (the request had no effect, e.g. "requested lease not found").
 * - `unknown`: timeout, connection loss, leader change... the write may or may not have been applied. Its
 *   `return` is `Infinity` (it may take effect at any time after `call`).
 */
export type Outcome = 'ok' | 'failed' | 'unknown'

/** One client request. Invariant: `call <= return`; `return === Infinity` iff `outcome === 'unknown'`. */
export interface Operation {
  id: number
  clientId: number
  /** Member the client talked to, for the report only. */
  endpoint?: string
  /** Monotonic milliseconds (same clock for the whole history). */
  call: number
  return: number
  request: Request
  outcome: Outcome
  response?: Response
  error?: string
}

/** One event as a watcher received it. For a delete, `kv` carries only key and modRevision. */
export interface WatchEvent {
  type: 'put' | 'delete'
  kv: KeyValue
  prevKv: KeyValue | null
}

/** One WatchResponse that carried events (empty progress notifications are not recorded). */
export interface WatchResponseRecord {
  /** Monotonic ms when the client received it. */
  at: number
  headerRevision: number
  events: WatchEvent[]
}

/** One watch call on one connection: from create (at `startRevision`) until the stream broke or was closed. */
export interface WatchSegment {
  startRevision: number
  opened: number
  responses: WatchResponseRecord[]
  /** Why it ended (error text), if it ended before the run did. */
  endReason?: string
}

/** A logical watcher on the test prefix: resumed as a new segment at last+1 after every break. */
export interface WatchStream {
  watcherId: number
  endpoint?: string
  segments: WatchSegment[]
}

/** Everything one run recorded. */
export interface History {
  operations: Operation[]
  watches: WatchStream[]
  /**
   * Revision of the final write the harness made after healing (liveness probe); every watcher must have
   * delivered up to it. Undefined when the run had no watchers or no final write.
   */
  finalRevision?: number
}

/** Monotonic milliseconds (never jumps with the wall clock). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/** True if `op` is a request that can change the keyspace (put, delete, txn, lease revoke). */
export function isWriteRequest(request: Request): boolean {
  return request.kind === 'put' || request.kind === 'delete' || request.kind === 'txn' || request.kind === 'leaseRevoke'
}

/** Keys a request reads or writes (lease operations touch none directly). */
export function requestKeys(request: Request): string[] {
  switch (request.kind) {
    case 'get':
    case 'put':
    case 'delete':
      return [request.key]
    case 'txn':
      return [...new Set([...request.compares.map((c) => c.key), ...request.success.map((w) => w.key), ...request.failure.map((w) => w.key)])]
    case 'leaseGrant':
    case 'leaseRevoke':
    case 'leaseKeepAlive':
      return []
  }
}

/** Values a request writes (puts, also in both txn branches); unique per history by construction. */
export function requestValues(request: Request): string[] {
  if (request.kind === 'put') return [request.value]
  if (request.kind === 'txn') {
    return [...request.success, ...request.failure].flatMap((w) => (w.type === 'put' ? [w.value] : []))
  }
  return []
}

/**
 * Collects operations with ids in order. `invoke` returns a completion function; call it exactly once with
 * the outcome. Times come from `monotonicMs`.
 */
export class HistoryRecorder {
  readonly operations: Operation[] = []
  readonly watches: WatchStream[] = []
  private nextId = 0

  /** Records the invocation now; the returned function records the completion. */
  invoke(clientId: number, request: Request, endpoint?: string): (result: { outcome: Outcome; response?: Response; error?: string }) => Operation {
    const op: Operation = { id: this.nextId++, clientId, endpoint, call: monotonicMs(), return: Infinity, request, outcome: 'unknown' }
    this.operations.push(op)
    return (result) => {
      op.outcome = result.outcome
      op.response = result.response
      op.error = result.error
      op.return = result.outcome === 'unknown' ? Infinity : Math.max(op.call, monotonicMs())
      return op
    }
  }

  /** The recorded history (operations sorted by id). */
  history(finalRevision?: number): History {
    return { operations: this.operations, watches: this.watches, finalRevision }
  }
}

/** JSON text of a history; `Infinity` return times become null (and back in `historyFromJson`). */
export function historyToJson(history: History): string {
  return JSON.stringify(history, (_key, value: unknown) => (value === Infinity ? null : value))
}

/** Inverse of `historyToJson`. */
export function historyFromJson(text: string): History {
  const history = JSON.parse(text) as History
  for (const op of history.operations) if (op.return === null) op.return = Infinity
  return history
}
