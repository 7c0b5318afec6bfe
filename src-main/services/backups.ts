import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { Cron } from 'croner'
import type { EtcdClient } from '../../core/client'
import { writeFileAtomic, safeClusterName } from '../../core/backup/files'
import { BackupService, type BackupRunResult } from '../../core/backup/service'
import { clientSnapshotSource } from '../../core/backup/source'
import type { MemberCommand } from '../../core/cluster/launcher'
import type { BackupRunRecord } from '../../core/storage/backup-history'
import type { Clock } from '../../core/util/clock'
import type { Unsubscribe } from '../api/admin-api'
import type { BackupRunEvent, BackupRunInfo, BackupScheduleInfo, BackupScheduleInput, BackupsApi } from '../api/wizards-api'
import type { ClusterClientOptions } from './cluster-client'
import { ServiceError, toResult } from './result'

// Backup schedules of the app: one core BackupService per schedule (core/backup/service.ts does the run,
// retention, drills and the once-only catch-up after downtime), configured from <dataDir>/backup-schedules.json
// (written atomically). Schedules run while the app is open; every run is pushed as an event so the page and
// the failure notification update.

/** The file the schedules live in, inside the app's data dir. */
export const SCHEDULES_FILE = 'backup-schedules.json'

/** What the schedule service needs from the app. */
export interface BackupScheduleServiceDeps {
  dataDir: string
  connections: {
    clientOptions(id: string, callTimeoutMs: number): ClusterClientOptions
    list(): { id: string; name: string }[]
  }
  openClient: (options: ClusterClientOptions) => EtcdClient
  /** Drills restore into a throw-away `quorum node` run with this command. */
  quorumCommand: MemberCommand
  tmpDir: string
  clock: Clock
}

interface StoredSchedule extends Required<BackupScheduleInput> {
  createdAt: number
}

interface Active {
  config: StoredSchedule
  client: EtcdClient
  service: BackupService
  cluster: string
}

function toRunInfo(run: BackupRunRecord): BackupRunInfo {
  return {
    id: run.id,
    startedMs: run.startedMs,
    finishedMs: run.finishedMs,
    status: run.status,
    reason: run.reason ?? '',
    file: run.file ?? '',
    sizeBytes: run.sizeBytes,
    durationMs: run.durationMs,
    drillResult: run.drillResult,
    drillReason: run.drillReason ?? '',
  }
}

/** Creates, edits, pauses, runs and deletes backup schedules; call `start()` once and `close()` at exit. */
export class BackupScheduleService implements BackupsApi {
  private readonly events = new EventEmitter()
  private readonly schedules = new Map<string, Active>()
  /** Serialises edits of one schedule (stop → recreate). */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(private readonly deps: BackupScheduleServiceDeps) {
    this.events.setMaxListeners(100)
  }

  /** Loads the stored schedules and starts every one that is not paused (a missed run happens now, once). */
  start(): void {
    for (const config of this.readFile()) {
      try {
        this.activate(config)
      } catch (error) {
        // A schedule whose connection was deleted stays listed as failing rather than stopping the app.
        this.events.emit('run', { scheduleId: config.id, connectionName: config.connectionId, run: this.failure(`cannot start: ${(error as Error).message}`) })
      }
    }
  }

  listBackupSchedules() {
    return toResult(() => [...this.schedules.values()].map((active) => this.info(active)))
  }

  saveBackupSchedule(input: BackupScheduleInput) {
    return this.serialised(async () => {
      this.check(input)
      const previous = input.id ? this.schedules.get(input.id) : undefined
      if (input.id && !previous) throw new ServiceError('not_found', `no backup schedule ${input.id}`)
      const config: StoredSchedule = { ...input, id: input.id ?? randomUUID(), createdAt: previous?.config.createdAt ?? this.deps.clock.now() }
      if (previous) await this.deactivate(previous)
      const active = this.activate(config)
      this.writeFile()
      return this.info(active)
    })
  }

  deleteBackupSchedule(id: string) {
    return this.serialised(async () => {
      await this.deactivate(this.get(id))
      this.writeFile()
      return null
    })
  }

  runBackupNow(id: string) {
    return toResult(async () => {
      const active = this.get(id)
      const result = await active.service.runOnce()
      this.publish(active, result)
      return toRunInfo(result.run)
    })
  }

  getBackupHistory(id: string) {
    return toResult(() => {
      const active = this.get(id)
      return active.service.history.list(active.cluster).map(toRunInfo).sort((a, b) => a.startedMs - b.startedMs || a.id - b.id)
    })
  }

  onBackupRun(listener: (event: BackupRunEvent) => void): Unsubscribe {
    this.events.on('run', listener)
    return () => this.events.off('run', listener)
  }

