// Startup errors for a member's data dir. Each has a `code` the CLI maps to a message and exit status; none of
// them ever leads to data being overwritten.

/** Base class: the data dir cannot be opened safely. */
export class DataDirError extends Error {
  constructor(
    readonly code: 'DB_MISSING' | 'DB_CORRUPT' | 'DB_SCHEMA_TOO_NEW' | 'DB_LOCKED' | 'DB_FOREIGN',
    message: string,
    readonly path: string,
  ) {
    super(message)
  }
}

/** The database file is missing (and may not be created here). */
export class DbMissingError extends DataDirError {
  constructor(path: string, detail: string) {
    super('DB_MISSING', `member database ${path} is missing: ${detail}`, path)
  }
}

/** The file is not a readable SQLite database, is truncated, or fails the integrity check. */
export class DbCorruptError extends DataDirError {
  constructor(path: string, detail: string) {
    super('DB_CORRUPT', `member database ${path} is corrupt: ${detail}; refusing to start (restore from a snapshot or remove the member)`, path)
  }
}

/** The database was written by a newer Quorum (higher schema version). */
export class SchemaTooNewError extends DataDirError {
  constructor(
    path: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super('DB_SCHEMA_TOO_NEW', `member database ${path} has schema version ${found}, newer than the supported ${supported}; upgrade Quorum`, path)
  }
}

/** Another process (or another open in this process) holds the data dir. */
export class DbLockedError extends DataDirError {
  constructor(
    path: string,
    readonly pid: number | undefined,
  ) {
    super('DB_LOCKED', `data dir ${path} is in use by another process${pid === undefined ? '' : ` (pid ${pid})`}`, path)
  }
}

/** A SQLite file that is not a Quorum member database. */
export class ForeignDbError extends DataDirError {
  constructor(path: string, detail: string) {
    super('DB_FOREIGN', `${path} is not a Quorum member database: ${detail}`, path)
  }
}
