// Raft snapshot state transfer: a consistent image of a member's replicated state machine (MVCC records,
// leases, alarms, membership) carried in a Raft snapshot's `data`, and its atomic installation on a member
// that fell behind the leader's compacted log (etcd: the leader sends its backend with MsgSnap and the
// follower swaps it in, etcdserver applySnapshot). The Raft log side is handled by persistReady.
//
// Image layout: "QRMSTATE" | u8 version | 32-byte sha256 of the rest | a serialized SQLite database holding
// the state tables with the member database's own schema, plus table image_meta (applied index, schema).
import { createHash } from 'node:crypto'
import Database from 'better-sqlite3'
import { assert } from '../util/assert'
import type { MemberTx } from './member-db'
import { setAppliedIndex, setConfState } from './metadata'
import type { ConfState } from '../raft/types'
import { SCHEMA_VERSION } from './schema'

const MAGIC = Buffer.from('QRMSTATE', 'latin1')
/** The image format version this code writes and reads. */
export const STATE_IMAGE_VERSION = 1
const HEADER_BYTES = MAGIC.length + 1 + 32

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

function openImage(data: Uint8Array): { db: Database.Database; info: StateImageInfo } {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (bytes.length === 0) throw new StateImageError('the snapshot carries no state (it was made by a member without state transfer)')
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new StateImageError('not a Quorum state image')
  const version = bytes.readUInt8(MAGIC.length)
  if (version > STATE_IMAGE_VERSION) throw new StateImageError(`image format ${version} is newer than supported ${STATE_IMAGE_VERSION}`)
  const body = bytes.subarray(HEADER_BYTES)
  const expected = bytes.subarray(MAGIC.length + 1, HEADER_BYTES)
  if (!createHash('sha256').update(body).digest().equals(expected)) throw new StateImageError('sha256 mismatch (damaged in transit)')
  const db = new Database(Buffer.from(body))
  try {
    const meta = new Map((db.prepare('SELECT name, value FROM image_meta').all() as { name: string; value: string }[]).map((r) => [r.name, r.value]))
    const index = Number(meta.get('index'))
    const schemaVersion = Number(meta.get('schema_version'))
    if (!Number.isSafeInteger(index) || index <= 0) throw new StateImageError(`bad applied index ${meta.get('index')}`)
    if (schemaVersion > SCHEMA_VERSION) throw new StateImageError(`schema version ${schemaVersion} is newer than supported ${SCHEMA_VERSION}`)
    return { db, info: { index, schemaVersion, sizeBytes: bytes.length } }
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
