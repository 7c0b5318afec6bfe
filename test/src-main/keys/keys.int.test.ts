import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient } from '../../../core/client'
import { LocalCluster } from '../../../core/cluster/launcher'
import {
  countKeys,
  deletePrefix,
  displayKey,
  exportKeys,
  getKey,
  importKeys,
  keyHistory,
  listKeys,
  readAll,
  saveKey,
  transferKeys,
  TXN_BATCH_KEYS,
} from '../../../src-main/services/keys'
import type { KeyTransferProgress, KeyWatchEvent } from '../../../src-main/api/keys-api'
import { KeyWatches } from '../../../src-main/services/keys-watch'
import { getLease, leaseAction, listLeases } from '../../../src-main/services/leases'
import { createEtcdClient } from '../../../src-main/services/client-factory'
import { KeyService } from '../../../src-main/services/key-service'
import { ServiceError } from '../../../src-main/services/result'
import { etcdctl, startEtcd, type EtcdCluster } from '../../support/etcd'
import { tempDir } from '../../support/temp-dir'

// Key browser services against a real etcd 3.4 and a real Quorum member (`npm run build` first). The big
// keyspace is loaded with Txns of 128 puts, 8 in flight. PAGING_KEYS overrides its size (default 200k).

const PAGING_KEYS = Number(process.env.QUORUM_KEYS_PAGING ?? 200_000)
const b64 = (text: string | Buffer) => (typeof text === 'string' ? Buffer.from(text, 'utf8') : text).toString('base64')
const pad = (n: number) => String(n).padStart(7, '0')

async function load(client: EtcdClient, count: number, key: (i: number) => Buffer | string, value: (i: number) => Buffer | string): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) {
      const start = next
      next = Math.min(count, start + 128)
      const success = []
      for (let i = start; i < next; i++) success.push({ type: 'put' as const, key: key(i), value: value(i) })
      await client.kv.txn({ success })
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
}

interface Target {
  name: string
  /** `restart` stops and starts the (single) member on the same ports and data. */
  start(): Promise<{ endpoints: string[]; stop(): Promise<void>; restart(): Promise<void> }>
}

const targets: Target[] = [
  {
    name: 'etcd 3.4',
    async start() {
      const etcd: EtcdCluster = await startEtcd({ size: 1 })
      return {
        endpoints: etcd.endpoints.split(','),
        stop: () => etcd.stop(),
        restart: async () => {
          etcd.kill(0)
          await etcd.restart(0)
        },
      }
    },
  },
  {
    name: 'Quorum',
    async start() {
      const dir = tempDir('quorum-keys-')
      const cluster = await LocalCluster.up({
        dir: join(dir.path, 'cluster'),
        size: 1,
        engine: 'quorum',
        quorumCommand: { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] },
        healthTimeoutMs: 60_000,
      })
      return {
        endpoints: cluster.endpoints().split(','),
        restart: () => cluster.restart(cluster.activeMembers()[0]!.name),
        stop: async () => {
          await cluster.down({ remove: true }).catch(() => undefined)
          dir.remove()
        },
      }
    },
  },
]

