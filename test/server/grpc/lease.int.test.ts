import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient } from '../../../core/client'
import { LocalCluster } from '../../../core/cluster/launcher'
import { clockWrapper, LIBFAKETIME } from '../../chaos/netns'
import { startTestCluster, type TestCluster } from '../../e2e/etcdctl/clusters'
import { tempDir } from '../../support/temp-dir'

// Regressions found by the chaos suite (issue 14) on Quorum members.

describe('LeaseRevoke response header', () => {
  // pause-leader seed 11 reported an "early lease expiry" that was no expiry at all: LeaseRevoke answered with
  // the store's revision when the reply was sent, so a put applied in the same batch moved the header past the
  // revoke, and the checker could not attribute the revoke's deletes. etcd fills the header in the applier.
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

describe.skipIf(!existsSync(LIBFAKETIME))(`lease TTLs under a wall-clock jump${existsSync(LIBFAKETIME) ? '' : ' (skipped: apt-get install faketime)'}`, () => {
  // clock-jump found it: the leader timed leases with Date.now, so a wall clock stepped 20-40 s ahead (NTP, an
  // admin) expired every lease at once. etcd's lessor measures with Go's monotonic clock reading.
  const dir = tempDir('quorum-lease-clock-')
  const clocks = clockWrapper([process.execPath, resolve('build/bin/quorum.mjs'), 'node'])
  let cluster: LocalCluster
  let client: EtcdClient

  beforeAll(async () => {
    cluster = await LocalCluster.up({ dir: join(dir.path, 'cluster'), size: 1, quorumCommand: { command: clocks.path, args: [] }, healthTimeoutMs: 60_000 })
    client = new EtcdClient({ endpoints: [cluster.activeMembers()[0].clientURL], callTimeoutMs: 10_000 })
  }, 90_000)
  afterAll(async () => {
    client?.close()
    await cluster?.down()
    clocks.remove()
    dir.remove()
  })

  it('a lease outlives a 60 s forward jump of the leader wall clock while its TTL has not elapsed', async () => {
    const lease = await client.lease.grant(8)
    await client.kv.put('clock/held', 'v', { lease: lease.id })
    clocks.setOffset(cluster.activeMembers()[0].name, '+60s')
    // libfaketime re-reads the offset within 1 s; the leader looks for expired leases every 500 ms.
    await new Promise((done) => setTimeout(done, 3000))
    expect((await client.kv.get('clock/held'))?.toString()).toBe('v')
    const ttl = await client.lease.timeToLive(lease.id)
    expect(ttl.ttl).toBeGreaterThan(0)
    expect(ttl.ttl).toBeLessThanOrEqual(8)
  }, 60_000)
})
