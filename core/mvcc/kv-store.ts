// The MVCC key-value store, ported from etcd mvcc/kvstore.go, kvstore_txn.go and the KV half of
// etcdserver/apply.go (Apache-2.0). State lives in a Backend; the key index is in memory and rebuilt on open.
//
// Writes take the open backend transaction as first parameter. The host opens one transaction per applied
// Raft entry, calls put/deleteRange/txn/compact/lease ops with it and records the applied index in the same
// transaction, so that after a crash exactly the missing entries are replayed.
import { assert } from '../util/assert'
import type { Backend, BackendReader, BackendWriter, KvIndexRecord } from './backend'
import { EMPTY_BYTES, asBuffer, compareBytes, isGteRangeEnd } from './bytes'
import { CompactedError, FutureRevisionError, KeyNotFoundError, LeaseNotFoundError } from './errors'
import { Crc32c, encodeKeyValue } from './hash'
import { TreeIndex } from './key-index'
import { type Revision, revisionId, revisionToBytes } from './revision'
import type {
  Compare,
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseOp,
  SortTarget,
  TxnRequest,
  TxnResponse,
} from './types'

/** The lease bookkeeping the store needs on every put and delete (implemented by Lessor). */
export interface LeaseAttachments {
  /** Whether the lease exists. */
  exists(id: bigint): boolean
  /** The lease the key is attached to, or 0n. */
  leaseOf(key: Buffer): bigint
  attach(id: bigint, key: Buffer): void
  detach(id: bigint, key: Buffer): void
}

/** Called after every write transaction that changed something, with its revision and changes in order. */
export type CommitListener = (revision: number, changes: KeyValue[]) => void

/** Options for low-level range reads (etcd mvcc.RangeOptions). */
export interface RangeOptions {
  /** <= 0: no limit. */
  limit?: number
  /** <= 0: the transaction's revision. */
  rev?: number
  count?: boolean
}

/** The result of a low-level range (etcd mvcc.RangeResult); `rev` is the read view's revision. */
export interface RangeResult {
  kvs: KeyValue[]
  count: number
  rev: number
}

const NO_LEASES: LeaseAttachments = {
  exists: () => false,
  leaseOf: () => 0n,
  attach: () => {},
  detach: () => {},
}

/** Converts a protocol range end into the index's convention: undefined single key, empty = to the end. */
export function indexRangeEnd(rangeEnd: Uint8Array | undefined): Buffer | undefined {
  if (rangeEnd === undefined || rangeEnd.length === 0) return undefined
  if (isGteRangeEnd(rangeEnd)) return EMPTY_BYTES
  return asBuffer(rangeEnd)
}

/**
 * A write transaction over the store (etcd storeTxnWrite): every change in it gets main revision
 * beginRev + 1 and consecutive sub revisions. Call `end()` once to publish the revision.
 */
export class KvWriteTxn {
  readonly beginRev: number
  readonly changes: KeyValue[] = []
  private ended = false

  constructor(
    private readonly store: KvStore,
    readonly tx: BackendWriter,
  ) {
    this.beginRev = store.rev()
  }

  /** The revision reads inside this transaction see. */
  readRev(): number {
    return this.changes.length > 0 ? this.beginRev + 1 : this.beginRev
  }

  range(key: Uint8Array, end: Buffer | undefined, options: RangeOptions = {}): RangeResult {
    return this.store.rangeKeys(this.tx, asBuffer(key), end, this.readRev(), options)
  }

  /** Puts key=value attached to `lease` (0n: none); returns the write's revision. */
  put(keyBytes: Uint8Array, valueBytes: Uint8Array, lease: bigint): number {
    const key = Buffer.from(keyBytes)
    const value = Buffer.from(valueBytes)
    const rev = this.beginRev + 1
    const index = this.store.index
    const existing = index.get(key, rev)
    const createRevision = existing === undefined ? rev : existing.created.main
    const oldLease = existing === undefined ? 0n : this.store.leases.leaseOf(key)
    const idxRev: Revision = { main: rev, sub: this.changes.length }
    const kv: KeyValue = {
      key,
      value,
      createRevision,
      modRevision: rev,
      version: (existing?.version ?? 0) + 1,
      lease,
    }
    this.tx.putRecord({ main: idxRev.main, sub: idxRev.sub, tombstone: false, kv })
    index.put(key, idxRev)
    this.changes.push(kv)
    if (oldLease !== 0n) this.store.leases.detach(oldLease, key)
    if (lease !== 0n) this.store.leases.attach(lease, key)
    return rev
  }

