// Raft snapshot state transfer: a consistent image of a member's replicated state machine (MVCC records,
// leases, alarms, membership) carried in a Raft snapshot's `data`, and its atomic installation on a member
// that fell behind the leader's compacted log (etcd: the leader sends its backend with MsgSnap and the
// follower swaps it in, etcdserver applySnapshot). The Raft log side is handled by persistReady.
//
// Inline image layout: "QRMSTATE" | u8 version | 32-byte sha256 of the rest | a serialized SQLite database
// holding the state tables with the member database's own schema, plus table image_meta (applied index,
// schema). Between members the image travels as a file instead (buildStateImageFile on a worker thread, then
// streamed in chunks by the peer transport); the snapshot's `data` is then a reference to the received file:
// "QRMSFILE" | u8 version | utf-8 path of an image database file (no header; checked in transit).
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { assert } from '../util/assert'
import type { MemberTx } from './member-db'
import { setAppliedIndex, setConfState } from './metadata'
import type { ConfState } from '../raft/types'
import { decodeConfState } from './raft-storage'
import { SCHEMA_VERSION } from './schema'

const MAGIC = Buffer.from('QRMSTATE', 'latin1')
/** The image format version this code writes and reads. */
export const STATE_IMAGE_VERSION = 1
const HEADER_BYTES = MAGIC.length + 1 + 32
const FILE_MAGIC = Buffer.from('QRMSFILE', 'latin1')

/** Tables of the replicated state machine copied whole (the Raft log tables are not part of the image). */
const STATE_TABLES = ['mvcc_kv', 'mvcc_meta', 'mvcc_lease', 'mvcc_alarm', 'member', 'member_removed'] as const

/** member_meta rows that describe this member or its own progress, never copied between members. */
const LOCAL_META = new Set(['cluster_id', 'member_id', 'applied_index', 'conf_state'])

/** Thrown when a Raft snapshot's data cannot be installed (empty, damaged, foreign or newer format). */
export class StateImageError extends Error {
  readonly code = 'STATE_IMAGE_INVALID'
  constructor(message: string) {
    super(`cannot install the snapshot's state image: ${message}`)
  }
}

/** Facts recorded in an image. */
export interface StateImageInfo {
  /** The applied index the image reflects (the Raft snapshot's index). */
  index: number
  schemaVersion: number
  sizeBytes: number
}

// The member database's connection, reached through one of its prepared statements (MemberTx keeps it
// private); statements run on it join the caller's open transaction.
function connectionOf(tx: MemberTx): Database.Database {
  return tx.statements.memberMetaGet.database
}

function copyRows(from: Database.Database, to: Database.Database, table: string, where = ''): void {
  const select = from.prepare(`SELECT * FROM ${table}${where}`).raw(true).safeIntegers(true)
  const columns = select.columns().length
  const insert = to.prepare(`INSERT INTO ${table} VALUES (${Array.from({ length: columns }, () => '?').join(', ')})`)
  for (const row of select.iterate() as IterableIterator<unknown[]>) insert.run(...row)
}

/**
 * Serializes the state machine as committed at applied `index`, read inside the caller's transaction (so
 * the image is one consistent state). The caller guarantees the database's applied index is `index`.
 */
