import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppStore } from '../../../core/storage/app-store'
import { systemClock } from '../../../core/util/clock'
import type { BackupRunEvent, BackupScheduleInput } from '../../../src-main/api/admin-api'
import { BackupScheduleService, SCHEDULES_FILE } from '../../../src-main/services/backups'
import { createEtcdClient } from '../../../src-main/services/client-factory'
import { ConnectionService } from '../../../src-main/services/connections'
import { KeyFileCipher } from '../../../src-main/services/secret-cipher'
import { etcdctl, startEtcd, type EtcdCluster } from '../../support/etcd'
import { freePort } from '../../support/ports'
import { tempDir } from '../../support/temp-dir'
import { QUORUM_COMMAND, value } from './support'

// Backup schedules of the app on a real etcd 3.4 member: runs with retention and restore drills, a failing
// source reported with its reason, and the once-only catch-up after the app was closed past a due run.

const HOUR_MS = 3_600_000

describe('backup schedules service (real etcd 3.4)', () => {
  let etcd: EtcdCluster
  let work: ReturnType<typeof tempDir>
  let store: AppStore
  let connections: ConnectionService
  let etcdId: string
  let deadId: string
  let offsetMs = 0
  const services: BackupScheduleService[] = []

  const open = () => {
    const service = new BackupScheduleService({
      dataDir: join(work.path, 'app'),
      connections,
      openClient: createEtcdClient,
      quorumCommand: QUORUM_COMMAND,
      tmpDir: work.path,
      clock: { now: () => Date.now() + offsetMs },
    })
    services.push(service)
    return service
  }
  const schedule = (connectionId: string, changes: Partial<BackupScheduleInput> = {}): BackupScheduleInput => ({
    connectionId, everyMs: HOUR_MS, cron: '', destination: '', keepLast: 3, hourly: 0, daily: 0, weekly: 0, drills: false, paused: false, ...changes,
  })

  beforeAll(async () => {
    work = tempDir('quorum-wizard-backups-')
    etcd = await startEtcd({ size: 1 })
    for (let i = 0; i < 20; i++) etcdctl(etcd.endpoints, ['put', `backup/${i}`, `v${i}`])
    store = new AppStore(join(work.path, 'quorum.db'))
    connections = new ConnectionService(store, new KeyFileCipher(join(work.path, 'secret.key')), systemClock)
    const profile = (name: string, endpoints: string[]) =>
      connections.save({ name, endpoints, readOnly: false, username: '', tls: { caCert: '', clientCert: '', serverName: '' } }).id
    etcdId = profile('etcd', [etcd.members[0].clientUrl])
    deadId = profile('gone', [`http://127.0.0.1:${await freePort()}`])
  })

  afterAll(async () => {
    for (const service of services) await service.close()
    store?.close()
    await etcd?.stop()
    work?.remove()
  })

  it('a new schedule runs at once with a passing restore drill; an edit keeps its history and the next run prunes to keep-last 1', async () => {
    const service = open()
    const events: BackupRunEvent[] = []
    service.onBackupRun((event) => events.push(event))
    const info = value(await service.saveBackupSchedule(schedule(etcdId, { keepLast: 1, drills: true })))
    await expect.poll(() => events.length, { timeout: 60_000, interval: 200 }).toBe(1)
    expect(events[0].run).toMatchObject({ status: 'ok', drillResult: 'pass', reason: '' })
    // Drills off for the second run (one restore drill per test is enough); editing keeps the history.
    value(await service.saveBackupSchedule({ ...info, drills: false }))
    const second = value(await service.runBackupNow(info.id))
    expect(second).toMatchObject({ status: 'ok', drillResult: null })
    const history = value(await service.getBackupHistory(info.id))
    expect(history.map((run) => run.status)).toEqual(['ok', 'ok'])
    expect(history.every((run) => run.sizeBytes !== null && run.sizeBytes > 0)).toBe(true)
    const files = readdirSync(info.destinationDir).filter((name) => name.endsWith('.db') && !name.startsWith('.'))
    expect(files).toEqual([second.file])
    value(await service.deleteBackupSchedule(info.id))
    await service.close()
  }, 90_000)

  it('a source that is gone fails the run with its reason, and pausing stops the schedule', async () => {
    const service = open()
    const events: BackupRunEvent[] = []
    service.onBackupRun((event) => events.push(event))
    const info = value(await service.saveBackupSchedule(schedule(deadId)))
    await expect.poll(() => events.length, { timeout: 30_000, interval: 200 }).toBe(1)
    expect(events[0].run.status).toBe('failed')
    expect(events[0].run.reason).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+/)
    expect(events[0].connectionName).toBe('gone')
    const paused = value(await service.saveBackupSchedule({ ...info, paused: true }))
    expect(paused.nextDueMs).toBeNull()
    expect(value(await service.listBackupSchedules()).map((s) => s.lastRun?.status)).toEqual(['failed'])
    value(await service.deleteBackupSchedule(info.id))
    await service.close()
  }, 60_000)

  it('after the app was closed past a due run, exactly one catch-up run happens on start', async () => {
    const first = open()
    const events: BackupRunEvent[] = []
    first.onBackupRun((event) => events.push(event))
    const info = value(await first.saveBackupSchedule(schedule(etcdId)))
    await expect.poll(() => events.length, { timeout: 30_000, interval: 200 }).toBe(1)
    await first.close()
    expect(JSON.parse(readFileSync(join(work.path, 'app', SCHEDULES_FILE), 'utf8')).schedules).toHaveLength(1)

    offsetMs = 5 * HOUR_MS // closed for five hours: five slots missed, one run owed
    const second = open()
    const later: BackupRunEvent[] = []
    second.onBackupRun((event) => later.push(event))
    second.start()
    await expect.poll(() => later.length, { timeout: 30_000, interval: 200 }).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(later).toHaveLength(1)
    expect(value(await second.getBackupHistory(info.id))).toHaveLength(2)
    const [listed] = value(await second.listBackupSchedules())
    expect(listed.nextDueMs! - (Date.now() + offsetMs)).toBeGreaterThan(HOUR_MS - 60_000)
    expect(existsSync(listed.destinationDir)).toBe(true)
  }, 60_000)
})
