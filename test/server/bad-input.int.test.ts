import * as grpc from '@grpc/grpc-js'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient, GrpcError } from '../../core/client'
import { serviceDefinition } from '../../core/proto/services'
import { expectEtcdError } from '../client/expect-etcd-error'
import { startTestCluster, type TestCluster } from '../e2e/etcdctl/clusters'

// Bad input against a running Quorum cluster (issue 6; answers as measured on etcd 3.4.23 in
// notes/reliability-methods.md §7): each request gets etcd's gRPC code and message, and the member keeps serving.

let target: TestCluster
let client: EtcdClient

/** The member still serves a linearizable write and read after the abuse. */
async function expectServing(key: string): Promise<void> {
  await client.kv.put(key, 'alive')
  expect((await client.kv.get(key))?.toString()).toBe('alive')
}

/** Writes raw bytes to host:port and waits until the server closes the connection (or 2 s pass). */
function sendGarbage(url: string, bytes: Buffer): Promise<void> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes))
    const done = () => {
      socket.destroy()
      resolve()
    }
    socket.on('error', done)
    socket.on('close', done)
    socket.resume()
    setTimeout(done, 2000).unref()
  })
}

beforeAll(async () => {
  target = await startTestCluster('quorum', { size: 3 })
  client = new EtcdClient({ endpoints: target.endpoints.split(',') })
}, 90_000)
afterAll(async () => {
  client?.close()
  await target?.stop()
})

describe('Quorum answers bad input as etcd 3.4 does and keeps serving', () => {
  it('empty key is INVALID_ARGUMENT "key is not provided" for range, put and delete', async () => {
    await expectEtcdError(client.kv.range(''), 'EMPTY_KEY')
    await expectEtcdError(client.kv.put('', 'v'), 'EMPTY_KEY')
    await expectEtcdError(client.kv.delete(''), 'EMPTY_KEY')
    await expectServing('bad/empty')
  })

  it('range_end < key gives an empty result; a negative limit means no limit', async () => {
    for (const key of ['bad/l1', 'bad/l2', 'bad/l3']) await client.kv.put(key, 'v')
    const backwards = await client.kv.range('bad/z', { rangeEnd: 'bad/a' })
    expect(backwards.kvs).toEqual([])
    expect(backwards.count).toBe(0)
    const negative = await client.kv.range('bad/l', { prefix: true, limit: -1 })
    expect(negative.kvs.map((kv) => kv.key.toString())).toEqual(['bad/l1', 'bad/l2', 'bad/l3'])
    expect(negative.more).toBe(false)
    const limited = await client.kv.range('bad/l', { prefix: true, limit: 2 })
    expect({ n: limited.kvs.length, more: limited.more, count: limited.count }).toEqual({ n: 2, more: true, count: 3 })
  })

  it('an unknown lease is NOT_FOUND "requested lease not found" on put and revoke', async () => {
    await expectEtcdError(client.kv.put('bad/lease', 'v', { lease: 0x1234n }), 'LEASE_NOT_FOUND')
    await expectEtcdError(client.lease.revoke(0x1234n), 'LEASE_NOT_FOUND')
    await expectServing('bad/lease-ok')
  })

  it('a txn with 129 ops (--max-txn-ops 128) or a duplicate put key is refused with etcd text', async () => {
    const ops = Array.from({ length: 129 }, (_, i) => ({ type: 'put' as const, key: `bad/t${i}`, value: 'v' }))
    await expectEtcdError(client.kv.txn({ success: ops }), 'TOO_MANY_OPS')
    const duplicate = [{ type: 'put' as const, key: 'bad/d', value: '1' }, { type: 'put' as const, key: 'bad/d', value: '2' }]
    await expectEtcdError(client.kv.txn({ success: duplicate }), 'DUPLICATE_KEY')
    await client.kv.txn({ success: ops.slice(0, 128) })
    expect((await client.kv.range('bad/t', { prefix: true, countOnly: true })).count).toBe(128)
  })

  it('over --max-request-bytes is "request is too large"; over the limit + 512 KiB gRPC RESOURCE_EXHAUSTED', async () => {
    await client.kv.put('bad/big', Buffer.alloc(1.4 * 1024 * 1024, 1))
    await expectEtcdError(client.kv.put('bad/big', Buffer.alloc(1.6 * 1024 * 1024, 1)), 'REQUEST_TOO_LARGE')
    const tooBig = await client.kv.put('bad/big', Buffer.alloc(2.1 * 1024 * 1024, 1)).catch((error: unknown) => error)
    expect(tooBig).toBeInstanceOf(GrpcError)
    expect(tooBig).toMatchObject({ code: 'RESOURCE_EXHAUSTED' })
    expect((tooBig as GrpcError).details).toMatch(/received message larger than max \(2202\d{3} vs\.? 2097152\)/i)
    await expectServing('bad/big-ok')
  })

  it('garbage bytes on the client and peer ports are dropped; no term change, members keep serving', async () => {
    const before = await client.maintenance.status()
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))
    const preface = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), garbage])
    for (const member of target.cluster.manifest.members) {
      await sendGarbage(member.clientURL, garbage)
      await sendGarbage(member.clientURL, preface)
      await sendGarbage(member.peerURL, garbage)
      await sendGarbage(member.peerURL, preface)
    }
    await expectServing('bad/garbage')
    const after = await client.maintenance.status()
    expect(after.raftTerm).toBe(before.raftTerm)
    expect(after.leader).toBe(before.leader)
    const health = await target.cluster.health()
    expect(health.map((m) => m.healthy)).toEqual([true, true, true])
  })

  it('one client opening 1,000 watch streams gets every one created and notified', async () => {
    const Watch = grpc.makeClientConstructor(serviceDefinition('etcdserverpb.Watch') as never, 'Watch')
    const first = target.cluster.manifest.members[0].clientURL
    const raw = new Watch(new URL(first).host, grpc.credentials.createInsecure()) as unknown as { Watch(): grpc.ClientDuplexStream<unknown, { created: boolean; events: unknown[] }> } & grpc.Client
    const streams: Array<grpc.ClientDuplexStream<unknown, { created: boolean; events: unknown[] }>> = []
    let created = 0
    let notified = 0
    try {
      for (let i = 0; i < 1000; i++) {
        const stream = raw.Watch()
        stream.on('data', (response) => {
          if (response.created) created++
          if (response.events.length > 0) notified++
        })
        stream.on('error', () => undefined)
        stream.write({ create_request: { key: Buffer.from('bad/watched'), range_end: Buffer.alloc(0), start_revision: '0', filters: [], prev_kv: false, progress_notify: false, watch_id: '0', fragment: false }, request_union: 'create_request' })
        streams.push(stream)
      }
      await expect.poll(() => created, { timeout: 60_000, interval: 200 }).toBe(1000)
      await client.kv.put('bad/watched', 'x')
      await expect.poll(() => notified, { timeout: 60_000, interval: 200 }).toBe(1000)
    } finally {
      for (const stream of streams) stream.cancel()
      raw.close()
    }
    await expectServing('bad/watch-ok')
  }, 120_000)
})
