import { describe, expect, test } from 'vitest'
import { EtcdError } from '../../core/client'
import { etcdctl } from '../support/etcd'
import { useEtcd } from './etcd-fixture'

// The KV namespace against a real etcd 3.4 (one member). Each test works under its own key prefix.
const fixture = useEtcd({ size: 1 })

const text = (buffer: Buffer | null | undefined) => buffer?.toString('utf8')

describe('KV against etcd 3.4', () => {
  test('put then range returns the value with revisions, version and header', async () => {
    const first = await fixture.client.kv.put('kv/a', 'one')
    const second = await fixture.client.kv.put('kv/a', 'two', { prevKv: true })
    expect(second.header.revision).toBe(first.header.revision + 1)
    expect(text(second.prevKv?.value)).toBe('one')
    const result = await fixture.client.kv.range('kv/a')
    expect(result.count).toBe(1)
    expect(result.kvs).toHaveLength(1)
    expect(result.kvs[0]).toMatchObject({ version: 2, modRevision: second.header.revision, createRevision: first.header.revision, lease: 0n })
    expect(text(result.kvs[0].value)).toBe('two')
    expect(result.header.clusterId).toBeGreaterThan(0n)
    expect(result.header.memberId).toBeGreaterThan(0n)
    expect(result.header.raftTerm).toBeGreaterThan(0)
    expect(await fixture.client.kv.get('kv/missing')).toBeNull()
    // What etcdctl reads is what we wrote.
    expect(etcdctl(fixture.etcd.endpoints, ['get', 'kv/a', '--print-value-only']).stdout.trim()).toBe('two')
  })

  test('a single-key read of a missing key returns nothing even when later keys exist', async () => {
    // etcd treats a present-but-empty range_end as "this key and all after it": the client must omit it.
    await fixture.client.kv.put('single/zz', 'later')
    expect(await fixture.client.kv.get('single/a')).toBeNull()
    expect((await fixture.client.kv.range('single/a')).count).toBe(0)
    const deleted = await fixture.client.kv.delete('single/b')
    expect(deleted.deleted).toBe(0)
    expect(text(await fixture.client.kv.get('single/zz'))).toBe('later')
  })

  test('binary keys and values round-trip byte-exact and sort by raw bytes', async () => {
    const keys = [Buffer.from([0x62, 0x00, 0xff, 0xfe]), Buffer.from([0x62, 0x00, 0x80]), Buffer.from([0x62, 0x00, 0x00])]
    const value = Buffer.from([0xc3, 0x28, 0x00, 0xff, 0x80])
    for (const key of keys) await fixture.client.kv.put(key, value)
    const result = await fixture.client.kv.range(Buffer.from([0x62, 0x00]), { prefix: true })
    expect(result.kvs.map((kv) => kv.key.toString('hex'))).toEqual(['620000', '620080', '6200fffe'])
    for (const kv of result.kvs) expect(kv.value.equals(value)).toBe(true)
    // A prefix ending in 0xff: the range end increments the byte before it.
    await fixture.client.kv.put(Buffer.from([0x63, 0xff, 0x01]), 'x')
    await fixture.client.kv.put(Buffer.from([0x64]), 'outside')
    const ff = await fixture.client.kv.range(Buffer.from([0x63, 0xff]), { prefix: true })
    expect(ff.kvs.map((kv) => kv.key.toString('hex'))).toEqual(['63ff01'])
  })

  test('range options: prefix, fromKey, rangeEnd, limit, sort, keysOnly, countOnly, revision filters', async () => {
    const revisions: number[] = []
    for (const [key, value] of [['r/c', '3'], ['r/a', '1'], ['r/b', '2'], ['r/d', '4']]) {
      revisions.push((await fixture.client.kv.put(key, value)).header.revision)
    }
    await fixture.client.kv.put('r/b', '22')
    const all = await fixture.client.kv.range('r/', { prefix: true })
    expect(all.kvs.map((kv) => text(kv.key))).toEqual(['r/a', 'r/b', 'r/c', 'r/d'])
    const limited = await fixture.client.kv.range('r/', { prefix: true, limit: 2 })
    expect(limited).toMatchObject({ more: true, count: 4 })
    expect(limited.kvs).toHaveLength(2)
    const between = await fixture.client.kv.range('r/b', { rangeEnd: 'r/d' })
    expect(between.kvs.map((kv) => text(kv.key))).toEqual(['r/b', 'r/c'])
    const fromKey = await fixture.client.kv.range('r/c', { fromKey: true })
    expect(fromKey.kvs.map((kv) => text(kv.key)).slice(0, 2)).toEqual(['r/c', 'r/d'])
    const byValueDesc = await fixture.client.kv.range('r/', { prefix: true, sortTarget: 'value', sortOrder: 'descend' })
    expect(byValueDesc.kvs.map((kv) => text(kv.value))).toEqual(['4', '3', '22', '1'])
    const byCreate = await fixture.client.kv.range('r/', { prefix: true, sortTarget: 'create', sortOrder: 'ascend' })
    expect(byCreate.kvs.map((kv) => text(kv.key))).toEqual(['r/c', 'r/a', 'r/b', 'r/d'])
    const keysOnly = await fixture.client.kv.range('r/', { prefix: true, keysOnly: true })
    expect(keysOnly.kvs.every((kv) => kv.value.length === 0)).toBe(true)
    const countOnly = await fixture.client.kv.range('r/', { prefix: true, countOnly: true })
    expect(countOnly).toMatchObject({ count: 4, kvs: [] })
    const modified = await fixture.client.kv.range('r/', { prefix: true, minModRevision: revisions[3] })
    expect(modified.kvs.map((kv) => text(kv.key))).toEqual(['r/b', 'r/d'])
    const created = await fixture.client.kv.range('r/', { prefix: true, maxCreateRevision: revisions[1] })
    expect(created.kvs.map((kv) => text(kv.key))).toEqual(['r/a', 'r/c'])
    const old = await fixture.client.kv.range('r/b', { revision: revisions[3] })
    expect(text(old.kvs[0].value)).toBe('2')
    const serializable = await fixture.client.kv.range('r/b', { serializable: true })
    expect(text(serializable.kvs[0].value)).toBe('22')
  })

  test('delete removes a key, a prefix, and returns previous pairs', async () => {
    await fixture.client.kv.put('d/1', 'a')
    await fixture.client.kv.put('d/2', 'b')
    await fixture.client.kv.put('d/3', 'c')
    const single = await fixture.client.kv.delete('d/1')
    expect(single.deleted).toBe(1)
    const missing = await fixture.client.kv.delete('d/1')
    expect(missing.deleted).toBe(0)
    // etcd compat: deleting a missing key keeps the revision.
    expect(missing.header.revision).toBe(single.header.revision)
    const prefix = await fixture.client.kv.delete('d/', { prefix: true, prevKv: true })
    expect(prefix.deleted).toBe(2)
    expect(prefix.prevKvs.map((kv) => text(kv.value))).toEqual(['b', 'c'])
    expect((await fixture.client.kv.range('d/', { prefix: true })).count).toBe(0)
  })

  test('txn: compare-and-swap on mod revision, both branches, nested txn, op results in order', async () => {
    const created = await fixture.client.kv.txn({
      compare: [{ key: 't/lock', target: 'mod', result: '=', value: 0 }],
      success: [{ type: 'put', key: 't/lock', value: 'me' }, { type: 'range', key: 't/lock' }],
      failure: [{ type: 'range', key: 't/lock' }],
    })
    expect(created.succeeded).toBe(true)
    expect(created.responses.map((r) => r.type)).toEqual(['put', 'range'])
    const lost = await fixture.client.kv.txn({
      compare: [{ key: 't/lock', target: 'create', result: '=', value: 0 }],
      success: [{ type: 'put', key: 't/lock', value: 'other' }],
      failure: [{ type: 'range', key: 't/lock' }],
    })
    expect(lost.succeeded).toBe(false)
    const read = lost.responses[0]
    expect(read.type === 'range' && text(read.range.kvs[0].value)).toBe('me')
    const nested = await fixture.client.kv.txn({
      compare: [
        { key: 't/lock', target: 'value', result: '=', value: 'me' },
        { key: 't/lock', target: 'version', result: '>', value: 0 },
        { key: 't/lock', target: 'lease', result: '=', value: 0n },
      ],
      success: [
        {
          type: 'txn',
          txn: { success: [{ type: 'delete', key: 't/lock', options: { prevKv: true } }, { type: 'put', key: 't/x', value: 'y' }] },
        },
      ],
    })
    expect(nested.succeeded).toBe(true)
    const inner = nested.responses[0]
    expect(inner.type).toBe('txn')
    if (inner.type !== 'txn') return
    expect(inner.txn.responses.map((r) => r.type)).toEqual(['delete', 'put'])
    const deleted = inner.txn.responses[0]
    expect(deleted.type === 'delete' && text(deleted.delete.prevKvs[0].value)).toBe('me')
  })

  test('compact: reads below it fail with COMPACTED, beyond the store with FUTURE_REV', async () => {
    const before = await fixture.client.kv.put('c/k', 'v1')
    const after = await fixture.client.kv.put('c/k', 'v2')
    await fixture.client.kv.compact(after.header.revision, { physical: true })
    const compacted = await fixture.client.kv.range('c/k', { revision: before.header.revision }).catch((error: unknown) => error)
    expect(compacted).toBeInstanceOf(EtcdError)
    expect(compacted).toMatchObject({ code: 'COMPACTED', message: 'etcdserver: mvcc: required revision has been compacted' })
    const future = await fixture.client.kv.range('c/k', { revision: after.header.revision + 1000 }).catch((error: unknown) => error)
    expect(future).toMatchObject({ code: 'FUTURE_REV' })
    await expect(fixture.client.kv.compact(before.header.revision)).rejects.toMatchObject({ code: 'COMPACTED' })
  })
})
