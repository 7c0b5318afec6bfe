import { describe, expect, it } from 'vitest'
import { counterRate, histogramIncrease, histogramQuantile, MetricsParseError, parseEtcdMetrics, parsePrometheusText } from '../../../src-main/services/prometheus'
import { quorumStatus } from '../../../src-main/services/cluster-overview'
import { RingBuffer } from '../../../src-main/services/ring-buffer'
import { derivePoint } from '../../../src-main/services/cluster-monitor'

const PAGE = `# HELP etcd_server_has_leader Whether or not a leader exists. 1 is existence, 0 is not.
# TYPE etcd_server_has_leader gauge
etcd_server_has_leader 1
# TYPE etcd_server_proposals_committed_total gauge
etcd_server_proposals_committed_total 120
# TYPE grpc_server_handled_total counter
grpc_server_handled_total{grpc_code="OK",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 90
grpc_server_handled_total{grpc_code="Unavailable",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 4
grpc_server_handled_total{grpc_code="NotFound",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"} 6
# TYPE etcd_network_peer_round_trip_time_seconds histogram
etcd_network_peer_round_trip_time_seconds_bucket{To="a",le="0.001"} 1
etcd_network_peer_round_trip_time_seconds_bucket{To="a",le="0.002"} 3
etcd_network_peer_round_trip_time_seconds_bucket{To="a",le="+Inf"} 4
etcd_network_peer_round_trip_time_seconds_sum{To="a"} 0.01
etcd_network_peer_round_trip_time_seconds_count{To="a"} 4
etcd_network_peer_round_trip_time_seconds_bucket{To="b",le="0.001"} 2
etcd_network_peer_round_trip_time_seconds_bucket{To="b",le="0.002"} 2
etcd_network_peer_round_trip_time_seconds_bucket{To="b",le="+Inf"} 2
etcd_network_peer_round_trip_time_seconds_sum{To="b"} 0.001
etcd_network_peer_round_trip_time_seconds_count{To="b"} 2
`

describe('etcd /metrics parsing and PromQL-style derivations', () => {
  it('reads gauges, sums counters over labels, counts only the mixin failure codes as gRPC errors', () => {
    const scrape = parseEtcdMetrics(PAGE)
    expect(scrape).toMatchObject({ hasLeader: 1, proposalsCommitted: 120, grpcHandled: 100, grpcErrors: 4, dbSizeBytes: null })
  })

  it('parses label escapes, timestamps and special values of the text format', () => {
    const samples = parsePrometheusText('a{path="C:\\\\DIR",msg="x\\"y\\nz"} 1.5e3 1395066363000\nb +Inf\nc{} NaN\n')
    expect(samples[0]).toEqual({ name: 'a', labels: { path: 'C:\\DIR', msg: 'x"y\nz' }, value: 1500 })
    expect(samples[1]).toEqual({ name: 'b', labels: {}, value: Infinity })
    expect(samples[2].value).toBeNaN()
    expect(() => parsePrometheusText('<html>not metrics</html>')).toThrow(MetricsParseError)
    expect(() => parsePrometheusText('a{x="unterminated} 1')).toThrow(MetricsParseError)
  })

  it('merges a histogram across peers bucket by bucket', () => {
    expect(parseEtcdMetrics(PAGE).peerRtt).toEqual({ bounds: [0.001, 0.002, Infinity], counts: [3, 5, 6] })
  })

  it('histogram_quantile interpolates inside the bucket holding the rank (Prometheus bucketQuantile)', () => {
    const histogram = { bounds: [0.001, 0.002, Infinity], counts: [3, 5, 6] }
    // rank 0.5*6 = 3 falls at the top of bucket 0 → its upper bound.
    expect(histogramQuantile(0.5, histogram)).toBeCloseTo(0.001)
    // rank 0.75*6 = 4.5 is 1.5 of the 2 observations into (0.001, 0.002].
    expect(histogramQuantile(0.75, histogram)).toBeCloseTo(0.00175)
    // The rank lands in +Inf: the answer is the highest finite bound.
    expect(histogramQuantile(0.99, histogram)).toBeCloseTo(0.002)
    expect(histogramQuantile(0.99, { bounds: [1, Infinity], counts: [0, 0] })).toBeNull()
  })

  it('rates and increases are per interval and null across a counter reset', () => {
    expect(counterRate(100, 160, 2000)).toBe(30)
    expect(counterRate(100, 5, 2000)).toBeNull()
    expect(counterRate(null, 5, 2000)).toBeNull()
    const a = { bounds: [1, Infinity], counts: [2, 3] }
    expect(histogramIncrease(a, { bounds: [1, Infinity], counts: [5, 9] })).toEqual({ bounds: [1, Infinity], counts: [3, 6] })
    expect(histogramIncrease({ bounds: [1, Infinity], counts: [5, 9] }, a)).toBeNull()
  })
})

