import { describe, expect, it } from 'vitest'
import { summarize, turnOrder } from '../../core/bench/bench'

// The bench measures both engines over the same stretch of the machine's time: turns in ABBA order, and one
// result per engine over all its turns.
describe('bench method', () => {
  it('takes turns in ABBA order, so a drifting machine favours neither engine', () => {
    expect(turnOrder(['etcd', 'quorum'], 2)).toEqual(['etcd', 'quorum', 'quorum', 'etcd'])
    expect(turnOrder(['etcd', 'quorum'], 3)).toEqual(['etcd', 'quorum', 'quorum', 'etcd', 'etcd', 'quorum'])
    expect(turnOrder(['quorum'], 2)).toEqual(['quorum', 'quorum'])
  })

  it('summarizes turns as throughput over the summed windows and percentiles over all latencies', () => {
    const fast = { latencies: Array.from({ length: 300 }, () => 1), seconds: 1, errors: 0 }
    const slow = { latencies: Array.from({ length: 100 }, () => 9), seconds: 1, errors: 2 }
    expect(summarize('put', [fast, slow])).toEqual({ scenario: 'put', opsPerSecond: 200, p50Ms: 1, p99Ms: 9, errors: 2 })
    // the bulk load counts keys: 100 per Txn
    expect(summarize('bulk', [{ latencies: [20, 30], seconds: 0.5, errors: 0, keysPerOp: 100 }]).opsPerSecond).toBe(400)
    expect(summarize('none', [])).toEqual({ scenario: 'none', opsPerSecond: 0, p50Ms: 0, p99Ms: 0, errors: 0 })
  })
})
