import { EventEmitter } from 'node:events'
import type { Clock } from '../../core/util/clock'
import type {
  AdminApi,
  AppInfo,
  ClusterOverview,
  ConnectionInput,
  MetricsSampleEvent,
  MonitoringErrorEvent,
  Result,
  Unsubscribe,
} from '../api/admin-api'
import { ClusterCallError, type ClusterClientFactory } from './cluster-client'
import { ClusterMonitor } from './cluster-monitor'
import { readClusterOverview } from './cluster-overview'
import { testConnection, type ConnectionTestTimeouts } from './connection-test'
import type { ConnectionService } from './connections'
import type { MetricsHistory } from './metrics-history'
import { ServiceError, toResult } from './result'

/** Chart points kept in memory per monitored connection (about an hour for 3 members at 2 s). */
const HISTORY_POINTS = 6000

/** What the admin service is built from; Electron and web mode pass their own cipher-backed connections. */
export interface AdminServiceDeps {
  appInfo: AppInfo
  connections: ConnectionService
  createClient: ClusterClientFactory
  clock: Clock
  callTimeoutMs?: number
  monitorIntervalMs?: number
  connectionTestTimeouts?: ConnectionTestTimeouts
  /** Keeps chart points across restarts (24 h); without it history lives only in memory. */
  metricsHistory?: MetricsHistory
}

/**
 * The AdminApi implemented over the plain-Node services. Owns one ClusterMonitor per monitored connection
 * and fans their samples out to event subscribers (IPC windows or web sockets).
 */
export class AdminService implements AdminApi {
  private readonly events = new EventEmitter()
  private readonly monitors = new Map<string, ClusterMonitor>()
  private readonly callTimeoutMs: number

  constructor(private readonly deps: AdminServiceDeps) {
    this.callTimeoutMs = deps.callTimeoutMs ?? 3000
    this.events.setMaxListeners(100)
  }

  async getAppInfo(): Promise<Result<AppInfo>> {
    return toResult(() => this.deps.appInfo)
  }

  async listConnections() {
    return toResult(() => this.deps.connections.list())
  }

  async saveConnection(input: ConnectionInput) {
    return toResult(async () => {
      const profile = this.deps.connections.save(input)
      // A monitored connection picks up new endpoints or credentials on its next start.
      await this.stopMonitor(profile.id)
      return profile
    })
  }

  async deleteConnection(id: string) {
    return toResult(async () => {
      this.deps.connections.delete(id)
      await this.stopMonitor(id)
      this.deps.metricsHistory?.forget(id)
      return null
    })
  }

  async testConnection(input: ConnectionInput) {
    return toResult(() =>
      testConnection(this.deps.connections.clientOptions(input, this.callTimeoutMs), this.deps.createClient, this.deps.clock, this.deps.connectionTestTimeouts),
    )
  }

  async exportConnections() {
    return toResult(() => this.deps.connections.exportAll())
  }

  async importConnections(json: string) {
    return toResult(() => this.deps.connections.importAll(json))
  }

  async getClusterOverview(connectionId: string) {
    return toResult(async () => {
      const client = this.deps.createClient(this.deps.connections.clientOptions(connectionId, this.callTimeoutMs))
      try {
        return await readClusterOverview(client, connectionId, () => this.deps.clock.now())
      } catch (error) {
        if (error instanceof ClusterCallError) throw new ServiceError('unavailable', `cluster did not answer: ${error.message}`)
        throw error
      } finally {
        await client.close()
      }
    })
  }

  async startMonitoring(connectionId: string) {
    return toResult(() => {
      let monitor = this.monitors.get(connectionId)
      if (!monitor) {
        const options = this.deps.connections.clientOptions(connectionId, this.callTimeoutMs)
        monitor = new ClusterMonitor({
          connectionId,
          client: this.deps.createClient(options),
          tls: options.tls,
          clock: this.deps.clock,
          intervalMs: this.deps.monitorIntervalMs,
          historyPoints: HISTORY_POINTS,
          initialPoints: this.deps.metricsHistory?.recent(connectionId, HISTORY_POINTS),
          onOverview: (overview) => this.events.emit('overview', overview),
          onError: (error) =>
            this.events.emit('monitoring-error', {
              connectionId,
              message: error instanceof ClusterCallError ? `cluster did not answer: ${error.message}` : error.message,
              at: this.deps.clock.now(),
            } satisfies MonitoringErrorEvent),
          onSample: (points) => {
            this.deps.metricsHistory?.append(connectionId, points)
            this.events.emit('sample', { connectionId, points } satisfies MetricsSampleEvent)
          },
        })
        this.monitors.set(connectionId, monitor)
        monitor.start()
      }
      return monitor.snapshot()
    })
  }

  async stopMonitoring(connectionId: string) {
    return toResult(async () => {
      await this.stopMonitor(connectionId)
      return null
    })
  }

  onMetricsSample(listener: (event: MetricsSampleEvent) => void): Unsubscribe {
    return this.listen('sample', listener)
  }

  onOverviewChanged(listener: (overview: ClusterOverview) => void): Unsubscribe {
    return this.listen('overview', listener)
  }

  onMonitoringError(listener: (event: MonitoringErrorEvent) => void): Unsubscribe {
    return this.listen('monitoring-error', listener)
  }

  /** Stops every monitor (app quit, server close). */
  async close(): Promise<void> {
    await Promise.all([...this.monitors.keys()].map((id) => this.stopMonitor(id)))
    this.events.removeAllListeners()
  }

  private listen<T>(name: string, listener: (payload: T) => void): Unsubscribe {
    this.events.on(name, listener)
    return () => this.events.off(name, listener)
  }

  private async stopMonitor(connectionId: string): Promise<void> {
    const monitor = this.monitors.get(connectionId)
    if (!monitor) return
    this.monitors.delete(connectionId)
    await monitor.stop()
  }
}