  /** Stops every schedule (waiting for a run in progress) and closes the history files. */
  async close(): Promise<void> {
    await Promise.all([...this.schedules.values()].map((active) => this.deactivate(active)))
    this.events.removeAllListeners()
  }

  private check(input: BackupScheduleInput): void {
    if (!this.deps.connections.list().some((profile) => profile.id === input.connectionId)) throw new ServiceError('not_found', `no connection ${input.connectionId}`)
    if (input.destination && !isAbsolute(input.destination)) throw new ServiceError('invalid_argument', `the destination must be an absolute directory, not "${input.destination}"`)
    if (input.cron) {
      try {
        new Cron(input.cron, { paused: true, timezone: 'UTC' }).stop()
      } catch (error) {
        throw new ServiceError('invalid_argument', `"${input.cron}" is not a cron expression: ${(error as Error).message}`)
      }
    }
  }

  private get(id: string): Active {
    const active = this.schedules.get(id)
    if (!active) throw new ServiceError('not_found', `no backup schedule ${id}`)
    return active
  }

  private destination(config: StoredSchedule): string {
    return config.destination || join(this.deps.dataDir, 'backups', config.id)
  }

  private connectionName(config: StoredSchedule): string {
    return this.deps.connections.list().find((profile) => profile.id === config.connectionId)?.name ?? config.connectionId
  }

  private activate(config: StoredSchedule): Active {
    const options = this.deps.connections.clientOptions(config.connectionId, 10_000)
    const dest = this.destination(config)
    mkdirSync(dest, { recursive: true, mode: 0o700 })
    const client = this.deps.openClient(options)
    const cluster = safeClusterName(this.connectionName(config).replace(/^local: /, ''))
    const service = new BackupService({
      cluster,
      dest,
      source: clientSnapshotSource(client, options.endpoints),
      clock: this.deps.clock,
      retention: { keepLast: config.keepLast, hourly: config.hourly, daily: config.daily, weekly: config.weekly },
      schedule: config.cron ? { cron: config.cron } : { everyMs: config.everyMs },
      drill: config.drills,
      restoreDrill: { quorumCommand: this.deps.quorumCommand, tmpDir: this.deps.tmpDir },
    })
    const active: Active = { config, client, service, cluster }
    this.schedules.set(config.id, active)
    if (!config.paused) {
      service.start(
        (result) => this.publish(active, result),
        (error) => this.events.emit('run', { scheduleId: config.id, connectionName: this.connectionName(config), run: this.failure(`the schedule stopped: ${(error as Error).message}`) }),
        5_000,
      )
    }
    return active
  }

  private async deactivate(active: Active): Promise<void> {
    this.schedules.delete(active.config.id)
    await active.service.stop()
    await active.service.close()
    active.client.close()
  }

  private publish(active: Active, result: BackupRunResult): void {
    this.events.emit('run', { scheduleId: active.config.id, connectionName: this.connectionName(active.config), run: toRunInfo(result.run) } satisfies BackupRunEvent)
  }

  private failure(reason: string): BackupRunInfo {
    const now = this.deps.clock.now()
    return { id: 0, startedMs: now, finishedMs: now, status: 'failed', reason, file: '', sizeBytes: null, durationMs: 0, drillResult: null, drillReason: '' }
  }

  private info(active: Active): BackupScheduleInfo {
    const { createdAt, ...config } = active.config
    const runs = active.service.history.list(active.cluster)
    const last = runs.reduce<BackupRunRecord | null>((newest, run) => (newest === null || run.startedMs >= newest.startedMs ? run : newest), null)
    return {
      ...config,
      connectionName: this.connectionName(active.config),
      destinationDir: this.destination(active.config),
      nextDueMs: config.paused ? null : active.service.nextDueMs(),
      lastRun: last ? toRunInfo(last) : null,
      createdAt,
    }
  }

  private readFile(): StoredSchedule[] {
    const path = join(this.deps.dataDir, SCHEDULES_FILE)
    if (!existsSync(path)) return []
    return (JSON.parse(readFileSync(path, 'utf8')) as { schedules: StoredSchedule[] }).schedules
  }

  private writeFile(): void {
    mkdirSync(this.deps.dataDir, { recursive: true })
    const schedules = [...this.schedules.values()].map((active) => active.config)
    writeFileAtomic(this.deps.dataDir, SCHEDULES_FILE, `${JSON.stringify({ schedules }, null, 2)}\n`)
  }

  private serialised<T>(work: () => Promise<T>) {
    const next = this.queue.catch(() => undefined).then(work)
    this.queue = next
    return toResult(() => next)
  }
}
