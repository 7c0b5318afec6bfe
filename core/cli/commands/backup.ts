import { InvalidArgumentError, type Command } from 'commander'
import { mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EtcdClient } from '../../client'
import { listBackups } from '../../backup/files'
import { defaultQuorumCommand } from '../../cluster/launcher'
import { BackupService, HISTORY_FILE, type BackupRunResult, type BackupSchedule } from '../../backup/service'
import { restoreDrill } from '../../backup/restore-drill'
import { clientSnapshotSource } from '../../backup/source'
import { BackupHistory } from '../../storage/backup-history'
import { parseGoDuration } from '../../util/duration'
import { systemClock } from '../../util/clock'
import { choiceOption, intOption, listOption } from '../options'
import { humanBytes, renderTable } from '../table'
import { addClientSecurityOptions, MissingPasswordError, resolveCredentials, tlsFromFlags, type ClientSecurityFlags } from './snapshot'

interface TargetFlags extends ClientSecurityFlags {
  endpoints: string
  dest: string
  name: string
}

interface ScheduleFlags extends TargetFlags {
  every?: number
  cron?: string
  keepLast: number
  hourly: number
  daily: number
  weekly: number
  drill?: boolean
}

function durationOption(value: string): number {
  try {
    const ms = parseGoDuration(value)
    if (ms <= 0) throw new InvalidArgumentError('must be > 0')
    return ms
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error
    throw new InvalidArgumentError((error as Error).message)
  }
}

function rate(bytes: number, elapsedMs: number): string {
  return `${humanBytes(bytes)} in ${(elapsedMs / 1000).toFixed(1)} s (${humanBytes(Math.round((bytes * 1000) / Math.max(elapsedMs, 1)))}/s)`
}

// Opens a client on the endpoints (TLS and user from the flags; the password stays in memory, never in a
// sidecar, the history or a log line) and a service writing into --dest; the caller closes both.
async function openService(flags: TargetFlags, more: { schedule?: BackupSchedule; keepLast: number; hourly?: number; daily?: number; weekly?: number; drill?: boolean }) {
  const endpoints = listOption(flags.endpoints)
  const auth = await resolveCredentials(flags)
  mkdirSync(flags.dest, { recursive: true })
  const client = new EtcdClient({ endpoints, retry: { maxAttempts: 2 }, callTimeoutMs: 10_000, tls: tlsFromFlags(flags), auth })
  const tty = process.stderr.isTTY
  const service = new BackupService({
    cluster: flags.name,
    dest: flags.dest,
    source: clientSnapshotSource(client, endpoints),
    clock: systemClock,
    schedule: more.schedule,
    retention: { keepLast: more.keepLast, hourly: more.hourly, daily: more.daily, weekly: more.weekly },
    drill: more.drill,
    restoreDrill: more.drill === true ? { quorumCommand: defaultQuorumCommand(), tmpDir: tmpdir(), auth } : undefined,
    onProgress: (bytes, elapsedMs) => {
      if (tty) process.stderr.write(`\rfetching snapshot: ${rate(bytes, elapsedMs)}   `)
    },
  })
  return { client, service, tty }
}

// openService, or null after printing why it cannot start (no password, unreadable certificate file): exit 1.
async function openOrReport(...args: Parameters<typeof openService>): Promise<Awaited<ReturnType<typeof openService>> | null> {
  try {
    return await openService(...args)
  } catch (error) {
    if (!(error instanceof MissingPasswordError) && (error as NodeJS.ErrnoException).syscall === undefined) throw error
    process.stderr.write(`Error: ${(error as Error).message}\n`)
    process.exitCode = 1
    return null
  }
}

// One line per run on stdout (ok) or stderr (failed), plus the drill verdict and what retention removed.
function reportRun(result: BackupRunResult, tty: boolean): void {
  if (tty) process.stderr.write('\n')
  const { run, metadata, drill, removed } = result
  if (metadata === null) {
    process.stderr.write(`${new Date(run.startedMs).toISOString()} backup FAILED: ${run.reason}\n`)
    return
  }
  process.stdout.write(
    `${metadata.startedAt} backup ok: ${metadata.file} ${rate(metadata.sizeBytes, metadata.durationMs)}, revision ${metadata.revision}, ` +
      `${metadata.totalKey} keys, sha256 ${metadata.sha256}\n`,
  )
  if (drill !== null) process.stdout.write(`  restore drill: ${drill.passed ? 'pass' : `FAIL: ${drill.reason}`}\n`)
  if (removed.length > 0) process.stdout.write(`  retention removed: ${removed.join(', ')}\n`)
}

/**
 * `quorum backup`: backups of one cluster into a directory (`<name>-<UTC time>.db` + `.db.json` sidecar, run
 * history in DIR/.quorum-backup-history.db). `run` takes one backup now (exit 1 when it fails), `schedule` runs
 * in the foreground until SIGINT/SIGTERM, `drill` restores the newest backup into a throw-away member (exit 1
 * when it fails), `list` prints the complete backups with their drill verdicts.
 */
