import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

// The desktop app's own SQLite database (not a cluster's data): connection profiles with their encrypted
// secrets, and small app settings. One file under the user data directory; every write is one statement or
// one transaction, so a crash leaves either the old or the new row.

/** A stored connection profile. `profileJson` holds the non-secret fields; `secret` is ciphertext or null. */
export interface StoredConnection {
  id: string
  name: string
  profileJson: string
  secret: Buffer | null
  createdAt: number
  updatedAt: number
}

/** Thrown for a second profile with the same name (names are how users tell profiles apart). */
export class DuplicateConnectionNameError extends Error {
  readonly code = 'duplicate_name'
  constructor(name: string) {
    super(`a connection named "${name}" already exists`)
  }
}

// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE connections (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     profile_json TEXT NOT NULL,
     secret BLOB,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE settings (key TEXT PRIMARY KEY, value_json TEXT NOT NULL);`,
  `CREATE TABLE metric_points (
     connection_id TEXT NOT NULL,
     at INTEGER NOT NULL,
     point_json TEXT NOT NULL
   );
   CREATE INDEX metric_points_by_time ON metric_points (connection_id, at);`,
]

interface ConnectionRow {
  id: string
  name: string
  profile_json: string
  secret: Buffer | null
  created_at: number
  updated_at: number
}

function fromRow(row: ConnectionRow): StoredConnection {
  return {
    id: row.id,
    name: row.name,
    profileJson: row.profile_json,
    secret: row.secret,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

/** The app database. Open with a file path (or `:memory:`); call `close()` when the app quits. */
export class AppStore {
  private readonly db: Database.Database

  /** Opens (creating the file and its directory, mode 0700, if needed) and migrates the database at `path`. */
  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    this.db = new Database(path)
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.pragma('foreign_keys = ON')
    this.migrate()
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number
    const run = this.db.transaction(() => {
      for (let version = current; version < MIGRATIONS.length; version++) this.db.exec(MIGRATIONS[version])
      this.db.pragma(`user_version = ${MIGRATIONS.length}`)
    })
    if (current < MIGRATIONS.length) run()
  }

  /** Every profile, ordered by name (case-insensitive). */
  listConnections(): StoredConnection[] {
    const rows = this.db.prepare('SELECT * FROM connections ORDER BY name COLLATE NOCASE').all() as ConnectionRow[]
    return rows.map(fromRow)
  }

  getConnection(id: string): StoredConnection | null {
    const row = this.db.prepare('SELECT * FROM connections WHERE id = ?').get(id) as ConnectionRow | undefined
    return row ? fromRow(row) : null
  }

  /** Inserts or replaces the profile with `record.id`; throws DuplicateConnectionNameError on a name clash. */
  putConnection(record: StoredConnection): void {
    try {
      this.db
        .prepare(
          `INSERT INTO connections (id, name, profile_json, secret, created_at, updated_at)
           VALUES (@id, @name, @profileJson, @secret, @createdAt, @updatedAt)
           ON CONFLICT(id) DO UPDATE SET name = excluded.name, profile_json = excluded.profile_json,
             secret = excluded.secret, updated_at = excluded.updated_at`,
        )
        .run(record)
    } catch (error) {
      if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new DuplicateConnectionNameError(record.name)
      }
      throw error
    }
  }

  /** Deletes a profile; returns false when there was none with that id. */
  deleteConnection(id: string): boolean {
    return this.db.prepare('DELETE FROM connections WHERE id = ?').run(id).changes > 0
  }

  /** Appends chart points (JSON, one row each) of a connection in one transaction. */
  appendMetricPoints(connectionId: string, points: readonly { at: number; json: string }[]): void {
    const insert = this.db.prepare('INSERT INTO metric_points (connection_id, at, point_json) VALUES (?, ?, ?)')
    this.db.transaction(() => {
      for (const point of points) insert.run(connectionId, point.at, point.json)
    })()
  }

  /** The newest `limit` points of a connection at or after `sinceMs`, oldest first. */
  metricPointsSince(connectionId: string, sinceMs: number, limit: number): string[] {
    const rows = this.db
      .prepare('SELECT point_json FROM metric_points WHERE connection_id = ? AND at >= ? ORDER BY at DESC, rowid DESC LIMIT ?')
      .all(connectionId, sinceMs, limit) as { point_json: string }[]
    return rows.reverse().map((row) => row.point_json)
  }

  /** Deletes points older than `beforeMs` (all connections), or every point of one connection; returns how many. */
  deleteMetricPoints(filter: { beforeMs: number } | { connectionId: string }): number {
    return 'beforeMs' in filter
      ? this.db.prepare('DELETE FROM metric_points WHERE at < ?').run(filter.beforeMs).changes
      : this.db.prepare('DELETE FROM metric_points WHERE connection_id = ?').run(filter.connectionId).changes
  }

  /** A setting's JSON value, or null when unset. */
  getSetting(key: string): unknown {
    const row = this.db.prepare('SELECT value_json FROM settings WHERE key = ?').get(key) as { value_json: string } | undefined
    return row ? (JSON.parse(row.value_json) as unknown) : null
  }

  setSetting(key: string, value: unknown): void {
    this.db
      .prepare('INSERT INTO settings (key, value_json) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json')
      .run(key, JSON.stringify(value))
  }

  close(): void {
    this.db.close()
  }
}
