import { EtcdError, prefixRangeEnd, type EtcdClient, type KeyValue, type TxnCompare, type TxnOp } from '../../core/client'
import { assert } from '../../core/util/assert'
import type {
  ExportKeysRequest,
  ImportKeysReport,
  ImportPolicy,
  KeyDetails,
  KeyEntry,
  KeyHistory,
  KeyPage,
  KeyPageRequest,
  KeyRef,
  KeyTransferProgress,
  SaveKeyRequest,
  SaveKeyResult,
  TransferKeysRequest,
  TransferKeysResult,
  ValueFormat,
} from '../api/keys-api'
import { leaseHex } from './cluster-client'
import { ServiceError } from './result'

// The key browser's operations over one cluster's KV and Lease services. Keys and values are bytes end to
// end: they arrive and leave as base64 and are compared as Buffers, never round-tripped through strings.

/** What the key service needs from a client: core/client's KV and Lease namespaces. */
export type KeysClient = Pick<EtcdClient, 'kv' | 'lease'>

/**
 * etcd compat: `--max-txn-ops` defaults to 128 (etcdserver/api/v3rpc/key.go checkTxnRequest limits compare,
 * success and failure separately). A batch uses at most 64 keys so compares on both source and target fit.
 */
export const TXN_BATCH_KEYS = 64
/** etcd compat: `--max-request-bytes` defaults to 1.5 MiB; batches stay under 1 MiB of keys and values. */
export const TXN_BATCH_BYTES = 1024 * 1024
/** Largest value returned whole by `getKey`; longer ones are cut and flagged `truncated`. */
export const MAX_VALUE_BYTES = 4 * 1024 * 1024
const READ_PAGE = 1000
const MAX_HISTORY = 100

/** Base64 text to bytes; rejects text that is not canonical base64 (so a display string cannot sneak in). */
export function decodeKey(base64: string): Buffer {
  const bytes = Buffer.from(base64, 'base64')
  if (bytes.toString('base64') !== base64) throw new ServiceError('invalid_argument', 'key is not base64')
  return bytes
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function utf8OrNull(bytes: Buffer): string | null {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return null
  }
}

