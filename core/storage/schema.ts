// PRAGMAs, schema and migrations of a member database (one SQLite file per member).
import type Database from 'better-sqlite3'
import { assert } from '../util/assert'

/** "QRM1": marks a SQLite file as a Quorum member database (PRAGMA application_id). */
export const APPLICATION_ID = 0x51524d31

/** The schema version this code writes; PRAGMA user_version holds the file's version. */
export const SCHEMA_VERSION = 2

/**
 * Durability settings. WAL + synchronous=FULL: every commit is fsynced before it returns (measured: WAL +
 * NORMAL loses acknowledged commits on power loss, see notes/reliability-methods.md §5.5).
 * locking_mode stays NORMAL (with its -shm file) so that a worker thread can open a second, read-only
 * connection and read one consistent WAL snapshot while the member writes (the catch-up state image,
 * state-snapshot.ts); a second process is kept out by the data dir's lock file (member-db.ts).
 */
export function applyPragmas(db: Database.Database): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true })
  assert(mode === 'wal', () => `journal_mode is ${String(mode)}, expected wal`)
  db.pragma('synchronous = FULL')
  db.pragma('foreign_keys = OFF')
  db.pragma('busy_timeout = 0')
}

/** Migration i creates schema version i+1 from version i. Append only; never edit a released migration. */
const MIGRATIONS: ((db: Database.Database) => void)[] = [
  (db) => {
    db.exec(`
      CREATE TABLE raft_entry (
        idx INTEGER PRIMARY KEY,
        term INTEGER NOT NULL,
        type INTEGER NOT NULL,
        data BLOB NOT NULL
      );
      CREATE TABLE raft_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        term INTEGER NOT NULL,
        vote TEXT NOT NULL,
        commit_index INTEGER NOT NULL
      );
      CREATE TABLE raft_snapshot (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        idx INTEGER NOT NULL,
        term INTEGER NOT NULL,
        conf_state TEXT NOT NULL,
        data BLOB NOT NULL
      );
      CREATE TABLE member_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE mvcc_kv (
        main INTEGER NOT NULL,
        sub INTEGER NOT NULL,
        tombstone INTEGER NOT NULL,
        key BLOB NOT NULL,
        value BLOB NOT NULL,
        create_revision INTEGER NOT NULL,
        mod_revision INTEGER NOT NULL,
        version INTEGER NOT NULL,
        lease INTEGER NOT NULL,
        PRIMARY KEY (main, sub)
      );
      CREATE TABLE mvcc_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE mvcc_lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL, remaining_ttl INTEGER NOT NULL);
      CREATE TABLE mvcc_alarm (member_id TEXT NOT NULL, alarm TEXT NOT NULL, PRIMARY KEY (member_id, alarm)) WITHOUT ROWID;
      INSERT INTO raft_entry (idx, term, type, data) VALUES (0, 0, 0, x'');
      INSERT INTO raft_state (id, term, vote, commit_index) VALUES (1, 0, '0', 0);
      INSERT INTO raft_snapshot (id, idx, term, conf_state, data) VALUES (1, 0, 0, '{"voters":[],"learners":[]}', x'');
    `)
  },
  // 2: cluster membership (etcd's "members" and "members_removed" buckets)
  (db) => {
    db.exec(`
      CREATE TABLE member (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        peer_urls TEXT NOT NULL,
        client_urls TEXT NOT NULL,
        is_learner INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE member_removed (id TEXT PRIMARY KEY) WITHOUT ROWID;
    `)
  },
]

assert(MIGRATIONS.length === SCHEMA_VERSION, () => `${MIGRATIONS.length} migrations for schema version ${SCHEMA_VERSION}`)

/**
 * Brings the schema from `from` to SCHEMA_VERSION in one transaction (a crash mid-way leaves the old version).
 * The caller has checked that from <= SCHEMA_VERSION.
 */
export function migrate(db: Database.Database, from: number): void {
  assert(from >= 0 && from <= SCHEMA_VERSION, () => `cannot migrate from schema version ${from}`)
  if (from === SCHEMA_VERSION) return
  db.transaction(() => {
    for (let v = from; v < SCHEMA_VERSION; v++) MIGRATIONS[v](db)
    db.pragma(`application_id = ${APPLICATION_ID}`)
    db.pragma(`user_version = ${SCHEMA_VERSION}`)
  })()
}