  /** Deletes the live keys in the range; returns [deleted count, revision] (etcd storeTxnWrite.DeleteRange). */
  deleteRange(key: Uint8Array, end: Buffer | undefined): [number, number] {
    const keys: Buffer[] = []
    this.store.index.visitLive(asBuffer(key), end, this.readRev(), (k) => {
      keys.push(k)
      return true
    })
    for (const k of keys) this.delete(k)
    if (keys.length !== 0 || this.changes.length > 0) return [keys.length, this.beginRev + 1]
    return [0, this.beginRev]
  }

  /** Publishes the revision (if anything changed) and notifies commit listeners. */
  end(): void {
    assert(!this.ended, 'write transaction ended twice')
    this.ended = true
    if (this.changes.length === 0) return
    this.store.publish(this.beginRev + 1, this.changes)
  }

  private delete(key: Buffer): void {
    const idxRev: Revision = { main: this.beginRev + 1, sub: this.changes.length }
    const kv: KeyValue = { key, value: EMPTY_BYTES, createRevision: 0, modRevision: 0, version: 0, lease: 0n }
    this.tx.putRecord({ main: idxRev.main, sub: idxRev.sub, tombstone: true, kv })
    const ok = this.store.index.tombstone(key, idxRev)
    assert(ok, () => `tombstone of a key that is not live at ${idxRev.main}`)
    this.changes.push(kv)
    const lease = this.store.leases.leaseOf(key)
    if (lease !== 0n) this.store.leases.detach(lease, key)
  }
}

/** Read-only view used by txn compares and checks: the state before the transaction. */
interface ReadView {
  range(key: Uint8Array, end: Buffer | undefined, options?: RangeOptions): RangeResult
  rev(): number
  firstRev(): number
}

/**
 * The store. `range` reads committed state; `put`, `deleteRange`, `txn` and `compact` run inside the caller's
 * backend transaction. Revisions start at 1 (an empty store is at revision 1; the first write is 2).
 */
export class KvStore {
  /** @internal */ readonly index = new TreeIndex()
  /** @internal */ leases: LeaseAttachments = NO_LEASES
  // Invariant: compactMainRev <= currentRev
  private currentRev = 1
  private compactMainRev = -1
  private readonly listeners: CommitListener[] = []
  // Lease of every live key as found by restore; handed to the lessor by setLeaseAttachments, then dropped.
  private restoredLeases: Map<string, [Buffer, bigint]> | undefined = new Map()

  /** Opens the store over `backend`, rebuilding the index and finishing an interrupted compaction. */
  constructor(readonly backend: Backend) {
    this.restore()
  }

  /**
   * Rebuilds the in-memory state from the backend after its contents were replaced inside the open
   * transaction (a Raft snapshot was installed; etcd store.Restore). Listeners stay registered; the lessor
   * must be reloaded next (Lessor.reload) to take the restored lease attachments.
   */
  reload(): void {
    this.index.clear()
    this.currentRev = 1
    this.compactMainRev = -1
    this.restoredLeases = new Map()
    this.restore()
  }

  /** Number of keys that exist now (etcd_debugging_mvcc_keys_total), kept as keys come and go: no scan. */
  keyCount(): number {
    return this.index.liveKeys
  }

  /** The current revision (the revision of the last write transaction). */
  rev(): number {
    return this.currentRev
  }

  /** The last compacted revision, or 0 when never compacted. */
  compactRevision(): number {
    return Math.max(this.compactMainRev, 0)
  }

  /** Wires the lessor in (it must know every attachment restored from disk: call before serving). */
  setLeaseAttachments(leases: LeaseAttachments): void {
    this.leases = leases
    for (const [key, lease] of this.restoredLeases?.values() ?? []) if (leases.exists(lease)) leases.attach(lease, key)
    this.restoredLeases = undefined
  }

  /** Registers a listener for committed changes (the watchable store). */
  onCommit(listener: CommitListener): void {
    this.listeners.push(listener)
  }

  /** Starts a write transaction; the caller must call `end()` (etcd kv.Write). */
  write(tx: BackendWriter): KvWriteTxn {
    return new KvWriteTxn(this, tx)
  }

