import { describe, expect, test } from 'vitest'
import { EtcdClient, WatchCompactedError, type WatchBatch, type Watcher } from '../../core/client'
import { useEtcd } from './etcd-fixture'

// Watch against a real etcd 3.4 (one member): events, many watches on one stream, history, filters,
// compaction, progress, cancel, and resuming after the member is killed and restarted.
const fixture = useEtcd({ size: 1 })

/** Collects a watcher's batches; `until(n)` waits (polling) until at least n events arrived. */
function collect(watcher: Watcher) {
  const batches: WatchBatch[] = []
  watcher.on('events', (batch) => batches.push(batch))
  const events = () => batches.flatMap((batch) => batch.events)
  const until = async (count: number, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs
    while (events().length < count) {
      if (Date.now() > deadline) throw new Error(`only ${events().length} of ${count} events after ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    return events()
  }
  return { batches, events, until }
}

/** Started Watch streams, from the member's Prometheus metrics. */
async function watchStreamsStarted(): Promise<number> {
  const text = await (await fetch(`${fixture.etcd.members[0].metricsUrl}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith('grpc_server_started_total') && l.includes('grpc_method="Watch"'))
  return line ? Number(line.split(' ').pop()) : 0
}

describe('Watch against etcd 3.4', () => {
  test('delivers puts and deletes in order with prevKv, byte-exact, for several watches on one stream', async () => {
    const streamsBefore = await watchStreamsStarted()
    const prefix = await fixture.client.watch('w1/', { prefix: true, prevKv: true })
    const single = await fixture.client.watch('w1/b')
    const binaryKey = Buffer.from([0x77, 0x31, 0x2f, 0xff, 0x00])
    const binary = await fixture.client.watch(binaryKey)
    const all = collect(prefix)
    const onlyB = collect(single)
    const bytes = collect(binary)
    await fixture.client.kv.put('w1/a', '1')
    await fixture.client.kv.put('w1/b', '2')
    await fixture.client.kv.put('w1/a', '3')
    await fixture.client.kv.delete('w1/b')
    await fixture.client.kv.put(binaryKey, Buffer.from([0x00, 0xff]))
    const events = await all.until(5)
    expect(events.map((e) => `${e.type} ${e.kv.key.toString('hex')}`)).toEqual([
      'put 77312f61',
      'put 77312f62',
      'put 77312f61',
      'delete 77312f62',
      'put 77312fff00',
    ])
    expect(events[2].prevKv?.value.toString()).toBe('1')
    expect(events[3].prevKv?.value.toString()).toBe('2')
    expect(events[3].kv.value.length).toBe(0)
    expect(events.map((e) => e.kv.modRevision)).toEqual([...events.map((e) => e.kv.modRevision)].sort((a, b) => a - b))
    expect((await onlyB.until(2)).map((e) => e.type)).toEqual(['put', 'delete'])
    expect((await bytes.until(1))[0].kv.value.equals(Buffer.from([0x00, 0xff]))).toBe(true)
    expect(await watchStreamsStarted()).toBe(streamsBefore + 1)
    await Promise.all([prefix.cancel(), single.cancel(), binary.cancel()])
  })

  test('startRevision replays history; noPut keeps only deletes; async iteration ends at cancel', async () => {
    const first = await fixture.client.kv.put('w2/k', 'a')
    await fixture.client.kv.put('w2/k', 'b')
    await fixture.client.kv.delete('w2/k')
    const history = await fixture.client.watch('w2/k', { startRevision: first.header.revision })
    const replayed = await collect(history).until(3)
    expect(replayed.map((e) => `${e.type}:${e.kv.value.toString()}`)).toEqual(['put:a', 'put:b', 'delete:'])
    await history.cancel()

    const deletesOnly = await fixture.client.watch('w2/', { prefix: true, noPut: true })
    const seen: string[] = []
    const iterating = (async () => {
      for await (const batch of deletesOnly) seen.push(...batch.events.map((e) => `${e.type}:${e.kv.key.toString()}`))
    })()
    await fixture.client.kv.put('w2/x', '1')
    await fixture.client.kv.delete('w2/x')
    const deadline = Date.now() + 10_000
    while (seen.length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    await deletesOnly.cancel()
    await iterating
    expect(seen).toEqual(['delete:w2/x'])
    expect(deletesOnly.done).toBe(true)
  })

  test('a watch from a compacted revision ends with WatchCompactedError carrying the compact revision', async () => {
    const old = await fixture.client.kv.put('w3/k', 'old')
    const latest = await fixture.client.kv.put('w3/k', 'new')
    await fixture.client.kv.compact(latest.header.revision, { physical: true })
    const outcome = await fixture.client
      .watch('w3/k', { startRevision: old.header.revision })
      .then(
        (watcher) => new Promise<Error | null>((resolve) => watcher.once('canceled', resolve)),
        (error: unknown) => error,
      )
    expect(outcome).toBeInstanceOf(WatchCompactedError)
    expect(outcome).toMatchObject({ code: 'COMPACTED', compactRevision: latest.header.revision })
  })

  test('a progress request is answered with the current revision', async () => {
    const watcher = await fixture.client.watch('w4/idle')
    const { header } = await fixture.client.kv.put('w4/other', 'x')
    const progress = new Promise<number>((resolve) => watcher.once('progress', (h) => resolve(h.revision)))
    expect(fixture.client.requestWatchProgress()).toBe(true)
    expect(await progress).toBeGreaterThanOrEqual(header.revision)
    await watcher.cancel()
  })

  test('a revision too large for one response arrives in fragments and is delivered as one batch', async () => {
    const value = (fill: number) => Buffer.alloc(400 * 1024, fill)
    const keys = ['w6/a', 'w6/b', 'w6/c']
    for (const key of keys) await fixture.client.kv.put(key, value(1))
    const watcher = await fixture.client.watch('w6/', { prefix: true, prevKv: true, fragment: true })
    const seen = collect(watcher)
    // 3 events with 400 KiB values and 400 KiB previous values: 2.4 MiB, above --max-request-bytes (1.5 MiB).
    await fixture.client.kv.txn({ success: keys.map((key) => ({ type: 'put' as const, key, value: value(2) })) })
    const events = await seen.until(3)
    expect(seen.batches).toHaveLength(1)
    expect(events.map((e) => e.kv.key.toString())).toEqual(keys)
    expect(events.every((e) => e.kv.value.equals(value(2)) && e.prevKv?.value.equals(value(1)))).toBe(true)
    await watcher.cancel()
  })

  test('resumes after the member is killed and restarted: no event lost or repeated', async () => {
    const watcher = await fixture.client.watch('w5/', { prefix: true })
    const seen = collect(watcher)
    let disconnects = 0
    watcher.on('disconnected', () => disconnects++)
    await fixture.client.kv.put('w5/a', '1')
    await seen.until(1)
    const process = fixture.etcd.members[0].process!
    const exited = new Promise((resolve) => process.once('exit', resolve))
    fixture.etcd.kill(0)
    await exited
    await fixture.etcd.restart(0)
    // A second client writes, so these puts do not depend on the watch stream having reconnected.
    const writer = new EtcdClient({ endpoints: [fixture.etcd.members[0].clientUrl] })
    try {
      await writer.kv.put('w5/b', '2')
      await writer.kv.put('w5/c', '3')
    } finally {
      writer.close()
    }
    const events = await seen.until(3, 20_000)
    expect(events.map((e) => e.kv.key.toString())).toEqual(['w5/a', 'w5/b', 'w5/c'])
    expect(disconnects).toBeGreaterThanOrEqual(1)
    expect(watcher.nextRevision).toBe(events[2].kv.modRevision + 1)
    await watcher.cancel()
  })
})
