// Backups from real servers: a real etcd 3.4 member through the `quorum backup` CLI (bundled build) and a local
// single-member Quorum cluster through the library. The saved files keep etcd's sha256 trailer, agree with
// `etcdctl snapshot status`, pass the restore drill, and a dead endpoint is recorded as a failed run.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listBackups, type BackupMetadata } from '../../core/backup/files'
import { BackupService, HISTORY_FILE } from '../../core/backup/service'
import { restoreDrill } from '../../core/backup/restore-drill'
import { clientSnapshotSource } from '../../core/backup/source'
import { EtcdClient } from '../../core/client'
import { LocalCluster } from '../../core/cluster/launcher'
import { BackupHistory } from '../../core/storage/backup-history'
import { systemClock } from '../../core/util/clock'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'
import { freePort } from '../support/ports'
import { tempDir } from '../support/temp-dir'

const QUORUM_COMMAND = { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] }

function quorum(args: string[]) {
  const result = spawnSync(process.execPath, ['build/bin/quorum.mjs', ...args], { encoding: 'utf8', timeout: 60_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function trailerMatches(bytes: Buffer): boolean {
  return createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest().equals(bytes.subarray(bytes.length - 32))
}

describe('backups of a real etcd 3.4 member (quorum backup CLI)', () => {
  const dir = tempDir('quorum-backup-etcd-')
  let etcd: EtcdCluster

  beforeAll(async () => {
    etcd = await startEtcd({ size: 1 })
    for (let i = 0; i < 50; i++) expect(etcdctl(etcd.endpoints, ['put', `key-${i}`, `value-${i}`]).status).toBe(0)
    expect(etcdctl(etcd.endpoints, ['del', 'key-7']).status).toBe(0)
  }, 60_000)

  afterAll(async () => {
    await etcd?.stop()
    dir.remove()
  })

  it('backup run saves the stream with its sha256 trailer and the sidecar matches etcdctl snapshot status', () => {
    const result = quorum(['backup', 'run', '--endpoints', etcd.endpoints, '--dest', dir.path, '--name', 'etcd34', '--drill'])
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/backup ok: etcd34-\d{8}T\d{6}\.\d{3}Z\.db \d+ kB in [\d.]+ s \([\d.]+ [kM]?B\/s\), revision 52, \d+ keys, sha256 [0-9a-f]{64}\n {2}restore drill: pass\n/)
    const [entry] = listBackups(dir.path, 'etcd34')
    const bytes = readFileSync(entry!.path)
    expect(bytes.length % 512).toBe(32)
    expect(trailerMatches(bytes)).toBe(true)
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry!.metadata.sha256)
    const status = JSON.parse(etcdctl(etcd.endpoints, ['snapshot', 'status', entry!.path, '-w', 'json']).stdout) as { revision: number; totalKey: number }
    expect(entry!.metadata).toMatchObject({ format: 'etcd-bbolt', revision: status.revision, totalKey: status.totalKey, sourceRevision: 52, endpoints: [etcd.endpoints] })
    expect(entry!.metadata.memberId).toMatch(/^[0-9a-f]+$/)
    expect(entry!.metadata.liveKeys).toBe(49)
    expect(entry!.metadata.hashKV).toEqual(expect.any(Number)) // the restore drill matched etcd's own HashKV
  })

  it('backup run against a dead endpoint exits 1, records the failure with its reason, and leaves earlier backups alone', async () => {
    const before = readdirSync(dir.path).sort()
    const dead = `http://127.0.0.1:${await freePort()}`
    const result = quorum(['backup', 'run', '--endpoints', dead, '--dest', dir.path, '--name', 'etcd34'])
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/backup FAILED: BACKUP_SOURCE_FAILED: cannot reach http:\/\/127\.0\.0\.1:\d+: /)
    expect(readdirSync(dir.path).filter((name) => !name.startsWith(HISTORY_FILE)).sort()).toEqual(before.filter((name) => !name.startsWith(HISTORY_FILE)))
    const history = new BackupHistory(join(dir.path, HISTORY_FILE))
    try {
      expect(history.list('etcd34').map((run) => [run.status, run.drillResult])).toEqual([
        ['ok', 'pass'],
        ['failed', null],
      ])
    } finally {
      history.close()
    }
  })

  it('backup drill restores the newest backup (pass), and on a flipped byte fails with exit 1 and says why', () => {
    const ok = quorum(['backup', 'drill', '--dest', dir.path, '--name', 'etcd34'])
    expect(ok.stderr).toBe('')
    expect(ok.stdout).toMatch(/^restore drill of etcd34-.*\.db: pass \(revision 52, 49 live keys\)\n$/)
    const [entry] = listBackups(dir.path, 'etcd34')
    const original = readFileSync(entry!.path)
    const damaged = Buffer.from(original)
    damaged[4096 + 100] = damaged[4096 + 100]! ^ 0x10
    writeFileSync(entry!.path, damaged)
    try {
      const bad = quorum(['backup', 'drill', '--dest', dir.path, '--name', 'etcd34'])
      expect(bad.status).toBe(1)
      expect(bad.stderr).toMatch(/^restore drill of etcd34-.*\.db: FAIL: file sha256 [0-9a-f]{64} != [0-9a-f]{64} recorded at backup time\n$/)
    } finally {
      writeFileSync(entry!.path, original)
    }
    const again = quorum(['backup', 'drill', '--dest', dir.path, '--name', 'etcd34'])
    expect(again.status).toBe(0)
  })

  it('backup list -w json shows the complete backups with their drill verdicts', () => {
    const result = quorum(['backup', 'list', '--dest', dir.path, '-w', 'json'])
    expect(result.status).toBe(0)
    const rows = JSON.parse(result.stdout) as (BackupMetadata & { drillResult: string })[]
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ cluster: 'etcd34', drillResult: 'pass', format: 'etcd-bbolt' })
    expect(quorum(['backup', 'list', '--dest', dir.path]).stdout).toMatch(/\| etcd34-.*\| etcd-bbolt \| pass /)
  })
})

