import { describe, expect, it } from 'vitest'
import type { Operation, Request } from '../history'
import { checkKeyLinearizable, searchLinearization, type SearchOp } from './wgl'

let nextId = 0
function op(call: number, ret: number, request: Request, result?: Partial<Operation>): Operation {
  return { id: nextId++, clientId: nextId, call, return: ret, request, outcome: 'ok', ...result }
}
const get = (value: string | null, version: number) =>
  ({ kind: 'get', revision: 1, kv: value === null ? null : { key: 'k', value, createRevision: 2, modRevision: 2, version, lease: '0' } }) as const
const prevKv = (value: string | null, version: number) => (value === null ? null : { key: 'k', value, createRevision: 2, modRevision: 2, version, lease: '0' })
const put = (value: string, prev: string | null, prevVersion: number, call: number, ret: number) =>
  op(call, ret, { kind: 'put', key: 'k', value }, { response: { kind: 'put', revision: 2, prevKv: prevKv(prev, prevVersion) } })
const read = (value: string | null, version: number, call: number, ret: number, consistency: 'linearizable' | 'serializable' = 'linearizable') =>
  op(call, ret, { kind: 'get', key: 'k', consistency }, { response: get(value, version) })

describe('per-key WGL linearizability search', () => {
  it('accepts a read that overlaps a write and already sees it (linearization point inside the interval)', () => {
    const ops = [put('a', null, 0, 0, 10), read('a', 1, 2, 5), read(null, 0, 1, 3)]
    expect(checkKeyLinearizable('k', ops).verdict).toBe('ok')
  })

  it('accepts concurrent writes whose order is decided by what later reads saw', () => {
    const ops = [put('a', 'b', 1, 0, 10), put('b', null, 0, 1, 9), read('a', 2, 11, 12)]
    expect(checkKeyLinearizable('k', ops).verdict).toBe('ok')
  })

  it('rejects a stale read: a read invoked after a write completed does not see it', () => {
    const ops = [put('a', null, 0, 0, 1), read(null, 0, 2, 3)]
    const result = checkKeyLinearizable('k', ops)
    expect(result.verdict).toBe('illegal')
    expect(result.violation?.code).toBe('not-linearizable')
    expect(result.violation?.operations.map((o) => o.id)).toEqual(ops.map((o) => o.id))
  })

  it('rejects a lost write: an acknowledged value disappears without a delete', () => {
    const ops = [put('a', null, 0, 0, 1), read('a', 1, 2, 3), put('b', 'a', 1, 4, 5), read('a', 1, 6, 7)]
    const result = checkKeyLinearizable('k', ops)
    expect(result.verdict).toBe('illegal')
    // The culprit is the last read: the prefix up to the second put is still linearizable.
    expect(result.violation?.operations.at(-1)?.id).toBe(ops[3].id)
  })

  it('rejects a version that goes backwards even when the value matches', () => {
    const ops = [put('a', null, 0, 0, 1), read('a', 2, 2, 3)]
    expect(checkKeyLinearizable('k', ops).verdict).toBe('illegal')
  })

  it('treats a write with unknown outcome as possibly applied at any later time, or never', () => {
    const unknownPut = op(0, Infinity, { kind: 'put', key: 'k', value: 'a' }, { outcome: 'unknown' })
    expect(checkKeyLinearizable('k', [unknownPut, read(null, 0, 1, 2), read('a', 1, 50, 51)]).verdict).toBe('ok')
    expect(checkKeyLinearizable('k', [unknownPut, read(null, 0, 1, 2)]).verdict).toBe('ok')
    // ...but once seen it cannot be unseen.
    expect(checkKeyLinearizable('k', [unknownPut, read('a', 1, 1, 2), read(null, 0, 3, 4)]).verdict).toBe('illegal')
  })

  it('checks CAS outcomes against the value at their linearization point', () => {
    const cas = (expected: string, value: string, succeeded: boolean, call: number, ret: number) =>
      op(call, ret, { kind: 'txn', compares: [{ key: 'k', target: 'value', result: 'equal', operand: expected }], success: [{ type: 'put', key: 'k', value }], failure: [] }, { response: { kind: 'txn', revision: 3, succeeded } })
    expect(checkKeyLinearizable('k', [put('a', null, 0, 0, 1), cas('a', 'b', true, 2, 3), read('b', 2, 4, 5)]).verdict).toBe('ok')
    expect(checkKeyLinearizable('k', [put('a', null, 0, 0, 1), cas('a', 'b', false, 2, 3)]).verdict).toBe('illegal')
    // Two CAS from the same expected value cannot both succeed.
    expect(checkKeyLinearizable('k', [put('a', null, 0, 0, 1), cas('a', 'b', true, 2, 5), cas('a', 'c', true, 3, 6)]).verdict).toBe('illegal')
  })

  it('checks delete counts: deleting an existing key reports 1, a missing one 0', () => {
    const del = (deleted: number, call: number, ret: number) => op(call, ret, { kind: 'delete', key: 'k' }, { response: { kind: 'delete', revision: 3, deleted, prevKv: null } })
    expect(checkKeyLinearizable('k', [put('a', null, 0, 0, 1), del(1, 2, 3), read(null, 0, 4, 5)]).verdict).toBe('ok')
    expect(checkKeyLinearizable('k', [put('a', null, 0, 0, 1), del(0, 2, 3)]).verdict).toBe('illegal')
  })

  it('ignores serializable reads (they may be stale by contract)', () => {
    expect(checkKeyLinearizable('k', [put('a', null, 0, 0, 1), read(null, 0, 2, 3, 'serializable')]).verdict).toBe('ok')
  })

  it('answers unknown, never ok, when the step budget runs out', () => {
    // Twelve concurrent puts whose prev_kv chain allows one order only, listed backwards: the search must try
    // each candidate at each depth, far more than 10 steps.
    const ops: SearchOp[] = Array.from({ length: 12 }, (_, j) => {
      const i = 11 - j
      return { call: 0, ret: 100, step: { f: 'put', value: `v${i}`, prev: i === 0 ? { value: null, version: 0 } : { value: `v${i - 1}`, version: i } } }
    })
    expect(searchLinearization(ops, 10).verdict).toBe('unknown')
    expect(searchLinearization(ops).verdict).toBe('ok')
  })
})
