// Differential watch test: the same history and the same watch requests against real etcd 3.4 and our
// WatchableStore; the delivered events (with prev_kv, filters, historic and compacted start revisions) match.
import { Etcd3 } from 'etcd3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KvStore } from '../../core/mvcc/kv-store'
import { MemoryBackend } from '../../core/mvcc/memory-backend'
import type { KvEvent } from '../../core/mvcc/types'
import { type WatchCreate, WatchableStore } from '../../core/mvcc/watchable-store'
import { type EtcdCluster, startEtcd } from '../support/etcd'

const b = (s: string) => Buffer.from(s)

type Op = ['put', string, string] | ['del', string, string?] | ['compact', number]
const HISTORY: Op[] = [
  ['put', 'a', '1'], // 2
  ['put', 'b', '1'], // 3
  ['del', 'a'], // 4
  ['put', 'a', '2'], // 5
  ['put', 'ab', '1'], // 6
  ['put', 'c', '1'], // 7
  ['compact', 3],
]
const LIVE: Op[] = [
  ['put', 'a', '3'], // 8
  ['del', 'a', 'c'], // 9: a, ab, b
  ['put', 'bz', '1'], // 10
]
const WATCHES: WatchCreate[] = [
  { key: b('a'), startRevision: 3, prevKv: true },
  { key: b('a'), rangeEnd: b('b'), startRevision: 2 },
  { key: b('a'), rangeEnd: b('c'), filters: ['NOPUT'], prevKv: true },
  { key: b('b'), rangeEnd: b('\x00'), startRevision: 4, filters: ['NODELETE'] },
  { key: b('a'), rangeEnd: b('b'), startRevision: 5 },
]

interface Flat {
  watch: number
  events: string[]
  compactRevision: number
}

/* eslint-disable @typescript-eslint/no-explicit-any */
const flatWire = (e: any) =>
  `${String(e.type).toUpperCase() === 'DELETE' || e.type === 1 ? 'DELETE' : 'PUT'} ${e.kv.key.toString()}@${e.kv.mod_revision} v${e.kv.version}=${e.kv.value.toString()} prev=${e.prev_kv ? `${e.prev_kv.value.toString()}@${e.prev_kv.mod_revision}` : '-'}`
/* eslint-enable @typescript-eslint/no-explicit-any */
const flatOurs = (e: KvEvent) =>
  `${e.type} ${e.kv.key.toString()}@${e.kv.modRevision} v${e.kv.version}=${e.kv.value.toString()} prev=${e.prevKv ? `${e.prevKv.value.toString()}@${e.prevKv.modRevision}` : '-'}`

describe('differential: watch against real etcd 3.4', () => {
  let etcd: EtcdCluster
  let client: Etcd3

  beforeAll(async () => {
    etcd = await startEtcd()
    client = new Etcd3({ hosts: etcd.members[0].clientUrl })
  }, 60_000)

  afterAll(async () => {
    client?.close()
    await etcd?.stop()
  })

  async function applyEtcd(ops: Op[]): Promise<void> {
    for (const op of ops) {
      if (op[0] === 'put') await client.kv.put({ key: b(op[1]), value: b(op[2]) })
      else if (op[0] === 'del') await client.kv.deleteRange({ key: b(op[1]), range_end: op[2] === undefined ? undefined : b(op[2]) })
      else await client.kv.compact({ revision: String(op[1]), physical: true })
    }
  }

  function applyOurs(kv: KvStore, tx: ReturnType<MemoryBackend['writer']>, ops: Op[]): void {
    for (const op of ops) {
      if (op[0] === 'put') kv.put(tx, { key: b(op[1]), value: b(op[2]) })
      else if (op[0] === 'del') kv.deleteRange(tx, { key: b(op[1]), rangeEnd: op[2] === undefined ? undefined : b(op[2]) })
      else kv.compact(tx, op[1])
    }
  }

  it('historic, compacted, filtered and prev_kv watches deliver the same events', async () => {
    await applyEtcd(HISTORY)
    const stream = await client.watchClient.watch()
    const theirs: Flat[] = WATCHES.map((_, i) => ({ watch: i, events: [], compactRevision: 0 }))
    const ids: number[] = []
    stream.on('data', (resp) => {
      if (resp.created) ids.push(Number(resp.watch_id))
      const index = ids.indexOf(Number(resp.watch_id))
      if (index < 0) return
      theirs[index].events.push(...resp.events.map(flatWire))
      if (Number(resp.compact_revision) !== 0) theirs[index].compactRevision = Number(resp.compact_revision)
    })
    for (const w of WATCHES) {
      stream.write({
        create_request: {
          key: Buffer.from(w.key),
          range_end: w.rangeEnd === undefined ? undefined : Buffer.from(w.rangeEnd),
          start_revision: String(w.startRevision ?? 0),
          prev_kv: w.prevKv ?? false,
          filters: (w.filters ?? []).map((f) => (f === 'NOPUT' ? 0 : 1)),
        },
      })
      // watch IDs are assigned in creation order; wait for each created response
      const want = ids.length + 1
      for (let i = 0; i < 500 && ids.length < want; i++) await new Promise((r) => setTimeout(r, 20))
    }
    await applyEtcd(LIVE)
    const expectedLast = 10
    for (let i = 0; i < 500; i++) {
      const done = theirs[3].events.some((e) => e.includes(`bz@${expectedLast}`))
      if (done) break
      await new Promise((r) => setTimeout(r, 20))
    }
    await new Promise((r) => setTimeout(r, 200))
    stream.end()

    const backend = new MemoryBackend()
    const kv = new KvStore(backend)
    const watchable = new WatchableStore(kv)
    applyOurs(kv, backend.writer(), HISTORY)
    const ws = watchable.newWatchStream()
    const ourIds = WATCHES.map((w) => ws.watch(w))
    while (watchable.pendingCount() > 0) watchable.syncWatchers()
    applyOurs(kv, backend.writer(), LIVE)
    const ours: Flat[] = WATCHES.map((_, i) => ({ watch: i, events: [], compactRevision: 0 }))
    for (const r of ws.poll()) {
      const index = ourIds.indexOf(r.watchId)
      ours[index].events.push(...r.events.map(flatOurs))
      if (r.compactRevision !== 0) ours[index].compactRevision = r.compactRevision
    }
    expect(ours).toEqual(theirs)
    // the scenario really exercises the interesting cases
    expect(ours[1].compactRevision).toBe(3)
    expect(ours[0].events.length).toBeGreaterThan(2)
  }, 60_000)
})
