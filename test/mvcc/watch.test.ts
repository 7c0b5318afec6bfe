// Watch behaviour (etcd mvcc watchable_store): ranges, historic and compacted start revisions, prev_kv,
// filters, progress, cancel, and slow watchers that never block writes.
import { describe, expect, it } from 'vitest'
import { prefixRangeEnd } from '../../core/mvcc/bytes'
import { KvStore } from '../../core/mvcc/kv-store'
import { MemoryBackend } from '../../core/mvcc/memory-backend'
import { type WatchResponse, WatchableStore } from '../../core/mvcc/watchable-store'

const b = (s: string) => Buffer.from(s)

function setup(options: { syncBatchRevisions?: number } = {}) {
  const backend = new MemoryBackend()
  const kv = new KvStore(backend)
  const watchable = new WatchableStore(kv, options)
  const tx = backend.writer()
  return {
    kv,
    watchable,
    put: (k: string, v = 'v') => kv.put(tx, { key: b(k), value: b(v) }).revision,
    del: (k: string) => kv.deleteRange(tx, { key: b(k) }).revision,
    compact: (rev: number) => kv.compact(tx, rev),
  }
}

const summary = (responses: WatchResponse[]) =>
  responses.flatMap((r) => r.events.map((e) => `${r.watchId}:${e.type}:${e.kv.key.toString()}@${e.kv.modRevision}`))

