// Startup errors: each bad data dir gives a clear DataDirError and the files are left exactly as they were.
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { KvStore } from '../../core/mvcc/kv-store'
import { DB_FILE, LOCK_FILE, MemberDb } from '../../core/storage/member-db'
import { getIdentity, setIdentity } from '../../core/storage/metadata'
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
