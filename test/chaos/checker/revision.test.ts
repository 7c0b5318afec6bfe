import { describe, expect, it } from 'vitest'
import type { Request, TxnWrite } from '../history'
import { checkHistory } from './index'
import { ScriptedHistory } from './sim-history'

const put = (key: string, value: string, lease?: string): Request => ({ kind: 'put', key, value, lease })
const get = (key: string): Request => ({ kind: 'get', key, consistency: 'linearizable' })
const w = (key: string, value: string): TxnWrite => ({ type: 'put', key, value })
const txn = (success: TxnWrite[], expectVersion = 0, key = success[0].key): Request => ({ kind: 'txn', compares: [{ key, target: 'version', result: 'equal', operand: expectVersion }], success, failure: [] })
const codes = (report: ReturnType<typeof checkHistory>) => [...new Set(report.violations.map((v) => v.code))].sort()

describe('revision-witness checker', () => {
  it('accepts overlapping operations from several clients whose revisions respect real time', () => {
    const h = new ScriptedHistory()
    h.op(0, 0, 10, put('a', 'v1'), 5)
    h.op(1, 1, 4, get('a'), 2) // overlaps the put, linearized before it
    h.op(2, 3, 12, get('a'), 8) // overlaps the put, linearized after it
    h.op(1, 11, 13, txn([w('t1', 'v2'), w('t2', 'v3')]))
    h.op(0, 14, 15, get('t2'))
    const report = checkHistory(h.history(2))
    expect(report.violations).toEqual([])
    expect(report.linearizable).toBe('yes')
    expect(report.stats.logRevisions).toBe(2)
  })

  it('flags a stale read: a read invoked after revision 2 completed reports revision 1', () => {
    const h = new ScriptedHistory()
    const write = h.op(0, 0, 1, put('a', 'v1'))
    const stale = h.op(1, 2, 3, get('a'))
    Object.assign(stale, { response: { kind: 'get', revision: 1, kv: null } })
    const report = checkHistory(h.history())
    const violation = report.violations.find((v) => v.code === 'stale-read')
    expect(violation?.operations.map((o) => o.id)).toEqual([write.id, stale.id])
  })

  it('flags a revision going backwards for one client across a restart', () => {
    const h = new ScriptedHistory()
    h.op(0, 0, 1, put('a', 'v1'))
    h.op(0, 2, 3, put('a', 'v2'))
    const back = h.op(0, 4, 5, get('b'))
    Object.assign(back, { response: { kind: 'get', revision: 2, kv: null } })
    expect(codes(checkHistory(h.history()))).toContain('stale-read')
  })

  it('flags a lost write: acknowledged at a revision the change log does not hold', () => {
    const h = new ScriptedHistory()
    const lost = h.op(0, 0, 1, put('a', 'v1'))
    h.op(1, 2, 3, get('a'))
    const history = h.history()
    history.watches[0].segments[0].responses = []
    history.operations[1].response = { kind: 'get', revision: 2, kv: null }
    const report = checkHistory(history)
    expect(report.violations.find((v) => v.code === 'lost-write')?.operations).toEqual([lost])
  })

  it('flags a write that took effect at a revision below one completed before it was invoked', () => {
    const h = new ScriptedHistory()
    h.op(0, 0, 1, put('a', 'v1'))
    h.op(1, 2, 3, put('b', 'v2'))
    const history = h.history()
    // Swap the two revisions: the later write claims revision 2, the earlier one revision 3.
    const [first, second] = history.watches[0].segments[0].responses
    ;[first.events, second.events] = [second.events.map((e) => ({ ...e, kv: { ...e.kv, modRevision: 2, createRevision: 2 } })), first.events.map((e) => ({ ...e, kv: { ...e.kv, modRevision: 3, createRevision: 3 } }))]
    Object.assign(history.operations[0].response ?? {}, { revision: 3 })
    Object.assign(history.operations[1].response ?? {}, { revision: 2 })
    expect(codes(checkHistory(history))).toContain('revision-not-after-real-time')
  })

  it('flags a multi-key txn that is not atomic in the log (only one of its two puts at its revision)', () => {
    const h = new ScriptedHistory()
    h.op(0, 0, 1, txn([w('t1', 'v1'), w('t2', 'v2')]))
    const history = h.history()
    const response = history.watches[0].segments[0].responses[0]
    response.events = response.events.slice(0, 1)
    expect(codes(checkHistory(history))).toContain('wrong-effects')
  })

  it('flags a read that sees half of a multi-key txn', () => {
    const h = new ScriptedHistory()
    h.op(0, 0, 1, txn([w('t1', 'v1'), w('t2', 'v2')]))
    const half = h.op(1, 2, 3, get('t2'))
    Object.assign(half, { response: { kind: 'get', revision: 2, kv: null } })
    const violation = checkHistory(h.history()).violations.find((v) => v.code === 'read-mismatch')
    expect(violation?.operations.map((o) => o.id)).toEqual([0, half.id])
  })

  it('flags a txn whose reported outcome disagrees with its compares at its revision', () => {
    const h = new ScriptedHistory()
    h.op(0, 0, 1, put('t1', 'v1'))
    const cas = h.op(0, 2, 3, txn([w('t1', 'v2')], 0)) // version is 1, so it fails...
    Object.assign(cas, { response: { kind: 'txn', revision: 2, succeeded: true } }) // ...but claims success
    expect(codes(checkHistory(h.history()))).toContain('txn-outcome-mismatch')
  })

  it('flags a write applied twice (a retried put) and a value nobody wrote', () => {
    const h = new ScriptedHistory()
    h.op(0, 0, 1, put('a', 'v1'))
    const history = h.history()
    const [response] = history.watches[0].segments[0].responses
    const again = { ...response, events: response.events.map((e) => ({ ...e, kv: { ...e.kv, modRevision: 3, version: 2 }, prevKv: e.kv })) }
    const phantom = { ...response, events: response.events.map((e) => ({ ...e, kv: { ...e.kv, value: 'ghost', modRevision: 4, version: 3 }, prevKv: again.events[0].kv })) }
    history.watches[0].segments[0].responses.push(again, phantom)
    history.finalRevision = 4
    expect(codes(checkHistory(history))).toEqual(expect.arrayContaining(['duplicate-write', 'phantom-write']))
  })

  it('flags a wrong prev_kv in a put response', () => {
    const h = new ScriptedHistory()
    h.op(0, 0, 1, put('a', 'v1'))
    const second = h.op(0, 2, 3, put('a', 'v2'))
    Object.assign(second, { response: { kind: 'put', revision: 3, prevKv: null } })
    expect(codes(checkHistory(h.history()))).toContain('prev-kv-mismatch')
  })

  it('accepts an unknown write that took effect, and one that did not', () => {
    const h = new ScriptedHistory()
    h.unknown(0, 0, put('a', 'v1'), true, 3)
    h.unknown(1, 1, put('a', 'v2'), false)
    h.op(2, 4, 5, get('a'))
    h.unknown(2, 6, { kind: 'delete', key: 'a' }, true, 7)
    h.op(0, 8, 9, get('a'))
    expect(checkHistory(h.history()).violations).toEqual([])
  })
})

