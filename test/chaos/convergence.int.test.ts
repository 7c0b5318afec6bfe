import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'
import { checkConvergence } from './convergence'

// Two independent single-member etcds posing as one cluster: same history gives the same HashKV, a
// diverged one does not. This is the end-of-run check that members converged.
describe('HashKV convergence check', () => {
  const clusters: EtcdCluster[] = []
  beforeAll(async () => {
    clusters.push(...(await Promise.all([startEtcd(), startEtcd(), startEtcd()])))
  })
  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.stop()))
  })
  const asOneCluster = (parts: EtcdCluster[]) => parts.map((c) => ({ name: c.members[0].name, clientUrl: c.members[0].clientUrl }))

  it('reports equal hashes for members with the same keyspace history and different ones after divergence', async () => {
    const [a, b, c] = clusters
    for (const cluster of [a, b]) expect(etcdctl(cluster.endpoints, ['put', 'k', 'v']).status).toBe(0)
    expect(etcdctl(c.endpoints, ['put', 'k', 'other']).status).toBe(0)
    expect((await checkConvergence(asOneCluster([a, b]), 2)).equal).toBe(true)
    const diverged = await checkConvergence(asOneCluster([a, c]), 2)
    expect(diverged.equal).toBe(false)
    expect(diverged.hashes.every((h) => h !== null)).toBe(true)
  })

  it('gives up on a member that never reaches the revision (null hash, not equal)', async () => {
    const result = await checkConvergence(asOneCluster([clusters[0]]), 50, 1000)
    expect(result).toEqual({ revision: 50, hashes: [null], equal: false })
  })
})
