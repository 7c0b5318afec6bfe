// Backups as a service: one schedule per cluster and destination, used by `quorum backup` and the app.
//
//   start() ──► wait until nextDueMs ──► runOnce(): describe ─► stream to temp ─► check trailer ─► fsync+rename
//                     ▲                          ─► sidecar (last) ─► history row ─► retention ─► drill (optional)
//                     └──────── next = cron.nextRun(now) | now + everyMs ◄──┘
//
// Catch-up: on start the newest run in the history decides; if a run was due while we were down, exactly one
// run happens now (never one per missed slot), then the schedule continues from now.

import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Cron } from 'croner'
import { BackupHistory, type BackupRunRecord } from '../storage/backup-history'
import { assert } from '../util/assert'
import type { Clock } from '../util/clock'
import { drillBackup, inspectSnapshot, type DrillOutcome } from './drill'
import { BackupError, describeError } from './errors'
import {
  BACKUP_METADATA_VERSION,
  backupFileName,
  listBackups,
  saveSnapshotStream,
  writeFileAtomic,
  type BackupEntry,
  type BackupMetadata,
  type SaveProgress,
} from './files'
import { applyRetention, type RetentionPolicy } from './retention'
import { restoreDrill, type RestoreDrillOptions } from './restore-drill'
import type { SnapshotSource } from './source'

/** When backups run: every `everyMs`, or at the times of a cron expression (UTC). */
export type BackupSchedule = { everyMs: number } | { cron: string }

/** File name of the run history inside the destination, unless `historyPath` says otherwise. */
export const HISTORY_FILE = '.quorum-backup-history.db'

/** Options of a BackupService. */
export interface BackupServiceOptions {
  /** Cluster name: the file name prefix and the history key. */
  cluster: string
  dest: string
  source: SnapshotSource
  clock: Clock
  retention: RetentionPolicy
  /** Needed for start()/runIfDue(); runOnce() works without. */
  schedule?: BackupSchedule
  /** Run a restore drill after every successful backup (and in drillLatest). */
  drill?: boolean
  /** Make drills restore into a throw-away `quorum node` (restoreDrill); without it they check the file only. */
  restoreDrill?: RestoreDrillOptions
  historyPath?: string
  onProgress?: SaveProgress
}

/** The outcome of one run, as recorded in the history. */
export interface BackupRunResult {
  run: BackupRunRecord
  /** The sidecar of the new backup; null when the run failed. */
  metadata: BackupMetadata | null
  drill: DrillOutcome | null
  /** Backups deleted by retention after this run. */
  removed: string[]
}

/** Runs backups of one cluster into one destination directory, on demand or on a schedule. Call `close()`. */
export class BackupService {
  readonly history: BackupHistory
  private readonly cron: Cron | null
  private nextDue: number | null = null
  private timer: NodeJS.Timeout | null = null
  private running: Promise<BackupRunResult> | null = null
  private stopped = true

  constructor(private readonly options: BackupServiceOptions) {
    assert(options.retention.keepLast >= 1, `keepLast ${options.retention.keepLast} must be >= 1 (never delete the newest backup)`)
    const schedule = options.schedule
    if (schedule !== undefined && 'everyMs' in schedule) assert(schedule.everyMs > 0, `interval ${schedule.everyMs} ms must be > 0`)
    this.cron = schedule !== undefined && 'cron' in schedule ? new Cron(schedule.cron, { paused: true, timezone: 'UTC' }) : null
    this.history = new BackupHistory(options.historyPath ?? join(options.dest, HISTORY_FILE))
  }

  /** The next time (ms since the epoch) a scheduled run is due; throws without a schedule. */
  nextDueMs(): number {
    if (this.nextDue === null) this.nextDue = this.firstDue()
    return this.nextDue
  }

  // After downtime: the slot after the newest recorded run; if that has passed, it is due now (once).
  private firstDue(): number {
    const last = this.history.lastRun(this.options.cluster)
    const now = this.options.clock.now()
    if (last === null) return now
    const next = this.following(last.startedMs)
    return next <= now ? now : next
  }

  private following(fromMs: number): number {
    const schedule = this.options.schedule
    assert(schedule !== undefined, 'no schedule configured')
    if ('everyMs' in schedule) return fromMs + schedule.everyMs
    const next = this.cron!.nextRun(new Date(fromMs))
    assert(next !== null, `cron expression ${schedule.cron} has no future run`)
    return next.getTime()
  }

  /** Runs one backup if the schedule says one is due at the clock's current time; null otherwise. */
  async runIfDue(): Promise<BackupRunResult | null> {
    const now = this.options.clock.now()
    if (now < this.nextDueMs()) return null
    const result = await this.runOnce()
    this.nextDue = this.following(Math.max(now, this.options.clock.now()))
    return result
  }

  /** Takes one backup now (serialised with scheduled runs), records it, applies retention, drills if enabled. */
  runOnce(): Promise<BackupRunResult> {
    const previous = this.running ?? Promise.resolve(null)
    const run = previous.then(() => this.backup())
    this.running = run
    return run.finally(() => {
      if (this.running === run) this.running = null
    })
  }