describe.each(targets)('key services on $name', (target) => {
  let server: Awaited<ReturnType<Target['start']>>
  let client: EtcdClient
  let other: EtcdClient

  beforeAll(async () => {
    server = await target.start()
    client = new EtcdClient({ endpoints: server.endpoints, callTimeoutMs: 20_000 })
    other = new EtcdClient({ endpoints: server.endpoints, callTimeoutMs: 20_000 })
  }, 90_000)
  afterAll(async () => {
    client?.close()
    other?.close()
    await server?.stop()
  })

  it(`pages over ${PAGING_KEYS} keys: every key exactly once, in order, at one pinned revision`, async () => {
    const started = Date.now()
    await load(client, PAGING_KEYS, (i) => `big/${pad(i)}`, () => 'v')
    const loadedMs = Date.now() - started
    const seen: string[] = []
    let cursor: string | undefined
    let revision: number | undefined
    let pages = 0
    do {
      const page = await listKeys(client, { prefix: b64('big/'), separator: '', cursor, revision, limit: 5000 })
      if (pages === 0) await client.kv.put('big/0000000x', 'added after the first page')
      if (revision !== undefined) expect(page.revision).toBe(revision)
      revision = page.revision
      for (const entry of page.entries) seen.push(entry.display)
      cursor = page.next ?? undefined
      pages++
    } while (cursor)
    console.log(`[keys ${target.name}] loaded ${PAGING_KEYS} keys in ${loadedMs} ms, paged in ${Date.now() - started - loadedMs} ms (${pages} pages)`)
    expect(seen).toHaveLength(PAGING_KEYS)
    for (let i = 0; i < PAGING_KEYS; i++) if (seen[i] !== `big/${pad(i)}`) expect(seen[i]).toBe(`big/${pad(i)}`)
    expect(await countKeys(client, b64('big/'))).toBe(PAGING_KEYS + 1)
    expect(await countKeys(client, b64('big/'), revision)).toBe(PAGING_KEYS)
  }, 120_000)

  it('lists the tree by separator: folders once each, keys beside them, paged, with counts on demand', async () => {
    await load(client, 300, (i) => `tree/f${i % 3}/k${pad(i)}`, () => 'v')
    await client.kv.put('tree/a-key', '1')
    await client.kv.put('tree/z-key', '2')
    const first = await listKeys(client, { prefix: b64('tree/'), separator: '/', limit: 2 })
    expect(first.entries.map((entry) => [entry.kind, entry.display])).toEqual([
      ['key', 'tree/a-key'],
      ['folder', 'tree/f0/'],
    ])
    const rest = await listKeys(client, { prefix: b64('tree/'), separator: '/', limit: 10, cursor: first.next!, revision: first.revision })
    expect(rest.entries.map((entry) => entry.display)).toEqual(['tree/f1/', 'tree/f2/', 'tree/z-key'])
    expect(rest.next).toBeNull()
    expect(await countKeys(client, rest.entries[0]!.key)).toBe(100)
    // The root of the keyspace (empty prefix): etcd refuses an empty range start, so the listing starts at "\0".
    const root = await listKeys(client, { prefix: '', separator: '/', limit: 1000 })
    expect(root.entries.map((entry) => [entry.kind, entry.display])).toContainEqual(['folder', 'tree/'])
    expect(await countKeys(client, '')).toBeGreaterThanOrEqual(302)
  })

  it('detects a conflicting save and returns theirs and the base', async () => {
    const key = b64('conf/k')
    const created = await saveKey(client, { key, value: b64('{"a":1}'), expectedModRevision: 0 })
    expect(created.saved).toBe(true)
    assert(created.saved)
    expect((await saveKey(client, { key, value: b64('again'), expectedModRevision: 0 })).saved).toBe(false)
    await other.kv.put('conf/k', '{"a":"theirs"}')
    const conflict = await saveKey(client, { key, value: b64('{"a":"mine"}'), expectedModRevision: created.modRevision })
    expect(conflict.saved).toBe(false)
    assert(!conflict.saved)
    expect(Buffer.from(conflict.theirs!.value, 'base64').toString()).toBe('{"a":"theirs"}')
    expect(Buffer.from(conflict.base!.value, 'base64').toString()).toBe('{"a":1}')
    expect((await client.kv.get('conf/k'))?.toString()).toBe('{"a":"theirs"}')
    const history = await keyHistory(client, key)
    expect(history.versions.map((version) => Buffer.from(version.value, 'base64').toString())).toEqual(['{"a":"theirs"}', '{"a":1}'])
  })

  it('moves a 10k-key prefix all or nothing, in batches, with progress', async () => {
    const total = 10_000
    await load(client, total, (i) => `mv/src/${pad(i)}`, (i) => Buffer.from([i & 0xff, 0, 0xff, i >> 8]))
    await client.kv.put('mv/dst/0005000', 'in the way')
    const events: Pick<KeyTransferProgress, 'phase' | 'done' | 'total'>[] = []
    const request = { mode: 'move' as const, source: b64('mv/src/'), target: b64('mv/dst/'), isPrefix: true }
    await expect(transferKeys(client, request, (event) => events.push(event))).rejects.toThrow(/nothing was changed/)
    expect(events.some((event) => event.phase === 'rollback')).toBe(true)
    expect(await countKeys(client, b64('mv/dst/'))).toBe(1)
    expect(await countKeys(client, b64('mv/src/'))).toBe(total)

    await client.kv.delete('mv/dst/0005000')
    events.length = 0
    const result = await transferKeys(client, request, (event) => events.push(event))
    expect(result.keys).toBe(total)
    expect(result.transactions).toBe(2 * Math.ceil(total / TXN_BATCH_KEYS))
    expect(await countKeys(client, b64('mv/src/'))).toBe(0)
    const moved = await readAll(client, Buffer.from('mv/dst/'), Buffer.from('mv/dst0'), 0)
    expect(moved).toHaveLength(total)
    moved.forEach((kv, i) => expect(kv.value.equals(Buffer.from([i & 0xff, 0, 0xff, i >> 8]))).toBe(true))
    const copies = events.filter((event) => event.phase === 'copy').map((event) => event.done)
    expect(copies).toEqual([...copies].sort((a, b) => a - b))
    expect(copies.at(-1)).toBe(total)
    expect(events.map((event) => event.phase).filter((phase, i, all) => all[i - 1] !== phase)).toEqual(['read', 'copy', 'verify', 'delete', 'done'])
  }, 60_000)

  it('round-trips export and import byte for byte, binary keys and values included', async () => {
    const binaryKey = Buffer.concat([Buffer.from('io/'), Buffer.from([0xff, 0x00, 0xc3, 0x28])])
    const pairs: [Buffer, Buffer][] = [
      [binaryKey, Buffer.from([0x00, 0x01, 0xfe, 0xff, 0xc3])],
      [Buffer.from('io/text'), Buffer.from('héllo\n')],
      [Buffer.from('io/json'), Buffer.from('{"k":[1,2]}')],
      [Buffer.from('io/empty'), Buffer.alloc(0)],
    ]
    for (const [key, value] of pairs) await client.kv.put(key, value)
    const json = await exportKeys(client, { prefix: b64('io/') })
    expect(displayKey(binaryKey)).toBe('io/\\xff\\x00\\xc3(')
    expect(await deletePrefix(client, b64('io/'), 'io/', pairs.length)).toBe(pairs.length)

    const preview = await importKeys(client, json, 'fail', true)
    expect(preview).toMatchObject({ total: 4, created: 4, conflicting: 0, written: 0 })
    expect(await importKeys(client, json, 'fail', false)).toMatchObject({ written: 4 })
    const back = await readAll(client, Buffer.from('io/'), Buffer.from('io0'), 0)
    const sorted = [...pairs].sort((a, b) => Buffer.compare(a[0], b[0]))
    expect(back.map((kv) => [kv.key.toString('hex'), kv.value.toString('hex')])).toEqual(sorted.map(([k, v]) => [k.toString('hex'), v.toString('hex')]))

    await client.kv.put('io/text', 'changed')
    await expect(importKeys(client, json, 'fail', false)).rejects.toThrow(/nothing was imported/)
    expect(await importKeys(client, json, 'skip', false)).toMatchObject({ conflicting: 1, identical: 3, written: 0 })
    expect((await client.kv.get('io/text'))?.toString()).toBe('changed')
    expect(await importKeys(client, json, 'overwrite', false)).toMatchObject({ conflicting: 1, written: 1 })
    expect((await client.kv.get('io/text'))?.toString()).toBe('héllo\n')
  })

  it('a prefix watch from a past revision delivers puts and deletes in order, and resumes after the member restarts', async () => {
    const from = (await client.kv.put('w/a', '1')).header.revision
    await client.kv.put('w/b', Buffer.from([0xff, 0x00]))
    await client.kv.delete('w/a')
    await client.kv.put('w-not-under-prefix', 'x')
    const seen: KeyWatchEvent[] = []
    const watches = new KeyWatches((event) => seen.push(event))
    const changes = () => seen.flatMap((event) => (event.kind === 'changes' ? event.changes.map((c) => `${c.type} ${c.display} ${Buffer.from(c.value, 'base64').toString('hex')} @${c.modRevision}`) : []))
    try {
      await watches.start(client, { connectionId: 'c', watchId: 'w1', key: b64('w/'), isPrefix: true, startRevision: from })
      await expect.poll(changes).toEqual([`put w/a 31 @${from}`, `put w/b ff00 @${from + 1}`, `delete w/a  @${from + 2}`])
      await server.restart()
      // The client reconnects by itself; the watch is re-created from the next revision: no loss, no repeat.
      await expect.poll(async () => (await other.kv.put('w/c', 'after restart').catch(() => null)) !== null, { timeout: 30_000 }).toBe(true)
      await expect.poll(() => changes().length, { timeout: 30_000 }).toBeGreaterThanOrEqual(4)
      const after = changes().slice(3)
      expect(after).toHaveLength(1)
      expect(after[0]).toMatch(new RegExp(`^put w/c ${Buffer.from('after restart').toString('hex')} @\\d+$`))
      expect(seen.some((event) => event.kind === 'state' && event.state === 'disconnected')).toBe(true)
      await watches.stop('w1')
      await expect.poll(() => seen.some((event) => event.kind === 'state' && event.state === 'ended')).toBe(true)
    } finally {
      await watches.close()
    }
  }, 90_000)

  it('leases: grant, list with TTL and attached keys, keep alive once, revoke deletes the keys', async () => {
    const granted = await leaseAction(client, { kind: 'grant', ttl: 600 })
    assert(granted !== null)
    expect(granted).toMatchObject({ grantedTtl: 600, keyCount: 0 })
    // etcdctl's %016x: zero-padded, so IDs copied from etcdctl output match
    expect(granted.id).toMatch(/^[0-9a-f]{16}$/)
    const id = BigInt(`0x${granted.id}`)
    await client.kv.put('lease/a', '1', { lease: id })
    await client.kv.put('lease/b', '2', { lease: id })
    const listed = (await listLeases(client)).find((lease) => lease.id === granted.id)
    expect(listed).toMatchObject({ keyCount: 2, grantedTtl: 600 })
    expect(listed!.ttl).toBeGreaterThan(500)
    expect((await getLease(client, granted.id)).keys.map((key) => key.display)).toEqual(['lease/a', 'lease/b'])
    expect(await leaseAction(client, { kind: 'keepAlive', id: granted.id })).toMatchObject({ id: granted.id, keyCount: 2 })
    expect(await leaseAction(client, { kind: 'revoke', id: granted.id })).toBeNull()
    expect(await client.kv.get('lease/a')).toBeNull()
    await expect(getLease(client, granted.id)).rejects.toMatchObject({ code: 'not_found' })
    await expect(leaseAction(client, { kind: 'keepAlive', id: granted.id })).rejects.toMatchObject({ code: 'not_found' })
  })

  it('cuts large values at the asked size and says so; the full read returns every byte', async () => {
    const value = Buffer.alloc(100_000, 0xab)
    await client.kv.put('big-value', value)
    const cut = await getKey(client, b64('big-value'), 0, 4096)
    expect(cut).toMatchObject({ size: 100_000, truncated: true })
    expect(Buffer.from(cut!.value, 'base64')).toEqual(value.subarray(0, 4096))
    const whole = await getKey(client, b64('big-value'))
    expect(whole!.truncated).toBe(false)
    expect(Buffer.from(whole!.value, 'base64').equals(value)).toBe(true)
  })

  it('delete-prefix needs the typed prefix and the count that was shown', async () => {
    await load(client, 10, (i) => `del/${i}`, () => 'v')
    await expect(deletePrefix(client, b64('del/'), 'del', 10)).rejects.toThrow(/typed prefix/)
    await expect(deletePrefix(client, b64('del/'), 'del/', 9)).rejects.toThrow(/holds 10 keys/)
    expect(await countKeys(client, b64('del/'))).toBe(10)
    expect(await deletePrefix(client, b64('del/'), 'del/', 10)).toBe(10)
  })
})

