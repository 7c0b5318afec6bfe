import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

// The run history of scheduled backups: one SQLite file per destination (DEST/.quorum-backup-history.db by
// default), separate from cluster data and from the app's own database. Every write is one statement, so a
// crash leaves either the old or the new row.

/** Outcome of a run or a drill. */
export type BackupRunStatus = 'ok' | 'failed'

/** A restore drill's verdict, null while no drill ran for the backup. */
export type DrillResult = 'pass' | 'fail' | null

/** One backup attempt as stored. Times are ms since the epoch; sizes in bytes. */
export interface BackupRunRecord {
  id: number
  cluster: string
  startedMs: number
  finishedMs: number
  status: BackupRunStatus
  /** Why it failed (the error code and message); null on success. */
  reason: string | null
  /** The backup file's name inside the destination; null when nothing was kept. */
  file: string | null
  sizeBytes: number | null
  durationMs: number
  drillResult: DrillResult
  drillReason: string | null
}

/** A run to record; `id` and the drill fields are assigned by the history. */
export type NewBackupRun = Omit<BackupRunRecord, 'id' | 'drillResult' | 'drillReason'>

// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE backup_runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     cluster TEXT NOT NULL,
     started_ms INTEGER NOT NULL,
     finished_ms INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
     reason TEXT,
     file TEXT,
     size_bytes INTEGER,
     duration_ms INTEGER NOT NULL,
     drill_result TEXT CHECK (drill_result IN ('pass', 'fail')),
     drill_reason TEXT
   );
   CREATE INDEX backup_runs_cluster_started ON backup_runs (cluster, started_ms);`,
]

interface Row {
  id: number
  cluster: string
  started_ms: number
  finished_ms: number
  status: BackupRunStatus
  reason: string | null
  file: string | null
  size_bytes: number | null
  duration_ms: number
  drill_result: DrillResult
  drill_reason: string | null
}

function fromRow(row: Row): BackupRunRecord {
  return {
    id: row.id,
    cluster: row.cluster,
    startedMs: row.started_ms,
    finishedMs: row.finished_ms,
    status: row.status,
    reason: row.reason,
    file: row.file,
    sizeBytes: row.size_bytes,
    durationMs: row.duration_ms,
    drillResult: row.drill_result,
    drillReason: row.drill_reason,
  }
}

/** The backup run history in its own SQLite file. Call `close()` when done. */
export class BackupHistory {
  private readonly db: Database.Database

  /** Opens (creating when missing) the history at `path` and applies pending migrations. */
  constructor(path: string) {
    mkdirSync(dirname(path), { recursive: true })
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = FULL')
    const applied = this.db.pragma('user_version', { simple: true }) as number
    for (let version = applied; version < MIGRATIONS.length; version++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[version]!)
        this.db.pragma(`user_version = ${version + 1}`)
      })()
    }
  }

  /** Appends a run and returns its id. */
  record(run: NewBackupRun): number {
    const result = this.db
      .prepare(
        `INSERT INTO backup_runs (cluster, started_ms, finished_ms, status, reason, file, size_bytes, duration_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(run.cluster, run.startedMs, run.finishedMs, run.status, run.reason, run.file, run.sizeBytes, run.durationMs)
    return Number(result.lastInsertRowid)
  }

  /** Sets the drill verdict of run `id` (a later drill of the same backup overwrites the earlier one). */
  recordDrill(id: number, result: 'pass' | 'fail', reason: string | null): void {
    this.db.prepare('UPDATE backup_runs SET drill_result = ?, drill_reason = ? WHERE id = ?').run(result, reason, id)
  }

  /** Runs of `cluster` (every cluster when omitted), oldest first. */
  list(cluster?: string): BackupRunRecord[] {
    const rows = (cluster === undefined
      ? this.db.prepare('SELECT * FROM backup_runs ORDER BY started_ms, id').all()
      : this.db.prepare('SELECT * FROM backup_runs WHERE cluster = ? ORDER BY started_ms, id').all(cluster)) as Row[]
    return rows.map(fromRow)
  }

  /** The newest run of `cluster` (ok or failed), or null: what catch-up after downtime looks at. */
  lastRun(cluster: string): BackupRunRecord | null {
    const row = this.db.prepare('SELECT * FROM backup_runs WHERE cluster = ? ORDER BY started_ms DESC, id DESC LIMIT 1').get(cluster) as
      | Row
      | undefined
    return row === undefined ? null : fromRow(row)
  }

  close(): void {
    this.db.close()
  }
}
