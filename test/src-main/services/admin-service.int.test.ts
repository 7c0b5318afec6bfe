import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AppStore } from '../../../core/storage/app-store'
import { FakeClock, systemClock } from '../../../core/util/clock'
import type { AppInfo, ClusterOverview, ConnectionInput, MemberMetricsPoint, MetricsSampleEvent, Result } from '../../../src-main/api/admin-api'
import { AdminService } from '../../../src-main/services/admin-service'
import { defaultClientFactory } from '../../../src-main/services/client-factory'
import { ConnectionService } from '../../../src-main/services/connections'
import { METRICS_RETENTION_MS, MetricsHistory } from '../../../src-main/services/metrics-history'
import { KeyFileCipher } from '../../../src-main/services/secret-cipher'
import { startEtcd, type EtcdCluster } from '../../support/etcd'
import { tempDir } from '../../support/temp-dir'

// The whole AdminApi as the IPC handlers and web mode call it, over a real app database and a real etcd.

const appInfo: AppInfo = { version: 'test', mode: 'web', platform: 'linux', secretStorage: 'key-file' }

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
  return result.value
}

describe('admin service over a real app database and etcd 3.4', () => {
  let cluster: EtcdCluster
  let dir: ReturnType<typeof tempDir>
  beforeAll(async () => {
    cluster = await startEtcd({ size: 1 })
    dir = tempDir('quorum-admin-')
  })
  afterAll(async () => {
    await cluster?.stop()
    dir?.remove()
  })

  const open = () => {
    const store = new AppStore(join(dir.path, 'quorum.db'))
    const cipher = new KeyFileCipher(join(dir.path, 'secret.key'))
    const service = new AdminService({
      appInfo,
      connections: new ConnectionService(store, cipher, systemClock),
      createClient: defaultClientFactory,
      clock: systemClock,
      monitorIntervalMs: 200,
      metricsHistory: new MetricsHistory(store, systemClock),
    })
    return { store, service }
  }

  it('saves, tests and monitors a connection; chart history survives a restart and goes with the connection', async () => {
    const input: ConnectionInput = { name: 'local', endpoints: [cluster.endpoints], readOnly: true, username: '', tls: { caCert: '', clientCert: '', serverName: '' } }
    const first = open()
    const profile = value(await first.service.saveConnection(input))
    expect(value(await first.service.testConnection({ ...input, id: profile.id }))).toMatchObject({ ok: true, memberCount: 1 })
    expect(value(await first.service.getClusterOverview(profile.id)).members).toHaveLength(1)
    expect(await first.service.getClusterOverview('missing')).toMatchObject({ ok: false, error: { code: 'not_found' } })

    const samples: MetricsSampleEvent[] = []
    const overviews: ClusterOverview[] = []
    const offSample = first.service.onMetricsSample((event) => samples.push(event))
    first.service.onOverviewChanged((overview) => overviews.push(overview))
    expect(value(await first.service.startMonitoring(profile.id)).points).toEqual([])
    await expect.poll(() => samples.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3)
    offSample()
    expect(overviews[0]).toMatchObject({ connectionId: profile.id, quorum: { voters: 1, hasQuorum: true } })
    const seen = samples.flatMap((event) => event.points)
    expect(value(await first.service.stopMonitoring(profile.id))).toBeNull()
    await first.service.close()
    first.store.close()

    const second = open()
    const history = value(await second.service.startMonitoring(profile.id))
    expect(history.points.slice(0, seen.length)).toEqual(seen)
    // With every endpoint gone, monitoring reports the failure instead of going quiet.
    const errors: string[] = []
    second.service.onMonitoringError((event) => errors.push(event.message))
    cluster.kill(0)
    await expect.poll(() => errors.length, { timeout: 15_000 }).toBeGreaterThan(0)
    expect(errors[0]).toContain('cluster did not answer')
    value(await second.service.deleteConnection(profile.id))
    expect(second.store.metricPointsSince(profile.id, 0, 10)).toEqual([])
    await second.service.close()
    second.store.close()
  })

  it('keeps chart points for 24 hours only', () => {
    const store = new AppStore(':memory:')
    const clock = new FakeClock()
    const history = new MetricsHistory(store, clock)
    const point = (at: number) => ({ memberId: 'a', memberName: 'a', at, up: true }) as MemberMetricsPoint
    history.append('c', [point(clock.now())])
    clock.advance(METRICS_RETENTION_MS)
    history.append('c', [point(clock.now())])
    expect(history.recent('c', 10).map((p) => p.at)).toEqual([clock.now() - METRICS_RETENTION_MS, clock.now()])
    // Reads never show expired points; the rows themselves are pruned at most every 10 minutes.
    clock.advance(60_000)
    history.append('c', [point(clock.now())])
    expect(history.recent('c', 10)).toHaveLength(2)
    expect(store.metricPointsSince('c', 0, 10)).toHaveLength(3)
    clock.advance(10 * 60_000)
    history.append('c', [point(clock.now())])
    expect(store.metricPointsSince('c', 0, 10)).toHaveLength(3)
    store.close()
  })
})