describe('lease expiry check', () => {
  it('accepts keys that expire after the TTL and keys removed by an acknowledged revoke', () => {
    const h = new ScriptedHistory()
    const grant = h.op(0, 0, 1, { kind: 'leaseGrant', ttlSeconds: 1 })
    const leaseId = grant.response?.kind === 'leaseGrant' ? grant.response.leaseId : ''
    h.op(0, 2, 3, put('lease/a', 'v1', leaseId))
    h.op(0, 500, 501, { kind: 'leaseKeepAlive', leaseId })
    h.op(1, 1600, 1601, get('x'), 1600) // expiry happens here (deadline 1500)
    const grant2 = h.op(0, 1700, 1701, { kind: 'leaseGrant', ttlSeconds: 100 })
    const leaseId2 = grant2.response?.kind === 'leaseGrant' ? grant2.response.leaseId : ''
    h.op(0, 1702, 1703, put('lease/b', 'v2', leaseId2))
    h.op(0, 1704, 1705, { kind: 'leaseRevoke', leaseId: leaseId2 })
    const report = checkHistory(h.history())
    expect(report.violations).toEqual([])
    expect(report.stats.leaseExpiries).toBe(1)
  })

  it('blames a revoke answered with a later revision for the header, not the lease (the Quorum pause-leader seed 11 case)', () => {
    const h = new ScriptedHistory()
    const grant = h.op(0, 0, 1, { kind: 'leaseGrant', ttlSeconds: 3 })
    const leaseId = grant.response?.kind === 'leaseGrant' ? grant.response.leaseId : ''
    h.op(0, 2, 3, put('lease/a', 'v1', leaseId))
    const revoke = h.op(0, 10, 20, { kind: 'leaseRevoke', leaseId }) // deletes lease/a at revision 3
    h.op(1, 11, 20, put('b', 'v2')) // applied in the same batch, at revision 4
    Object.assign(revoke, { response: { kind: 'leaseRevoke', revision: 4 } }) // the header the old server sent
    const report = checkHistory(h.history())
    expect(report.violations.map((v) => v.code)).toEqual(['wrong-effects'])
    expect(report.violations[0].message).toMatch(/acknowledged with revision 4 but took effect at revision 3/)
    expect(report.stats.leaseExpiries).toBe(0)
  })

  it('flags a key that disappears before TTL elapsed since the last keep-alive', () => {
    const h = new ScriptedHistory()
    const grant = h.op(0, 0, 1, { kind: 'leaseGrant', ttlSeconds: 2 })
    const leaseId = grant.response?.kind === 'leaseGrant' ? grant.response.leaseId : ''
    h.op(0, 2, 3, put('lease/a', 'v1', leaseId))
    const keepAlive = h.op(0, 1000, 1001, { kind: 'leaseKeepAlive', leaseId })
    h.store.leases.get(leaseId)!.deadline = 1500 // the faulty server forgets the keep-alive
    h.op(1, 1600, 1601, get('lease/a'), 1600)
    const violation = checkHistory(h.history()).violations.find((v) => v.code === 'lease-expired-early')
    // First observed by the watcher at 1600.5, less than 2 s after the keep-alive was sent at 1000.
    expect(violation?.operations.map((o) => o.id)).toEqual([keepAlive.id])
    expect(violation?.message).toMatch(/observed 1400 ms before/)
  })
})
