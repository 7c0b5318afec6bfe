import { Etcd3, type IKeyValue } from 'etcd3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestCluster, type TestCluster } from '../e2e/etcdctl/clusters'

// Issue 6: the npm `etcd3` client (1.1.2) works unchanged against a 3-member Quorum cluster: KV, watch, lease,
// and its STM and lock helpers (which build on Txn compares and leases).

let target: TestCluster
let etcd: Etcd3

beforeAll(async () => {
  target = await startTestCluster('quorum', { size: 3 })
  etcd = new Etcd3({ hosts: target.endpoints.split(',') })
}, 90_000)
afterAll(async () => {
  etcd?.close()
  await target?.stop()
})

describe('the etcd3 npm client against Quorum', () => {
  it('KV: put, get, prefix get, delete with previous values, txn-style if/else', async () => {
    await etcd.put('e3/a').value('1')
    await etcd.put('e3/b').value('2')
    expect(await etcd.get('e3/a').string()).toBe('1')
    expect(await etcd.getAll().prefix('e3/').strings()).toEqual({ 'e3/a': '1', 'e3/b': '2' })
    expect(await etcd.getAll().prefix('e3/').count()).toBe(2)
    const deleted = await etcd.delete().key('e3/b').getPrevious()
    expect(deleted.map((kv: IKeyValue) => kv.value.toString())).toEqual(['2'])
    const result = await etcd.if('e3/a', 'Value', '==', '1').then(etcd.put('e3/a').value('one')).else(etcd.get('e3/a')).commit()
    expect(result.succeeded).toBe(true)
    expect(await etcd.get('e3/a').string()).toBe('one')
  })

  it('watch: a prefix watcher gets puts and deletes in order', async () => {
    const watcher = await etcd.watch().prefix('e3w/').create()
    const seen: string[] = []
    watcher.on('put', (kv) => seen.push(`put ${kv.key.toString()}=${kv.value.toString()}`))
    watcher.on('delete', (kv) => seen.push(`delete ${kv.key.toString()}`))
    await etcd.put('e3w/x').value('1')
    await etcd.put('e3w/x').value('2')
    await etcd.delete().key('e3w/x')
    await expect.poll(() => seen, { timeout: 10_000 }).toEqual(['put e3w/x=1', 'put e3w/x=2', 'delete e3w/x'])
    await watcher.cancel()
  })

  it('lease: keys attached to a lease vanish when it is revoked; keep-alive renews it', async () => {
    const lease = etcd.lease(30)
    await lease.put('e3l/k').value('v')
    expect(await etcd.get('e3l/k').string()).toBe('v')
    const renewed = await lease.keepaliveOnce()
    expect(Number(renewed.TTL)).toBe(30)
    expect(await etcd.get('e3l/k').string()).toBe('v')
    await lease.revoke()
    expect(await etcd.get('e3l/k').string()).toBeNull()
  })

  it('STM: concurrent read-modify-write transactions on one counter lose no increment', async () => {
    await etcd.put('e3s/counter').value('0')
    const increment = () =>
      etcd.stm({ retries: 50 }).transact(async (tx) => {
        const current = Number(await tx.get('e3s/counter').string())
        await tx.put('e3s/counter').value(String(current + 1))
      })
    await Promise.all(Array.from({ length: 10 }, increment))
    expect(await etcd.get('e3s/counter').string()).toBe('10')
  })

  it('lock: a held lock refuses a second holder until it is released (etcd3 locks do not queue)', async () => {
    const first = etcd.lock('e3k/lock').ttl(10)
    await first.acquire()
    await expect(etcd.lock('e3k/lock').ttl(10).acquire()).rejects.toThrow(/Failed to acquire a lock/)
    await first.release()
    expect(await etcd.getAll().prefix('e3k/lock').count()).toBe(0)
    const seen = await etcd.lock('e3k/lock').ttl(10).do(async () => etcd.getAll().prefix('e3k/lock').count())
    expect(seen).toBe(1)
  })
})