  /** @internal Called by KvWriteTxn.end. */
  publish(rev: number, changes: KeyValue[]): void {
    assert(rev === this.currentRev + 1, () => `publishing revision ${rev} after ${this.currentRev}`)
    this.currentRev = rev
    for (const listener of this.listeners) listener(rev, changes)
  }

  /** A low-level range at `curRev` (etcd storeTxnRead.rangeKeys). */
  rangeKeys(reader: BackendReader, key: Buffer, end: Buffer | undefined, curRev: number, options: RangeOptions): RangeResult {
    let rev = options.rev ?? 0
    if (rev > curRev) throw new FutureRevisionError(curRev)
    if (rev <= 0) rev = curRev
    if (rev < this.compactMainRev) throw new CompactedError(this.compactMainRev)
    if (options.count) return { kvs: [], count: this.index.count(key, end, rev), rev: curRev }
    const limit = options.limit ?? 0
    const revs: Revision[] = []
    // etcd 3.5 treeIndex.Revisions: keep only `limit` revisions but count every live key
    const total = this.index.visitLive(key, end, rev, (_k, entry) => {
      if (limit <= 0 || revs.length < limit) revs.push(entry.modified)
      return true
    })
    const n = limit <= 0 || limit > revs.length ? revs.length : limit
    const kvs: KeyValue[] = []
    for (let i = 0; i < n; i++) {
      const record = reader.getRecord(revs[i].main, revs[i].sub)
      assert(record !== undefined, () => `revision ${revs[i].main}_${revs[i].sub} is in the index but not in the backend`)
      kvs.push(record.kv)
    }
    return { kvs, count: total, rev: curRev }
  }

  /** Range (etcd applierV3backend.Range) on committed state. Throws CompactedError / FutureRevisionError. */
  range(req: RangeRequest): RangeResponse {
    return this.applyRange(this.readView(this.backend.reader()), req)
  }

  /** Put (etcd applierV3backend.Put) as its own write transaction. */
  put(tx: BackendWriter, req: PutRequest): PutResponse {
    const lease = req.lease ?? 0n
    if (lease !== 0n && !this.leases.exists(lease)) throw new LeaseNotFoundError(lease)
    const txn = this.write(tx)
    try {
      return this.applyPut(txn, req)
    } finally {
      txn.end()
    }
  }

  /** DeleteRange (etcd applierV3backend.DeleteRange) as its own write transaction. */
  deleteRange(tx: BackendWriter, req: DeleteRangeRequest): DeleteRangeResponse {
    const txn = this.write(tx)
    try {
      return this.applyDeleteRange(txn, req)
    } finally {
      txn.end()
    }
  }

  /**
   * Txn (etcd applierV3backend.Txn): all compares, including those of nested txns, are evaluated against the
   * state before the transaction; request checks (ignore_value/ignore_lease need an existing key, leases must
   * exist, range revisions must be valid) run before any change; all changes share one revision.
   */
  txn(tx: BackendWriter, req: TxnRequest): TxnResponse {
    const view = this.readView(tx)
    const path = compareToPath(view, req)
    const isWrite = !isTxnReadOnly(req)
    if (isWrite) checkRequests(view, req, path, (op) => this.checkPut(view, op))
    checkRequests(view, req, path, (op) => checkRange(view, op))
    if (!isWrite) {
      const resp = this.applyTxnOps(readOnlyTxn(view), req, path)
      resp.revision = view.rev()
      return resp
    }
    const txn = this.write(tx)
    try {
      const resp = this.applyTxnOps(txn, req, path)
      resp.revision = txn.changes.length !== 0 ? txn.beginRev + 1 : txn.beginRev
      return resp
    } finally {
      txn.end()
    }
  }

  /**
   * Compacts history up to `rev` (etcd store.Compact): reads below it fail with CompactedError afterwards.
   * Superseded revisions are deleted from the backend in the same transaction, so the compaction is always
   * physical once the transaction commits. Returns the current revision.
   */
  compact(tx: BackendWriter, rev: number): number {
    if (rev <= this.compactMainRev) throw new CompactedError(this.compactMainRev)
    if (rev > this.currentRev) throw new FutureRevisionError(this.currentRev)
    tx.putMeta('scheduledCompactRev', rev)
    this.compactLockFree(tx, rev)
    return this.currentRev
  }