describe('quorum arithmetic (Raft: a majority of voters)', () => {
  it.each([
    [1, 1, 1, 0],
    [3, 3, 2, 1],
    [4, 4, 3, 1],
    [5, 5, 3, 2],
  ])('%i voters: quorum %#', (voters, healthy, quorumSize, tolerance) => {
    expect(quorumStatus(voters, healthy)).toMatchObject({ quorumSize, faultTolerance: tolerance, hasQuorum: true })
  })

  it('3 voters with one down still have quorum but no spare; with two down they lose it', () => {
    expect(quorumStatus(3, 2)).toMatchObject({ hasQuorum: true, remainingTolerance: 0 })
    expect(quorumStatus(3, 1)).toMatchObject({ hasQuorum: false, remainingTolerance: -1 })
  })
})

describe('ring buffer', () => {
  it('keeps the newest `capacity` items, oldest first', () => {
    const ring = new RingBuffer<number>(3)
    for (let i = 1; i <= 5; i++) ring.push(i)
    expect(ring.toArray()).toEqual([3, 4, 5])
    expect(ring.size).toBe(3)
  })
})

describe('chart points from two scrapes', () => {
  const scrape = (committed: number, fsync: number[], rtt: number[]) =>
    parseEtcdMetrics(
      [
        `etcd_server_proposals_committed_total ${committed}`,
        ...['0.001', '0.002', '+Inf'].map((le, i) => `etcd_disk_wal_fsync_duration_seconds_bucket{le="${le}"} ${fsync[i]}`),
        ...['0.001', '0.002', '+Inf'].map((le, i) => `etcd_network_peer_round_trip_time_seconds_bucket{To="p",le="${le}"} ${rtt[i]}`),
      ].join('\n'),
    )
  const member = { id: 'a', name: 'etcd1' }

  it('the first scrape has gauges but no rates; the second has per-second rates and interval p99 in ms', () => {
    const first = scrape(100, [1, 1, 1], [0, 2, 2])
    expect(derivePoint(member, 1000, first, null)).toMatchObject({ up: true, proposalsCommittedRate: null, walFsyncP99Ms: null })
    const second = derivePoint(member, 3000, scrape(140, [1, 3, 3], [0, 2, 2]), { at: 1000, scrape: first })
    expect(second.proposalsCommittedRate).toBe(20)
    // Both new fsyncs fell into (1 ms, 2 ms]: p99 interpolates to 1.99 ms.
    expect(second.walFsyncP99Ms).toBeCloseTo(1.99)
  })

  it('peer RTT without new observations in the interval falls back to the p99 since the member started', () => {
    const first = scrape(1, [0, 0, 0], [0, 2, 2])
    const point = derivePoint(member, 3000, scrape(1, [0, 0, 0], [0, 2, 2]), { at: 1000, scrape: first })
    expect(point.peerRttP99Ms).toBeCloseTo(1.99)
    expect(point.walFsyncP99Ms).toBeNull()
  })
})
