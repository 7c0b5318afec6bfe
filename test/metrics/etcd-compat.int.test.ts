import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { healthReply, type HealthSnapshot } from '../../core/metrics/health'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'
import {
  ETCD_NAMES_FLAGGED_BY_LINT,
  isListedFamily,
  LAZY_IN_ETCD,
  NODE_ONLY_PROCESS_FAMILIES,
  NOT_EXPOSED_BY_QUORUM,
  ONLY_IN_ETCD_3_5_PLUS,
  parseFamilies,
  populatedMetrics,
  promtoolCheckMetrics,
  type Family,
  until,
} from './support'


const difference = (a: Iterable<string>, b: Set<string>) => [...a].filter((name) => !b.has(name)).sort()

// Real etcd 3.4 is the reference: a 3-member cluster with --metrics extensive, some client traffic, then one
// member killed so the peer-failure families appear on member 1, then a second one killed so member 1 loses
// its leader.
describe('metric names and /health match real etcd 3.4', () => {
  let cluster: EtcdCluster
  let etcdText = ''
  let etcdFamilies = new Map<string, Family>()
  let oursText = ''
  let ours = new Map<string, Family>()
  let etcdHealthy: Response
  let etcdHealthyBody = ''

  beforeAll(async () => {
    cluster = await startEtcd({ size: 3, extraArgs: ['--metrics', 'extensive'] })
    const first = cluster.members[0]
    expect(etcdctl(first.clientUrl, ['put', 'k', 'v']).status).toBe(0)
    expect(etcdctl(first.clientUrl, ['get', 'k']).status).toBe(0)
    etcdHealthy = await fetch(`${first.metricsUrl}/health`)
    etcdHealthyBody = await etcdHealthy.text()
    cluster.kill(2)
    etcdText = await until('peer failures on member 1', async () => {
      const text = await (await fetch(`${first.metricsUrl}/metrics`)).text()
      // rafthttp's prober records the first round trip a few seconds after start.
      const lazy = ['etcd_network_disconnected_peers_total{', 'etcd_network_peer_sent_failures_total{',
        'etcd_network_peer_round_trip_time_seconds_bucket{']
      return lazy.every((series) => text.includes(series)) ? text : undefined
    })
    etcdFamilies = parseFamilies(etcdText)
    oursText = await populatedMetrics('extensive').metrics()
    ours = parseFamilies(oursText)
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  it('the listed families are the same set, apart from the documented exceptions', () => {
    const etcdNames = new Set([...etcdFamilies.keys()].filter(isListedFamily))
    const ourNames = new Set([...ours.keys()].filter(isListedFamily))
    const missing = difference(etcdNames, ourNames)
    const extra = difference(ourNames, etcdNames)
    expect(missing.join(' '), 'etcd 3.4 has, Quorum misses').toBe([...NOT_EXPOSED_BY_QUORUM].sort().join(' '))
    expect(extra.join(' '), 'Quorum has, etcd 3.4 does not show').toBe(
      [...ONLY_IN_ETCD_3_5_PLUS, ...LAZY_IN_ETCD, ...NODE_ONLY_PROCESS_FAMILIES].sort().join(' '),
    )
    expect(etcdNames.size).toBeGreaterThan(70) // the filter really selected etcd's families
  })

  it('common families have etcd\'s type, HELP text, label names and histogram buckets', () => {
    const mismatches: string[] = []
    let compared = 0
    for (const [name, theirs] of etcdFamilies) {
      const mine = ours.get(name)
      if (!isListedFamily(name) || !mine) continue
      compared++
      if (mine.type !== theirs.type) mismatches.push(`${name}: type ${mine.type} != ${theirs.type}`)
      if (mine.help !== theirs.help) mismatches.push(`${name}: help ${JSON.stringify(mine.help)} != ${JSON.stringify(theirs.help)}`)
      const labels = (family: Family) => [...family.labelNames].sort().join(',')
      if (labels(mine) !== labels(theirs)) mismatches.push(`${name}: labels ${labels(mine)} != ${labels(theirs)}`)
      const buckets = (family: Family) => [...family.buckets].sort((a, b) => a - b).join(',')
      if (buckets(mine) !== buckets(theirs)) mismatches.push(`${name}: buckets ${buckets(mine)} != ${buckets(theirs)}`)
    }
    expect(mismatches).toEqual([])
    expect(compared).toBeGreaterThan(70)
  })

  it('gRPC series cover the same methods and codes as etcd\'s pre-registration', () => {
    const series = (text: string) =>
      new Set(text.split('\n').filter((line) => line.startsWith('grpc_server_handled_total{')).map((line) => {
        const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]))
        return `${labels.grpc_service}/${labels.grpc_method}/${labels.grpc_type}/${labels.grpc_code}`
      }))
    expect([...series(oursText)].sort()).toEqual([...series(etcdText)].sort())
  })

  it('promtool flags the same etcd names on etcd 3.4 itself', () => {
    const lint = promtoolCheckMetrics(etcdText)
    expect(lint.status).toBe(3)
    expect(difference(ETCD_NAMES_FLAGGED_BY_LINT, lint.flaggedNames)).toEqual([])
  })

  it('/health text equals etcd 3.4\'s, healthy and without a leader, except the 3.5+ "reason" field', async () => {
    const stripReason = (body: string) => body.replace(/,"reason":"[^"]*"/, '')
    const snapshot: HealthSnapshot = { alarms: [], hasLeader: true, isLearner: false, linearizableReadError: null }
    const healthy = healthReply(snapshot, new URLSearchParams())
    expect([healthy.status, stripReason(healthy.body)]).toEqual([etcdHealthy.status, etcdHealthyBody])
    expect(healthy.headers['Content-Type']).toBe(etcdHealthy.headers.get('content-type'))

    cluster.kill(1)
    const first = cluster.members[0]
    const noLeader = await until('member 1 without leader', async () => {
      const response = await fetch(`${first.metricsUrl}/health`)
      return response.status === 503 ? { response, body: await response.text() } : undefined
    })
    const ours = healthReply({ ...snapshot, hasLeader: false, linearizableReadError: 'etcdserver: request timed out' }, new URLSearchParams())
    expect([ours.status, stripReason(ours.body)]).toEqual([noLeader.response.status, noLeader.body])
    expect(ours.headers['Content-Type']).toBe(noLeader.response.headers.get('content-type'))
    expect(ours.headers['X-Content-Type-Options']).toBe(noLeader.response.headers.get('x-content-type-options'))
  })
})