/** Human-readable form of key bytes: UTF-8 when valid (control characters escaped), else `\xNN` escapes. */
export function displayKey(bytes: Buffer): string {
  const text = utf8OrNull(bytes)
  if (text !== null) return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  let out = ''
  for (const byte of bytes) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`
  return out
}

/** The contract form of key bytes. */
export function keyRef(bytes: Buffer): KeyRef {
  return { key: bytes.toString('base64'), display: displayKey(bytes) }
}

const K8S_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00])

/** Guesses a viewer for `value`: Kubernetes protobuf (`k8s\0` magic), JSON, UTF-8 text, or binary. */
export function detectFormat(value: Buffer): ValueFormat {
  if (value.subarray(0, 4).equals(K8S_MAGIC)) return 'kubernetes-protobuf'
  const text = utf8OrNull(value)
  if (text === null) return 'binary'
  const trimmed = text.trim()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      JSON.parse(trimmed)
      return 'json'
    } catch {
      return 'text'
    }
  }
  return 'text'
}

function isCompacted(error: unknown): boolean {
  return error instanceof EtcdError && error.code === 'COMPACTED'
}

/** Byte size a put of this pair adds to a request (key twice: compare and op). */
function pairBytes(kv: { key: Buffer; value: Buffer }): number {
  return kv.key.length * 2 + kv.value.length + 32
}

/** Splits `items` into batches of at most TXN_BATCH_KEYS items and TXN_BATCH_BYTES bytes. */
export function batchPairs<T extends { key: Buffer; value: Buffer }>(items: T[]): T[][] {
  const batches: T[][] = []
  let current: T[] = []
  let bytes = 0
  for (const item of items) {
    const size = pairBytes(item)
    if (current.length > 0 && (current.length >= TXN_BATCH_KEYS || bytes + size > TXN_BATCH_BYTES)) {
      batches.push(current)
      current = []
      bytes = 0
    }
    current.push(item)
    bytes += size
  }
  if (current.length > 0) batches.push(current)
  return batches
}

/**
 * Reads every key (with values unless `keysOnly`) in `[start, end)` at `revision`, paging by READ_PAGE and
 * continuing after the last key (`key + "\0"`), as etcdctl's paginated get does.
 */
export async function readAll(client: KeysClient, start: Buffer, end: Buffer, revision: number, keysOnly = false): Promise<KeyValue[]> {
  const out: KeyValue[] = []
  let cursor = start
  for (;;) {
    const page = await client.kv.range(cursor, { rangeEnd: end, revision, limit: READ_PAGE, keysOnly })
    out.push(...page.kvs)
    if (!page.more || page.kvs.length === 0) return out
    cursor = Buffer.concat([page.kvs[page.kvs.length - 1]!.key, Buffer.from([0])])
  }
}

/** End of the range of every key starting with `prefix`; the empty prefix means the whole keyspace (`\0`). */
function prefixEnd(prefix: Buffer): Buffer {
  return prefix.length === 0 ? Buffer.from([0]) : prefixRangeEnd(prefix)
}

/**
 * First key of the range of every key starting with `prefix`. etcd refuses an empty key even with a range end
 * ("key is not provided"), so the whole keyspace starts at `\0` (etcd compat: clientv3 WithPrefix/WithFromKey).
 */
export function prefixStart(prefix: Buffer): Buffer {
  return prefix.length === 0 ? Buffer.from([0]) : prefix
}

/**
 * One page of the tree (a separator is given) or the flat list (empty separator), pinned to one revision.
 * Tree mode: a key below `prefix` with a further separator becomes a folder (`prefix + first segment +
 * separator`) and the listing jumps past the whole folder, so a folder of a million keys costs one read.
 */
export async function listKeys(client: KeysClient, request: Omit<KeyPageRequest, 'connectionId'>): Promise<KeyPage> {
  const prefix = decodeKey(request.prefix)
  const separator = Buffer.from(request.separator, 'utf8')
  const end = prefixEnd(prefix)
  let cursor = request.cursor ? decodeKey(request.cursor) : prefixStart(prefix)
  let revision = request.revision ?? 0
  const entries: KeyEntry[] = []
  let exhausted = false
  while (entries.length < request.limit && !exhausted) {
    const want = request.limit - entries.length
    const page = await client.kv.range(cursor, { rangeEnd: end, revision, limit: separator.length === 0 ? want : Math.max(want, 100), keysOnly: true })
    if (revision === 0) revision = page.header.revision
    let consumed = 0
    for (const kv of page.kvs) {
      if (entries.length >= request.limit) break
      consumed++
      // Keys inside a folder listed a moment ago sort before the cursor: skip them.
      if (Buffer.compare(kv.key, cursor) < 0) continue
      const at = separator.length === 0 ? -1 : kv.key.indexOf(separator, prefix.length)
      if (at >= 0) {
        const folder = kv.key.subarray(0, at + separator.length)
        entries.push({ kind: 'folder', ...keyRef(folder) })
        cursor = prefixRangeEnd(folder)
      } else {
        entries.push({ kind: 'key', ...keyRef(kv.key), modRevision: kv.modRevision })
        cursor = Buffer.concat([kv.key, Buffer.from([0])])
      }
    }
    exhausted = !page.more && consumed === page.kvs.length
  }
  let more = !exhausted
  // Flat mode: every key read is an entry, so the range's own `more` already tells; a tree page may end in a
  // folder that swallows the rest, so look once (each Range walks the rest of the range's index in etcd 3.4).
  if (more && separator.length > 0) {
    // The page filled up: look once whether anything follows the cursor.
    const probe = await client.kv.range(cursor, { rangeEnd: end, revision, limit: 1, keysOnly: true })
    more = probe.kvs.length > 0
  }
  return { revision, entries, next: more ? cursor.toString('base64') : null }
}

/** Number of keys under `prefix` at `revision` (0 = newest): a count_only Range, for folder badges. */
export async function countKeys(client: KeysClient, prefixBase64: string, revision = 0): Promise<number> {
  const prefix = decodeKey(prefixBase64)
  const result = await client.kv.range(prefixStart(prefix), { rangeEnd: prefixEnd(prefix), revision, countOnly: true })
  return result.count
}

async function details(client: KeysClient, kv: KeyValue, revision: number, withTtl: boolean, maxValueBytes = MAX_VALUE_BYTES): Promise<KeyDetails> {
  let ttl: number | null = null
  if (withTtl && kv.lease !== 0n) {
    const lease = await client.lease.timeToLive(kv.lease)
    ttl = lease.ttl >= 0 ? lease.ttl : null
  }
  const truncated = kv.value.length > maxValueBytes
  const value = truncated ? kv.value.subarray(0, maxValueBytes) : kv.value
  return {
    ...keyRef(kv.key),
    value: value.toString('base64'),
    size: kv.value.length,
    truncated,
    format: detectFormat(value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    lease: kv.lease === 0n ? '' : leaseHex(kv.lease),
    ttl,
    revision,
  }
}

/**
 * The key with value and metadata (lease TTL included) at `revision` (0 = newest), null when absent; the value
 * is cut at `maxValueBytes` and then flagged `truncated`.
 */
export async function getKey(client: KeysClient, keyBase64: string, revision = 0, maxValueBytes = MAX_VALUE_BYTES): Promise<KeyDetails | null> {
  const result = await client.kv.range(decodeKey(keyBase64), { revision })
  const kv = result.kvs[0]
  return kv ? details(client, kv, result.header.revision, revision === 0, maxValueBytes) : null
}

/**
 * The key's versions, newest first: read the key, then read it again at `mod_revision - 1`, and so on, until
 * the key did not exist there (created or deleted before), the store is compacted, or MAX_HISTORY versions.
 */
export async function keyHistory(client: KeysClient, keyBase64: string): Promise<KeyHistory> {
  const key = decodeKey(keyBase64)
  const versions: KeyDetails[] = []
  let revision = 0
  for (;;) {
    let result
    try {
      result = await client.kv.range(key, { revision })
    } catch (error) {
      if (isCompacted(error)) return { versions, compacted: true }
      throw error
    }
    const kv = result.kvs[0]
    if (!kv) return { versions, compacted: false }
    versions.push(await details(client, kv, revision || result.header.revision, false))
    if (kv.version <= 1 || versions.length >= MAX_HISTORY) return { versions, compacted: false }
    revision = kv.modRevision - 1
  }
}

/** The guard "the key is as I last saw it": mod_revision equal, or for a create, version 0 (absent). */
function unchanged(key: Buffer, modRevision: number): TxnCompare {
  return modRevision === 0 ? { key, target: 'version', result: '=', value: 0 } : { key, target: 'mod', result: '=', value: modRevision }
}

/**
 * Safe save: one Txn that puts the value (keeping the key's lease) only if its mod_revision still equals the
 * expected one, else reads their version. On conflict also reads the base (the version the edit started
 * from, if not compacted) for a three-way diff.
 */
export async function saveKey(client: KeysClient, request: Omit<SaveKeyRequest, 'connectionId'>): Promise<SaveKeyResult> {
  const key = decodeKey(request.key)
  const value = Buffer.from(request.value, 'base64')
  const put: TxnOp = { type: 'put', key, value, options: { ignoreLease: request.expectedModRevision !== 0 } }
  const result = await client.kv.txn({
    compare: [unchanged(key, request.expectedModRevision)],
    success: [put],
    failure: [{ type: 'range', key }],
  })
  if (result.succeeded) return { saved: true, modRevision: result.header.revision }
  const read = result.responses[0]
  assert(read?.type === 'range', 'failure branch of a safe save is one range')
  const theirs = read.range.kvs[0] ? await details(client, read.range.kvs[0], result.header.revision, true) : null
  let base: KeyDetails | null = null
  if (request.expectedModRevision > 0) {
    try {
      base = await getKey(client, request.key, request.expectedModRevision)
    } catch (error) {
      if (!isCompacted(error)) throw error
    }
  }
  return { saved: false, theirs, base }
}

/** Deletes one key if its mod_revision is still `expectedModRevision`; false when it changed meanwhile. */
export async function deleteKey(client: KeysClient, keyBase64: string, expectedModRevision: number): Promise<boolean> {
  const key = decodeKey(keyBase64)
  const result = await client.kv.txn({ compare: [unchanged(key, expectedModRevision)], success: [{ type: 'delete', key }] })
  return result.succeeded
}

/**
 * Deletes every key under a prefix. `confirmation` must equal the prefix's display text (the user typed it),
 * and `expectedCount` the count they were shown; a differing count means the prefix changed: nothing is
 * deleted (the count and the delete run in one Txn guarded by the range's newest mod_revision).
 */
export async function deletePrefix(client: KeysClient, prefixBase64: string, confirmation: string, expectedCount: number): Promise<number> {
  const prefix = decodeKey(prefixBase64)
  if (prefix.length === 0) throw new ServiceError('invalid_argument', 'refusing to delete the whole keyspace')
  if (confirmation !== displayKey(prefix)) throw new ServiceError('invalid_argument', 'the typed prefix does not match')
  const end = prefixRangeEnd(prefix)
  const count = await client.kv.range(prefix, { rangeEnd: end, countOnly: true })
  if (count.count !== expectedCount) throw new ServiceError('invalid_argument', `the prefix now holds ${count.count} keys, not ${expectedCount}; review again`)
  // Any put under the prefix after the count raises some mod_revision above the count's revision.
  const result = await client.kv.txn({
    compare: [{ key: prefix, rangeEnd: end, target: 'mod', result: '<', value: count.header.revision + 1 }],
    success: [{ type: 'delete', key: prefix, options: { rangeEnd: end } }],
  })
  if (!result.succeeded) throw new ServiceError('invalid_argument', 'keys under the prefix changed meanwhile; review again')
  const deleted = result.responses[0]
  assert(deleted?.type === 'delete', 'delete-prefix success branch is one delete')
  if (deleted.delete.deleted !== expectedCount) throw new ServiceError('internal', `deleted ${deleted.delete.deleted} keys, expected ${expectedCount}`)
  return deleted.delete.deleted
}

/** Raised when a copy/move cannot complete; nothing is left changed by it. */
export class TransferConflictError extends ServiceError {
  constructor(message: string) {
    super('invalid_argument', message)
  }
}

/**
 * Copies or moves a key or a prefix. All or nothing:
 * - up to one batch (TXN_BATCH_KEYS keys, TXN_BATCH_BYTES): one Txn guarded by every source key's
 *   mod_revision and every target key's absence;
 * - larger: copy in guarded batches (on a failed guard, roll back the copies made so far, each guarded by the
 *   revision we wrote it at), verify the copy byte for byte and that the source is unchanged, then (move)
 *   delete the source in batches guarded by mod_revision.
 * `onProgress` sees each phase with counts of keys.
 */
export async function transferKeys(
  client: KeysClient,
  request: Omit<TransferKeysRequest, 'connectionId' | 'operationId'>,
  onProgress: (progress: Pick<KeyTransferProgress, 'phase' | 'done' | 'total'>) => void,
): Promise<TransferKeysResult> {
  const source = decodeKey(request.source)
  const target = decodeKey(request.target)
  if (source.length === 0) throw new ServiceError('invalid_argument', 'the source must not be empty')
  if (source.equals(target)) throw new ServiceError('invalid_argument', 'source and target are the same')
  if (request.isPrefix && (target.subarray(0, source.length).equals(source) || source.subarray(0, target.length).equals(target))) {
    throw new ServiceError('invalid_argument', 'source and target prefixes overlap')
  }
  const head = await client.kv.range(source, { limit: 1, countOnly: true })
  const revision = head.header.revision
  const sourceKvs = request.isPrefix ? await readAll(client, source, prefixRangeEnd(source), revision) : (await client.kv.range(source, { revision })).kvs
  if (sourceKvs.length === 0) throw new ServiceError('not_found', 'nothing to copy: the source has no keys')
  const total = sourceKvs.length
  onProgress({ phase: 'read', done: total, total })
  const pairs = sourceKvs.map((kv) => ({ from: kv, key: Buffer.concat([target, kv.key.subarray(source.length)]), value: kv.value }))
  const batches = batchPairs(pairs)
  let transactions = 0

  if (batches.length === 1) {
    const batch = batches[0]!
    const ops: TxnOp[] = batch.map((pair) => ({ type: 'put', key: pair.key, value: pair.value }))
    if (request.mode === 'move') for (const pair of batch) ops.push({ type: 'delete', key: pair.from.key })
    const result = await client.kv.txn({
      compare: [...batch.map((pair) => unchanged(pair.from.key, pair.from.modRevision)), ...batch.map((pair) => unchanged(pair.key, 0))],
      success: ops,
    })
    if (!result.succeeded) throw new TransferConflictError('a source key changed or a target key exists; nothing was changed')
    onProgress({ phase: 'done', done: total, total })
    return { keys: total, transactions: 1 }
  }

  const written: { key: Buffer; revision: number }[] = []
  const rollback = async (why: string): Promise<never> => {
    let undone = 0
    for (const batch of batchPairs(written.map((entry) => ({ ...entry, value: Buffer.alloc(0) })))) {
      await client.kv.txn({
        compare: batch.map((entry) => unchanged(entry.key, entry.revision)),
        success: batch.map((entry) => ({ type: 'delete', key: entry.key })),
      })
      undone += batch.length
      onProgress({ phase: 'rollback', done: undone, total: written.length })
    }
    throw new TransferConflictError(`${why}; the copies made so far were removed, nothing was changed`)
  }

  let done = 0
  let failed = false
  await forEachConcurrently(batches, async (batch) => {
    if (failed) return
    const result = await client.kv.txn({
      compare: [...batch.map((pair) => unchanged(pair.from.key, pair.from.modRevision)), ...batch.map((pair) => unchanged(pair.key, 0))],
      success: batch.map((pair) => ({ type: 'put', key: pair.key, value: pair.value })),
    })
    transactions++
    if (!result.succeeded) {
      failed = true
      return
    }
    for (const pair of batch) written.push({ key: pair.key, revision: result.header.revision })
    done += batch.length
    onProgress({ phase: 'copy', done, total })
  })
  if (failed) return rollback('a source key changed or a target key exists')

  // Verify: the copy holds exactly our bytes, and the source range is as we read it (no key added, changed or
  // removed since), so deleting it loses nothing.
  const latest = await client.kv.range(source, { limit: 1, countOnly: true })
  const copied = request.isPrefix ? await readAll(client, target, prefixRangeEnd(target), latest.header.revision) : (await client.kv.range(target)).kvs
  const expected = new Map(pairs.map((pair) => [pair.key.toString('base64'), pair.value]))
  const copyOk = copied.length === expected.size && copied.every((kv) => expected.get(kv.key.toString('base64'))?.equals(kv.value) === true)
  const sourceNow = request.isPrefix ? await readAll(client, source, prefixRangeEnd(source), latest.header.revision, true) : (await client.kv.range(source, { keysOnly: true })).kvs
  const sourceOk = sourceNow.length === total && sourceNow.every((kv, index) => kv.modRevision === sourceKvs[index]!.modRevision && kv.key.equals(sourceKvs[index]!.key))
  onProgress({ phase: 'verify', done: total, total })
  if (!copyOk || !sourceOk) return rollback(copyOk ? 'the source changed during the copy' : 'the copy does not match the source')

  if (request.mode === 'move') {
    let deleted = 0
    let changed = false
    await forEachConcurrently(batchPairs(sourceKvs), async (batch) => {
      const result = await client.kv.txn({
        compare: batch.map((kv) => unchanged(kv.key, kv.modRevision)),
        success: batch.map((kv) => ({ type: 'delete', key: kv.key })),
      })
      transactions++
      if (!result.succeeded) changed = true
      else deleted += batch.length
      onProgress({ phase: 'delete', done: deleted, total })
    })
    if (changed) throw new ServiceError('internal', `a source key changed while deleting after a verified copy; ${deleted} of ${total} source keys were removed`)
  }
  onProgress({ phase: 'done', done: total, total })
  return { keys: total, transactions }
}

/** Batches in flight at once during a copy/move: Raft pipelines them, so 4 cut the wall time ~3x. */
const TXNS_IN_FLIGHT = 4

async function forEachConcurrently<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(TXNS_IN_FLIGHT, items.length) }, worker))
}

/** Format tag of an export file. */
export const KEYS_EXPORT_FORMAT = 'quorum-keys'

interface ExportedKey {
  key: string
  value: string
  /** `utf8` when the text is exactly the bytes, else `base64`. */
  keyEncoding: 'utf8' | 'base64'
  valueEncoding: 'utf8' | 'base64'
}

function encodeText(bytes: Buffer): { text: string; encoding: 'utf8' | 'base64' } {
  const text = utf8OrNull(bytes)
  return text !== null && Buffer.from(text, 'utf8').equals(bytes) ? { text, encoding: 'utf8' } : { text: bytes.toString('base64'), encoding: 'base64' }
}

/** JSON text of a prefix or of the listed keys at one revision; values as UTF-8 text where exact, else base64. */
export async function exportKeys(client: KeysClient, request: Omit<ExportKeysRequest, 'connectionId'>): Promise<string> {
  const head = await client.kv.range('\0', { limit: 1, countOnly: true })
  const revision = head.header.revision
  let kvs: KeyValue[] = []
  if (request.prefix !== undefined) {
    const prefix = decodeKey(request.prefix)
    kvs = await readAll(client, prefixStart(prefix), prefixEnd(prefix), revision)
  }
  for (const key of request.keys ?? []) kvs.push(...(await client.kv.range(decodeKey(key), { revision })).kvs)
  const keys: ExportedKey[] = kvs.map((kv) => {
    const key = encodeText(kv.key)
    const value = encodeText(kv.value)
    return { key: key.text, keyEncoding: key.encoding, value: value.text, valueEncoding: value.encoding }
  })
  return JSON.stringify({ format: KEYS_EXPORT_FORMAT, version: 1, revision, keys }, null, 2)
}

function parseExport(json: string): { key: Buffer; value: Buffer }[] {
  let data: unknown
  try {
    data = JSON.parse(json)
  } catch (error) {
    throw new ServiceError('invalid_argument', `not JSON: ${(error as Error).message}`)
  }
  const file = data as { format?: unknown; keys?: unknown }
  if (file.format !== KEYS_EXPORT_FORMAT || !Array.isArray(file.keys)) throw new ServiceError('invalid_argument', 'not a Quorum keys export')
  return (file.keys as Partial<ExportedKey>[]).map((entry, index) => {
    if (typeof entry.key !== 'string' || typeof entry.value !== 'string') throw new ServiceError('invalid_argument', `entry ${index} lacks key or value`)
    const decode = (text: string, encoding: unknown) => (encoding === 'base64' ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8'))
    return { key: decode(entry.key, entry.keyEncoding), value: decode(entry.value, entry.valueEncoding) }
  })
}

/**
 * Imports an export. `preview` only reads and reports; otherwise writes in guarded batches: each key is put
 * only if it is still as the preview saw it (absent, or at its mod_revision for `overwrite`). With `fail`,
 * any existing key with another value stops the import before a single write.
 */
export async function importKeys(client: KeysClient, json: string, policy: ImportPolicy, preview: boolean): Promise<ImportKeysReport> {
  const entries = parseExport(json)
  const report: ImportKeysReport = { total: entries.length, created: 0, identical: 0, conflicting: 0, written: 0, conflicts: [] }
  const toWrite: { key: Buffer; value: Buffer; modRevision: number }[] = []
  for (const entry of entries) {
    const existing = (await client.kv.range(entry.key)).kvs[0]
    if (!existing) {
      report.created++
      toWrite.push({ ...entry, modRevision: 0 })
    } else if (existing.value.equals(entry.value)) {
      report.identical++
    } else {
      report.conflicting++
      if (report.conflicts.length < 100) report.conflicts.push(keyRef(entry.key))
      if (policy === 'overwrite') toWrite.push({ ...entry, modRevision: existing.modRevision })
    }
  }
  if (preview) return report
  if (policy === 'fail' && report.conflicting > 0) throw new ServiceError('invalid_argument', `${report.conflicting} keys already exist with other values; nothing was imported`)
  for (const batch of batchPairs(toWrite)) {
    const result = await client.kv.txn({
      compare: batch.map((entry) => unchanged(entry.key, entry.modRevision)),
      success: batch.map((entry) => ({ type: 'put', key: entry.key, value: entry.value })),
    })
    if (!result.succeeded) throw new ServiceError('invalid_argument', `keys changed during the import after ${report.written} writes; preview again`)
    report.written += batch.length
  }
  return report
}
