import { describe, expect, test } from 'vitest'
import { EtcdError } from '../../core/client'
import { expectEtcdError } from './expect-etcd-error'
import { useEtcd } from './etcd-fixture'

// Leases against a real etcd 3.4 (one member).
const fixture = useEtcd({ size: 1 })

describe('Lease against etcd 3.4', () => {
  test('grant, attach a key, timeToLive with keys, list, keepAliveOnce, revoke deletes the key', async () => {
    const lease = await fixture.client.lease.grant(30)
    expect(lease.id).toBeGreaterThan(0n)
    expect(lease.ttl).toBe(30)
    await fixture.client.kv.put('l/k', 'v', { lease: lease.id })
    expect((await fixture.client.kv.range('l/k')).kvs[0].lease).toBe(lease.id)
    const info = await fixture.client.lease.timeToLive(lease.id, { keys: true })
    expect(info).toMatchObject({ id: lease.id, grantedTtl: 30 })
    expect(info.ttl).toBeGreaterThan(0)
    expect(info.ttl).toBeLessThanOrEqual(30)
    expect(info.keys.map((key) => key.toString())).toEqual(['l/k'])
    expect(await fixture.client.lease.leases()).toContain(lease.id)
    const renewed = await fixture.client.lease.keepAliveOnce(lease.id)
    expect(renewed).toMatchObject({ id: lease.id, ttl: 30 })
    await fixture.client.lease.revoke(lease.id)
    expect(await fixture.client.kv.get('l/k')).toBeNull()
    expect((await fixture.client.lease.timeToLive(lease.id)).ttl).toBe(-1)
    // etcd compat: a keepalive for a missing lease is answered with TTL 0, which the client reports as
    // LEASE_NOT_FOUND (as clientv3 does); the server sends no error status here.
    await expect(fixture.client.lease.keepAliveOnce(lease.id)).rejects.toMatchObject({ code: 'LEASE_NOT_FOUND' })
    await expectEtcdError(fixture.client.lease.revoke(lease.id), 'LEASE_NOT_FOUND')
  })

  test('an explicit ID is kept; granting it twice is LEASE_EXIST; a tiny TTL is raised to the minimum', async () => {
    const id = 0x7a11_0000_0000_0001n
    const lease = await fixture.client.lease.grant(1, { id })
    expect(lease.id).toBe(id)
    // etcd compat: TTLs below ⌈1.5 × election timeout⌉ (2 s with a 1 s election timeout) are raised to it.
    expect(lease.ttl).toBeGreaterThanOrEqual(1)
    await expectEtcdError(fixture.client.lease.grant(10, { id }), 'LEASE_EXIST')
    await fixture.client.lease.revoke(id)
  })

  test('keepAlive keeps a 2 s lease alive past its TTL, and reports it lost once revoked', async () => {
    const lease = await fixture.client.lease.grant(2)
    await fixture.client.kv.put('l/kept', 'v', { lease: lease.id })
    const keeper = fixture.client.lease.keepAlive(lease.id, lease.ttl)
    let keepalives = 0
    keeper.on('keepalive', (result) => {
      expect(result.id).toBe(lease.id)
      keepalives++
    })
    await new Promise((resolve) => setTimeout(resolve, 3_000))
    expect(keepalives).toBeGreaterThanOrEqual(2)
    expect(await fixture.client.kv.get('l/kept').then((v) => v?.toString())).toBe('v')
    const lost = new Promise<Error>((resolve) => keeper.once('lost', resolve))
    await fixture.client.lease.revoke(lease.id)
    const reason = await lost
    expect(reason).toBeInstanceOf(EtcdError)
    expect(reason).toMatchObject({ code: 'LEASE_NOT_FOUND' })
    expect(keeper.stopped).toBe(true)
  })

  test('keepAlive reconnects after the member is killed and restarted, and the lease survives', async () => {
    const lease = await fixture.client.lease.grant(10)
    const keeper = fixture.client.lease.keepAlive(lease.id, lease.ttl)
    await new Promise<void>((resolve) => keeper.once('keepalive', () => resolve()))
    const member = fixture.etcd.members[0].process!
    const exited = new Promise((resolve) => member.once('exit', resolve))
    fixture.etcd.kill(0)
    await exited
    await fixture.etcd.restart(0)
    // Registered after the restart, so this answer came over a new stream.
    const renewed = await new Promise<number>((resolve) => keeper.once('keepalive', (result) => resolve(result.ttl)))
    expect(renewed).toBe(10)
    expect(keeper.stopped).toBe(false)
    expect((await fixture.client.lease.timeToLive(lease.id)).ttl).toBeGreaterThan(0)
    keeper.close()
    await fixture.client.lease.revoke(lease.id)
  })

  test('a closed keeper lets its lease expire', async () => {
    const lease = await fixture.client.lease.grant(2)
    const keeper = fixture.client.lease.keepAlive(lease.id, lease.ttl)
    await new Promise<void>((resolve) => keeper.once('keepalive', () => resolve()))
    keeper.close()
    const deadline = Date.now() + 10_000
    let ttl = 0
    do {
      await new Promise((resolve) => setTimeout(resolve, 250))
      ttl = (await fixture.client.lease.timeToLive(lease.id)).ttl
    } while (ttl !== -1 && Date.now() < deadline)
    expect(ttl).toBe(-1)
  })
})
