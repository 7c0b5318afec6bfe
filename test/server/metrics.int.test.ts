import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient } from '../../core/client'
import { startTestCluster, type TestCluster } from '../e2e/etcdctl/clusters'

// Issue 8 seam: a Quorum member's --listen-metrics-urls serves etcd's metric names, and the server feeds them:
// gRPC counters (preregistered at zero like go-grpc-prometheus), proposals, leader, disk histograms, db size,
// keys, peer traffic and round trip.

let target: TestCluster
let client: EtcdClient

beforeAll(async () => {
  target = await startTestCluster('quorum', { size: 3 })
  client = new EtcdClient({ endpoints: [target.cluster.manifest.members[0].clientURL] })
}, 90_000)
afterAll(async () => {
  client?.close()
  await target?.stop()
})

/** One sample's value from Prometheus text (name with its exact label set, or without labels); NaN if absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line ? Number(line.slice(series.length + 1)) : Number.NaN
}

async function scrape(): Promise<string> {
  const response = await fetch(`${target.cluster.manifest.members[0].metricsURL}/metrics`)
  expect(response.status).toBe(200)
  return response.text()
}

describe('a Quorum member feeds etcd metrics', () => {
  it('etcd metric names move with traffic', async () => {
    const put = 'grpc_server_handled_total{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put",grpc_code="OK"}'
    const received = 'grpc_server_msg_received_total{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put"}'
    const before = await scrape()
    // go-grpc-prometheus InitializeMetrics: every method and code exists at zero before any call.
    expect(sample(before, 'grpc_server_handled_total{grpc_type="unary",grpc_service="etcdserverpb.Cluster",grpc_method="MemberPromote",grpc_code="Unavailable"}')).toBe(0)
    expect(sample(before, 'etcd_server_has_leader')).toBe(1)
    expect(sample(before, 'etcd_server_leader_changes_seen_total')).toBeGreaterThanOrEqual(1)

    for (let i = 0; i < 20; i++) await client.kv.put(`m/${i}`, 'v'.repeat(1000))
    const watcher = await client.watch('m/', { prefix: true })
    await client.kv.put('m/watched', 'v')
    await new Promise((resolve) => setTimeout(resolve, 2500)) // gauges refresh every second, keys every 5th

    const after = await scrape()
    expect(sample(after, put) - (sample(before, put) || 0)).toBe(21)
    expect(sample(after, received) - (sample(before, received) || 0)).toBe(21)
    for (const moving of [
      'etcd_server_proposals_committed_total',
      'etcd_server_proposals_applied_total',
      'etcd_disk_wal_fsync_duration_seconds_count',
      'etcd_disk_backend_commit_duration_seconds_count',
      'etcd_debugging_mvcc_current_revision',
    ]) {
      expect(sample(after, moving), moving).toBeGreaterThan(sample(before, moving))
    }
    expect(sample(after, 'etcd_mvcc_db_total_size_in_bytes')).toBeGreaterThan(20_000)
    expect(sample(after, 'etcd_server_proposals_failed_total')).toBe(0)
    // A follower talks only to the leader (Raft), so at least one peer series, never this member's own ID.
    const self = (await client.maintenance.status()).header.memberId.toString(16)
    const peerLines = after.split('\n').filter((l) => l.startsWith('etcd_network_peer_sent_bytes_total{'))
    expect(peerLines.length).toBeGreaterThanOrEqual(1)
    for (const line of peerLines) {
      expect(/To="([0-9a-f]{1,16})"/.exec(line)?.[1]).not.toBe(self)
      expect(Number(line.split(' ')[1])).toBeGreaterThan(0)
    }
    expect(after.split('\n').some((l) => l.startsWith('etcd_network_peer_round_trip_time_seconds_count{') && Number(l.split(' ')[1]) > 0)).toBe(true)
    expect(after.split('\n').some((l) => l.startsWith('etcd_network_peer_received_bytes_total{') && Number(l.split(' ')[1]) > 0)).toBe(true)
    expect(sample(after, 'grpc_server_msg_sent_total{grpc_type="bidi_stream",grpc_service="etcdserverpb.Watch",grpc_method="Watch"}')).toBeGreaterThanOrEqual(2)
    await watcher.cancel()
    await expect.poll(async () => sample(await scrape(), 'etcd_debugging_mvcc_keys_total'), { timeout: 10_000 }).toBeGreaterThanOrEqual(21)
  }, 60_000)
})