  /**
   * HashKV (etcd store.hashByRev): crc32c over the key revisions and values up to `rev` (0: current) that a
   * compaction at `rev` would keep. Equal on members that applied the same history.
   */
  hashKv(rev: number): { hash: number; revision: number; compactRevision: number } {
    const compactRev = this.compactMainRev
    const currentRev = this.currentRev
    if (rev > 0 && rev <= compactRev) throw new CompactedError(compactRev)
    if (rev > 0 && rev > currentRev) throw new FutureRevisionError(currentRev)
    const atRev = rev === 0 ? currentRev : rev
    const keep = this.index.keep(atRev)
    const h = new Crc32c().update(Buffer.from('key'))
    this.backend.reader().forEachRecord((record) => {
      if (record.main > atRev) return
      if (record.main < compactRev + 1 && keep.size > 0 && !keep.has(revisionId(record))) return
      h.update(revisionToBytes(record, record.tombstone))
      h.update(encodeKeyValue(record.kv))
    })
    return { hash: h.digest(), revision: currentRev, compactRevision: compactRev }
  }

  /**
   * Hash of everything the MVCC backend holds (etcd Maintenance.Hash analogue): key records, compaction
   * metadata and leases in a canonical order. Equal on members with the same applied history.
   */
  hash(): number {
    const reader = this.backend.reader()
    const h = new Crc32c().update(Buffer.from('key'))
    reader.forEachRecord((record) => {
      h.update(revisionToBytes(record, record.tombstone))
      h.update(encodeKeyValue(record.kv))
    })
    h.update(Buffer.from('lease'))
    for (const lease of reader.listLeases()) h.update(Buffer.from(`${lease.id}:${lease.ttlSeconds}:${lease.remainingTtlSeconds}`))
    h.update(Buffer.from('meta'))
    for (const name of ['scheduledCompactRev', 'finishedCompactRev'] as const) h.update(Buffer.from(`${name}=${reader.getMeta(name) ?? ''}`))
    return h.digest()
  }

  // --- applier (etcd apply.go) ---

  private readView(reader: BackendReader): ReadView {
    const curRev = this.currentRev
    return {
      range: (key, end, options = {}) => this.rangeKeys(reader, asBuffer(key), end, curRev, options),
      rev: () => curRev,
      firstRev: () => this.compactMainRev,
    }
  }