describe('KeyService on etcd 3.4', () => {
  let etcd: EtcdCluster
  let service: KeyService
  beforeAll(async () => {
    etcd = await startEtcd({ size: 1 })
    service = new KeyService({
      connections: {
        clientOptions: () => ({ endpoints: etcd.endpoints.split(','), callTimeoutMs: 5000 }),
        assertWritable: (id) => {
          if (id === 'ro') throw new ServiceError('read_only', `connection ${id} is read-only`)
        },
      },
      openClient: createEtcdClient,
    })
  })
  afterAll(async () => {
    service?.close()
    await etcd?.stop()
  })

  it('a read-only connection refuses every write and still reads', async () => {
    const key = b64('ro/k')
    const writes = [
      service.saveKey({ connectionId: 'ro', key, value: b64('v'), expectedModRevision: 0 }),
      service.deleteKey('ro', key, 0),
      service.deleteKeyPrefix('ro', b64('ro/'), 'ro/', 0),
      service.transferKeys({ connectionId: 'ro', operationId: 'x', mode: 'copy', source: key, target: b64('ro/j'), isPrefix: false }),
      service.importKeys('ro', '{"format":"quorum-keys","keys":[]}', 'overwrite', false),
      service.leaseAction('ro', { kind: 'grant', ttl: 60 }),
      service.authAction('ro', { kind: 'addRole', name: 'x' }),
    ]
    for (const result of await Promise.all(writes)) expect(result).toMatchObject({ ok: false, error: { code: 'read_only' } })
    expect(await service.getKey('ro', key, 0, 0)).toEqual({ ok: true, value: null })
    expect(await service.saveKey({ connectionId: 'rw', key, value: b64('v'), expectedModRevision: 0 })).toMatchObject({ ok: true, value: { saved: true } })
    expect(await service.countKeys('ro', b64('ro/'), 0)).toEqual({ ok: true, value: 1 })
    expect(await service.getKey('ro', 'not base64!', 0, 0)).toMatchObject({ ok: false, error: { code: 'invalid_argument' } })
  })

  it('relays a watch as onKeyWatch events until stopKeyWatch; read-only connections may watch', async () => {
    const events: KeyWatchEvent[] = []
    const unsubscribe = service.onKeyWatch((event) => events.push(event))
    expect(await service.startKeyWatch({ connectionId: 'ro', watchId: 'svc', key: b64('sw/k'), isPrefix: false, startRevision: 0 })).toEqual({ ok: true, value: null })
    etcdctl(etcd.endpoints, ['put', 'sw/k', 'from etcdctl'])
    await expect.poll(() => events.find((event) => event.kind === 'changes')).toMatchObject({ watchId: 'svc', changes: [{ type: 'put', display: 'sw/k', value: b64('from etcdctl') }] })
    expect(await service.stopKeyWatch('svc')).toEqual({ ok: true, value: null })
    etcdctl(etcd.endpoints, ['put', 'sw/k', 'unseen'])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(events.filter((event) => event.kind === 'changes')).toHaveLength(1)
    unsubscribe()
  })
})

function assert(condition: boolean): asserts condition {
  if (!condition) throw new Error('assertion failed')
}
