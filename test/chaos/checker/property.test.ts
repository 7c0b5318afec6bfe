import { describe, expect, it } from 'vitest'
import { seededRand } from '../../../core/util/rand'
import { historyFromJson, historyToJson } from '../history'
import { checkHistory } from './index'
import { simulateHistory } from './sim-history'

const keys = ['k0', 'k1', 'k2']

describe('checker property: histories of a sequential model with random overlap', () => {
  it('accepts every generated history (200 seeds, with unknown outcomes, leases and multi-key txns)', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const history = simulateHistory(seededRand(seed), { clients: 4, opsPerClient: 25, keys, unknownRate: 0.1, leases: true, multiKeyTxns: true, watchers: 2 })
      const report = checkHistory(history)
      expect({ seed, violations: report.violations.map((v) => `${v.code}: ${v.message}`) }).toEqual({ seed, violations: [] })
      expect(report.linearizable, `seed ${seed}`).toBe('yes')
    }
  })

  it('accepts a larger history and survives a JSON round trip (unknown returns stay Infinity)', () => {
    const history = historyFromJson(historyToJson(simulateHistory(seededRand(7), { clients: 8, opsPerClient: 300, keys, unknownRate: 0.05, leases: true, multiKeyTxns: true })))
    expect(history.operations.some((o) => o.return === Infinity)).toBe(true)
    const report = checkHistory(history)
    expect(report.violations).toEqual([])
    expect(report.stats.operations).toBe(2401)
  })

  it('catches a stale read planted into any generated history', () => {
    let planted = 0
    let seenByWgl = 0
    for (let seed = 1; seed <= 50; seed++) {
      const history = simulateHistory(seededRand(seed), { clients: 4, opsPerClient: 25, keys, unknownRate: 0.1 })
      // Pick a read that started after some write to its key had completed, and make it return the state
      // from before that write (absent key at revision 1).
      const read = history.operations.find(
        (r) => r.request.kind === 'get' && r.response?.kind === 'get' && r.response.kv !== null &&
          history.operations.some((w) => w.request.kind === 'put' && w.outcome === 'ok' && w.return < r.call && w.request.key === (r.request.kind === 'get' ? r.request.key : '')),
      )
      if (!read) continue
      read.response = { kind: 'get', revision: 1, kv: null }
      planted++
      const codes = new Set(checkHistory(history).violations.map((v) => v.code))
      // The revision witness always sees it; WGL only when no overlapping delete could explain an empty key.
      expect([...codes], `seed ${seed}`).toContain('stale-read')
      if (codes.has('not-linearizable')) seenByWgl++
    }
    expect(planted).toBeGreaterThan(40)
    expect(seenByWgl).toBeGreaterThan(planted / 2)
  })
})
