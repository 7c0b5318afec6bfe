import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient } from '../../core/client'
import { execFile } from 'node:child_process'
import { startEtcd, type EtcdCluster } from '../support/etcd'
import { tempDir } from '../support/temp-dir'
import { FakeMember, openDb } from './fake-member'

// The auth differential test of issue 10: the same etcdctl 3.4 script against a real etcd 3.4.23 and against
// the Auth service + permission hooks (test/auth/fake-member.ts), comparing every command's output.

const ROOT = ['--user', 'root:rootpw']
const ALICE = ['--user', 'alice:alicepw']

/** The script: each step is etcdctl's arguments (and stdin, for prompts). */
const SCRIPT: string[][] = [
  ['user', 'add', 'root:rootpw'],
  ['role', 'add', 'ro'],
  ['role', 'add', 'ro'],
  ['role', 'grant-permission', 'ro', '--prefix=true', 'readwrite', 'p/'],
  ['role', 'grant-permission', 'ro', 'read', 'q'],
  ['role', 'grant-permission', 'ro', 'write', 'r', 's'],
  ['user', 'add', 'alice:alicepw'],
  ['user', 'add', 'alice:other'],
  ['user', 'grant-role', 'alice', 'ro'],
  ['user', 'grant-role', 'alice', 'nosuchrole'],
  ['auth', 'enable'],
  ['put', 'p/1', 'one', ...ALICE],
  ['get', 'p/1', ...ALICE],
  ['get', 'p/1', '--print-value-only', ...ALICE],
  ['put', 'q', 'x', ...ALICE],
  ['get', 'q', ...ALICE],
  ['get', 'z', ...ALICE],
  ['put', 'r1', 'w', ...ALICE],
  ['get', 'r1', ...ALICE],
  ['put', 'p/2', 'two', '--prev-kv', ...ALICE],
  ['get', 'p/1', '--user', 'alice:wrong'],
  ['get', 'p/1', '--user', 'nobody:pw'],
  ['get', 'p/1'],
  ['user', 'list', ...ALICE],
  ['role', 'add', 'evil', ...ALICE],
  ['auth', 'disable', ...ALICE],
  ['user', 'list', ...ROOT],
  ['role', 'list', ...ROOT],
  ['user', 'get', 'alice', ...ROOT],
  ['role', 'get', 'ro', ...ROOT],
  ['role', 'get', 'root', ...ROOT],
  ['user', 'delete', 'root', ...ROOT],
  ['user', 'revoke-role', 'root', 'root', ...ROOT],
  ['role', 'delete', 'root', ...ROOT],
  ['role', 'revoke-permission', 'ro', 'zzz', ...ROOT],
  ['role', 'revoke-permission', 'ro', 'q', ...ROOT],
  ['user', 'revoke-role', 'alice', 'ro', ...ROOT],
  ['user', 'revoke-role', 'alice', 'ro', ...ROOT],
  ['get', 'p/1', ...ALICE],
  ['put', 'p/1', 'root-write', ...ROOT],
  ['get', 'p/1', ...ROOT],
  ['auth', 'disable', ...ROOT],
  ['auth', 'disable'],
  ['get', 'p/1'],
  ['user', 'delete', 'alice'],
  ['user', 'delete', 'alice'],
  ['role', 'delete', 'ro'],
  ['user', 'get', 'alice'],
  ['user', 'delete', 'root'],
  ['role', 'delete', 'root'],
]

/**
 * etcdctl's output for one step, without clientv3's JSON retry-log lines (they carry timestamps). NB: async,
 * unlike test/support etcdctl(): the server under test runs in this process and must keep answering.
 */
function run(endpoint: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('etcdctl', ['--endpoints', endpoint, '--command-timeout=10s', ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 20_000 }, (error, stdout, stderr) => {
      const lines = `${stdout}${stderr}`.split('\n').filter((line) => line !== '' && !line.startsWith('{"level"'))
      const status = error ? (typeof error.code === 'number' ? error.code : String(error.code)) : 0
      resolve(`$ etcdctl ${args.join(' ')} (exit ${status})\n${lines.join('\n')}`)
    })
  })
}

