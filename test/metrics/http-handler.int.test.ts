import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMetricsHttpHandler, type HealthNeeds, type HealthSnapshot } from '../../core/metrics/health'
import { createMetrics } from '../../core/metrics/registry'

describe('metrics HTTP handler over a real socket', () => {
  const metrics = createMetrics({ memberId: 1n, serverVersion: '3.4.23', quotaBackendBytes: 2 ** 31, defaultMetrics: false })
  let snapshot: HealthSnapshot = { alarms: [], hasLeader: true, isLearner: false }
  const asked: HealthNeeds[] = []
  let server: Server
  let base = ''

  beforeAll(async () => {
    const handle = createMetricsHttpHandler({
      metrics,
      status: (needs) => {
        asked.push(needs)
        return {
          ...snapshot,
          serializableReadError: needs.serializableRead ? null : undefined,
          linearizableReadError: needs.linearizableRead ? (snapshot.hasLeader ? null : 'etcdserver: no leader') : undefined,
        }
      },
    })
    server = createServer((request, response) => void handle(request, response))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('serves /metrics in the Prometheus text format', async () => {
    const response = await fetch(`${base}/metrics`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(await response.text()).toContain('# TYPE etcd_server_has_leader gauge\n')
  })

  it('/health answers etcd JSON and counts into etcd_server_health_success / _failures', async () => {
    let response = await fetch(`${base}/health`)
    expect([response.status, await response.text()]).toEqual([200, '{"health":"true","reason":""}'])
    snapshot = { ...snapshot, hasLeader: false }
    response = await fetch(`${base}/health`)
    expect([response.status, await response.text()]).toEqual([503, '{"health":"false","reason":"RAFT NO LEADER"}\n'])
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    const text = await metrics.metrics()
    expect(text).toContain('etcd_server_health_success 1\n')
    expect(text).toContain('etcd_server_health_failures 1\n')
  })

  it('/readyz runs only the reads it needs and records etcd_server_healthcheck', async () => {
    asked.length = 0
    const response = await fetch(`${base}/readyz?verbose&exclude=linearizable_read`)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('[+]data_corruption ok\n[+]serializable_read ok\n[+]non_learner ok\nok\n')
    expect(asked).toEqual([{ serializableRead: true, linearizableRead: false }])
    const failed = await fetch(`${base}/readyz/linearizable_read`)
    expect([failed.status, await failed.text()]).toEqual([503, '[-]linearizable_read failed: etcdserver: no leader\n\n'])
    const text = await metrics.metrics()
    expect(text).toContain('etcd_server_healthcheck{type="readyz",name="linearizable_read"} 0\n')
    expect(text).toContain('etcd_server_healthchecks_total{type="readyz",name="serializable_read",status="success"} 1\n')
  })

  it('a failing status provider answers 500 and hands the error to the caller', async () => {
    const failing = createMetricsHttpHandler({
      metrics,
      status: () => {
        throw new Error('storage closed')
      },
    })
    const errors: unknown[] = []
    const other = createServer((request, response) => {
      failing(request, response).catch((error: unknown) => errors.push(error))
    })
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
    try {
      const response = await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/readyz`)
      expect([response.status, await response.text()]).toEqual([500, 'Internal Server Error\n'])
      expect(String(errors[0])).toContain('storage closed')
    } finally {
      await new Promise<void>((resolve) => other.close(() => resolve()))
    }
  })

  it('answers Go\'s 405 for other methods and 404 for unknown paths', async () => {
    const post = await fetch(`${base}/livez`, { method: 'POST' })
    expect([post.status, post.headers.get('allow'), await post.text()]).toEqual([405, 'GET', 'Method Not Allowed\n'])
    const missing = await fetch(`${base}/livez/linearizable_read`)
    expect([missing.status, await missing.text()]).toEqual([404, '404 page not found\n'])
  })
})
