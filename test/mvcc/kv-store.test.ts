// MVCC behaviour from etcd's documentation and sources (kvstore_test.go, apply.go), on the in-memory backend.
import { describe, expect, it } from 'vitest'
import { prefixRangeEnd } from '../../core/mvcc/bytes'
import { KvStore } from '../../core/mvcc/kv-store'
import { MemoryBackend } from '../../core/mvcc/memory-backend'
import { checkTxnRequest } from '../../core/mvcc/txn-check'
import type { KeyValue, RequestOp } from '../../core/mvcc/types'
import { codeOf } from '../support/error-code'

const b = (s: string) => Buffer.from(s, 'latin1')

function setup() {
  const backend = new MemoryBackend()
  const kv = new KvStore(backend)
  const tx = backend.writer()
  return {
    backend,
    kv,
    put: (key: string, value = 'v', lease = 0n) => kv.put(tx, { key: b(key), value: b(value), lease }),
    del: (key: string, rangeEnd?: string) => kv.deleteRange(tx, { key: b(key), rangeEnd: rangeEnd === undefined ? undefined : b(rangeEnd), prevKv: true }),
    keys: (kvs: KeyValue[]) => kvs.map((x) => x.key.toString('latin1')),
  }
}

describe('revisions', () => {
  it('an empty store is at revision 1 and the first write gets revision 2', () => {
    const s = setup()
    expect(s.kv.rev()).toBe(1)
    expect(s.put('foo').revision).toBe(2)
    expect(s.kv.range({ key: b('foo') }).kvs[0]).toMatchObject({ createRevision: 2, modRevision: 2, version: 1 })
  })

  it('updates keep create_revision and bump version and mod_revision', () => {
    const s = setup()
    s.put('foo', 'a')
    s.put('foo', 'b')
    expect(s.kv.range({ key: b('foo') }).kvs[0]).toMatchObject({ createRevision: 2, modRevision: 3, version: 2, value: b('b') })
  })

  it('deleting a missing key keeps the revision (etcd compat)', () => {
    const s = setup()
    s.put('foo')
    expect(s.del('nothing')).toEqual({ revision: 2, deleted: 0, prevKvs: [] })
    expect(s.kv.rev()).toBe(2)
  })

  it('a delete closes the generation: a re-put starts at version 1 with a new create_revision', () => {
    const s = setup()
    s.put('foo', 'a')
    s.put('foo', 'b')
    const del = s.del('foo')
    expect(del.revision).toBe(4)
    expect(del.deleted).toBe(1)
    expect(del.prevKvs.map((x) => x.value.toString())).toEqual(['b'])
    s.put('foo', 'c')
    expect(s.kv.range({ key: b('foo') }).kvs[0]).toMatchObject({ createRevision: 5, modRevision: 5, version: 1 })
    // history is still readable at each revision
    expect(s.kv.range({ key: b('foo'), revision: 3 }).kvs[0]).toMatchObject({ value: b('b'), version: 2 })
    expect(s.kv.range({ key: b('foo'), revision: 4 }).kvs).toEqual([])
  })
})

