import { describe, expect, it } from 'vitest'
import type { Request } from '../history'
import { buildChangeLog } from './change-log'
import { checkHistory } from './index'
import { patchUnknownWrites } from './patch'
import { ScriptedHistory } from './sim-history'

const put = (key: string, value: string): Request => ({ kind: 'put', key, value })
const get = (key: string): Request => ({ kind: 'get', key, consistency: 'linearizable' })

describe('unknown writes narrowed by the change log (etcd patchHistory)', () => {
  it('drops an unknown put whose value never reached the log, and closes one that did at its first observation', () => {
    const h = new ScriptedHistory()
    const lost = h.unknown(0, 0, put('a', 'never'), false)
    const applied = h.unknown(1, 1, put('a', 'v1'), true, 5)
    const reader = h.op(2, 6, 9, get('a'), 7)
    const history = h.history()
    const patched = patchUnknownWrites(history, buildChangeLog(history).log)
    expect(patched[lost.id].outcome).toBe('failed')
    // Revision 2 (the put) is first seen by the watcher right after 5, before the read returns at 9.
    expect(patched[applied.id].return).toBe(5.5)
    expect(patched[reader.id]).toBe(reader)
    expect(history.operations[applied.id].return).toBe(Infinity) // the history itself is untouched
  })

  it('keeps the search small with many unknown writes and still finds a stale read among them', () => {
    const h = new ScriptedHistory()
    let t = 0
    for (let i = 0; i < 60; i++) {
      h.unknown(i % 5, t, put('a', `u${i}`), i % 3 === 0, t + 1)
      h.op(5, t + 2, t + 3, get('a'), t + 2)
      t += 4
    }
    const clean = checkHistory(h.history())
    expect(clean.linearizable).toBe('yes')
    expect(clean.stats.wglSteps).toBeLessThan(10_000)
    const stale = h.op(6, t + 1, t + 2, get('a'), t + 1)
    const history = h.history()
    Object.assign(stale, { response: { ...stale.response, kv: history.operations[1].response?.kind === 'get' ? history.operations[1].response.kv : null } })
    expect(checkHistory(history).violations.map((v) => v.code)).toContain('not-linearizable')
  })
})
