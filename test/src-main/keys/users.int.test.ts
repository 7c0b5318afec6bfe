import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient } from '../../../core/client'
import { LocalCluster } from '../../../core/cluster/launcher'
import { authAction, authOverview, permissionShape } from '../../../src-main/services/users'
import { etcdctl, startEtcd } from '../../support/etcd'
import { tempDir } from '../../support/temp-dir'

// The Users and roles page's services over etcd's Auth API, on a real etcd 3.4 and on a `quorum node` member.

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')

interface Server {
  endpoints: string
  stop(): Promise<void>
}

async function startQuorum(): Promise<Server> {
  const dir = tempDir('quorum-users-')
  const cluster = await LocalCluster.up({ dir: `${dir.path}/c`, size: 1, quorumCommand: { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] } })
  return {
    endpoints: cluster.manifest.members[0]!.clientURL,
    stop: async () => {
      await cluster.down()
      dir.remove()
    },
  }
}

describe.each([
  ['etcd 3.4', () => startEtcd({ size: 1 }) as Promise<Server>],
  ['quorum node', startQuorum],
])('users and roles on %s', (_engine, start) => {
  let etcd: Server
  let anonymous: EtcdClient
  let root: EtcdClient | undefined

  beforeAll(async () => {
    etcd = await start()
    anonymous = new EtcdClient({ endpoints: etcd.endpoints.split(','), callTimeoutMs: 10_000 })
  })
  afterAll(async () => {
    anonymous?.close()
    root?.close()
    await etcd?.stop()
  })

  it('classifies permission ranges as etcdctl grants them', () => {
    expect(permissionShape(Buffer.from('a'), Buffer.alloc(0))).toBe('key')
    expect(permissionShape(Buffer.from('app/'), Buffer.from('app0'))).toBe('prefix')
    expect(permissionShape(Buffer.from('a'), Buffer.from([0]))).toBe('fromKey')
    expect(permissionShape(Buffer.from('a'), Buffer.from('c'))).toBe('range')
  })

  it('manages users, roles and permissions; refuses to enable auth or demote itself in ways that lock it out', async () => {
    await authAction(anonymous, '', { kind: 'addUser', name: 'root', password: 'rootpw' })
    await authAction(anonymous, '', { kind: 'grantRole', user: 'root', role: 'root' })
    await authAction(anonymous, '', { kind: 'addRole', name: 'reader' })
    await authAction(anonymous, '', { kind: 'grantPermission', role: 'reader', permission: 'read', key: b64('app/'), shape: 'prefix' })
    await authAction(anonymous, '', { kind: 'grantPermission', role: 'reader', permission: 'readwrite', key: b64('one'), shape: 'key' })
    await authAction(anonymous, '', { kind: 'addUser', name: 'alice', password: 'alicepw' })
    const overview = await authAction(anonymous, '', { kind: 'grantRole', user: 'alice', role: 'reader' })
    expect(overview.enabled).toBe(false)
    expect(overview.users).toEqual([
      { name: 'alice', roles: ['reader'] },
      { name: 'root', roles: ['root'] },
    ])
    const reader = overview.roles.find((role) => role.name === 'reader')!
    expect(reader.permissions.map((p) => [p.kind, p.key.display, p.rangeEnd.display, p.shape])).toEqual([
      ['read', 'app/', 'app0', 'prefix'],
      ['readwrite', 'one', '', 'key'],
    ])
    // etcdctl sees the same role.
    expect(etcdctl(etcd.endpoints, ['role', 'get', 'reader']).stdout).toContain('[app/, app0) (prefix app/)')

    // An anonymous connection enabling auth would lock itself out.
    await expect(authAction(anonymous, '', { kind: 'enable' })).rejects.toMatchObject({ code: 'invalid_argument', message: expect.stringMatching(/lock this connection out/) })
    await expect(authAction(anonymous, 'alice', { kind: 'enable' })).rejects.toThrow(/lock this connection out/)
    expect((await authOverview(anonymous, '')).enabled).toBe(false)

    const signIn = () => new EtcdClient({ endpoints: etcd.endpoints.split(','), callTimeoutMs: 10_000, auth: { username: 'root', password: 'rootpw' } })
    // A client opened while auth was off holds no token; it signs in on its first call after the enable.
    root = signIn()
    expect((await authAction(root, 'root', { kind: 'enable' })).enabled).toBe(true)
    expect((await authOverview(root, 'root')).enabled).toBe(true)
    expect(etcdctl(etcd.endpoints, ['get', 'x']).status).not.toBe(0)
    await expect(authAction(root, 'root', { kind: 'deleteUser', name: 'root' })).rejects.toThrow(/lock this connection out/)
    await expect(authAction(root, 'root', { kind: 'revokeRole', user: 'root', role: 'root' })).rejects.toThrow(/lock this connection out/)
    const revoked = await authAction(root, 'root', { kind: 'revokePermission', role: 'reader', key: b64('one'), rangeEnd: '' })
    expect(revoked.roles.find((role) => role.name === 'reader')!.permissions).toHaveLength(1)
    await authAction(root, 'root', { kind: 'deleteUser', name: 'alice' })
    const disabled = await authAction(root, 'root', { kind: 'disable' })
    expect(disabled).toMatchObject({ enabled: false, connectedAs: 'root', users: [{ name: 'root', roles: ['root'] }] })
    expect(etcdctl(etcd.endpoints, ['get', 'x']).status).toBe(0)
  })
})
