import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../../../core/cluster/launcher'
import { systemClock } from '../../../core/util/clock'
import { defaultClientFactory } from '../../../src-main/services/client-factory'
import { ClusterMonitor } from '../../../src-main/services/cluster-monitor'
import { readClusterOverview } from '../../../src-main/services/cluster-overview'
import { testConnection } from '../../../src-main/services/connection-test'
import { etcdctl } from '../../support/etcd'
import { tempDir } from '../../support/temp-dir'

// The same services against a real Quorum cluster (3 `quorum node` processes from the bundled CLI; run
// `npm run build` first, as `npm test` does): the app treats Quorum and etcd alike.

describe('admin services on a real Quorum 3-member cluster', () => {
  let dir: ReturnType<typeof tempDir>
  let cluster: LocalCluster
  let endpoints: string[]

  beforeAll(async () => {
    dir = tempDir('quorum-admin-quorum-')
    cluster = await LocalCluster.up({
      dir: join(dir.path, 'cluster'),
      size: 3,
      engine: 'quorum',
      quorumCommand: { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] },
      healthTimeoutMs: 60_000,
    })
    endpoints = cluster.endpoints().split(',')
  })
  afterAll(async () => {
    await cluster?.down({ remove: true }).catch(() => undefined)
    dir?.remove()
  })

  it('tests the connection, lists 3 voters with one leader and samples /metrics from every member', async () => {
    const report = await testConnection({ endpoints, callTimeoutMs: 4000 }, defaultClientFactory, systemClock)
    expect(report).toMatchObject({ ok: true, memberCount: 3 })

    const client = defaultClientFactory({ endpoints, callTimeoutMs: 3000 })
    const monitor = new ClusterMonitor({ connectionId: 'q', client, tls: undefined, clock: systemClock, onOverview: () => undefined, onSample: () => undefined })
    try {
      const overview = await readClusterOverview(client, 'q', () => 0)
      expect(overview.members).toHaveLength(3)
      expect(overview.members.filter((member) => member.role === 'leader')).toHaveLength(1)
      expect(overview.members.every((member) => member.healthy && (member.raftTerm ?? 0) > 0)).toBe(true)
      expect(overview.quorum).toMatchObject({ voters: 3, faultTolerance: 1, hasQuorum: true })

      await monitor.tick()
      for (let i = 0; i < 10; i++) expect(etcdctl(endpoints.join(','), ['put', `q${i}`, 'v']).status).toBe(0)
      const points = await monitor.tick()
      expect(points).toHaveLength(3)
      for (const point of points) expect(point).toMatchObject({ up: true, hasLeader: true })
      expect(points.filter((point) => point.isLeader)).toHaveLength(1)
      expect(points.some((point) => (point.proposalsCommittedRate ?? 0) > 0)).toBe(true)
    } finally {
      await monitor.stop()
    }
  })
})