  private applyRange(view: Pick<ReadView, 'range'>, req: RangeRequest): RangeResponse {
    let limit = req.limit ?? 0
    const sortOrderRequested = req.sortOrder ?? 'NONE'
    const sortTarget: SortTarget = req.sortTarget ?? 'KEY'
    if (
      sortOrderRequested !== 'NONE' ||
      (req.minModRevision ?? 0) !== 0 ||
      (req.maxModRevision ?? 0) !== 0 ||
      (req.minCreateRevision ?? 0) !== 0 ||
      (req.maxCreateRevision ?? 0) !== 0
    ) {
      // fetch everything; sort and truncate afterwards
      limit = 0
    }
    // fetch one extra for the 'more' flag
    if (limit > 0) limit = limit + 1
    const rr = view.range(req.key, indexRangeEnd(req.rangeEnd), { limit, rev: req.revision ?? 0, count: req.countOnly ?? false })
    let kvs = rr.kvs
    const { maxModRevision = 0, minModRevision = 0, maxCreateRevision = 0, minCreateRevision = 0 } = req
    if (maxModRevision !== 0) kvs = kvs.filter((kv) => !(kv.modRevision > maxModRevision))
    if (minModRevision !== 0) kvs = kvs.filter((kv) => !(kv.modRevision < minModRevision))
    if (maxCreateRevision !== 0) kvs = kvs.filter((kv) => !(kv.createRevision > maxCreateRevision))
    if (minCreateRevision !== 0) kvs = kvs.filter((kv) => !(kv.createRevision < minCreateRevision))
    // etcd compat: results come sorted by key, so ascending is the default only when the target is not KEY
    let sortOrder = sortOrderRequested
    if (sortTarget !== 'KEY' && sortOrder === 'NONE') sortOrder = 'ASCEND'
    if (sortOrder === 'ASCEND' || sortOrder === 'DESCEND') {
      const cmp = sortComparator(sortTarget)
      const sign = sortOrder === 'ASCEND' ? 1 : -1
      kvs = [...kvs].sort((a, b) => sign * cmp(a, b))
    }
    let more = false
    const requestedLimit = req.limit ?? 0
    if (requestedLimit > 0 && kvs.length > requestedLimit) {
      kvs = kvs.slice(0, requestedLimit)
      more = true
    }
    if (req.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY_BYTES }))
    return { revision: rr.rev, kvs, more, count: rr.count }
  }

  private applyPut(txn: KvWriteTxn, req: PutRequest): PutResponse {
    let value: Uint8Array = req.value ?? EMPTY_BYTES
    let lease = req.lease ?? 0n
    let prev: KeyValue | undefined
    if (req.ignoreValue || req.ignoreLease || req.prevKv) {
      prev = txn.range(req.key, undefined).kvs[0]
    }
    if (req.ignoreValue || req.ignoreLease) {
      // ignore_{lease,value} expects a previous key-value pair
      if (prev === undefined) throw new KeyNotFoundError()
    }
    if (req.ignoreValue && prev !== undefined) value = prev.value
    if (req.ignoreLease && prev !== undefined) lease = prev.lease
    const resp: PutResponse = { revision: 0 }
    if (req.prevKv && prev !== undefined) resp.prevKv = prev
    resp.revision = txn.put(req.key, value, lease)
    return resp
  }

  private applyDeleteRange(txn: KvWriteTxn, req: DeleteRangeRequest): DeleteRangeResponse {
    const end = indexRangeEnd(req.rangeEnd)
    const prevKvs = req.prevKv ? txn.range(req.key, end).kvs : []
    const [deleted, revision] = txn.deleteRange(req.key, end)
    return { revision, deleted, prevKvs }
  }

  private applyTxnOps(txn: KvWriteTxn | ReadOnlyTxn, req: TxnRequest, path: boolean[]): TxnResponse {
    const state = { path }
    return this.applyTxnLevel(txn, req, state)
  }

  private applyTxnLevel(txn: KvWriteTxn | ReadOnlyTxn, req: TxnRequest, state: { path: boolean[] }): TxnResponse {
    const succeeded = state.path[0]
    state.path = state.path.slice(1)
    const ops = succeeded ? req.success : req.failure
    const responses: ResponseOp[] = []
    for (const op of ops) {
      if ('requestRange' in op) {
        responses.push({ responseRange: this.applyRange(txn, op.requestRange) })
      } else if ('requestPut' in op) {
        assert(txn instanceof KvWriteTxn, 'put in a read-only txn')
        responses.push({ responsePut: this.applyPut(txn, op.requestPut) })
      } else if ('requestDeleteRange' in op) {
        assert(txn instanceof KvWriteTxn, 'delete in a read-only txn')
        responses.push({ responseDeleteRange: this.applyDeleteRange(txn, op.requestDeleteRange) })
      } else {
        // etcd compat: a nested TxnResponse carries an empty header (revision 0)
        responses.push({ responseTxn: this.applyTxnLevel(txn, op.requestTxn, state) })
      }
    }
    return { revision: 0, succeeded, responses }
  }

  private checkPut(view: ReadView, op: TxnRequest['success'][number]): void {
    if (!('requestPut' in op)) return
    const req = op.requestPut
    if (req.ignoreValue || req.ignoreLease) {
      if (view.range(req.key, undefined).kvs.length === 0) throw new KeyNotFoundError()
    }
    const lease = req.lease ?? 0n
    if (lease !== 0n && !this.leases.exists(lease)) throw new LeaseNotFoundError(lease)
  }

  // --- compaction and restore ---

  private compactLockFree(tx: BackendWriter, rev: number): void {
    this.compactMainRev = rev
    const keep = this.index.compact(rev)
    tx.deleteRecordsUpTo(rev, keep)
    tx.putMeta('finishedCompactRev', rev)
  }

  private restore(): void {
    const reader = this.backend.reader()
    // NB: compact() writes scheduledCompactRev, the deletions and finishedCompactRev in one transaction, so
    // etcd's "redo an unfinished compaction on restore" cannot arise here.
    const finished = reader.getMeta('finishedCompactRev')
    if (finished !== undefined) {
      this.compactMainRev = finished
      this.currentRev = Math.max(this.currentRev, finished)
    }
    reader.forEachIndexRecord((record) => this.restoreRecord(record))
    this.index.recount()
  }

  private restoreRecord(record: KvIndexRecord): void {
    const rev: Revision = { main: record.main, sub: record.sub }
    this.currentRev = Math.max(this.currentRev, record.main)
    const key = record.key
    const id = key.toString('latin1')
    if (record.lease !== 0n && !record.tombstone) this.restoredLeases?.set(id, [key, record.lease])
    else this.restoredLeases?.delete(id)
    const ki = this.index.findKeyIndex(key)
    if (record.tombstone) {
      ki?.tombstone(rev)
      return
    }
    if (ki !== undefined) {
      ki.put(rev)
      return
    }
    this.index.keyIndex(key).restore({ main: record.createRevision, sub: 0 }, rev, record.version)
  }
}

