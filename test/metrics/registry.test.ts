import { describe, expect, it } from 'vitest'
import { ETCD_GRPC_METHODS, grpcCodeName } from '../../core/metrics/grpc-methods'
import { createMetrics, memberIdHex } from '../../core/metrics/registry'
import { parseFamilies, populatedMetrics, SAMPLE_MEMBER_ID } from './support'

const base = { memberId: SAMPLE_MEMBER_ID, serverVersion: '3.4.23', quotaBackendBytes: 2 ** 31, defaultMetrics: false }

function sampleValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

describe('metrics registry', () => {
  it('populating through the public API leaves no family without a sample', async () => {
    const families = parseFamilies(await populatedMetrics().metrics())
    const empty = [...families].filter(([, family]) => family.samples === 0).map(([name]) => name)
    // nodejs_gc_duration_seconds fills only after a GC; nodejs_active_requests only while one is pending.
    expect(empty.filter((name) => !name.startsWith('nodejs_'))).toEqual([])
  })

  it('grpc_server_handling_seconds exists only with --metrics extensive, as on etcd', async () => {
    const basic = parseFamilies(await createMetrics(base).metrics())
    const extensive = parseFamilies(await createMetrics({ ...base, level: 'extensive' }).metrics())
    expect(basic.has('grpc_server_handling_seconds')).toBe(false)
    expect(extensive.get('grpc_server_handling_seconds')?.type).toBe('histogram')
    expect(basic.has('grpc_server_handled_total')).toBe(true)
  })

  it('member id and versions are labels of constant-1 gauges, the id in etcd hex without leading zeros', async () => {
    const metrics = createMetrics({ ...base, memberId: 0x0628170c800dbceen, clusterVersion: '3.4' })
    metrics.setClusterVersion('3.5')
    const text = await metrics.metrics()
    expect(sampleValue(text, 'etcd_server_id{server_id="628170c800dbcee"}')).toBe(1)
    expect(sampleValue(text, 'etcd_server_version{server_version="3.4.23"}')).toBe(1)
    expect(sampleValue(text, 'etcd_cluster_version{cluster_version="3.5"}')).toBe(1)
    expect(text).not.toContain('cluster_version="3.4"')
    expect(memberIdHex(0xffffffffffffffffn)).toBe('ffffffffffffffff')
    expect(() => memberIdHex(1n << 64n)).toThrow(/not a uint64/)
  })

  it('leader changes count each new non-zero leader, not the loss of a leader (etcd raft.go)', async () => {
    const metrics = createMetrics({ ...base, memberId: 1n })
    metrics.observeLeader(0n)
    metrics.observeLeader(2n) // first leader: 1
    metrics.observeLeader(2n) // same leader: still 1
    metrics.observeLeader(0n) // lost: still 1, has_leader 0
    let text = await metrics.metrics()
    expect(sampleValue(text, 'etcd_server_leader_changes_seen_total')).toBe(1)
    expect(sampleValue(text, 'etcd_server_has_leader')).toBe(0)
    metrics.observeLeader(1n) // this member wins: 2
    text = await metrics.metrics()
    expect(sampleValue(text, 'etcd_server_leader_changes_seen_total')).toBe(2)
    expect(sampleValue(text, 'etcd_server_has_leader')).toBe(1)
    expect(sampleValue(text, 'etcd_server_is_leader')).toBe(1)
    expect(() => metrics.setLeader(false, true)).toThrow(/cannot be leader/)
  })

  it('pre-registration creates every method with all 17 codes at zero, like go-grpc-prometheus', async () => {
    const metrics = createMetrics(base)
    metrics.preregisterGrpcMethods(ETCD_GRPC_METHODS)
    const text = await metrics.metrics()
    const handled = text.split('\n').filter((line) => line.startsWith('grpc_server_handled_total{'))
    expect(handled).toHaveLength(41 * 17)
    expect(handled.every((line) => line.endsWith(' 0'))).toBe(true)
    expect(text).toContain(
      'grpc_server_started_total{grpc_type="bidi_stream",grpc_service="etcdserverpb.Watch",grpc_method="Watch"} 0',
    )
  })

  it('observeGrpc counts a unary call as the interceptor does; a failed call sends no message', async () => {
    const metrics = createMetrics({ ...base, level: 'extensive' })
    metrics.observeGrpc('etcdserverpb.KV', 'Put', 'unary', 0, 0.002)
    metrics.observeGrpc('etcdserverpb.KV', 'Put', 'unary', 14, 0.2)
    const text = await metrics.metrics()
    const labels = 'grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put"'
    expect(sampleValue(text, `grpc_server_started_total{${labels}}`)).toBe(2)
    expect(sampleValue(text, `grpc_server_msg_received_total{${labels}}`)).toBe(2)
    expect(sampleValue(text, `grpc_server_msg_sent_total{${labels}}`)).toBe(1)
    expect(sampleValue(text, `grpc_server_handled_total{${labels},grpc_code="OK"}`)).toBe(1)
    expect(sampleValue(text, `grpc_server_handled_total{${labels},grpc_code="Unavailable"}`)).toBe(1)
    expect(sampleValue(text, `grpc_server_handling_seconds_bucket{le="0.005",${labels}}`)).toBe(1)
    expect(sampleValue(text, `grpc_server_handling_seconds_count{${labels}}`)).toBe(2)
    expect(grpcCodeName(4)).toBe('DeadlineExceeded')
    expect(grpcCodeName(99)).toBe('Code(99)')
  })

  it('the 3.4 debugging alias of the DB size follows etcd_mvcc_db_total_size_in_bytes', async () => {
    const metrics = createMetrics(base)
    metrics.dbTotalSize.set(123456)
    const text = await metrics.metrics()
    expect(sampleValue(text, 'etcd_debugging_mvcc_db_total_size_in_bytes')).toBe(123456)
    expect(sampleValue(text, 'etcd_debugging_mvcc_compact_revision')).toBe(-1)
    expect(sampleValue(text, 'etcd_server_quota_backend_bytes')).toBe(2147483648)
  })

  it('default metrics add process_* (with the Go-only virtual memory limit) and nodejs_*', async () => {
    const families = parseFamilies(await createMetrics({ ...base, defaultMetrics: true }).metrics())
    for (const name of ['process_cpu_seconds_total', 'process_open_fds', 'process_max_fds', 'process_resident_memory_bytes',
      'process_start_time_seconds', 'process_virtual_memory_bytes', 'process_virtual_memory_max_bytes',
      'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(families.has(name), name).toBe(true)
    }
  })
})