describe('range', () => {
  it('limit returns the first keys, more=true, and count of the whole range', () => {
    const s = setup()
    for (const k of ['a', 'b', 'c', 'd', 'e']) s.put(k)
    const r = s.kv.range({ key: b('a'), rangeEnd: b('z'), limit: 2 })
    expect(s.keys(r.kvs)).toEqual(['a', 'b'])
    expect(r.more).toBe(true)
    expect(r.count).toBe(5)
    expect(s.kv.range({ key: b('a'), rangeEnd: b('z'), limit: 5 }).more).toBe(false)
    expect(s.kv.range({ key: b('a'), rangeEnd: b('z'), limit: -1 }).kvs).toHaveLength(5)
  })

  it('keys are ordered by raw bytes; prefix and from-key ranges handle 0x00 and 0xff', () => {
    const s = setup()
    for (const k of ['\x00', 'a', 'a\xff', 'a\xff\xff', 'b', '\xff', '\xff\xff']) s.put(k)
    expect(s.keys(s.kv.range({ key: b('a'), rangeEnd: prefixRangeEnd(b('a')) }).kvs)).toEqual(['a', 'a\xff', 'a\xff\xff'])
    expect(s.keys(s.kv.range({ key: b('a\xff'), rangeEnd: prefixRangeEnd(b('a\xff')) }).kvs)).toEqual(['a\xff', 'a\xff\xff'])
    expect(s.keys(s.kv.range({ key: b('\xff'), rangeEnd: prefixRangeEnd(b('\xff')) }).kvs)).toEqual(['\xff', '\xff\xff'])
    expect(s.keys(s.kv.range({ key: b('b'), rangeEnd: b('\x00') }).kvs)).toEqual(['b', '\xff', '\xff\xff'])
    expect(s.kv.range({ key: b('\x00'), rangeEnd: b('\x00') }).count).toBe(7)
    // range_end < key: empty
    expect(s.kv.range({ key: b('b'), rangeEnd: b('a') }).kvs).toEqual([])
  })

  it('count_only, keys_only and the mod/create revision filters', () => {
    const s = setup()
    s.put('a') // 2
    s.put('b') // 3
    s.put('c') // 4
    s.put('a', 'again') // 5
    const all = { key: b('a'), rangeEnd: b('z') }
    expect(s.kv.range({ ...all, countOnly: true })).toEqual({ revision: 5, kvs: [], more: false, count: 3 })
    expect(s.kv.range({ ...all, keysOnly: true }).kvs.every((x) => x.value.length === 0)).toBe(true)
    expect(s.keys(s.kv.range({ ...all, minModRevision: 4 }).kvs)).toEqual(['a', 'c'])
    expect(s.keys(s.kv.range({ ...all, maxModRevision: 3 }).kvs)).toEqual(['b'])
    expect(s.keys(s.kv.range({ ...all, minCreateRevision: 3 }).kvs)).toEqual(['b', 'c'])
    expect(s.keys(s.kv.range({ ...all, maxCreateRevision: 2 }).kvs)).toEqual(['a'])
    // the count is of the range, before filtering
    expect(s.kv.range({ ...all, maxCreateRevision: 2 }).count).toBe(3)
  })

  it('sort by target and order; a non-KEY target with order NONE sorts ascending', () => {
    const s = setup()
    s.put('a', '3')
    s.put('b', '1')
    s.put('c', '2')
    s.put('b', '4')
    const all = { key: b('a'), rangeEnd: b('z') }
    expect(s.keys(s.kv.range({ ...all, sortTarget: 'VALUE', sortOrder: 'DESCEND' }).kvs)).toEqual(['b', 'a', 'c'])
    expect(s.keys(s.kv.range({ ...all, sortTarget: 'MOD' }).kvs)).toEqual(['a', 'c', 'b'])
    expect(s.keys(s.kv.range({ ...all, sortTarget: 'KEY', sortOrder: 'DESCEND', limit: 2 }).kvs)).toEqual(['c', 'b'])
    // ties keep key order
    expect(s.keys(s.kv.range({ ...all, sortTarget: 'VERSION', sortOrder: 'DESCEND' }).kvs)).toEqual(['b', 'a', 'c'])
  })
})

describe('compaction', () => {
  it('reads below the compacted revision fail, at or above it succeed; future revisions fail', () => {
    const s = setup()
    s.put('foo', 'a') // 2
    s.put('foo', 'b') // 3
    s.put('bar', 'c') // 4
    s.kv.compact(s.backend.writer(), 3)
    expect(codeOf(() => s.kv.range({ key: b('foo'), revision: 2 }))).toBe('MVCC_COMPACTED')
    expect(s.kv.range({ key: b('foo'), revision: 3 }).kvs[0].value).toEqual(b('b'))
    expect(codeOf(() => s.kv.range({ key: b('foo'), revision: 5 }))).toBe('MVCC_FUTURE_REV')
    expect(codeOf(() => s.kv.compact(s.backend.writer(), 3))).toBe('MVCC_COMPACTED')
    expect(codeOf(() => s.kv.compact(s.backend.writer(), 9))).toBe('MVCC_FUTURE_REV')
    // the superseded revision 2 is gone from the backend; 3 and 4 stay
    expect(s.backend.rangeRecords(0, 10, 0).map((r) => r.main)).toEqual([3, 4])
  })

  it('a key deleted before the compaction point disappears from the backend entirely', () => {
    const s = setup()
    s.put('gone') // 2
    s.del('gone') // 3
    s.put('kept') // 4
    s.kv.compact(s.backend.writer(), 4)
    expect(s.backend.rangeRecords(0, 10, 0).map((r) => r.kv.key.toString())).toEqual(['kept'])
    expect(s.kv.range({ key: b('a'), rangeEnd: b('z') }).count).toBe(1)
  })

  it('a store reopened over the same backend has the same state and hashes', () => {
    const s = setup()
    for (let i = 0; i < 20; i++) s.put(`k${i % 7}`, `v${i}`)
    s.del('k3')
    s.kv.compact(s.backend.writer(), 10)
    s.put('k3', 'back')
    const reopened = new KvStore(s.backend)
    expect(reopened.rev()).toBe(s.kv.rev())
    expect(reopened.compactRevision()).toBe(10)
    const all = { key: b('\x00'), rangeEnd: b('\x00') }
    expect(reopened.range(all)).toEqual(s.kv.range(all))
    expect(reopened.range({ ...all, revision: 12 })).toEqual(s.kv.range({ ...all, revision: 12 }))
    expect(reopened.hashKv(0)).toEqual(s.kv.hashKv(0))
    expect(reopened.hash()).toBe(s.kv.hash())
  })
})

