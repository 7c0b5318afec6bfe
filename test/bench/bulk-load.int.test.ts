import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bulkLoad } from '../../core/bench/bench'
import { H2UnaryClient } from '../../core/bench/h2-client'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'

// The bench's bulk load against a real etcd 3.4 member: Txns of 100 puts under a prefix, up to a batch number or a
// deadline (its warmup writes the same load under another prefix for a while, so the measured keys stay the same).
describe('bench bulk load', () => {
  let etcd: EtcdCluster
  let conns: H2UnaryClient[]

  beforeAll(async () => {
    etcd = await startEtcd()
    conns = Array.from({ length: 4 }, () => new H2UnaryClient(etcd.members[0].clientUrl))
  })
  afterAll(async () => {
    for (const conn of conns ?? []) conn.close()
    await etcd?.stop()
  })

  const count = (prefix: string) => JSON.parse(etcdctl(etcd.endpoints, ['get', prefix, '--prefix', '--keys-only', '--limit', '1', '-w', 'json']).stdout).count ?? 0

  it('writes batches first..end-1 as 100 keys each and counts them as 100 keys per Txn', async () => {
    const sample = await bulkLoad(conns, 3, 7)
    expect(sample).toMatchObject({ errors: 0, keysPerOp: 100 })
    expect(sample.latencies).toHaveLength(4)
    expect(count('bulk/')).toBe(400)
    const keys = etcdctl(etcd.endpoints, ['get', 'bulk/', '--prefix', '--keys-only']).stdout.split('\n').filter(Boolean)
    expect(keys).toContain('bulk/300')
    expect(keys).toContain('bulk/699')
    expect(keys).not.toContain('bulk/299')
  })

  it('stops taking batches at the deadline and writes under the given prefix', async () => {
    const none = await bulkLoad(conns, 0, Infinity, { prefix: 'warm/', untilMs: performance.now() - 1 })
    expect(none.latencies).toHaveLength(0)
    const timed = await bulkLoad(conns, 0, Infinity, { prefix: 'warm/', untilMs: performance.now() + 300 })
    expect(timed.errors).toBe(0)
    expect(timed.latencies.length).toBeGreaterThan(0)
    // no batch is started after the deadline: at most the 8 in flight when it passed finish late
    expect(timed.seconds).toBeLessThan(0.3 + 5)
    expect(count('warm/')).toBe(timed.latencies.length * 100)
    expect(count('bulk/')).toBe(400)
  })
})
