// A member's database: one SQLite file in its data dir, opened with clear startup errors, guarded against a
// second process, and the transaction that every durable change of the member goes through.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import type { Backend, BackendReader } from '../mvcc/backend'
import type { ConfState } from '../raft/types'
import { assert } from '../util/assert'
import { DbCorruptError, DbLockedError, DbMissingError, ForeignDbError, SchemaTooNewError } from './errors'
import { SqliteRaftStorage, decodeConfState } from './raft-storage'
import { APPLICATION_ID, SCHEMA_VERSION, applyPragmas, migrate } from './schema'
import { SqliteMvccAccess } from './sqlite-backend'
import { type Statements, prepareStatements } from './statements'

/** File names inside the data dir. */
export const DB_FILE = 'member.db'
export const LOCK_FILE = 'member.lock'
/** A small SQLite file this process keeps exclusively locked while the database is open (see openGuard). */
export const GUARD_FILE = 'member.guard'

export interface OpenMemberDbOptions {
  dataDir: string
  /** 'ifMissing' (default): create the data dir and database when neither exists; 'never': must exist. */
  create?: 'ifMissing' | 'never'
  /** Check run at open: 'quick' (default, PRAGMA quick_check), 'full' (integrity_check) or 'none'. */
  integrityCheck?: 'quick' | 'full' | 'none'
}

/**
 * The handle a transaction callback gets. It is the MVCC BackendWriter (pass it to KvStore/Lessor writes) and
 * the first parameter of the Raft and metadata write functions (persistReady, setAppliedIndex, ...). Valid only
 * inside the callback.
 */
export class MemberTx extends SqliteMvccAccess {
  constructor(
    statements: Statements,
    inTransaction: () => boolean,
    /** The log as seen inside this transaction. */
    readonly raftStorage: SqliteRaftStorage,
  ) {
    super(statements, inTransaction)
  }
}

const heldLocks = new Set<string>()

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes `<dataDir>/member.lock` (created with O_EXCL, holding our pid). A lock left by a dead process is
 * taken over; a live holder (or a second open in this process) gives DbLockedError.
 */
function acquireLock(dataDir: string): string {
  const path = join(dataDir, LOCK_FILE)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600)
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      heldLocks.add(path)
      return path
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10)
    const mine = pid === process.pid && heldLocks.has(path)
    if (mine || (Number.isSafeInteger(pid) && pid !== process.pid && pidAlive(pid))) throw new DbLockedError(dataDir, pid)
    unlinkSync(path)
  }
  throw new DbLockedError(dataDir, undefined)
}

/**
 * The second line of defence behind the lock file: an exclusive SQLite (fcntl) lock on GUARD_FILE, held until
 * close and released by the kernel if the process dies, so a second process is kept out even if the lock file
 * was removed or rewritten. It is a separate file because the member database itself stays in NORMAL locking
 * mode, so that this process's worker threads can open read connections to it (state-snapshot.ts).
 */
function openGuard(dataDir: string): Database.Database {
  const guard = new Database(join(dataDir, GUARD_FILE), { timeout: 0 })
  try {
    guard.pragma('locking_mode = EXCLUSIVE')
    guard.exec('BEGIN EXCLUSIVE; COMMIT')
    return guard
  } catch (error) {
    guard.close()
    if (isSqliteBusy(error)) throw new DbLockedError(dataDir, undefined)
    throw error
  }
}

