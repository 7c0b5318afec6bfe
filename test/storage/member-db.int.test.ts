// Startup errors: each bad data dir gives a clear DataDirError and the files are left exactly as they were.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { KvStore } from '../../core/mvcc/kv-store'
import { DB_FILE, LOCK_FILE, MemberDb } from '../../core/storage/member-db'
import { getIdentity, isMemberRemoved, listMembers, putMember, removeMember, setIdentity } from '../../core/storage/metadata'
import { SCHEMA_VERSION } from '../../core/storage/schema'
import { tempDir } from '../support/temp-dir'

function codeOf(fn: () => unknown): string | undefined {
  try {
    const db = fn() as MemberDb
    db.close()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

function snapshotDir(path: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of readdirSync(path)) out[name] = createHash('sha256').update(readFileSync(join(path, name))).digest('hex')
  return out
}

describe('MemberDb startup errors', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c()
  })
  function dir(): string {
    const d = tempDir('quorum-db-')
    cleanups.push(d.remove)
    return d.path
  }
  /** A data dir with a closed, populated member database. */
  function populated(): string {
    const path = dir()
    const db = MemberDb.open({ dataDir: path })
    const kv = new KvStore(db)
    db.transaction((tx) => {
      setIdentity(tx, { clusterId: 0xabcn, memberId: 0xffff_0000_0000_0001n })
      for (let i = 0; i < 2000; i++) kv.put(tx, { key: Buffer.from(`key-${i}`), value: Buffer.alloc(200, i % 251) })
    })
    db.close()
    return path
  }

  it('a fresh data dir is created, and reopening finds the same identity', () => {
    const path = join(dir(), 'member-1')
    const db = MemberDb.open({ dataDir: path })
    db.transaction((tx) => setIdentity(tx, { clusterId: 1n, memberId: 2n }))
    db.close()
    const again = MemberDb.open({ dataDir: path, create: 'never' })
    expect(getIdentity(again)).toEqual({ clusterId: 1n, memberId: 2n })
    again.close()
    expect(existsSync(join(path, LOCK_FILE))).toBe(false)
  })

  it('a missing database file is DB_MISSING when creation is not allowed', () => {
    const path = dir()
    expect(codeOf(() => MemberDb.open({ dataDir: path, create: 'never' }))).toBe('DB_MISSING')
    expect(codeOf(() => MemberDb.open({ dataDir: join(path, 'absent'), create: 'never' }))).toBe('DB_MISSING')
    expect(readdirSync(path)).toEqual([])
  })

  it('a write-ahead log without its database is DB_MISSING and is not touched', () => {
    const path = dir()
    writeFileSync(join(path, `${DB_FILE}-wal`), Buffer.alloc(4096, 1))
    const before = snapshotDir(path)
    expect(codeOf(() => MemberDb.open({ dataDir: path }))).toBe('DB_MISSING')
    expect(snapshotDir(path)).toEqual(before)
  })

  it('a database from a newer schema version is DB_SCHEMA_TOO_NEW and is not modified', () => {
    const path = populated()
    const raw = new Database(join(path, DB_FILE))
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`)
    raw.pragma('wal_checkpoint(TRUNCATE)')
    raw.close()
    const before = snapshotDir(path)
    let message = ''
    try {
      MemberDb.open({ dataDir: path }).close()
    } catch (error) {
      message = (error as Error).message
      expect((error as { code?: string }).code).toBe('DB_SCHEMA_TOO_NEW')
    }
    expect(message).toContain(`schema version ${SCHEMA_VERSION + 1}`)
    expect(snapshotDir(path)).toEqual(before)
  })

  it('a truncated database is DB_CORRUPT and is not modified', () => {
    const path = populated()
    const file = join(path, DB_FILE)
    truncateSync(file, Math.floor(readFileSync(file).length / 2))
    const before = snapshotDir(path)
    expect(codeOf(() => MemberDb.open({ dataDir: path }))).toBe('DB_CORRUPT')
    expect(snapshotDir(path)).toEqual(before)
  })

  it('a database whose checkpoint hit a full disk (file shorter than its header, the pages still in the WAL) opens with every row', () => {
    const path = populated()
    const file = join(path, DB_FILE)
    const shortLength = statSync(file).size
    // What ENOSPC during a checkpoint leaves: page 1 (with the new page count) written, the file not extended,
    // the WAL still holding every page. Simulated by checkpointing, copying db + WAL, and cutting the copy.
    const raw = new Database(file)
    raw.pragma('journal_mode = WAL')
    raw.pragma('wal_autocheckpoint = 0')
    raw.exec("CREATE TABLE filler (b BLOB); INSERT INTO filler SELECT randomblob(4000) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) SELECT i FROM n)")
    raw.pragma('wal_checkpoint(PASSIVE)')
    const copy = dir()
    for (const name of readdirSync(path)) copyFileSync(join(path, name), join(copy, name))
    raw.close()
    truncateSync(join(copy, DB_FILE), shortLength)
    expect(statSync(join(copy, `${DB_FILE}-wal`)).size).toBeGreaterThan(0)
    const db = MemberDb.open({ dataDir: copy, create: 'never' })
    try {
      expect(getIdentity(db)).toEqual({ clusterId: 0xabcn, memberId: 0xffff_0000_0000_0001n })
      expect(new KvStore(db).range({ key: Buffer.from('key-'), rangeEnd: Buffer.from('key.'), countOnly: true }).count).toBe(2000)
    } finally {
      db.close()
    }
    // Without its WAL the same short file is truncated data: refused.
    const lost = dir()
    copyFileSync(join(copy, DB_FILE), join(lost, DB_FILE))
    truncateSync(join(lost, DB_FILE), shortLength)
    expect(codeOf(() => MemberDb.open({ dataDir: lost, create: 'never' }))).toBe('DB_CORRUPT')
  })

  it('an empty or garbage database file is DB_CORRUPT and is not overwritten', () => {
    const path = dir()
    writeFileSync(join(path, DB_FILE), Buffer.alloc(0))
    expect(codeOf(() => MemberDb.open({ dataDir: path }))).toBe('DB_CORRUPT')
    writeFileSync(join(path, DB_FILE), Buffer.alloc(8192, 0x41))
    const before = snapshotDir(path)
    expect(codeOf(() => MemberDb.open({ dataDir: path }))).toBe('DB_CORRUPT')
    expect(snapshotDir(path)).toEqual(before)
  })

  it('damaged pages inside the file are DB_CORRUPT (quick_check)', () => {
    const path = populated()
    const file = join(path, DB_FILE)
    const bytes = readFileSync(file)
    // overwrite a run of b-tree pages in the middle (page 1 stays intact so the header is valid)
    bytes.fill(0x5a, 4096 * 10, 4096 * 14)
    writeFileSync(file, bytes)
    expect(codeOf(() => MemberDb.open({ dataDir: path }))).toBe('DB_CORRUPT')
  })

  it('a SQLite file of another application is DB_FOREIGN', () => {
    const path = dir()
    const raw = new Database(join(path, DB_FILE))
    raw.exec('CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES (1)')
    raw.close()
    const before = snapshotDir(path)
    expect(codeOf(() => MemberDb.open({ dataDir: path }))).toBe('DB_FOREIGN')
    expect(snapshotDir(path)).toEqual(before)
  })

  it('a second open in the same process is DB_LOCKED', () => {
    const path = dir()
    const db = MemberDb.open({ dataDir: path })
    cleanups.push(() => db.close())
    expect(codeOf(() => MemberDb.open({ dataDir: path }))).toBe('DB_LOCKED')
    // the first handle still works
    expect(db.raftStorage.lastIndex()).toBe(0)
  })

  it('a data dir held by another live process is DB_LOCKED with its pid; a dead holder is taken over', async () => {
    const path = populated()
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', 'crash-writer.ts'), path, 'hold'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve())
        child.once('exit', (code) => reject(new Error(`holder exited ${code}`)))
      })
      let error: unknown
      try {
        MemberDb.open({ dataDir: path }).close()
      } catch (e) {
        error = e
      }
      expect((error as { code?: string }).code).toBe('DB_LOCKED')
      expect((error as { pid?: number }).pid).toBe(child.pid)
      // even with the lock file removed, SQLite's exclusive lock keeps a second process out
      const lock = join(path, LOCK_FILE)
      const pidText = readFileSync(lock, 'utf8')
      writeFileSync(lock, '999999999\n')
      expect(codeOf(() => MemberDb.open({ dataDir: path }))).toBe('DB_LOCKED')
      writeFileSync(lock, pidText)
    } finally {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGKILL')
      })
    }
    const db = MemberDb.open({ dataDir: path, create: 'never' })
    expect(getIdentity(db)?.memberId).toBe(0xffff_0000_0000_0001n)
    db.close()
  })
})

describe('MemberDb schema migrations and membership', () => {
  it('a version 1 database is migrated to the current version with its data intact', () => {
    const dir = tempDir('quorum-migrate-')
    try {
      const path = join(dir.path, DB_FILE)
      // build a version-1 database by hand: the first migration's tables plus some data
      const raw = new Database(path)
      raw.pragma('journal_mode = WAL')
      raw.exec(`
        CREATE TABLE raft_entry (idx INTEGER PRIMARY KEY, term INTEGER NOT NULL, type INTEGER NOT NULL, data BLOB NOT NULL);
        CREATE TABLE raft_state (id INTEGER PRIMARY KEY CHECK (id = 1), term INTEGER NOT NULL, vote TEXT NOT NULL, commit_index INTEGER NOT NULL);
        CREATE TABLE raft_snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), idx INTEGER NOT NULL, term INTEGER NOT NULL, conf_state TEXT NOT NULL, data BLOB NOT NULL);
        CREATE TABLE member_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE mvcc_kv (main INTEGER NOT NULL, sub INTEGER NOT NULL, tombstone INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
          create_revision INTEGER NOT NULL, mod_revision INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER NOT NULL, PRIMARY KEY (main, sub));
        CREATE TABLE mvcc_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE mvcc_lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL, remaining_ttl INTEGER NOT NULL);
        CREATE TABLE mvcc_alarm (member_id TEXT NOT NULL, alarm TEXT NOT NULL, PRIMARY KEY (member_id, alarm)) WITHOUT ROWID;
        INSERT INTO raft_entry VALUES (0, 0, 0, x''), (1, 2, 0, x'61');
        INSERT INTO raft_state VALUES (1, 2, '1', 1);
        INSERT INTO raft_snapshot VALUES (1, 0, 0, '{"voters":[],"learners":[]}', x'');
        INSERT INTO member_meta VALUES ('applied_index', '1');
        INSERT INTO mvcc_kv VALUES (2, 0, 0, x'6b', x'76', 2, 2, 1, 0);
      `)
      raw.pragma('application_id = 1364348209')
      raw.pragma('user_version = 1')
      raw.close()
      const db = MemberDb.open({ dataDir: dir.path })
      try {
        expect(db.raftStorage.lastIndex()).toBe(1)
        expect(new KvStore(db).range({ key: Buffer.from('k') }).kvs[0].value.toString()).toBe('v')
        db.transaction((tx) => putMember(tx, { id: 5n, name: 'm5', peerUrls: ['http://127.0.0.1:2380'], clientUrls: [], isLearner: false }))
        expect(listMembers(db).map((m) => m.name)).toEqual(['m5'])
      } finally {
        db.close()
      }
      const check = new Database(path)
      expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION)
      check.close()
    } finally {
      dir.remove()
    }
  })

  it('members are listed by ID; a removed member ID is remembered', () => {
    const dir = tempDir('quorum-members-')
    const db = MemberDb.open({ dataDir: dir.path })
    try {
      const big = 0xfedc_ba98_7654_3210n
      db.transaction((tx) => {
        putMember(tx, { id: big, name: 'b', peerUrls: ['http://127.0.0.1:2381'], clientUrls: ['http://127.0.0.1:2379'], isLearner: true })
        putMember(tx, { id: 1n, name: 'a', peerUrls: ['http://127.0.0.1:2380'], clientUrls: [], isLearner: false })
      })
      expect(listMembers(db).map((m) => [m.id, m.name, m.isLearner])).toEqual([
        [1n, 'a', false],
        [big, 'b', true],
      ])
      db.transaction((tx) => removeMember(tx, 1n))
      expect(listMembers(db).map((m) => m.id)).toEqual([big])
      expect(isMemberRemoved(db, 1n)).toBe(true)
      expect(isMemberRemoved(db, big)).toBe(false)
    } finally {
      db.close()
      dir.remove()
    }
  })
})

describe('MemberDb deferred commits (applies batched like etcd backend commits)', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c()
  })
  /** A member database and a second, read-only connection to the same file: it sees only committed state. */
  function openPair() {
    const dir = tempDir('quorum-deferred-')
    const db = MemberDb.open({ dataDir: dir.path })
    const kv = new KvStore(db)
    db.transaction((tx) => kv.put(tx, { key: Buffer.from('base'), value: Buffer.from('0') }))
    const other = new Database(join(dir.path, DB_FILE), { readonly: true })
    const committed = () => (other.prepare('SELECT key FROM mvcc_kv ORDER BY main, sub').pluck().all() as Buffer[]).map(String)
    cleanups.push(dir.remove, () => db.close(), () => other.close())
    const put = (key: string, options?: { sync?: boolean; deferCommit?: boolean }) => db.transaction((tx) => kv.put(tx, { key: Buffer.from(key), value: Buffer.from(key) }), options)
    const seen = (key: string) => kv.range({ key: Buffer.from(key) }).count
    return { dir, db, kv, put, seen, committed }
  }

  it('a deferred transaction is seen on its connection at once and committed only with the next transaction', () => {
    const { db, put, seen, committed } = openPair()
    put('a', { sync: false, deferCommit: true })
    put('b', { sync: false, deferCommit: true })
    expect([seen('a'), seen('b')]).toEqual([1, 1])
    expect(committed()).toEqual(['base'])
    expect(db.hasDeferredCommit).toBe(true)
    put('c')
    expect(committed()).toEqual(['base', 'a', 'b', 'c'])
    expect(db.hasDeferredCommit).toBe(false)
  })

  it('commitDeferred commits alone; a failed transaction joined to deferred ones rolls back only itself', () => {
    const { db, put, seen, committed } = openPair()
    put('a', { sync: false, deferCommit: true })
    expect(() =>
      db.transaction(() => {
        put('never')
      }),
    ).toThrow('nested member database transaction')
    expect(() =>
      db.transaction((tx) => {
        setIdentity(tx, { clusterId: 7n, memberId: 8n })
        throw new Error('boom')
      }),
    ).toThrow('boom')
    expect(db.hasDeferredCommit).toBe(true)
    db.commitDeferred()
    expect(committed()).toEqual(['base', 'a'])
    expect(seen('never')).toBe(0)
    expect(getIdentity(db)).toBeUndefined()
    db.commitDeferred()
    expect(db.hasDeferredCommit).toBe(false)
  })

  it('after a failed commit of deferred work (a full disk) every later write fails: the member must stop and replay', async () => {
    const dir = tempDir('quorum-deferred-full-')
    cleanups.push(dir.remove)
    const db = MemberDb.open({ dataDir: dir.path })
    const kv = new KvStore(db)
    db.transaction((tx) => kv.put(tx, { key: Buffer.from('base'), value: Buffer.from('0') }))
    db.close()
    // 64 KiB of file size: the WAL frames of the 400 kB deferred put cannot be written (EFBIG, SIGXFSZ ignored)
    const writer = join(__dirname, 'fixtures', 'deferred-commit-writer.ts')
    const child = spawn('bash', ['-c', `trap '' XFSZ; ulimit -f 64; exec "${process.execPath}" --import tsx "${writer}" "${dir.path}"`], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    const code = await new Promise((resolve) => child.on('exit', resolve))
    expect(code, err).toBe(0)
    const lines = out.trim().split('\n')
    expect(lines[0]).toBe('deferred: ok')
    expect(lines[1]).toMatch(/^commit: SQLITE_(FULL|IOERR)/)
    expect(lines[2]).toMatch(/^after: .*a commit of deferred applies failed .* restart the member to replay them from the log/)
    expect(lines[3]).toMatch(/^commitDeferred: .*a commit of deferred applies failed/)
    const again = MemberDb.open({ dataDir: dir.path, create: 'never', integrityCheck: 'full' })
    cleanups.push(() => again.close())
    expect(new KvStore(again).range({ key: Buffer.from('a'), rangeEnd: Buffer.from('z') }).kvs.map((k) => k.key.toString())).toEqual(['base'])
  })

  it('a snapshot copy, a defragmentation and close commit deferred work first', () => {
    const { dir, db, put, committed } = openPair()
    put('a', { sync: false, deferCommit: true })
    const copy = join(dir.path, 'copy.db')
    db.vacuumInto(copy)
    const copied = new Database(copy, { readonly: true })
    expect((copied.prepare('SELECT key FROM mvcc_kv ORDER BY main, sub').pluck().all() as Buffer[]).map(String)).toEqual(['base', 'a'])
    copied.close()
    put('b', { sync: false, deferCommit: true })
    db.defragment()
    put('c', { sync: false, deferCommit: true })
    db.close()
    expect(committed()).toEqual(['base', 'a', 'b', 'c'])
  })
})