async function runScript(endpoint: string): Promise<string[]> {
  const out: string[] = []
  for (const args of SCRIPT) out.push(await run(endpoint, args))
  return out
}

describe('auth differential: etcdctl 3.4 script, real etcd 3.4 vs Quorum auth', () => {
  let etcd: EtcdCluster
  let member: FakeMember
  const dir = tempDir('quorum-auth-diff-')

  beforeAll(async () => {
    member = new FakeMember(openDb(dir.path))
    ;[etcd] = await Promise.all([startEtcd({ size: 1 }), member.listen()])
  }, 60_000)

  afterAll(async () => {
    member?.close()
    await etcd?.stop()
    dir.remove()
  })

  it('every step prints the same output and exit status', async () => {
    const [expected, actual] = await Promise.all([runScript(etcd.endpoints), runScript(member.url)])
    expect(actual.join('\n')).toBe(expected.join('\n'))
    // The script must reach the interesting answers on the reference too (guards against a broken script).
    const transcript = expected.join('\n')
    for (const message of [
      'Authentication Enabled',
      'Error: etcdserver: permission denied',
      'Error: etcdserver: authentication failed, invalid user ID or password',
      'Error: etcdserver: user name is empty',
      'Error: etcdserver: invalid auth management',
      'Error: etcdserver: permission is not granted to the role',
      'Authentication Disabled',
    ]) {
      expect(transcript).toContain(message)
    }
  }, 60_000)

  it('the core/client auth namespace gets the same answers and errors from both', async () => {
    const answers = async (endpoint: string) => {
      const admin = new EtcdClient({ endpoints: [endpoint], callTimeoutMs: 5000 })
      const out: unknown[] = []
      const record = async (what: string, fn: () => Promise<unknown>) => {
        try {
          out.push([what, await fn()])
        } catch (error) {
          out.push([what, (error as { code?: string }).code, (error as Error).message])
        }
      }
      try {
        await record('status off', async () => (await admin.auth.status()).enabled)
        await record('enable without root', () => admin.auth.enable())
        await admin.auth.userAdd('root', 'pw')
        await record('enable, root lacks role', () => admin.auth.enable())
        await admin.auth.roleAdd('root')
        await admin.auth.userGrantRole('root', 'root')
        await admin.auth.enable()
        await record('status on', async () => (await admin.auth.status()).enabled)
        await record('range without token', () => admin.kv.get('a'))
        await record('authenticate bad password', () => admin.auth.authenticate('root', 'nope'))
        const { token } = await admin.auth.authenticate('root', 'pw')
        const withToken = (t: string) => ({ metadata: { token: t } })
        await record('role add with token', async () => (await admin.auth.roleAdd('r1', withToken(token))).header !== undefined)
        await record('user add with token', async () => (await admin.auth.userAdd('u1', 'old', {}, withToken(token))).header !== undefined)
        await record('garbage token', () => admin.auth.roleList(withToken('garbage.1')))
        await record('roles', () => admin.auth.roleList(withToken(token)))
        const { token: userToken } = await admin.auth.authenticate('u1', 'old')
        await record('user token works', async () => (await admin.kv.range('a', {}, withToken(userToken))).kvs.length)
        await admin.auth.userChangePassword('u1', 'new', withToken(token))
        await record('token after password change', () => admin.kv.get('a', {}, withToken(userToken)))
        await record('user get', async () => (await admin.auth.userGet('root', withToken(token))).roles)
        await admin.auth.disable(withToken(token))
      } finally {
        admin.close()
      }
      return out
    }
    const fresh = new FakeMember(openDb(`${dir.path}/client`))
    try {
      await fresh.listen()
      const reference = await answers(etcd.endpoints)
      expect(await answers(fresh.url)).toEqual(reference)
    } finally {
      fresh.close()
    }
  }, 60_000)
})