function releaseLock(path: string): void {
  heldLocks.delete(path)
  try {
    unlinkSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

/**
 * Checks the SQLite header and that the file is not shorter than the header says (unless a WAL holds the rest);
 * throws DbCorruptError.
 * @internal
 */
export function checkSqliteHeader(path: string): void {
  const size = statSync(path).size
  if (size === 0) throw new DbCorruptError(path, 'the file is empty')
  const header = Buffer.alloc(100)
  const fd = openSync(path, 'r')
  try {
    readSync(fd, header, 0, 100, 0)
  } finally {
    closeSync(fd)
  }
  if (size < 100 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') throw new DbCorruptError(path, 'not a SQLite database (bad header)')
  const rawPageSize = header.readUInt16BE(16)
  const pageSize = rawPageSize === 1 ? 65536 : rawPageSize
  const pageCount = header.readUInt32BE(28)
  const headerValid = header.readUInt32BE(24) === header.readUInt32BE(92)
  // A checkpoint that hit a full disk writes page 1 (with the new page count) but cannot extend the file; the
  // pages are still in the WAL, which SQLite reads first, so a shorter file is not data loss while a WAL exists
  // (the quick integrity check after opening still guards it).
  const wal = statSync(`${path}-wal`, { throwIfNoEntry: false })
  if (headerValid && pageCount > 0 && size < pageCount * pageSize && !(wal && wal.size > 0)) {
    throw new DbCorruptError(path, `truncated: ${size} bytes, header says ${pageCount} pages of ${pageSize}`)
  }
}

function isSqliteCorruption(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
}

function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}

/**
 * An open member database. `open` never creates over, truncates or migrates data it cannot read: every
 * problem is a DataDirError (missing, corrupt/truncated, schema too new, locked, foreign file).
 */
export class MemberDb implements Backend {
  /** Raft's read-only view of the log (pass to RawNode). */
  readonly raftStorage: SqliteRaftStorage
  private readonly statements: Statements
  private readonly tx: MemberTx
  private readonly mvcc: SqliteMvccAccess
  private closed = false
  /** Prepared once: `db.pragma()` prepares a new statement on every call, and these run per Ready or request. */
  private readonly pragmas: Record<'syncNormal' | 'syncFull' | 'pageCount' | 'begin' | 'commit' | 'rollback', Database.Statement>
  /** One better-sqlite3 transaction wrapper, built once: building it costs a closure and defineProperties per call. */
  private readonly runInTransaction: (fn: (tx: MemberTx) => unknown) => unknown
  /** page_size changes only through VACUUM (defragment), which re-reads it. */
  private pageSize: number
  /** page_count as last read; forgotten by every transaction and VACUUM (the quota check reads it per request). */
  private pageCount: number | undefined
  /** A transaction callback is running (transactions do not nest; a deferred commit is not one). */
  private running = false
  /**
   * Set when a commit that included deferred work failed and was rolled back: the in-memory views (key index,
   * leases) already hold that work, so nothing may be written on top; the member must stop and replay.
   */
  private failedDeferredCommit: Error | undefined

  private constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly lockPath: string,
    private readonly guard: Database.Database,
  ) {
    this.statements = prepareStatements(db)
    this.raftStorage = new SqliteRaftStorage(this.statements, () => this.confState())
    const inTx = () => this.db.inTransaction
    this.tx = new MemberTx(this.statements, inTx, this.raftStorage)
    this.mvcc = new SqliteMvccAccess(this.statements, inTx)
    this.pragmas = {
      syncNormal: db.prepare('PRAGMA synchronous = NORMAL'),
      syncFull: db.prepare('PRAGMA synchronous = FULL'),
      pageCount: db.prepare('PRAGMA page_count').pluck(),
      begin: db.prepare('BEGIN'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
    }
    this.pageSize = db.pragma('page_size', { simple: true }) as number
    this.runInTransaction = db.transaction((fn: (tx: MemberTx) => unknown) => fn(this.tx))
  }

  /** Opens (or, when allowed and absent, creates) the member database in `dataDir`. */
  static open(options: OpenMemberDbOptions): MemberDb {
    const { dataDir } = options
    const create = options.create ?? 'ifMissing'
    const path = join(dataDir, DB_FILE)
    if (!existsSync(dataDir)) {
      if (create === 'never') throw new DbMissingError(path, 'the data dir does not exist')
      mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    }
    const lockPath = acquireLock(dataDir)
    let guard: Database.Database | undefined
    try {
      const exists = existsSync(path)
      if (!exists) {
        if (create === 'never') throw new DbMissingError(path, 'no database file in the data dir')
        if (existsSync(`${path}-wal`)) throw new DbMissingError(path, 'a write-ahead log exists without its database file')
      } else {
        checkSqliteHeader(path)
      }
      let db: Database.Database
      try {
        db = new Database(path, { fileMustExist: exists })
      } catch (error) {
        if (isSqliteCorruption(error)) throw new DbCorruptError(path, String((error as Error).message))
        throw error
      }
      try {
        MemberDb.prepare(db, path, exists, options.integrityCheck ?? 'quick', () => (guard = openGuard(dataDir)))
      } catch (error) {
        db.close()
        if (isSqliteCorruption(error)) throw new DbCorruptError(path, String((error as Error).message))
        if (isSqliteBusy(error)) throw new DbLockedError(dataDir, undefined)
        throw error
      }
      return new MemberDb(db, path, lockPath, guard!)
    } catch (error) {
      guard?.close()
      releaseLock(lockPath)
      throw error
    }
  }

  /** Checks the file (reads only), then takes the guard and applies the PRAGMAs and migrations (writes). */
  private static prepare(db: Database.Database, path: string, existed: boolean, check: 'quick' | 'full' | 'none', takeGuard: () => void): void {
    // Only reads until the file is known to be ours and readable: switching to WAL rewrites the header.
    const version = db.pragma('user_version', { simple: true }) as number
    const appId = db.pragma('application_id', { simple: true }) as number
    if (existed) {
      const tables = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table'").pluck().get() as number
      if (appId !== APPLICATION_ID && (appId !== 0 || version !== 0 || tables > 0)) {
        throw new ForeignDbError(path, `application_id ${appId.toString(16)}, ${tables} tables`)
      }
      if (version > SCHEMA_VERSION) throw new SchemaTooNewError(path, version, SCHEMA_VERSION)
      if (check !== 'none') {
        const rows = db.pragma(check === 'quick' ? 'quick_check' : 'integrity_check', { simple: false }) as { [k: string]: string }[]
        const messages = rows.map((r) => Object.values(r)[0])
        if (!(messages.length === 1 && messages[0] === 'ok')) throw new DbCorruptError(path, messages.slice(0, 5).join('; '))
      }
    }
    takeGuard()
    applyPragmas(db)
    migrate(db, version)
  }

  /**
   * Runs fn in one SQLite transaction (committed and fsynced when fn returns, rolled back when it throws).
   * Every durable change of the member goes through here: one per Ready (persistReady) and one per applied
   * entry (MVCC writes + setAppliedIndex). Not re-entrant.
   *
   * `sync: false` (etcd raft MustSync == false: no new entries, term or vote): committed to the WAL without an
   * fsync; the next synced commit makes it durable, and a crash before that only loses state Raft replays.
   * `deferCommit` (with `sync: false`) goes one step further, as etcd's backend batches its applies (bbolt
   * commits every 100 ms, not per entry): the transaction stays open after fn, later transactions join it, and
   * the next one that is not deferred, or `commitDeferred()`, commits them all at once. Reads on this
   * connection see the deferred writes; a crash loses them, which Raft replays from the applied index.
   */
  transaction<T>(fn: (tx: MemberTx) => T, options: { sync?: boolean; deferCommit?: boolean } = {}): T {
    assert(!this.closed, 'member database is closed')
    assert(!this.running, 'nested member database transaction')
    if (this.failedDeferredCommit) throw this.failedDeferredCommit
    this.pageCount = undefined
    this.running = true
    try {
      if (options.deferCommit) {
        assert(options.sync === false, 'a deferred commit cannot be synced')
        if (!this.db.inTransaction) this.pragmas.begin.run()
        return this.runInTransaction(fn) as T // a savepoint inside the open transaction
      }
      if (this.db.inTransaction) {
        const result = this.runInTransaction(fn) as T
        this.commitOpen()
        return result
      }
      if (options.sync !== false) return this.runInTransaction(fn) as T
      this.pragmas.syncNormal.run()
      try {
        return this.runInTransaction(fn) as T
      } finally {
        this.pragmas.syncFull.run()
      }
    } catch (error) {
      // rolled back: the log may differ from the bounds and entries the raft-storage writes recorded in memory
      this.raftStorage.invalidate()
      throw error
    } finally {
      this.running = false
    }
  }

  /** Whether deferred transactions wait for their commit (see `transaction`'s `deferCommit`). */
  get hasDeferredCommit(): boolean {
    return this.db.inTransaction && !this.running
  }

  /** Commits the deferred transactions, if any. */
  commitDeferred(): void {
    assert(!this.running, 'commitDeferred inside a transaction')
    if (this.failedDeferredCommit) throw this.failedDeferredCommit
    if (!this.db.inTransaction) return
    this.pageCount = undefined
    this.commitOpen()
  }

  /**
   * Commits the open transaction. SQLite cannot change the sync level inside a transaction, so this commit is
   * fsynced: it comes with a synced Ready's writes, or alone when the member is idle.
   */
  private commitOpen(): void {
    try {
      this.pragmas.commit.run()
    } catch (error) {
      // a failed COMMIT (a full disk) may leave the transaction open: nothing of it may be committed later
      if (this.db.inTransaction) this.pragmas.rollback.run()
      this.raftStorage.invalidate()
      this.failedDeferredCommit = new Error(`member database: a commit of deferred applies failed (${(error as Error).message}); restart the member to replay them from the log`)
      throw error
    }
  }

  /** Committed MVCC state (Backend.reader). */
  reader(): BackendReader {
    return this.mvcc
  }

  /** File size: page_count x page_size (free pages included, like bbolt's file size). */
  sizeBytes(): number {
    // read inside a transaction it may change before the commit: not kept then
    const pageCount = this.pageCount ?? (this.pragmas.pageCount.get() as number)
    if (!this.db.inTransaction) this.pageCount = pageCount
    return pageCount * this.pageSize
  }

  /** Size minus free pages. */
  sizeInUseBytes(): number {
    const free = this.db.pragma('freelist_count', { simple: true }) as number
    return this.sizeBytes() - free * this.pageSize
  }

  /** Defragment: VACUUM, then truncate the WAL. */
  defragment(): void {
    this.commitDeferred()
    this.db.exec('VACUUM')
    this.db.pragma('wal_checkpoint(TRUNCATE)')
    this.pageSize = this.db.pragma('page_size', { simple: true }) as number
    this.pageCount = undefined
  }

  /** @internal Writes a consistent copy of the database to `path` (used by snapshot-file.ts). */
  vacuumInto(path: string): void {
    this.commitDeferred()
    this.db.prepare('VACUUM INTO ?').run(path)
  }

  /** PRAGMA integrity_check messages (['ok'] when sound). */
  integrityCheck(): string[] {
    const rows = this.db.pragma('integrity_check') as { integrity_check: string }[]
    return rows.map((r) => r.integrity_check)
  }

  /** Member metadata value (see metadata.ts for the typed accessors). @internal */
  getMemberMeta(name: string): string | undefined {
    return this.statements.memberMetaGet.get(name) as string | undefined
  }

  /** @internal For the typed accessors in metadata.ts. */
  get memberStatements(): Pick<Statements, 'memberAll' | 'memberRemovedGet'> {
    return this.statements
  }

  /** The conf state recorded by setConfState, if any. */
  confState(): ConfState | undefined {
    const text = this.getMemberMeta('conf_state')
    return text === undefined ? undefined : decodeConfState(text)
  }

  /** Closes the connection and releases the lock. Idempotent. */
  close(): void {
    if (this.closed) return
    this.closed = true
    try {
      if (this.hasDeferredCommit) this.commitOpen()
    } catch {
      // rolled back: Raft replays the deferred applies at the next start
    }
    try {
      this.db.close()
    } finally {
      this.guard.close()
      releaseLock(this.lockPath)
    }
  }
}

