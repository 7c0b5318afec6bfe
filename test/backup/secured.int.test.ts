// `quorum backup run|schedule` against secured real etcd 3.4 members: mTLS with --cacert --cert --key, and auth
// with --user NAME whose password comes from $QUORUM_PASSWORD (or a terminal prompt), never from the command
// line; the password appears in no output, sidecar or history file.
import { spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listBackups } from '../../core/backup/files'
import { LocalCluster } from '../../core/cluster/launcher'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'
import { tempDir } from '../support/temp-dir'

const PASSWORD = 'Pw-7f3a9c-never-logged'
/** Node's harmless warning when grpc-js connects over TLS to an IP address (toolchain notes, pitfall 11). */
const DEP0123 = /\(node:\d+\) \[DEP0123\].*\n\(Use `node --trace-deprecation.*\n/

function quorum(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, ['build/bin/quorum.mjs', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, QUORUM_PASSWORD: undefined, ETCDCTL_PASSWORD: undefined, ...env },
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Every file under `dir` (sidecars, backups, the SQLite history and its WAL) as latin1 text. */
function allBytes(dir: string): string {
  return readdirSync(dir).map((name) => readFileSync(join(dir, name)).toString('latin1')).join('\n')
}

describe('quorum backup against a TLS etcd 3.4 member (client-cert auth)', () => {
  const dir = tempDir('quorum-backup-tls-')
  let cluster: LocalCluster

  beforeAll(async () => {
    cluster = await LocalCluster.up({ dir: join(dir.path, 'c'), size: 1, engine: 'etcd', tls: true, healthTimeoutMs: 60_000 })
  }, 90_000)
  afterAll(async () => {
    await cluster?.down()
    dir.remove()
  })

  it('backup run with --cacert --cert --key saves a backup with a checked trailer and the member identity; without them it fails', () => {
    const tls = cluster.manifest.tls!
    const dest = join(dir.path, 'backups')
    const ok = quorum(['backup', 'run', '--endpoints', cluster.endpoints(), '--dest', dest, '--name', 'tls',
      '--cacert', tls.caFile, '--cert', tls.clientCertFile, '--key', tls.clientKeyFile])
    expect(ok.stderr.replace(DEP0123, '')).toBe('')
    expect(ok.status).toBe(0)
    expect(ok.stdout).toMatch(/backup ok: tls-.*, sha256 [0-9a-f]{64}\n$/)
    const [entry] = listBackups(dest, 'tls')
    expect(entry!.metadata).toMatchObject({ format: 'etcd-bbolt', endpoints: [cluster.endpoints()] })
    expect(entry!.metadata.memberId).toMatch(/^[0-9a-f]+$/) // Status over mTLS worked too

    const plain = quorum(['backup', 'run', '--endpoints', cluster.endpoints(), '--dest', dest, '--name', 'tls', '--cacert', tls.caFile])
    expect(plain.status).toBe(1)
    expect(plain.stderr).toContain('backup FAILED: BACKUP_SOURCE_FAILED')
    expect(listBackups(dest, 'tls')).toHaveLength(1)
  })
})

describe('quorum backup against an etcd 3.4 member with auth enabled (--user)', () => {
  const dir = tempDir('quorum-backup-auth-')
  const dest = join(dir.path, 'backups')
  let etcd: EtcdCluster

  beforeAll(async () => {
    etcd = await startEtcd({ size: 1 })
    expect(etcdctl(etcd.endpoints, ['put', 'k', 'v']).status).toBe(0)
    expect(etcdctl(etcd.endpoints, ['user', 'add', `root:${PASSWORD}`]).status).toBe(0)
    expect(etcdctl(etcd.endpoints, ['auth', 'enable']).status).toBe(0)
  }, 60_000)
  afterAll(async () => {
    await etcd?.stop()
    dir.remove()
  })

  it('backup run --user root takes the password from $QUORUM_PASSWORD; the drill signs in to the restored member as root (backup drill asks for it too)', () => {
    const result = quorum(['backup', 'run', '--endpoints', etcd.endpoints, '--dest', dest, '--name', 'auth', '--user', 'root', '--drill'], { QUORUM_PASSWORD: PASSWORD })
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/backup ok: auth-.*\n {2}restore drill: pass\n/)
    const drill = quorum(['backup', 'drill', '--dest', dest, '--name', 'auth', '--user', 'root'])
    expect([drill.status, drill.stderr]).toEqual([1, 'Error: no password for user root: set QUORUM_PASSWORD or run in a terminal to be asked\n'])
  })

  it('without a password and without a terminal it exits 1 saying where the password comes from, writing nothing', () => {
    const result = quorum(['backup', 'run', '--endpoints', etcd.endpoints, '--dest', join(dir.path, 'none'), '--user', 'root'])
    expect(result.status).toBe(1)
    expect(result.stderr).toBe('Error: no password for user root: set QUORUM_PASSWORD or run in a terminal to be asked\n')
    expect(() => readdirSync(join(dir.path, 'none'))).toThrow(/ENOENT/)
  })

  it('a wrong password is a failed run with etcd\'s reason; earlier backups stay', () => {
    const result = quorum(['backup', 'run', '--endpoints', etcd.endpoints, '--dest', dest, '--name', 'auth', '--user', 'root'], { QUORUM_PASSWORD: 'wrong' })
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/backup FAILED: .*authentication failed/)
    expect(listBackups(dest, 'auth')).toHaveLength(1)
  })

  it('backup schedule --user root backs up on start and stops on SIGINT; the password is in no output or file', async () => {
    const child = spawn(process.execPath, ['build/bin/quorum.mjs', 'backup', 'schedule', '--endpoints', etcd.endpoints, '--dest', dest,
      '--name', 'sched', '--every', '1h', '--keep-last', '5', '--user', 'root'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, QUORUM_PASSWORD: PASSWORD } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const deadline = Date.now() + 30_000
      while (!stdout.includes('backup ok') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
      child.kill('SIGINT')
      expect(await exited).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    expect(stderr).toBe('')
    expect(stdout).toContain('backup ok: sched-')
    expect(listBackups(dest, 'sched')).toHaveLength(1)
    expect(`${stdout}${stderr}${allBytes(dest)}`).not.toContain(PASSWORD)
  }, 60_000)
})
