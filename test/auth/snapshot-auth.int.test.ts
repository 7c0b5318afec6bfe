import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient } from '../../core/client'
import { MemberMetaAuthBackend } from '../../core/auth/member-meta-backend'
import { openEtcdSnapshot } from '../../core/snapshot/etcd-snapshot'
import { authStateFromEtcd, restoreSnapshot } from '../../core/snapshot/restore'
import { MemberDb } from '../../core/storage/member-db'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'
import { freePorts } from '../support/ports'
import { tempDir } from '../support/temp-dir'

// etcdutl/etcdctl `snapshot restore` keeps the auth buckets: users (with their bcrypt hashes), roles, permissions
// and the enabled flag. `quorum snapshot restore` must do the same for a real etcd 3.4 snapshot and for a Quorum
// one, and a `quorum node` started on the restored data enforces them at once.

const ROOT = ['--user', 'root:rootpw']
const ALICE = ['--user', 'alice:alicepw']

function quorum(args: string[]) {
  const result = spawnSync(process.execPath, ['build/bin/quorum.mjs', ...args], { encoding: 'utf8', timeout: 120_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** etcdctl's combined output without clientv3's JSON retry-log lines, prefixed with the exit status. */
function ctl(endpoint: string, args: string[]): string {
  const result = etcdctl(endpoint, args)
  const lines = `${result.stdout}${result.stderr}`.split('\n').filter((line) => line !== '' && !line.startsWith('{"level"'))
  return `${result.status}: ${lines.join('\n')}`
}

describe('snapshot save/restore keeps users, roles and the auth flag', () => {
  const dir = tempDir('quorum-auth-snapshot-')
  const children: ChildProcess[] = []
  let etcd: EtcdCluster
  let endpoint: string

  /** Restores `file` into a fresh single-member data dir; starts `quorum node` on it when `start`. */
  async function restore(file: string, name: string, start: boolean): Promise<{ dataDir: string; client: string }> {
    const [clientPort, peerPort] = await freePorts(2)
    const peer = `http://127.0.0.1:${peerPort}`
    const client = `http://127.0.0.1:${clientPort}`
    const dataDir = join(dir.path, name)
    // In-process (the CLI wrapper is tested in test/snapshot); saves a process start per restore.
    restoreSnapshot({ file, name, initialCluster: `${name}=${peer}`, initialClusterToken: 'etcd-cluster', initialAdvertisePeerUrls: [peer], dataDir })
    if (start) {
      children.push(
        spawn(process.execPath, ['build/bin/quorum.mjs', 'node', '--name', name, '--data-dir', dataDir, '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
          '--listen-client-urls', client, '--advertise-client-urls', client, '--initial-cluster', `${name}=${peer}`, '--auth-token', jwtSpec], { stdio: 'ignore' }),
      )
    }
    return { dataDir, client }
  }

  let jwtSpec = ''

  beforeAll(async () => {
    // The restored member signs JWTs (--auth-token jwt, as etcd's), so this also runs the jwt provider end to end.
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    writeFileSync(join(dir.path, 'jwt.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }))
    writeFileSync(join(dir.path, 'jwt.pub'), publicKey.export({ type: 'spki', format: 'pem' }))
    jwtSpec = `jwt,pub-key=${join(dir.path, 'jwt.pub')},priv-key=${join(dir.path, 'jwt.key')},sign-method=ES256,ttl=5m`
    // etcd's minimum bcrypt cost: the restored hashes keep it, so every login of the test stays cheap.
    etcd = await startEtcd({ size: 1, extraArgs: ['--bcrypt-cost', '4'] })
    for (const args of [
      ['user', 'add', 'root:rootpw'],
      ['user', 'grant-role', 'root', 'root'],
      ['role', 'add', 'ro'],
      ['role', 'grant-permission', 'ro', '--prefix=true', 'read', 'p/'],
      ['user', 'add', 'alice:alicepw'],
      ['user', 'grant-role', 'alice', 'ro'],
      ['put', 'p/1', 'one'],
      ['put', 'secret', 's'],
      ['auth', 'enable'],
    ]) {
      expect(etcdctl(etcd.endpoints, args).status, args.join(' ')).toBe(0)
    }
    expect(etcdctl(etcd.endpoints, ['snapshot', 'save', join(dir.path, 'etcd.snap'), ...ROOT]).status).toBe(0)
    ;({ client: endpoint } = await restore(join(dir.path, 'etcd.snap'), 'fromEtcd', true))
    const deadline = Date.now() + 60_000
    while (!ctl(endpoint, ['get', 'p/1', ...ALICE]).startsWith('0:') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 250))
  }, 120_000)

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    await etcd?.stop()
    dir.remove()
  })

  it('a real etcd 3.4 snapshot restored into quorum node: same users, passwords, permissions, auth on', () => {
    expect(ctl(endpoint, ['get', 'p/1', ...ALICE])).toBe('0: p/1\none')
    expect(ctl(endpoint, ['get', 'secret', ...ALICE])).toBe('1: Error: etcdserver: permission denied')
    expect(ctl(endpoint, ['get', 'p/1'])).toBe('1: Error: etcdserver: user name is empty')
    expect(ctl(endpoint, ['get', 'p/1', '--user', 'alice:wrong'])).toBe(ctl(etcd.endpoints, ['get', 'p/1', '--user', 'alice:wrong']))
    expect(ctl(endpoint, ['get', 'p/1', '--user', 'alice:wrong'])).toContain('Error: etcdserver: authentication failed, invalid user ID or password')
    expect(ctl(endpoint, ['user', 'list', ...ROOT])).toBe('0: alice\nroot')
    expect(ctl(endpoint, ['role', 'get', 'ro', ...ROOT])).toBe(ctl(etcd.endpoints, ['role', 'get', 'ro', ...ROOT]))
    expect(ctl(endpoint, ['user', 'get', 'alice', ...ROOT])).toBe(ctl(etcd.endpoints, ['user', 'get', 'alice', ...ROOT]))
  })

  it('tokens are ES256 JWTs with etcd\'s claims; a forged or unsigned one is an invalid auth token', async () => {
    const client = new EtcdClient({ endpoints: [endpoint], callTimeoutMs: 5000 })
    try {
      const { token } = await client.auth.authenticate('alice', 'alicepw')
      const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>)
      expect(header).toMatchObject({ alg: 'ES256' })
      expect(payload).toMatchObject({ username: 'alice', revision: expect.any(Number), exp: expect.any(Number) })
      expect((await client.kv.range('p/1', {}, { metadata: { token } })).kvs.map((kv) => kv.value.toString())).toEqual(['one'])
      const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${token.split('.')[1]}.`
      const forged = `${token.split('.').slice(0, 2).join('.')}.${Buffer.alloc(64, 1).toString('base64url')}`
      for (const bad of [unsigned, forged]) {
        await expect(client.kv.range('p/1', {}, { metadata: { token: bad } })).rejects.toThrow('etcdserver: invalid auth token')
      }
    } finally {
      client.close()
    }
  })

  it('quorum snapshot save as root, then restore: the auth state is the same, hashes included', async () => {
    const file = join(dir.path, 'quorum.snap')
    const saved = quorum(['snapshot', 'save', file, '--endpoints', endpoint, '--user', 'root:rootpw'])
    expect(saved.status, saved.stderr).toBe(0)
    // Without the root role, the database cannot be copied (etcd authMaintenanceServer.Snapshot).
    expect(ctl(endpoint, ['snapshot', 'save', join(dir.path, 'alice.snap'), ...ALICE])).toContain('auth: permission denied')
    const { dataDir } = await restore(file, 'fromQuorum', false)
    const read = (path: string) => {
      const db = MemberDb.open({ dataDir: path })
      try {
        return new MemberMetaAuthBackend(db).load()
      } finally {
        db.close()
      }
    }
    const restored = read(dataDir)
    expect(restored?.enabled).toBe(true)
    expect(restored?.users.map((u) => [u.name, u.roles])).toEqual([['alice', ['ro']], ['root', ['root']]])
    expect(restored?.users.every((u) => u.passwordHash.startsWith('$2'))).toBe(true)
    // The same state etcd's buckets hold (bcrypt hashes byte for byte), at least at etcd's auth revision.
    const etcdSnapshot = openEtcdSnapshot(join(dir.path, 'etcd.snap'), { hashCheck: 'require' })
    try {
      const fromEtcd = authStateFromEtcd(etcdSnapshot.auth())!
      expect({ ...restored, revision: 0 }).toEqual({ ...fromEtcd, revision: 0 })
      expect(restored!.revision).toBeGreaterThanOrEqual(fromEtcd.revision)
    } finally {
      etcdSnapshot.close()
    }
  })
})