  private async backup(): Promise<BackupRunResult> {
    const { cluster, dest, clock, source } = this.options
    const startedMs = clock.now()
    const file = backupFileName(cluster, startedMs)
    let metadata: BackupMetadata | null = null
    let reason: string | null = null
    try {
      let identity
      try {
        identity = await source.describe()
      } catch (error) {
        throw new BackupError('BACKUP_SOURCE_FAILED', `cannot reach ${source.endpoints.join(',')}: ${describeError(error)}`)
      }
      const saved = await saveSnapshotStream(source.snapshot(), dest, file, { nowMs: () => clock.now(), onProgress: this.options.onProgress })
      const facts = inspectSnapshot(join(dest, file))
      // NB: best effort; a member that compacted past the revision meanwhile leaves these unknown (null).
      const keySpace = await source.keySpaceAt?.(facts.revision).catch(() => null)
      const finishedMs = clock.now()
      metadata = {
        metadataVersion: BACKUP_METADATA_VERSION,
        cluster,
        endpoints: source.endpoints,
        memberId: identity.memberId,
        clusterId: identity.clusterId,
        sourceRevision: identity.revision,
        revision: facts.revision,
        totalKey: facts.totalKey,
        liveKeys: keySpace?.liveKeys ?? null,
        hashKV: keySpace?.hashKV ?? null,
        format: facts.format,
        file,
        sizeBytes: saved.sizeBytes,
        sha256: saved.sha256,
        durationMs: finishedMs - startedMs,
        startedAt: new Date(startedMs).toISOString(),
        finishedAt: new Date(finishedMs).toISOString(),
      }
      try {
        writeFileAtomic(dest, `${file}.json`, `${JSON.stringify(metadata, null, 2)}\n`)
      } catch (error) {
        rmSync(join(dest, file), { force: true }) // a backup without its sidecar is not a backup
        throw error
      }
    } catch (error) {
      reason = describeError(error)
      metadata = null
    }
    const finishedMs = clock.now()
    const id = this.history.record({
      cluster,
      startedMs,
      finishedMs,
      status: metadata === null ? 'failed' : 'ok',
      reason,
      file: metadata === null ? null : file,
      sizeBytes: metadata?.sizeBytes ?? null,
      durationMs: finishedMs - startedMs,
    })
    let removed: string[] = []
    let drill: DrillOutcome | null = null
    if (metadata !== null) {
      removed = this.applyRetention()
      if (this.options.drill === true) {
        drill = await this.drill(join(dest, file), metadata)
        this.history.recordDrill(id, drill.passed ? 'pass' : 'fail', drill.reason)
      }
    }
    const run = this.history.list(cluster).find((record) => record.id === id)
    assert(run !== undefined, `run ${id} missing from the history`)
    return { run, metadata, drill, removed }
  }

  /** Deletes this cluster's backups that the retention policy no longer keeps; returns their file names. */
  applyRetention(): string[] {
    const { dest, cluster, retention, clock } = this.options
    const entries = listBackups(dest, cluster)
    const { remove } = applyRetention(entries.map((entry) => ({ name: entry.file, takenMs: entry.takenMs })), retention, clock.now())
    for (const name of remove) {
      // Sidecar first: a crash in between leaves an incomplete backup that listBackups ignores.
      rmSync(join(dest, `${name}.json`), { force: true })
      rmSync(join(dest, name), { force: true })
    }
    return remove
  }

  private drill(path: string, metadata: BackupMetadata): Promise<DrillOutcome> {
    const options = this.options.restoreDrill
    return options === undefined ? drillBackup(path, metadata) : restoreDrill(path, metadata, options)
  }

  /** Drills the newest complete backup of this cluster (a drill on its own schedule) and records the verdict. */
  async drillLatest(): Promise<{ entry: BackupEntry; outcome: DrillOutcome } | null> {
    const entries = listBackups(this.options.dest, this.options.cluster)
    const entry = entries.at(-1)
    if (entry === undefined) return null
    const outcome = await this.drill(entry.path, entry.metadata)
    const run = this.history.list(this.options.cluster).findLast((record) => record.file === entry.file)
    if (run !== undefined) this.history.recordDrill(run.id, outcome.passed ? 'pass' : 'fail', outcome.reason)
    return { entry, outcome }
  }

  /**
   * Runs on the schedule with real timers until stop(). `onRun` sees every result (failures included);
   * `onError` gets an unexpected error (a bug or a broken history file), after which the loop has stopped.
   * Timers re-check at least every `maxSleepMs` so a clock jump is noticed.
   */
  start(onRun: (result: BackupRunResult) => void, onError: (error: unknown) => void, maxSleepMs = 60_000): void {
    assert(this.stopped, 'backup service already started')
    this.stopped = false
    const loop = (): void => {
      if (this.stopped) return
      const delay = Math.max(0, Math.min(maxSleepMs, this.nextDueMs() - this.options.clock.now()))
      this.timer = setTimeout(() => {
        this.timer = null
        this.runIfDue().then(
          (result) => {
            if (result !== null) onRun(result)
            loop()
          },
          (error: unknown) => {
            this.stopped = true
            onError(error)
          },
        )
      }, delay)
    }
    loop()
  }

  /** Stops scheduling and waits for a run in progress to finish. */
  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    if (this.running !== null) await this.running.catch(() => null)
  }

  /** Stops and closes the history. */
  async close(): Promise<void> {
    await this.stop()
    this.history.close()
  }
}
