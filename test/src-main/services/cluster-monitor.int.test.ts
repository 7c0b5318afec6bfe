import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../../core/util/clock'
import type { ClusterOverview, MemberMetricsPoint } from '../../../src-main/api/admin-api'
import { ClusterMonitor } from '../../../src-main/services/cluster-monitor'
import { readClusterOverview } from '../../../src-main/services/cluster-overview'
import { etcdctl, startEtcd, type EtcdCluster } from '../../support/etcd'
import { freePort } from '../../support/ports'
import { defaultClientFactory } from '../../../src-main/services/client-factory'

// Members, Status and /metrics sampling against a real etcd 3.4 three-member cluster.

describe('cluster overview and metrics sampling on real etcd 3.4', () => {
  let cluster: EtcdCluster
  beforeAll(async () => {
    cluster = await startEtcd({ size: 3 })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  it('lists 3 healthy voters with one leader, their raft indexes, db sizes and version; tolerates 1 failure', async () => {
    const client = defaultClientFactory({ endpoints: cluster.endpoints.split(','), callTimeoutMs: 3000 })
    try {
      const overview = await readClusterOverview(client, 'c1', () => 42)
      expect(overview.members.map((member) => member.name).sort()).toEqual(['etcd1', 'etcd2', 'etcd3'])
      expect(overview.members.filter((member) => member.role === 'leader')).toHaveLength(1)
      expect(overview.members.filter((member) => member.role === 'follower')).toHaveLength(2)
      expect(overview.leaderId).toBe(overview.members.find((member) => member.role === 'leader')?.id)
      for (const member of overview.members) {
        expect(member).toMatchObject({ healthy: true, version: '3.4.23', isLearner: false, alarms: [] })
        expect(member.id).toMatch(/^[0-9a-f]+$/)
        expect(member.raftTerm).toBeGreaterThan(0)
        expect(member.raftAppliedIndex).toBeGreaterThan(0)
        expect(member.dbSizeBytes).toBeGreaterThan(0)
      }
      expect(overview.quorum).toEqual({ voters: 3, healthyVoters: 3, quorumSize: 2, faultTolerance: 1, remainingTolerance: 1, hasQuorum: true })
      expect(overview.takenAt).toBe(42)
    } finally {
      await client.close()
    }
  })

  it('shows a learner that was added but not started: role learner, not a voter, quorum unchanged', async () => {
    const peerPort = await freePort()
    // etcd compat: with --strict-reconfig-check, membership changes wait until the members have been
    // connected for a health interval (5 s, etcdserver.HealthInterval): "unhealthy cluster" until then.
    let added = etcdctl(cluster.endpoints, ['member', 'add', 'learner1', '--learner', `--peer-urls=http://127.0.0.1:${peerPort}`])
    for (let tries = 0; added.status !== 0 && added.stderr.includes('unhealthy cluster') && tries < 40; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250))
      added = etcdctl(cluster.endpoints, ['member', 'add', 'learner1', '--learner', `--peer-urls=http://127.0.0.1:${peerPort}`])
    }
    expect(added.status, added.stderr).toBe(0)
    const client = defaultClientFactory({ endpoints: cluster.endpoints.split(','), callTimeoutMs: 3000 })
    try {
      const overview = await readClusterOverview(client, 'c1', () => 0)
      const learner = overview.members.find((member) => member.isLearner)
      expect(learner).toMatchObject({ name: '', role: 'learner', healthy: false, clientUrls: [], peerUrls: [`http://127.0.0.1:${peerPort}`] })
      expect(overview.members).toHaveLength(4)
      expect(overview.quorum).toMatchObject({ voters: 3, quorumSize: 2 })
    } finally {
      await client.close()
      const learnerId = /Member\s+([0-9a-f]+)\s+added/.exec(added.stdout)?.[1]
      if (learnerId) expect(etcdctl(cluster.endpoints, ['member', 'remove', learnerId]).status).toBe(0)
    }
  })

  it('samples /metrics into rates and percentiles, then marks a killed member down and unhealthy', async () => {
    const overviews: ClusterOverview[] = []
    const samples: MemberMetricsPoint[][] = []
    const monitor = new ClusterMonitor({
      connectionId: 'c1',
      client: defaultClientFactory({ endpoints: cluster.endpoints.split(','), callTimeoutMs: 2000 }),
      tls: undefined,
      clock: systemClock,
      historyPoints: 12,
      onOverview: (overview) => overviews.push(overview),
      onSample: (points) => samples.push(points),
    })
    try {
      await monitor.tick()
      for (let i = 0; i < 20; i++) expect(etcdctl(cluster.endpoints, ['put', `k${i}`, 'v']).status).toBe(0)
      await new Promise((resolve) => setTimeout(resolve, 300))
      const second = await monitor.tick()
      expect(second).toHaveLength(3)
      for (const point of second) {
        expect(point).toMatchObject({ up: true, hasLeader: true })
        expect(point.proposalsCommittedRate).toBeGreaterThan(0)
        expect(point.proposalsAppliedRate).toBeGreaterThan(0)
        expect(point.dbSizeBytes).toBeGreaterThan(0)
        expect(point.leaderChangesTotal).toBeGreaterThanOrEqual(1)
        expect(point.walFsyncP99Ms).toBeGreaterThan(0)
        expect(point.backendCommitP99Ms).toBeGreaterThan(0)
        expect(point.grpcRate).toBeGreaterThan(0)
      }
      expect(second.filter((point) => point.isLeader)).toHaveLength(1)

      const victim = cluster.members.findIndex((member) => member.name === overviews[0].members.find((m) => m.role === 'follower')?.name)
      cluster.kill(victim)
      const third = await monitor.tick()
      const downName = cluster.members[victim].name
      expect(third.find((point) => point.memberName === downName)).toMatchObject({ up: false, proposalsCommittedRate: null })
      const latest = overviews[overviews.length - 1]
      expect(latest.members.find((member) => member.name === downName)).toMatchObject({ healthy: false, role: 'unknown' })
      expect(latest.members.find((member) => member.name === downName)?.error).not.toBe('')
      expect(latest.quorum).toMatchObject({ healthyVoters: 2, hasQuorum: true, remainingTolerance: 0 })
      expect(monitor.snapshot().points).toHaveLength(9)
    } finally {
      await monitor.stop()
      await cluster.restart(cluster.members.findIndex((member) => member.process === null)).catch(() => undefined)
    }
  })

})
