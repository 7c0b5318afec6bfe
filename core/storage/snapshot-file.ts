// Whole-database snapshots: a consistent copy of a member database (etcd Maintenance.Snapshot / `snapshot
// save`), and installing such a copy as the database of a data dir (`snapshot restore`, a new member).
import { createHash } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { DbCorruptError, ForeignDbError, SchemaTooNewError } from './errors'
import { DB_FILE, type MemberDb, checkSqliteHeader } from './member-db'
import { APPLICATION_ID, SCHEMA_VERSION } from './schema'

/** A snapshot file with the sha256 of its bytes (etcd appends/sends it so receivers can verify). */
export interface SnapshotFile {
  path: string
  sizeBytes: number
  sha256: string
}

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex')
}

/** Thrown when a snapshot target already exists (never overwrite data). */
export class SnapshotTargetExistsError extends Error {
  readonly code = 'SNAPSHOT_TARGET_EXISTS'
  constructor(readonly path: string) {
    super(`${path} already exists; refusing to overwrite it`)
  }
}

/**
 * Writes a consistent, self-contained copy of the open database to `path` (SQLite VACUUM INTO: one read
 * transaction, so it sees exactly one committed state). Fails if `path` exists.
 */
export function snapshotToFile(db: MemberDb, path: string): SnapshotFile {
  if (existsSync(path)) throw new SnapshotTargetExistsError(path)
  db.vacuumInto(path)
  const fd = openSync(path, 'r+')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  const bytes = readFileSync(path)
  return { path, sizeBytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }
}

/** Checks that `path` is a sound Quorum member database of a supported schema. */
export function verifySnapshotFile(path: string, expectedSha256?: string): void {
  if (expectedSha256 !== undefined && sha256Of(path) !== expectedSha256) {
    throw new DbCorruptError(path, `sha256 mismatch (expected ${expectedSha256})`)
  }
  checkSqliteHeader(path)
  let raw: Database.Database
  try {
    raw = new Database(path, { readonly: true, fileMustExist: true })
  } catch (error) {
    throw new DbCorruptError(path, String((error as Error).message))
  }
  try {
    const appId = raw.pragma('application_id', { simple: true }) as number
    if (appId !== APPLICATION_ID) throw new ForeignDbError(path, `application_id ${appId.toString(16)}`)
    const version = raw.pragma('user_version', { simple: true }) as number
    if (version > SCHEMA_VERSION) throw new SchemaTooNewError(path, version, SCHEMA_VERSION)
    const result = raw.pragma('integrity_check', { simple: true }) as string
    if (result !== 'ok') throw new DbCorruptError(path, result)
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')) {
      throw new DbCorruptError(path, String((error as Error).message))
    }
    throw error
  } finally {
    raw.close()
  }
}

/**
 * Installs a snapshot file as the member database of `dataDir`: verifies it (sha256 when given, schema,
 * integrity), copies it to a temporary file in the data dir, fsyncs and renames it into place. Refuses a
 * data dir that already has a database. On any failure nothing is left behind.
 */
export function installSnapshotFile(dataDir: string, source: string, expectedSha256?: string): void {
  const target = join(dataDir, DB_FILE)
  if (existsSync(target) || existsSync(`${target}-wal`)) throw new SnapshotTargetExistsError(target)
  verifySnapshotFile(source, expectedSha256)
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const tmp = join(dataDir, `${DB_FILE}.installing-${process.pid}`)
  try {
    const copy = new Database(source, { readonly: true, fileMustExist: true })
    try {
      copy.exec(`VACUUM INTO '${tmp.replaceAll("'", "''")}'`)
    } finally {
      copy.close()
    }
    const fd = openSync(tmp, 'r+')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, target)
    const dirFd = openSync(dirname(target), 'r')
    try {
      fsyncSync(dirFd)
    } finally {
      closeSync(dirFd)
    }
  } catch (error) {
    rmSync(tmp, { force: true })
    throw error
  }
}
