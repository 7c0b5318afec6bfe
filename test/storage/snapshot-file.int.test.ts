// Whole-database snapshots: save a consistent copy, install it into an empty data dir; bad files are refused
// and leave nothing behind; an existing database is never overwritten.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { openMvcc } from '../../core/mvcc/mvcc'
import { MemberDb } from '../../core/storage/member-db'
import { installSnapshotFile, snapshotToFile } from '../../core/storage/snapshot-file'
import { FakeClock } from '../../core/util/clock'
import { tempDir } from '../support/temp-dir'
import { codeOf } from '../support/error-code'

describe('snapshot files', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c()
  })
  function dir(): string {
    const d = tempDir('quorum-snap-')
    cleanups.push(d.remove)
    return d.path
  }
  function source() {
    const path = dir()
    const db = MemberDb.open({ dataDir: path })
    cleanups.push(() => db.close())
    const mvcc = openMvcc(db, { clock: new FakeClock() })
    for (let i = 0; i < 300; i++) db.transaction((tx) => mvcc.kv.put(tx, { key: Buffer.from(`k${i % 50}`), value: Buffer.alloc(100, i) }))
    db.transaction((tx) => mvcc.lessor.grant(tx, 77n, 60))
    return { db, mvcc, path }
  }

  it('a saved snapshot installs into an empty data dir with identical state', () => {
    const src = source()
    const file = join(dir(), 'snap.db')
    const snap = snapshotToFile(src.db, file)
    expect(snap.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(codeOf(() => snapshotToFile(src.db, file))).toBe('SNAPSHOT_TARGET_EXISTS')
    const target = join(dir(), 'restored')
    installSnapshotFile(target, file, snap.sha256)
    const db = MemberDb.open({ dataDir: target, create: 'never' })
    cleanups.push(() => db.close())
    const restored = openMvcc(db, { clock: new FakeClock() })
    expect(restored.kv.hashKv(0)).toEqual(src.mvcc.kv.hashKv(0))
    expect(restored.lessor.leases()).toEqual([77n])
  })

  it('a damaged, truncated, empty or foreign snapshot is refused and leaves no partial data dir', () => {
    const src = source()
    const good = join(dir(), 'snap.db')
    const snap = snapshotToFile(src.db, good)
    const bytes = readFileSync(good)
    const flipped = Buffer.from(bytes)
    flipped[Math.floor(bytes.length / 2)] ^= 0xff
    const cases: [string, Buffer, string | undefined][] = [
      ['flipped', flipped, snap.sha256],
      ['truncated', bytes.subarray(0, Math.floor(bytes.length / 3)), undefined],
      ['empty', Buffer.alloc(0), undefined],
    ]
    for (const [name, content, sha] of cases) {
      const file = join(dir(), `${name}.db`)
      writeFileSync(file, content)
      const target = join(dir(), 'target')
      expect(codeOf(() => installSnapshotFile(target, file, sha)), name).toBe('DB_CORRUPT')
      expect(existsSync(target) ? readdirSync(target) : [], name).toEqual([])
    }
    const foreign = join(dir(), 'foreign.db')
    const raw = new Database(foreign)
    raw.exec('CREATE TABLE t (x)')
    raw.close()
    expect(codeOf(() => installSnapshotFile(join(dir(), 'target'), foreign))).toBe('DB_FOREIGN')
  })

  it('installing over an existing database is refused', () => {
    const src = source()
    const file = join(dir(), 'snap.db')
    snapshotToFile(src.db, file)
    const before = readFileSync(join(src.path, 'member.db'))
    expect(codeOf(() => installSnapshotFile(src.path, file))).toBe('SNAPSHOT_TARGET_EXISTS')
    expect(readFileSync(join(src.path, 'member.db')).equals(before)).toBe(true)
  })
})
