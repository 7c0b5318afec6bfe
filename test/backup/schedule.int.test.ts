// BackupService on a fake clock with a replayed real etcd snapshot: how many backups a schedule takes, catch-up
// after downtime, retention on disk, failures recorded with their reason while older backups stay untouched.
import { execFileSync } from 'node:child_process'
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { BackupService, type BackupServiceOptions } from '../../core/backup/service'
import { backupFileName, listBackups, sha256File } from '../../core/backup/files'
import { FakeClock } from '../../core/util/clock'
import { tempDir } from '../support/temp-dir'
import { FIXTURE_REVISION, FIXTURE_SNAPSHOT, FIXTURE_TOTAL_KEY, replaySource } from './support'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

describe('BackupService schedule', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  function setup(overrides: Partial<BackupServiceOptions> = {}, dest?: string) {
    const dir = tempDir('quorum-backup-schedule-')
    cleanups.push(dir.remove)
    const clock = new FakeClock(Date.parse('2026-11-25T10:20:00Z'))
    const make = (more: Partial<BackupServiceOptions> = {}) => {
      const service = new BackupService({
        cluster: 'prod',
        dest: dest ?? dir.path,
        historyPath: join(dir.path, 'history', 'runs.db'),
        source: replaySource(FIXTURE_SNAPSHOT),
        clock,
        retention: { keepLast: 3 },
        schedule: { everyMs: HOUR },
        ...overrides,
        ...more,
      })
      cleanups.push(() => service.close())
      return service
    }
    return { dir: dir.path, clock, make }
  }

  it('an hourly schedule over 6 fake hours takes 7 backups and keep-last 3 leaves exactly the newest 3 on disk', async () => {
    const { dir, clock, make } = setup()
    const service = make()
    const start = clock.now()
    let taken = 0
    for (let step = 0; step <= 12; step++) {
      if ((await service.runIfDue()) !== null) taken++
      clock.advance(30 * MINUTE)
    }
    expect(taken).toBe(7)
    const files = readdirSync(dir).filter((name) => name.endsWith('.db')).sort()
    expect(files).toEqual([4, 5, 6].map((hour) => backupFileName('prod', start + hour * HOUR)))
    expect(readdirSync(dir).filter((name) => name.endsWith('.db.json'))).toHaveLength(3)
    const runs = service.history.list('prod')
    expect(runs.map((run) => run.status)).toEqual(Array(7).fill('ok'))
    const [newest] = listBackups(dir, 'prod').slice(-1)
    expect(newest!.metadata).toMatchObject({ revision: FIXTURE_REVISION, totalKey: FIXTURE_TOTAL_KEY, format: 'etcd-bbolt', sizeBytes: FIXTURE_SNAPSHOT.length })
    expect(readFileSync(newest!.path).equals(FIXTURE_SNAPSHOT)).toBe(true)
  })

  it('after 5 hours of downtime the service catches up with one backup, not five, then continues hourly', async () => {
    const { clock, make } = setup()
    const first = make()
    expect(await first.runIfDue()).not.toBeNull()
    await first.close()
    clock.advance(5 * HOUR + 10 * MINUTE)
    const source = replaySource(FIXTURE_SNAPSHOT)
    const second = make({ source })
    expect(await second.runIfDue()).not.toBeNull()
    expect(await second.runIfDue()).toBeNull()
    expect(second.nextDueMs()).toBe(clock.now() + HOUR)
    expect(source.calls).toBe(1)
    expect(second.history.list('prod')).toHaveLength(2)
  })

  it('a restarted service whose last run is recent waits for the next slot instead of running at once', async () => {
    const { clock, make } = setup()
    const first = make()
    await first.runIfDue()
    const lastMs = clock.now()
    await first.close()
    clock.advance(20 * MINUTE)
    const second = make()
    expect(await second.runIfDue()).toBeNull()
    expect(second.nextDueMs()).toBe(lastMs + HOUR)
  })

  it('a cron schedule runs at its UTC slots: first run at start, then on the hour', async () => {
    const { clock, make } = setup({ schedule: { cron: '0 * * * *' } })
    const service = make()
    expect(await service.runIfDue()).not.toBeNull()
    expect(service.nextDueMs()).toBe(Date.parse('2026-11-25T11:00:00Z'))
    clock.set(Date.parse('2026-11-25T10:59:59Z'))
    expect(await service.runIfDue()).toBeNull()
    clock.set(Date.parse('2026-11-25T14:03:00Z'))
    expect(await service.runIfDue()).not.toBeNull()
    expect(service.nextDueMs()).toBe(Date.parse('2026-11-25T15:00:00Z'))
  })

  it('a stream that breaks midway is recorded as failed with the reason and leaves earlier backups and no temp file', async () => {
    const { dir, clock, make } = setup()
    const good = make()
    await good.runOnce()
    const before = readdirSync(dir).sort()
    clock.advance(HOUR)
    const broken = make({ source: replaySource(FIXTURE_SNAPSHOT, { failAfterBytes: 40_000 }) })
    const result = await broken.runOnce()
    expect(result.run.status).toBe('failed')
    expect(result.run.reason).toMatch(/^BACKUP_SOURCE_FAILED: snapshot stream failed after 40960 bytes: .*connection reset by peer/)
    expect(readdirSync(dir).sort()).toEqual(before)
    expect(readFileSync(listBackups(dir)[0]!.path).equals(FIXTURE_SNAPSHOT)).toBe(true)
  })

  it('a stream whose sha256 trailer does not match is refused with BACKUP_CHECKSUM_MISMATCH', async () => {
    const { dir, make } = setup()
    const flipped = Buffer.from(FIXTURE_SNAPSHOT)
    flipped[5000] = flipped[5000]! ^ 0xff
    const result = await make({ source: replaySource(flipped) }).runOnce()
    expect(result.run.status).toBe('failed')
    expect(result.run.reason).toMatch(/^BACKUP_CHECKSUM_MISMATCH: sha256 trailer [0-9a-f]{64} != sha256 of the database/)
    expect(readdirSync(dir).filter((name) => name.endsWith('.db') || name.endsWith('.tmp'))).toEqual([])
  })

  it('a full disk (128 KiB tmpfs; a read-only dir where mounting is not allowed) fails the second backup and keeps the first intact', async () => {
    const mountDir = tempDir('quorum-backup-tmpfs-')
    cleanups.push(mountDir.remove)
    let mounted = true
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', mountDir.path], { stdio: 'ignore' })
      cleanups.push(() => {
        execFileSync('umount', [mountDir.path])
      })
    } catch {
      mounted = false // not root: a read-only directory stands in for the full disk
    }
    const { clock, make } = setup({}, mountDir.path)
    const service = make()
    expect((await service.runOnce()).run.status).toBe('ok')
    if (!mounted) chmodSync(mountDir.path, 0o500)
    const before = readdirSync(mountDir.path).sort()
    clock.advance(HOUR)
    const result = await service.runOnce()
    expect(result.run.status).toBe('failed')
    expect(result.run.reason).toMatch(mounted ? /^BACKUP_WRITE_FAILED: cannot write .*: ENOSPC/ : /^BACKUP_WRITE_FAILED: cannot write .*: EACCES/)
    expect(readdirSync(mountDir.path).sort()).toEqual(before)
    expect(readFileSync(listBackups(mountDir.path)[0]!.path).equals(FIXTURE_SNAPSHOT)).toBe(true)
    if (!mounted) chmodSync(mountDir.path, 0o700)
  })

  it('a restore drill on a corrupted backup fails and says the file no longer matches its sidecar', async () => {
    const { dir, make } = setup({ drill: true })
    const service = make()
    const result = await service.runOnce()
    expect(result.drill).toMatchObject({ passed: true, reason: null })
    const path = join(dir, result.metadata!.file)
    const bytes = readFileSync(path)
    bytes[20_000] = bytes[20_000]! ^ 0x01
    writeFileSync(path, bytes)
    const drilled = await service.drillLatest()
    expect(drilled!.outcome.passed).toBe(false)
    expect(drilled!.outcome.reason).toMatch(/^file sha256 [0-9a-f]{64} != [0-9a-f]{64} recorded at backup time$/)
    expect(service.history.list('prod')[0]).toMatchObject({ drillResult: 'fail', drillReason: drilled!.outcome.reason })
  })

  it('a restore drill on a corrupted file with a matching sidecar fails with the snapshot reader\'s reason', async () => {
    const { dir, make } = setup({ drill: true })
    const service = make()
    const result = await service.runOnce()
    const path = join(dir, result.metadata!.file)
    const bytes = readFileSync(path)
    bytes[20_000] = bytes[20_000]! ^ 0x01
    writeFileSync(path, bytes)
    // Someone "fixed" the sidecar checksum: the etcd trailer still catches the damage.
    const sidecar = { ...result.metadata!, sha256: await sha256File(path) }
    writeFileSync(`${path}.json`, JSON.stringify(sidecar))
    const drilled = await service.drillLatest()
    expect(drilled!.outcome).toMatchObject({ passed: false })
    expect(drilled!.outcome.reason).toMatch(/^SNAPSHOT_HASH_MISMATCH: /)
  })
})
