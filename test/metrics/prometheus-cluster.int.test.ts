import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEtcd, type EtcdCluster } from '../support/etcd'
import { until } from './support'
import { rulesWithShortFor, startPrometheus, type RunningPrometheus } from './prometheus-support'


/** The cluster under test: anything with members on metrics URLs that can be killed and restarted. */
type StartCluster = () => Promise<Pick<EtcdCluster, 'members' | 'kill' | 'restart' | 'stop'>>

// Real etcd 3.4 stands in until Quorum's server exists; the same scenario then runs against `quorum cluster`
// by adding its launcher here. The rules are the shipped ones with etcdMembersDown's `for` cut to 2s.
const CLUSTERS: [string, StartCluster][] = [['etcd 3.4', () => startEtcd({ size: 3 })]]

describe.each(CLUSTERS)('real Prometheus 2.42 scraping a 3-member %s cluster with the shipped rules', (_name, start) => {
  let cluster: Awaited<ReturnType<StartCluster>>
  let prometheus: RunningPrometheus | undefined
  const instanceOf = (index: number) => new URL(cluster.members[index].metricsUrl).host

  beforeAll(async () => {
    cluster = await start()
    prometheus = await startPrometheus(
      cluster.members.map((member) => new URL(member.metricsUrl).host),
      rulesWithShortFor({ etcdMembersDown: '2s' }),
    )
  })
  afterAll(async () => {
    await prometheus?.stop()
    await cluster?.stop()
  })

  it('killing the leader raises leader changes and fires etcdMembersDown; a restart resolves it', async () => {
    const server = prometheus as RunningPrometheus
    const leader = await until('a leader seen by Prometheus', async () => {
      const isLeader = await server.query('etcd_server_is_leader == 1')
      const up = await server.query('up == 1')
      return isLeader.size === 1 && up.size === 3 ? [...isLeader.keys()][0] : undefined
    })
    const leaderIndex = cluster.members.findIndex((_member, index) => instanceOf(index) === leader)
    const before = await server.query('etcd_server_leader_changes_seen_total')
    cluster.kill(leaderIndex)

    const survivors = cluster.members.map((_member, index) => index).filter((index) => index !== leaderIndex)
    await until('leader changes increased on the survivors', async () => {
      const now = await server.query('etcd_server_leader_changes_seen_total')
      const increased = survivors.every((index) => (now.get(instanceOf(index)) ?? 0) > (before.get(instanceOf(index)) ?? 0))
      return increased ? true : undefined
    })
    const membersDown = async () =>
      (await server.alerts()).find((alert) => alert.labels.alertname === 'etcdMembersDown')
    const firing = await until('etcdMembersDown firing', async () => {
      const alert = await membersDown()
      return alert?.state === 'firing' ? alert : undefined
    })
    expect(firing.labels).toMatchObject({ job: 'quorum-etcd', severity: 'critical' })

    await cluster.restart(leaderIndex)
    await until('etcdMembersDown resolved', async () => ((await membersDown()) === undefined ? true : undefined))
  })
})