describe('watch', () => {
  it('key, range and prefix watchers see exactly their keys', () => {
    const s = setup()
    const stream = s.watchable.newWatchStream()
    const single = stream.watch({ key: b('foo') })
    const range = stream.watch({ key: b('a'), rangeEnd: b('c') })
    const prefix = stream.watch({ key: b('fo'), rangeEnd: prefixRangeEnd(b('fo')) })
    const fromKey = stream.watch({ key: b('z'), rangeEnd: b('\x00') })
    s.put('foo') // 2
    s.put('b') // 3
    s.put('fox') // 4
    s.put('zz') // 5
    s.del('foo') // 6
    expect(summary(stream.poll())).toEqual([
      `${single}:PUT:foo@2`,
      `${prefix}:PUT:foo@2`,
      `${range}:PUT:b@3`,
      `${prefix}:PUT:fox@4`,
      `${fromKey}:PUT:zz@5`,
      `${single}:DELETE:foo@6`,
      `${prefix}:DELETE:foo@6`,
    ])
  })

  it('a historic start revision replays from the backend, then continues live', () => {
    const s = setup()
    s.put('k', '1') // 2
    s.put('k', '2') // 3
    s.put('other') // 4
    s.del('k') // 5
    const stream = s.watchable.newWatchStream()
    const id = stream.watch({ key: b('k'), startRevision: 3 })
    expect(stream.poll()).toEqual([])
    expect(s.watchable.syncWatchers()).toBe(0)
    s.put('k', '3') // 6
    const responses = stream.poll()
    expect(summary(responses)).toEqual([`${id}:PUT:k@3`, `${id}:DELETE:k@5`, `${id}:PUT:k@6`])
    expect(responses[0].revision).toBe(5)
  })

  it('a compacted start revision gets the compact revision and the watcher is canceled', () => {
    const s = setup()
    for (let i = 0; i < 5; i++) s.put('k', `${i}`) // 2..6
    s.compact(4)
    const stream = s.watchable.newWatchStream()
    const id = stream.watch({ key: b('k'), startRevision: 2 })
    const atCompact = stream.watch({ key: b('k'), startRevision: 4 })
    s.watchable.syncWatchers()
    const responses = stream.poll()
    expect(responses.find((r) => r.watchId === id)).toEqual({ watchId: id, events: [], revision: 0, compactRevision: 4, canceled: true })
    expect(summary(responses.filter((r) => r.watchId === atCompact))).toEqual([`${atCompact}:PUT:k@4`, `${atCompact}:PUT:k@5`, `${atCompact}:PUT:k@6`])
    expect(stream.watchIds()).toEqual([atCompact])
  })

  it('prev_kv carries the previous value for puts and deletes', () => {
    const s = setup()
    s.put('k', 'old') // 2
    const stream = s.watchable.newWatchStream()
    stream.watch({ key: b('k'), prevKv: true })
    s.put('k', 'new') // 3
    s.del('k') // 4
    const events = stream.poll().flatMap((r) => r.events)
    expect(events.map((e) => [e.type, e.prevKv?.value.toString(), e.prevKv?.modRevision])).toEqual([
      ['PUT', 'old', 2],
      ['DELETE', 'new', 3],
    ])
  })

  it('NOPUT and NODELETE filter events; a response whose events are all filtered is not sent', () => {
    const s = setup()
    const stream = s.watchable.newWatchStream()
    const noPut = stream.watch({ key: b('k'), filters: ['NOPUT'] })
    const noDelete = stream.watch({ key: b('k'), filters: ['NODELETE'] })
    s.put('k') // 2
    s.del('k') // 3
    const responses = stream.poll()
    expect(summary(responses)).toEqual([`${noDelete}:PUT:k@2`, `${noPut}:DELETE:k@3`])
    expect(responses).toHaveLength(2)
  })

  it('progress: a synced watcher reports the current revision; an unsynced one does not', () => {
    const s = setup()
    for (let i = 0; i < 3; i++) s.put(`k${i}`) // 2..4
    const stream = s.watchable.newWatchStream()
    const synced = stream.watch({ key: b('x') })
    const behind = stream.watch({ key: b('k0'), startRevision: 2 })
    stream.requestProgress(synced)
    stream.requestProgress(behind)
    expect(stream.poll()).toEqual([{ watchId: synced, events: [], revision: 4, compactRevision: 0, canceled: false }])
    expect(stream.progressAllRevision()).toBeUndefined()
    s.watchable.syncWatchers()
    stream.poll()
    expect(stream.progressAllRevision()).toBe(4)
  })

  it('progress notify: each tick notifies watchers that got no events since the last tick', () => {
    const s = setup()
    const stream = s.watchable.newWatchStream()
    const quiet = stream.watch({ key: b('quiet'), progressNotify: true })
    const busy = stream.watch({ key: b('busy'), progressNotify: true })
    stream.watch({ key: b('plain') })
    s.put('busy') // 2
    stream.poll()
    stream.progressTick()
    expect(stream.poll()).toEqual([{ watchId: quiet, events: [], revision: 2, compactRevision: 0, canceled: false }])
    stream.progressTick()
    expect(stream.poll().map((r) => r.watchId)).toEqual([quiet, busy])
  })

  it('cancel stops events; IDs may be chosen by the client but not reused', () => {
    const s = setup()
    const stream = s.watchable.newWatchStream()
    expect(stream.watch({ key: b('k'), watchId: 7 })).toBe(7)
    expect(() => stream.watch({ key: b('k'), watchId: 7 })).toThrow(/duplicate watch ID/)
    expect(() => stream.watch({ key: b('b'), rangeEnd: b('a') })).toThrow(/watcher range is empty/)
    expect(stream.cancel(7)).toBe(true)
    expect(stream.cancel(7)).toBe(false)
    s.put('k')
    expect(stream.poll()).toEqual([])
  })

  it('a future start revision waits for that revision', () => {
    const s = setup()
    const stream = s.watchable.newWatchStream()
    const id = stream.watch({ key: b('k'), startRevision: 4 })
    s.put('k', '1') // 2
    s.put('k', '2') // 3
    s.put('k', '3') // 4
    expect(summary(stream.poll())).toEqual([`${id}:PUT:k@4`])
  })

  it('a slow watcher never blocks writes and later receives every event once, in order', () => {
    const s = setup({ syncBatchRevisions: 10 })
    const slow = s.watchable.newWatchStream(2)
    const fast = s.watchable.newWatchStream()
    const slowId = slow.watch({ key: b('k') })
    fast.watch({ key: b('k') })
    const revisions: number[] = []
    for (let i = 0; i < 50; i++) revisions.push(s.put('k', `${i}`))
    // writes went through; the fast stream has everything
    expect(fast.poll().flatMap((r) => r.events.map((e) => e.kv.modRevision))).toEqual(revisions)
    expect(s.watchable.pendingCount()).toBe(1)
    const seen: number[] = []
    for (let round = 0; round < 50 && (seen.length < revisions.length || s.watchable.pendingCount() > 0); round++) {
      for (const r of slow.poll()) {
        expect(r.watchId).toBe(slowId)
        seen.push(...r.events.map((e) => e.kv.modRevision))
      }
      s.watchable.syncVictims()
      s.watchable.syncWatchers()
    }
    expect(seen).toEqual(revisions)
    // caught up: live again
    const next = s.put('k', 'live')
    expect(slow.poll().flatMap((r) => r.events.map((e) => e.kv.modRevision))).toEqual([next])
  })

  it('an unsynced watcher catches up from the backend in bounded batches', () => {
    const s = setup({ syncBatchRevisions: 10 })
    for (let i = 0; i < 35; i++) s.put('k', `${i}`) // revisions 2..36
    const stream = s.watchable.newWatchStream()
    stream.watch({ key: b('k'), startRevision: 2 })
    const perRound: number[] = []
    while (s.watchable.pendingCount() > 0) {
      s.watchable.syncWatchers()
      perRound.push(stream.poll().reduce((n, r) => n + r.events.length, 0))
    }
    expect(perRound).toEqual([10, 10, 10, 5])
  })
})

describe('watch restore', () => {
  it('after restore() watchers re-read from the backend without duplicates and keep waiting for future revisions', () => {
    const s = setup()
    const stream = s.watchable.newWatchStream()
    const seen = stream.watch({ key: b('k') })
    const future = stream.watch({ key: b('k'), startRevision: 6 })
    s.put('k', '1') // 2
    s.put('k', '2') // 3
    expect(summary(stream.poll())).toEqual([`${seen}:PUT:k@2`, `${seen}:PUT:k@3`])
    s.watchable.restore()
    expect(s.watchable.pendingCount()).toBe(2)
    s.put('k', '3') // 4: not delivered live while unsynced
    expect(stream.poll()).toEqual([])
    s.watchable.syncWatchers()
    expect(s.watchable.pendingCount()).toBe(0)
    expect(summary(stream.poll())).toEqual([`${seen}:PUT:k@4`])
    s.put('k', '4') // 5
    s.put('k', '5') // 6
    // (the order between watchers is not specified)
    expect(summary(stream.poll()).sort()).toEqual([`${seen}:PUT:k@5`, `${seen}:PUT:k@6`, `${future}:PUT:k@6`].sort())
  })
})