export function registerBackupCommand(program: Command): void {
  const backup = program.command('backup').description('scheduled backups with retention and restore drills')
  const target = (command: Command) =>
    addClientSecurityOptions(
      command
        .requiredOption('--endpoints <url>', 'client URL of the member to back up (the first one is used)')
        .requiredOption('--dest <dir>', 'destination directory')
        .option('--name <cluster>', 'cluster name used in file names and the history', 'cluster'),
    )

  target(backup.command('run').description('take one backup now'))
    .option('--keep-last <n>', 'retention: keep the newest N backups', intOption(1), 1_000_000)
    .option('--drill', 'restore the new backup into a throw-away quorum node and compare key count and HashKV')
    .action(async (flags: TargetFlags & { keepLast: number; drill?: boolean }) => {
      const opened = await openOrReport(flags, { keepLast: flags.keepLast, drill: flags.drill })
      if (opened === null) return
      const { client, service, tty } = opened
      try {
        const result = await service.runOnce()
        reportRun(result, tty)
        if (result.metadata === null || result.drill?.passed === false) process.exitCode = 1
      } finally {
        await service.close()
        client.close()
      }
    })

  target(backup.command('schedule').description('take backups on a schedule until interrupted'))
    .option('--every <duration>', 'interval (Go duration: 30m, 1h, 24h)', durationOption)
    .option('--cron <expr>', 'cron expression, UTC (e.g. "0 */6 * * *")')
    .requiredOption('--keep-last <n>', 'retention: keep the newest N backups', intOption(1))
    .option('--hourly <h>', 'also keep the newest backup of each of the last H hours', intOption(0), 0)
    .option('--daily <d>', 'also keep the newest backup of each of the last D UTC days', intOption(0), 0)
    .option('--weekly <w>', 'also keep the newest backup of each of the last W weeks', intOption(0), 0)
    .option('--drill', 'after every backup, restore it into a throw-away quorum node and compare key count and HashKV')
    .action(async (flags: ScheduleFlags) => {
      if ((flags.every === undefined) === (flags.cron === undefined)) {
        process.stderr.write('Error: give exactly one of --every and --cron\n')
        process.exitCode = 2
        return
      }
      const schedule: BackupSchedule = flags.cron !== undefined ? { cron: flags.cron } : { everyMs: flags.every! }
      const opened = await openOrReport(flags, { ...flags, schedule })
      if (opened === null) return
      const { client, service, tty } = opened
      process.stdout.write(`backing up ${flags.endpoints} into ${flags.dest}; next run ${new Date(service.nextDueMs()).toISOString()}\n`)
      await new Promise<void>((resolve) => {
        const stop = () => resolve()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        service.start(
          (result) => reportRun(result, tty),
          (error) => {
            process.stderr.write(`Error: ${(error as Error).message}\n`)
            process.exitCode = 1
            resolve()
          },
        )
      })
      await service.close()
      client.close()
      process.stdout.write('stopped\n')
    })

  backup
    .command('drill')
    .description('restore the newest backup into a throw-away quorum node and check it against its sidecar')
    .requiredOption('--dest <dir>', 'destination directory')
    .option('--name <cluster>', 'cluster name', 'cluster')
    .option('--user <name[:password]>', `user of a cluster with auth enabled (the restored member has its users); password as for backup run`)
    .action(async (flags: { dest: string; name: string; user?: string }) => {
      const entry = listBackups(flags.dest, flags.name).at(-1)
      if (entry === undefined) {
        process.stderr.write(`Error: no complete backup of ${flags.name} in ${flags.dest}\n`)
        process.exitCode = 1
        return
      }
      let auth: Awaited<ReturnType<typeof resolveCredentials>>
      try {
        auth = await resolveCredentials(flags)
      } catch (error) {
        if (!(error instanceof MissingPasswordError)) throw error
        process.stderr.write(`Error: ${error.message}\n`)
        process.exitCode = 1
        return
      }
      const outcome = await restoreDrill(entry.path, entry.metadata, { quorumCommand: defaultQuorumCommand(), tmpDir: tmpdir(), auth })
      const history = new BackupHistory(join(flags.dest, HISTORY_FILE))
      try {
        const run = history.list(flags.name).findLast((record) => record.file === entry.file)
        if (run !== undefined) history.recordDrill(run.id, outcome.passed ? 'pass' : 'fail', outcome.reason)
      } finally {
        history.close()
      }
      if (outcome.passed) {
        process.stdout.write(`restore drill of ${entry.file}: pass (revision ${outcome.facts?.revision}, ${entry.metadata.liveKeys ?? '?'} live keys)\n`)
      } else {
        process.stderr.write(`restore drill of ${entry.file}: FAIL: ${outcome.reason}\n`)
        process.exitCode = 1
      }
    })

  backup
    .command('list')
    .description('list the complete backups in a directory')
    .requiredOption('--dest <dir>', 'destination directory')
    .option('--name <cluster>', 'only this cluster')
    .option('-w, --write-out <format>', 'table or json', choiceOption(['table', 'json'] as const), 'table')
    .action((flags: { dest: string; name?: string; writeOut: 'table' | 'json' }) => {
      const history = new BackupHistory(join(flags.dest, HISTORY_FILE))
      try {
        const runs = history.list(flags.name)
        const rows = listBackups(flags.dest, flags.name).map((entry) => {
          const run = runs.findLast((record) => record.file === entry.file)
          return { ...entry.metadata, drillResult: run?.drillResult ?? null, drillReason: run?.drillReason ?? null }
        })
        if (flags.writeOut === 'json') {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
          return
        }
        const table = rows.map((row) => [
          row.file,
          row.startedAt,
          humanBytes(row.sizeBytes),
          String(row.revision ?? ''),
          String(row.totalKey ?? ''),
          row.format,
          row.drillResult ?? '-',
          row.sha256.slice(0, 12),
        ])
        process.stdout.write(`${renderTable(['FILE', 'STARTED', 'SIZE', 'REVISION', 'TOTAL KEYS', 'FORMAT', 'DRILL', 'SHA256'], table)}\n`)
      } finally {
        history.close()
      }
    })
}
