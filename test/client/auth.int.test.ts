import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { EtcdClient } from '../../core/client'
import { startEtcd, type EtcdCluster } from '../support/etcd'
import { expectEtcdError } from './expect-etcd-error'

// Auth against a real etcd 3.4 with simple tokens that expire after 2 s of disuse, so token refresh is real.
let etcd: EtcdCluster
let admin: EtcdClient
let endpoint: string
let early: EtcdClient
const clients: EtcdClient[] = []

function connect(auth?: { username: string; password: string }, metadata?: Record<string, string>): EtcdClient {
  const client = new EtcdClient({ endpoints: [endpoint], auth, metadata })
  clients.push(client)
  return client
}

beforeAll(async () => {
  etcd = await startEtcd({ size: 1, extraArgs: ['--auth-token', 'simple', '--auth-token-ttl', '2'] })
  endpoint = etcd.members[0].clientUrl
  admin = connect()
  // Before auth is on: the management API works without credentials.
  await expectEtcdError(admin.auth.enable(), 'ROOT_USER_NOT_EXIST')
  await admin.auth.userAdd('root', 'rootpw')
  await expectEtcdError(admin.auth.enable(), 'ROOT_ROLE_NOT_EXIST')
  await admin.auth.roleAdd('root')
  await admin.auth.userGrantRole('root', 'root')
  await admin.auth.roleAdd('reader')
  await admin.auth.roleGrantPermission('reader', 'read', 'pub/', { prefix: true })
  await admin.auth.userAdd('alice', 'alicepw')
  await admin.auth.userGrantRole('alice', 'reader')
  // A client with credentials that connects while auth is still off works without a token.
  early = connect({ username: 'root', password: 'rootpw' })
  await early.kv.put('pub/early', 'before')
  expect(await early.transport.getToken()).toBe('')
  await admin.auth.enable()
})

afterAll(async () => {
  for (const client of clients) client.close()
  await etcd?.stop()
})