describe('backups of a local Quorum cluster (library)', () => {
  const dir = tempDir('quorum-backup-quorum-')
  let cluster: LocalCluster

  beforeAll(async () => {
    cluster = await LocalCluster.up({ dir: join(dir.path, 'cluster'), size: 1, quorumCommand: QUORUM_COMMAND, healthTimeoutMs: 60_000 })
  }, 90_000)

  afterAll(async () => {
    await cluster?.down({ remove: true })
    dir.remove()
  })

  it('a scheduled-service backup verifies the trailer, records a quorum-sqlite sidecar and passes the drill', async () => {
    const endpoints = cluster.endpoints().split(',')
    const client = new EtcdClient({ endpoints })
    const service = new BackupService({
      cluster: 'local',
      dest: join(dir.path, 'backups'),
      source: clientSnapshotSource(client, endpoints),
      clock: systemClock,
      retention: { keepLast: 2 },
      drill: true,
      restoreDrill: { quorumCommand: QUORUM_COMMAND, tmpDir: dir.path },
    })
    try {
      for (let i = 0; i < 100; i++) await client.kv.put(`k${i}`, `v${i}`)
      const result = await service.runOnce()
      expect(result.run.reason).toBeNull()
      expect(result.drill).toMatchObject({ passed: true, reason: null })
      expect(result.metadata).toMatchObject({ format: 'quorum-sqlite', cluster: 'local', liveKeys: 100 })
      expect(result.metadata!.hashKV).toEqual(expect.any(Number))
      expect(readdirSync(dir.path).filter((name) => name.startsWith('quorum-drill-'))).toEqual([])
      expect(result.metadata!.revision!).toBeGreaterThanOrEqual(result.metadata!.sourceRevision!)
      expect(result.metadata!.sourceRevision).toBeGreaterThanOrEqual(101)
      const bytes = readFileSync(join(dir.path, 'backups', result.metadata!.file))
      expect(trailerMatches(bytes)).toBe(true)
      expect(bytes.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0')
      // The same restore, compared with a sidecar that claims a different key space, must fail and say why.
      const wrong = { ...result.metadata!, liveKeys: 101, hashKV: (result.metadata!.hashKV! + 1) >>> 0 }
      const outcome = await restoreDrill(join(dir.path, 'backups', result.metadata!.file), wrong, { quorumCommand: QUORUM_COMMAND, tmpDir: dir.path })
      expect(outcome.passed).toBe(false)
      expect(outcome.reason).toBe(
        `restored live keys 100 != 101 at the source; restored HashKV ${result.metadata!.hashKV} != ${wrong.hashKV} at the source (revision ${result.metadata!.revision})`,
      )
    } finally {
      await service.close()
      client.close()
    }
  })
})

describe('quorum backup schedule (foreground, real etcd 3.4)', () => {
  const dir = tempDir('quorum-backup-schedule-cli-')
  let etcd: EtcdCluster

  beforeAll(async () => {
    etcd = await startEtcd({ size: 1 })
  }, 60_000)

  afterAll(async () => {
    await etcd?.stop()
    dir.remove()
  })

  it('takes a backup every second until SIGINT, exits 0 and keeps only --keep-last 2', async () => {
    const child = spawn(process.execPath, ['build/bin/quorum.mjs', 'backup', 'schedule', '--endpoints', etcd.endpoints, '--dest', dir.path,
      '--name', 'sched', '--every', '1s', '--keep-last', '2'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const deadline = Date.now() + 30_000
      while ((stdout.match(/backup ok/g) ?? []).length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
      child.kill('SIGINT')
      expect(await exited).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    expect(stderr).toBe('')
    const runs = (stdout.match(/backup ok/g) ?? []).length
    expect(runs).toBeGreaterThanOrEqual(3)
    expect(stdout).toMatch(/retention removed: sched-/)
    expect(stdout.endsWith('stopped\n')).toBe(true)
    expect(listBackups(dir.path, 'sched')).toHaveLength(2)
  })
})
