import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient } from '../../../core/client'
import { startTestCluster, type TestCluster } from '../../e2e/etcdctl/clusters'

// Regression for the chaos suite's pause-leader seed 11 "early lease expiry" on Quorum (issue 14): it was no
// expiry at all. LeaseRevoke answered with the store's revision when the reply was sent, so a put applied in
// the same batch moved the header past the revoke, and the checker could not attribute the revoke's deletes.
// etcd fills the header in the applier: the revoke's own revision.

let target: TestCluster
let client: EtcdClient

beforeAll(async () => {
  target = await startTestCluster('quorum', { size: 1 })
  client = new EtcdClient({ endpoints: target.endpoints.split(','), callTimeoutMs: 10_000 })
}, 90_000)
afterAll(async () => {
  client?.close()
  await target?.stop()
})

describe('LeaseRevoke response header', () => {
  it('carries the revision of the revoke itself, even when puts sent right after it are applied in the same batch', async () => {
    for (let round = 0; round < 10; round++) {
      const lease = await client.lease.grant(60)
      const key = `revoke/${round}`
      await client.kv.put(key, 'v', { lease: lease.id })
      // The revoke first, then puts on one connection: their proposals land in the same Ready as the revoke.
      const [revoke] = await Promise.all([client.lease.revoke(lease.id), ...Array.from({ length: 4 }, (_, i) => client.kv.put(`other/${round}/${i}`, 'x'))])
      const revision = revoke.header.revision
      // The key existed just before the revoke's revision and is gone at it: the revoke deleted it there.
      expect({ round, before: (await client.kv.get(key, { revision: revision - 1 }))?.toString() ?? null, at: await client.kv.get(key, { revision }) }).toEqual({ round, before: 'v', at: null })
    }
  }, 60_000)
})