describe('Auth against etcd 3.4', () => {
  test('without a token a request is refused with USER_EMPTY, with a garbage token INVALID_AUTH_TOKEN', async () => {
    await expectEtcdError(admin.kv.get('pub/x'), 'USER_EMPTY')
    await expectEtcdError(connect(undefined, { token: 'garbage' }).kv.get('pub/x'), 'INVALID_AUTH_TOKEN')
  })

  test('a client that connected before auth was enabled signs in on "user name is empty" (clientv3 shouldRefreshToken)', async () => {
    expect((await early.kv.get('pub/early'))?.toString()).toBe('before')
    expect(await early.transport.getToken()).not.toBe('')
  })

  test('a bad password is AUTH_FAILED', async () => {
    await expectEtcdError(connect({ username: 'root', password: 'wrong' }).kv.get('pub/x'), 'AUTH_FAILED')
    await expectEtcdError(admin.auth.authenticate('nobody', 'x'), 'AUTH_FAILED')
  })

  test('the token expires after 2 s idle and the client refreshes it transparently', async () => {
    const root = connect({ username: 'root', password: 'rootpw' })
    await root.kv.put('pub/x', 'hello')
    const firstToken = await root.transport.getToken()
    expect(firstToken).not.toBe('')
    // The server forgets the token after 2 s without use (checked once a second).
    await new Promise((resolve) => setTimeout(resolve, 3_500))
    await expectEtcdError(connect(undefined, { token: firstToken }).kv.get('pub/x'), 'INVALID_AUTH_TOKEN')
    expect((await root.kv.get('pub/x'))?.toString()).toBe('hello')
    expect(await root.transport.getToken()).not.toBe(firstToken)
    // Streams carry the token too.
    const watcher = await root.watch('pub/', { prefix: true })
    const event = new Promise<string>((resolve) => watcher.once('events', (b) => resolve(b.events[0].kv.key.toString())))
    await root.kv.put('pub/y', '1')
    expect(await event).toBe('pub/y')
    await watcher.cancel()
  })

  test('permissions: a reader may read its prefix only; management needs root', async () => {
    const alice = connect({ username: 'alice', password: 'alicepw' })
    await connect({ username: 'root', password: 'rootpw' }).kv.put('pub/a', '1')
    expect((await alice.kv.range('pub/', { prefix: true })).count).toBeGreaterThanOrEqual(1)
    await expectEtcdError(alice.kv.put('pub/a', '2'), 'PERMISSION_DENIED')
    await expectEtcdError(alice.kv.get('secret'), 'PERMISSION_DENIED')
    await expectEtcdError(alice.auth.userList(), 'PERMISSION_DENIED')
    // A watch outside the grant is refused when created.
    await expect(alice.watch('secret')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' })
  })

  test('users, roles and permissions round-trip through the management API', async () => {
    const root = connect({ username: 'root', password: 'rootpw' })
    const status = await root.auth.status()
    expect(status.enabled).toBe(true)
    // etcd 3.4 has no AuthStatus RPC; the client falls back and cannot know the revision.
    expect(status.authRevision).toBeNull()
    expect((await root.auth.userList()).sort()).toEqual(['alice', 'root'])
    expect((await root.auth.roleList()).sort()).toEqual(['reader', 'root'])
    expect((await root.auth.userGet('alice')).roles).toEqual(['reader'])
    const { permissions } = await root.auth.roleGet('reader')
    expect(permissions).toEqual([{ kind: 'read', key: Buffer.from('pub/'), rangeEnd: Buffer.from('pub0') }])
    await root.auth.roleAdd('writer')
    await root.auth.roleGrantPermission('writer', 'readwrite', Buffer.from([0x00, 0xff]))
    expect((await root.auth.roleGet('writer')).permissions).toEqual([
      { kind: 'readwrite', key: Buffer.from([0x00, 0xff]), rangeEnd: Buffer.alloc(0) },
    ])
    await root.auth.roleRevokePermission('writer', Buffer.from([0x00, 0xff]))
    expect((await root.auth.roleGet('writer')).permissions).toEqual([])
    await expectEtcdError(root.auth.roleRevokePermission('writer', 'nothing'), 'PERMISSION_NOT_GRANTED')
    await root.auth.userAdd('bob', 'bobpw')
    await expectEtcdError(root.auth.userAdd('bob', 'x'), 'USER_ALREADY_EXIST')
    await expectEtcdError(root.auth.roleAdd('writer'), 'ROLE_ALREADY_EXIST')
    await root.auth.userGrantRole('bob', 'writer')
    await root.auth.userRevokeRole('bob', 'writer')
    await expectEtcdError(root.auth.userRevokeRole('bob', 'writer'), 'ROLE_NOT_GRANTED')
    await root.auth.userChangePassword('bob', 'newpw')
    await expectEtcdError(connect({ username: 'bob', password: 'bobpw' }).kv.get('pub/a'), 'AUTH_FAILED')
    await root.auth.userDelete('bob')
    await root.auth.roleDelete('writer')
    await expectEtcdError(root.auth.userGet('bob'), 'USER_NOT_FOUND')
    await expectEtcdError(root.auth.roleGet('writer'), 'ROLE_NOT_FOUND')
    await expectEtcdError(root.auth.userRevokeRole('root', 'root'), 'INVALID_AUTH_MGMT')
  })

  test('disabling auth lets anonymous clients in again; a configured client keeps working without a token', async () => {
    const root = connect({ username: 'root', password: 'rootpw' })
    await root.auth.disable()
    expect((await admin.auth.status()).enabled).toBe(false)
    expect((await admin.kv.get('pub/a'))?.toString()).toBe('1')
    // A new client with credentials against a server without auth goes on without a token.
    const late = connect({ username: 'root', password: 'rootpw' })
    expect((await late.kv.get('pub/a'))?.toString()).toBe('1')
    expect(await late.transport.getToken()).toBe('')
    await expectEtcdError(admin.auth.authenticate('root', 'rootpw'), 'AUTH_NOT_ENABLED')
    const closed = connect()
    closed.close()
    await expect(closed.kv.get('x')).rejects.toMatchObject({ code: 'CLIENT_CLOSED' })
  })
})