type ReadOnlyTxn = ReadView

function readOnlyTxn(view: ReadView): ReadOnlyTxn {
  return view
}

function sortComparator(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case 'KEY':
      return (a, b) => compareBytes(a.key, b.key)
    case 'VERSION':
      return (a, b) => a.version - b.version
    case 'CREATE':
      return (a, b) => a.createRevision - b.createRevision
    case 'MOD':
      return (a, b) => a.modRevision - b.modRevision
    case 'VALUE':
      return (a, b) => compareBytes(a.value, b.value)
  }
}

/** True when the txn (including nested txns, both branches) has no put or delete (etcd isTxnReadonly). */
export function isTxnReadOnly(req: TxnRequest): boolean {
  for (const op of [...req.success, ...req.failure]) {
    if ('requestPut' in op || 'requestDeleteRange' in op) return false
    if ('requestTxn' in op && !isTxnReadOnly(op.requestTxn)) return false
  }
  return true
}

/** Evaluates a compare against the read view (etcd applyCompare). */
function applyCompare(view: ReadView, c: Compare): boolean {
  let kvs: KeyValue[]
  try {
    kvs = view.range(c.key, indexRangeEnd(c.rangeEnd)).kvs
  } catch (error) {
    if (error instanceof CompactedError || error instanceof FutureRevisionError) return false
    throw error
  }
  if (kvs.length === 0) {
    // etcd compat: comparing a value on a missing key always fails (nil == empty in gRPC)
    if (c.target === 'VALUE') return false
    return compareKv(c, { key: EMPTY_BYTES, value: EMPTY_BYTES, createRevision: 0, modRevision: 0, version: 0, lease: 0n })
  }
  return kvs.every((kv) => compareKv(c, kv))
}

function compareKv(c: Compare, kv: KeyValue): boolean {
  let result: number
  switch (c.target) {
    case 'VALUE':
      result = compareBytes(kv.value, c.value)
      break
    case 'CREATE':
      result = Math.sign(kv.createRevision - c.createRevision)
      break
    case 'MOD':
      result = Math.sign(kv.modRevision - c.modRevision)
      break
    case 'VERSION':
      result = Math.sign(kv.version - c.version)
      break
    case 'LEASE':
      result = kv.lease === c.lease ? 0 : kv.lease < c.lease ? -1 : 1
      break
  }
  switch (c.result) {
    case 'EQUAL':
      return result === 0
    case 'NOT_EQUAL':
      return result !== 0
    case 'GREATER':
      return result > 0
    case 'LESS':
      return result < 0
  }
}

/** The branch taken by the txn and by every nested txn on the taken branches, in order (etcd compareToPath). */
function compareToPath(view: ReadView, req: TxnRequest): boolean[] {
  const succeeded = req.compare.every((c) => applyCompare(view, c))
  const path = [succeeded]
  for (const op of succeeded ? req.success : req.failure) {
    if ('requestTxn' in op) path.push(...compareToPath(view, op.requestTxn))
  }
  return path
}

/** Runs `check` on every op of the taken branches, recursing into nested txns (etcd checkRequests). */
function checkRequests(view: ReadView, req: TxnRequest, path: boolean[], check: (op: TxnRequest['success'][number]) => void): number {
  let txnCount = 0
  const ops = path[0] ? req.success : req.failure
  for (const op of ops) {
    if ('requestTxn' in op) {
      const n = checkRequests(view, op.requestTxn, path.slice(txnCount + 1), check)
      txnCount += n + 1
    } else {
      check(op)
    }
  }
  return txnCount
}

function checkRange(view: ReadView, op: TxnRequest['success'][number]): void {
  if (!('requestRange' in op)) return
  const revision = op.requestRange.revision ?? 0
  if (revision === 0) return
  if (revision > view.rev()) throw new FutureRevisionError(view.rev())
  if (revision < view.firstRev()) throw new CompactedError(view.firstRev())
}