describe('key count', () => {
  it('keyCount() follows puts, deletes (single, range, in txns), compactions and a reopen, as a full count-only range does', () => {
    const s = setup()
    const all = { key: b('\x00'), rangeEnd: b('\x00'), countOnly: true }
    let seed = 7
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const tx = s.backend.writer()
    for (let step = 0; step < 600; step++) {
      const key = `k${random(40)}`
      const dice = random(10)
      if (dice < 6) s.put(key, `v${step}`)
      else if (dice < 8) s.del(key)
      else if (dice < 9) s.del(`k${random(10)}`, `k${random(10) + 20}`)
      else s.kv.txn(tx, { compare: [], success: [{ requestDeleteRange: { key: b(key) } }, { requestPut: { key: b(`${key}x`), value: b('t'), lease: 0n } }], failure: [] })
      if (step % 150 === 149) s.kv.compact(s.backend.writer(), s.kv.rev())
      expect(s.kv.keyCount(), `step ${step}`).toBe(s.kv.range(all).count)
    }
    expect(s.kv.keyCount()).toBeGreaterThan(0)
    expect(new KvStore(s.backend).keyCount()).toBe(s.kv.keyCount())
  })
})

describe('txn', () => {
  it('a read-only txn keeps the revision; a write txn uses one revision for all its changes', () => {
    const s = setup()
    s.put('a', '1')
    const tx = s.backend.writer()
    const ro = s.kv.txn(tx, { compare: [], success: [{ requestRange: { key: b('a') } }], failure: [] })
    expect(ro.revision).toBe(2)
    const rw = s.kv.txn(tx, {
      compare: [{ key: b('a'), target: 'VALUE', result: 'EQUAL', value: b('1') }],
      success: [
        { requestPut: { key: b('x'), value: b('1') } },
        { requestPut: { key: b('y'), value: b('2') } },
        { requestRange: { key: b('x') } },
        { requestDeleteRange: { key: b('a') } },
      ],
      failure: [],
    })
    expect(rw.succeeded).toBe(true)
    expect(rw.revision).toBe(3)
    const range = rw.responses[2] as { responseRange: { kvs: KeyValue[]; revision: number } }
    expect(range.responseRange.revision).toBe(3)
    expect(range.responseRange.kvs[0]).toMatchObject({ modRevision: 3, value: b('1') })
    expect(s.backend.rangeRecords(3, 4, 0).map((r) => [r.main, r.sub, r.tombstone])).toEqual([
      [3, 0, false],
      [3, 1, false],
      [3, 2, true],
    ])
  })

  it('comparing the value of a missing key fails; other targets compare against zero', () => {
    const s = setup()
    const tx = s.backend.writer()
    const run = (compare: Parameters<KvStore['txn']>[1]['compare']) => s.kv.txn(tx, { compare, success: [], failure: [] }).succeeded
    expect(run([{ key: b('none'), target: 'VALUE', result: 'EQUAL', value: b('') }])).toBe(false)
    expect(run([{ key: b('none'), target: 'VALUE', result: 'NOT_EQUAL', value: b('x') }])).toBe(false)
    expect(run([{ key: b('none'), target: 'VERSION', result: 'EQUAL', version: 0 }])).toBe(true)
    expect(run([{ key: b('none'), target: 'CREATE', result: 'LESS', createRevision: 1 }])).toBe(true)
    s.put('a', '5')
    s.put('b', '7')
    // a range compare must hold for every key in the range
    expect(run([{ key: b('a'), rangeEnd: b('c'), target: 'VALUE', result: 'GREATER', value: b('4') }])).toBe(true)
    expect(run([{ key: b('a'), rangeEnd: b('c'), target: 'VALUE', result: 'GREATER', value: b('6') }])).toBe(false)
    expect(run([{ key: b('a'), target: 'LEASE', result: 'EQUAL', lease: 0n }])).toBe(true)
  })

  it('nested txn compares see the state before the outer txn', () => {
    const s = setup()
    const tx = s.backend.writer()
    const resp = s.kv.txn(tx, {
      compare: [],
      success: [
        { requestPut: { key: b('k'), value: b('new') } },
        {
          requestTxn: {
            compare: [{ key: b('k'), target: 'VERSION', result: 'EQUAL', version: 0 }],
            success: [{ requestPut: { key: b('nested'), value: b('yes') } }],
            failure: [],
          },
        },
      ],
      failure: [],
    })
    const nested = resp.responses[1] as { responseTxn: { succeeded: boolean; revision: number } }
    expect(nested.responseTxn.succeeded).toBe(true)
    expect(nested.responseTxn.revision).toBe(0)
    expect(s.kv.range({ key: b('nested') }).count).toBe(1)
  })

  it('ignore_value on a missing key fails the whole txn before any change', () => {
    const s = setup()
    const tx = s.backend.writer()
    expect(
      codeOf(() =>
        s.kv.txn(tx, {
          compare: [],
          success: [{ requestPut: { key: b('a'), value: b('1') } }, { requestPut: { key: b('missing'), ignoreValue: true } }],
          failure: [],
        }),
      ),
    ).toBe('KEY_NOT_FOUND')
    expect(s.kv.rev()).toBe(1)
    expect(codeOf(() => s.kv.put(tx, { key: b('x'), value: b('1'), lease: 42n }))).toBe('LEASE_NOT_FOUND')
  })

  it('the duplicate key rule: a key put twice, or put and deleted, in paths that can run together', () => {
    const put = (k: string): RequestOp => ({ requestPut: { key: b(k), value: b('v') } })
    const del = (k: string, end?: string): RequestOp => ({ requestDeleteRange: { key: b(k), rangeEnd: end === undefined ? undefined : b(end) } })
    const txn = (success: RequestOp[], failure: RequestOp[] = []): RequestOp => ({ requestTxn: { compare: [], success, failure } })
    const check = (success: RequestOp[]) => codeOf(() => checkTxnRequest({ compare: [], success, failure: [] }))
    expect(check([put('a'), put('a')])).toBe('DUPLICATE_KEY')
    expect(check([del('a', 'c'), put('b')])).toBe('DUPLICATE_KEY')
    expect(check([del('a'), txn([put('a')])])).toBe('DUPLICATE_KEY')
    expect(check([txn([put('a')]), txn([put('a')])])).toBe('DUPLICATE_KEY')
    // then/else of one nested txn are exclusive
    expect(check([txn([put('a')], [put('a')])])).toBeUndefined()
    // etcd quirk: a "from key" delete (range_end \0) does not conflict with puts
    expect(check([del('a', '\x00'), put('b')])).toBeUndefined()
    expect(check([put('a'), put('b'), del('c')])).toBeUndefined()
    expect(codeOf(() => checkTxnRequest({ compare: [], success: Array.from({ length: 129 }, (_, i) => put(`k${i}`)), failure: [] }))).toBe('TOO_MANY_OPS')
  })
})

describe('hash', () => {
  it('HashKV is equal for equal histories and differs when one value differs', () => {
    const a = setup()
    const c = setup()
    const d = setup()
    for (const s of [a, c, d]) {
      s.put('x', '1')
      s.put('y', '2')
      s.del('x')
    }
    d.put('z', 'different')
    a.put('z', 'same')
    c.put('z', 'same')
    expect(a.kv.hashKv(0).hash).toBe(c.kv.hashKv(0).hash)
    expect(a.kv.hashKv(0).hash).not.toBe(d.kv.hashKv(0).hash)
    // at an older revision they agree again
    expect(a.kv.hashKv(4).hash).toBe(d.kv.hashKv(4).hash)
    expect(codeOf(() => a.kv.hashKv(99))).toBe('MVCC_FUTURE_REV')
  })
})
