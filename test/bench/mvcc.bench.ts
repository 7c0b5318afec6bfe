// MVCC benchmark (npm run bench:mvcc): puts/s batched per SQLite transaction, range over 1M keys, watch
// fan-out to 1,000 watchers. Prints figures; asserts nothing about speed. Runs in well under 2 minutes.
import { openMvcc } from '../../core/mvcc/mvcc'
import { MemberDb } from '../../core/storage/member-db'
import { setAppliedIndex } from '../../core/storage/metadata'
import { FakeClock } from '../../core/util/clock'
import { tempDir } from '../support/temp-dir'

const RANGE_KEYS = Number(process.env.BENCH_RANGE_KEYS ?? 1_000_000)

let lastCpuMs = 0

/** Runs fn; returns its result and wall-clock ms (CPU ms of this process go to lastCpuMs). */
function time<T>(fn: () => T): [T, number] {
  const start = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  const result = fn()
  const used = process.cpuUsage(cpu)
  lastCpuMs = (used.user + used.system) / 1000
  return [result, Number(process.hrtime.bigint() - start) / 1e6]
}

/** " (cpu N ms)": on a shared machine wall time includes waiting for a core. */
function cpu(): string {
  return ` (cpu ${fmt(lastCpuMs)} ms)`
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

function open() {
  const dir = tempDir('quorum-bench-')
  const db = MemberDb.open({ dataDir: dir.path })
  const mvcc = openMvcc(db, { clock: new FakeClock() })
  return { dir, db, mvcc, close: () => (db.close(), dir.remove()) }
}

function benchPuts(): void {
  console.log('\n== puts, one revision per put, N puts per SQLite transaction (WAL, synchronous=FULL) ==')
  const value = Buffer.alloc(256, 0x61)
  for (const [batch, total] of [
    [1, 200],
    [10, 2_000],
    [100, 20_000],
    [1000, 50_000],
  ]) {
    const m = open()
    let applied = 0
    const [, ms] = time(() => {
      for (let i = 0; i < total; i += batch) {
        m.db.transaction((tx) => {
          for (let j = 0; j < batch; j++) m.mvcc.kv.put(tx, { key: Buffer.from(`key-${(i + j) % 10_000}`), value })
          setAppliedIndex(tx, ++applied)
        })
      }
    })
    console.log(`batch ${String(batch).padStart(4)}: ${fmt((total / ms) * 1000).padStart(9)} puts/s  (${fmt(total)} puts in ${fmt(ms)} ms${cpu()})`)
    m.close()
  }
}

function benchRange(): void {
  console.log(`\n== range over ${fmt(RANGE_KEYS)} keys (SQLite backend) ==`)
  const m = open()
  const value = Buffer.alloc(64, 0x62)
  const [, loadMs] = time(() => {
    for (let i = 0; i < RANGE_KEYS; i += 10_000) {
      m.db.transaction((tx) => {
        const txn = m.mvcc.kv.write(tx)
        for (let j = i; j < Math.min(i + 10_000, RANGE_KEYS); j++) txn.put(Buffer.from(`key-${String(j).padStart(8, '0')}`), value, 0n)
        txn.end()
      })
    }
  })
  console.log(`load: ${fmt(loadMs)} ms${cpu()}, ${fmt((RANGE_KEYS / loadMs) * 1000)} keys/s, 10,000 keys per txn`)
  const all = { key: Buffer.from('key-'), rangeEnd: Buffer.from('key.') }
  const [count, countMs] = time(() => m.mvcc.kv.range({ ...all, countOnly: true }).count)
  console.log(`count_only over all keys: ${fmt(countMs)} ms${cpu()} (count ${fmt(count)})`)
  const [limited, limitMs] = time(() => m.mvcc.kv.range({ ...all, limit: 1000 }))
  console.log(`limit 1000 (with count): ${fmt(limitMs)} ms${cpu()} (${limited.kvs.length} kvs, more=${limited.more})`)
  const midKey = (n: number) => Buffer.from(`key-${String(n).padStart(8, '0')}`)
  const [mid, midMs] = time(() => m.mvcc.kv.range({ key: midKey(RANGE_KEYS / 2), rangeEnd: midKey(RANGE_KEYS / 2 + 100) }))
  console.log(`100-key slice in the middle: ${fmt(midMs)} ms${cpu()} (${mid.kvs.length} kvs)`)
  const [full, fullMs] = time(() => m.mvcc.kv.range(all))
  console.log(`full range (values read from SQLite): ${fmt(fullMs)} ms${cpu()}, ${fmt(full.kvs.length)} kvs, ${fmt((full.kvs.length / fullMs) * 1000)} kvs/s`)
  const [, reopenMs] = time(() => openMvcc(m.db, { clock: new FakeClock() }))
  console.log(`restore (rebuild key index from SQLite): ${fmt(reopenMs)} ms${cpu()}`)
  console.log(`database size: ${fmt(m.db.sizeBytes() / 1024 / 1024)} MiB, heap used: ${fmt(process.memoryUsage().heapUsed / 1024 / 1024)} MiB`)
  m.close()
}

function benchWatch(): void {
  console.log('\n== watch fan-out: 1,000 watchers on one key (100 streams x 10), 1,000 puts ==')
  const m = open()
  const streams = Array.from({ length: 100 }, () => m.mvcc.watchable.newWatchStream())
  for (const s of streams) for (let i = 0; i < 10; i++) s.watch({ key: Buffer.from('hot') })
  let delivered = 0
  const puts = 1000
  const value = Buffer.alloc(128, 0x63)
  const drain = (list: typeof streams) => {
    for (const s of list) for (const r of s.poll()) delivered += r.events.length
  }
  const [, ms] = time(() => {
    // one revision per put, 100 puts per SQLite transaction; the "server" drains every stream after each put
    for (let i = 0; i < puts; i += 100) {
      m.db.transaction((tx) => {
        for (let j = 0; j < 100; j++) {
          m.mvcc.kv.put(tx, { key: Buffer.from('hot'), value })
          drain(streams)
        }
      })
    }
  })
  console.log(`${fmt(delivered)} events delivered in ${fmt(ms)} ms${cpu()}: ${fmt((delivered / ms) * 1000)} events/s, ${fmt((puts / ms) * 1000)} puts/s with 1,000 watchers`)
  // a slow half: 50 streams (500 watchers) do not read while 2,000 more puts happen, then catch up
  delivered = 0
  const [, slowMs] = time(() => {
    for (let i = 0; i < 2000; i += 100) {
      m.db.transaction((tx) => {
        for (let j = 0; j < 100; j++) {
          m.mvcc.kv.put(tx, { key: Buffer.from('hot'), value })
          drain(streams.slice(0, 50))
        }
      })
    }
  })
  console.log(`2,000 puts while 500 of the watchers do not read: ${fmt(slowMs)} ms${cpu()} (writes never wait; ${fmt(delivered)} events to the readers)`)
  delivered = 0
  const [rounds, catchMs] = time(() => {
    let n = 0
    while (m.mvcc.watchable.pendingCount() > 0 && n < 1000) {
      drain(streams.slice(50))
      m.mvcc.watchable.syncVictims()
      m.mvcc.watchable.syncWatchers()
      n++
    }
    drain(streams.slice(50))
    return n
  })
  console.log(`slow watchers caught up in ${rounds} sync rounds, ${fmt(catchMs)} ms${cpu()}: ${fmt(delivered)} events (expected ${fmt(500 * 2000)})`)
  m.close()
}

const [, totalMs] = time(() => {
  benchPuts()
  benchWatch()
  benchRange()
})
console.log(`\ntotal ${fmt(totalMs / 1000)} s`)