export function exportStateImage(tx: MemberTx, index: number): Buffer {
  const source = connectionOf(tx)
  const image = new Database(':memory:')
  try {
    const schemaSql = source.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name IN (${[...STATE_TABLES, 'member_meta'].map(() => '?').join(', ')})`)
    for (const { sql } of schemaSql.all(...STATE_TABLES, 'member_meta') as { name: string; sql: string }[]) image.exec(sql)
    image.exec('CREATE TABLE image_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID')
    image.transaction(() => {
      for (const table of STATE_TABLES) copyRows(source, image, table)
      copyRows(source, image, 'member_meta', ` WHERE name NOT IN (${[...LOCAL_META].map((n) => `'${n}'`).join(', ')})`)
      const meta = image.prepare('INSERT INTO image_meta (name, value) VALUES (?, ?)')
      meta.run('index', String(index))
      meta.run('schema_version', String(SCHEMA_VERSION))
    })()
    const body = image.serialize()
    const header = Buffer.alloc(HEADER_BYTES)
    MAGIC.copy(header, 0)
    header.writeUInt8(STATE_IMAGE_VERSION, MAGIC.length)
    createHash('sha256').update(body).digest().copy(header, MAGIC.length + 1)
    return Buffer.concat([header, body])
  } finally {
    image.close()
  }
}

/** The snapshot `data` that refers to a received image file at `path` (see the file comment). */
export function stateImageFileRef(path: string): Uint8Array {
  return Buffer.concat([FILE_MAGIC, Buffer.from([STATE_IMAGE_VERSION]), Buffer.from(path, 'utf8')])
}

/** The image file a snapshot's `data` refers to, or undefined for inline data. */
export function stateImageFilePath(data: Uint8Array): string | undefined {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (bytes.length <= FILE_MAGIC.length + 1 || !bytes.subarray(0, FILE_MAGIC.length).equals(FILE_MAGIC)) return undefined
  return bytes.subarray(FILE_MAGIC.length + 1).toString('utf8')
}

function openImage(data: Uint8Array): { db: Database.Database; info: StateImageInfo } {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (bytes.length === 0) throw new StateImageError('the snapshot carries no state (it was made by a member without state transfer)')
  let db: Database.Database
  const path = stateImageFilePath(bytes)
  if (path !== undefined) {
    const version = bytes.readUInt8(FILE_MAGIC.length)
    if (version > STATE_IMAGE_VERSION) throw new StateImageError(`image format ${version} is newer than supported ${STATE_IMAGE_VERSION}`)
    try {
      db = new Database(path, { readonly: true, fileMustExist: true })
    } catch (error) {
      throw new StateImageError(`cannot open the image file ${path}: ${(error as Error).message}`)
    }
  } else {
    if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new StateImageError('not a Quorum state image')
    const version = bytes.readUInt8(MAGIC.length)
    if (version > STATE_IMAGE_VERSION) throw new StateImageError(`image format ${version} is newer than supported ${STATE_IMAGE_VERSION}`)
    const body = bytes.subarray(HEADER_BYTES)
    const expected = bytes.subarray(MAGIC.length + 1, HEADER_BYTES)
    if (!createHash('sha256').update(body).digest().equals(expected)) throw new StateImageError('sha256 mismatch (damaged in transit)')
    db = new Database(Buffer.from(body))
  }
  try {
    const meta = new Map((db.prepare('SELECT name, value FROM image_meta').all() as { name: string; value: string }[]).map((r) => [r.name, r.value]))
    const index = Number(meta.get('index'))
    const schemaVersion = Number(meta.get('schema_version'))
    if (!Number.isSafeInteger(index) || index <= 0) throw new StateImageError(`bad applied index ${meta.get('index')}`)
    if (schemaVersion > SCHEMA_VERSION) throw new StateImageError(`schema version ${schemaVersion} is newer than supported ${SCHEMA_VERSION}`)
    const sizeBytes = path === undefined ? bytes.length : (db.pragma('page_count', { simple: true }) as number) * (db.pragma('page_size', { simple: true }) as number)
    return { db, info: { index, schemaVersion, sizeBytes } }
  } catch (error) {
    db.close()
    throw error
  }
}

/** Reads an image's facts after checking its header and checksum. */
export function inspectStateImage(data: Uint8Array): StateImageInfo {
  const { db, info } = openImage(data)
  db.close()
  return info
}

/**
 * Replaces the state machine tables with the image's, inside the caller's transaction, and records
 * `index` as applied with `confState` (the snapshot's). The member's own identity rows stay. The caller
 * must rebuild its in-memory views (KvStore, Lessor, alarms, membership) afterwards.
 */
export function installStateImage(tx: MemberTx, data: Uint8Array, index: number, confState: ConfState): StateImageInfo {
  const { db: image, info } = openImage(data)
  try {
    if (info.index !== index) throw new StateImageError(`image is at index ${info.index}, the snapshot at ${index}`)
    const target = connectionOf(tx)
    assert(target.inTransaction, 'installStateImage outside a transaction')
    // An image from an older schema lacks the newer tables: they end up empty, as a migration leaves them.
    const present = new Set(image.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[])
    for (const table of STATE_TABLES) {
      target.prepare(`DELETE FROM ${table}`).run()
      if (present.has(table)) copyRows(image, target, table)
    }
    target.prepare(`DELETE FROM member_meta WHERE name NOT IN (${[...LOCAL_META].map((n) => `'${n}'`).join(', ')})`).run()
    copyRows(image, target, 'member_meta')
    setAppliedIndex(tx, index)
    setConfState(tx, confState)
    return info
  } finally {
    image.close()
  }
}

/** What buildStateImageFile read: the applied index the image holds, its term and conf state. */
export interface StateImageFileInfo {
  index: number
  term: number
  confState: ConfState
}

// The worker: an eval'd CommonJS script (no separate file to bundle). It opens the image file as its main
// database, attaches the member database, and copies the state tables inside ONE transaction: the member
// database is only read, and the first read pins one WAL snapshot until the commit, so the image, the applied
// index and its term are one consistent state however the member writes meanwhile.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.sqlitePath)
const { dbPath, outPath, tables, localMeta, schemaVersion } = workerData
let image
try {
  image = new Database(outPath)
  image.pragma('journal_mode = OFF')
  image.pragma('synchronous = OFF')
  image.pragma('busy_timeout = 10000')
  image.prepare('ATTACH DATABASE ? AS src').run(dbPath)
  const all = [...tables, 'member_meta']
  const schema = image.prepare("SELECT sql FROM src.sqlite_master WHERE type = 'table' AND name IN (" + all.map(() => '?').join(', ') + ')').pluck().all(...all)
  for (const sql of schema) image.exec(sql)
  image.exec('CREATE TABLE image_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID')
  const info = image.transaction(() => {
    const meta = (name) => image.prepare('SELECT value FROM src.member_meta WHERE name = ?').pluck().get(name)
    const index = Number(meta('applied_index') ?? '0')
    let term = image.prepare('SELECT term FROM src.raft_entry WHERE idx = ?').pluck().get(index)
    const snapshot = image.prepare('SELECT idx, term, conf_state FROM src.raft_snapshot WHERE id = 1').get()
    if (term === undefined && snapshot && snapshot.idx === index) term = snapshot.term
    for (const table of tables) image.exec('INSERT INTO main.' + table + ' SELECT * FROM src.' + table)
    image.prepare('INSERT INTO main.member_meta SELECT * FROM src.member_meta WHERE name NOT IN (' + localMeta.map(() => '?').join(', ') + ')').run(...localMeta)
    const put = image.prepare('INSERT INTO image_meta (name, value) VALUES (?, ?)')
    put.run('index', String(index))
    put.run('schema_version', String(schemaVersion))
    return { index, term, confState: meta('conf_state') ?? (snapshot ? snapshot.conf_state : null) }
  })()
  image.exec('DETACH DATABASE src')
  image.close()
  parentPort.postMessage({ ok: true, info })
} catch (error) {
  try { image?.close() } catch {}
  parentPort.postMessage({ ok: false, message: String(error && error.message || error) })
}
`

/**
 * Writes the state image of the member database at `dbPath`, as committed now, to the new file `outPath`, on a
 * worker thread with its own connection (the caller's event loop keeps running). Resolves with the applied index
 * the image holds, that index's term and the conf state applied with it. The file is a plain SQLite database;
 * the caller streams it (see core/server/peer) and removes it.
 */
export function buildStateImageFile(dbPath: string, outPath: string): Promise<StateImageFileInfo> {
  const sqlitePath = createRequire(import.meta.url).resolve('better-sqlite3')
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { sqlitePath, dbPath, outPath, tables: [...STATE_TABLES], localMeta: [...LOCAL_META], schemaVersion: SCHEMA_VERSION },
    })
    let settled = false
    worker.once('message', (reply: { ok: true; info: { index: number; term: number | undefined; confState: string | null } } | { ok: false; message: string }) => {
      settled = true
      void worker.terminate()
      if (!reply.ok) return reject(new StateImageError(`building the image failed: ${reply.message}`))
      const { index, term, confState } = reply.info
      if (!(index > 0) || term === undefined || confState === null) return reject(new StateImageError(`no applied state to image (applied index ${index})`))
      resolve({ index, term: Number(term), confState: decodeConfState(confState) })
    })
    worker.once('error', (error) => {
      if (!settled) reject(error)
      settled = true
    })
    worker.once('exit', (code) => {
      if (!settled) reject(new StateImageError(`image worker exited with code ${code}`))
      settled = true
    })
  })
}
