import { EventEmitter } from 'node:events'
import type { Clock } from '../../core/util/clock'
import type {
  AdminApi,
  AlertInfo,
  AppInfo,
  ClusterOverview,
  ConnectionInput,
  LocalClusterInfo,
  LocalClusterInput,
  LocalMemberAction,
  MetricsHistory as MetricsHistoryDto,
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
import { AlertEvaluator } from './alerts'
import type { LocalClusterService } from './local-clusters'
import type { AlertRule } from '../../core/metrics/alert-rules'
import type { EtcdClient } from '../../core/client'
import type { ClusterClientOptions } from './cluster-client'
import { createEtcdClient } from './client-factory'
import { KeyService } from './key-service'
import type { SnapshotService } from './snapshots'
import type { TlsSetupService } from './tls-setup'
import type { TlsApi, TlsProgressEvent } from '../api/tls-api'
import type { BackupScheduleService } from './backups'
import { MembershipWizardService } from './membership-wizard'
import type { BackupRunEvent, SnapshotProgressEvent, WizardsApi } from '../api/wizards-api'
import type { DrillsApi } from '../api/drills-api'
import type { DrillService } from './drills'
import type { AdvisorService } from './advisor'
import { fail } from './result'

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
  /** Local clusters under the app's data dir; without it the local-cluster methods answer `unavailable`. */
  localClusters?: LocalClusterService
  /** Alert rules evaluated on every sample (the shipped rules file); none when absent. */
  alertRules?: readonly AlertRule[]
  /** Multiplies every rule's `for:` (tests and demos shorten them; default 1). */
  alertForScale?: number
  /** Snapshot and restore wizards; without it those methods answer `unavailable`. */
  snapshots?: SnapshotService
  /** The TLS wizard's conversion of local clusters; without it that method answers `unavailable`. */
  tls?: TlsSetupService
  /** Failure drills on local clusters; without it those methods answer `unavailable`. */
  drills?: DrillService
  /** The best-practice advisor; without it `adviseConnection` answers `unavailable`. */
  advisor?: AdvisorService
  /** Backup schedules; without it those methods answer `unavailable`. */
  backups?: BackupScheduleService
  /** Opens the full client the key browser uses (default: createEtcdClient). */
  openEtcdClient?: (options: ClusterClientOptions) => EtcdClient
}

/**
 * The AdminApi implemented over the plain-Node services. Owns one ClusterMonitor per monitored connection
 * and fans their samples out to event subscribers (IPC windows or web sockets).
 */
export class AdminService implements AdminApi {
  private readonly events = new EventEmitter()
  private readonly monitors = new Map<string, ClusterMonitor>()
  private readonly callTimeoutMs: number
  private readonly alerts: AlertEvaluator
  /** Connections of local clusters: monitored (and alerted on) all the time, not only while shown. */
  private readonly pinned = new Set<string>()
  private readonly keys: KeyService
  private readonly membership: MembershipWizardService

  constructor(private readonly deps: AdminServiceDeps) {
    this.callTimeoutMs = deps.callTimeoutMs ?? 3000
    this.events.setMaxListeners(100)
    this.membership = new MembershipWizardService({
      clusterDir: (name) => this.local().dir(name),
      exists: (name) => this.deps.localClusters?.exists(name) ?? false,
      execute: (cluster, kind, member) => (kind === 'addLearner' ? this.addLocalMember(cluster, true) : this.localMemberAction(cluster, member, kind)),
    })
    this.keys = new KeyService({ connections: deps.connections, openClient: deps.openEtcdClient ?? createEtcdClient })
    this.alerts = new AlertEvaluator({
      rules: deps.alertRules ?? [],
      now: () => deps.clock.now(),
      forScale: deps.alertForScale,
      jobName: (connectionId) => deps.connections.list().find((profile) => profile.id === connectionId)?.name ?? connectionId,
    })
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
    return toResult(() => this.ensureMonitor(connectionId))
  }

  async stopMonitoring(connectionId: string) {
    return toResult(async () => {
      if (!this.pinned.has(connectionId)) await this.stopMonitor(connectionId)
      return null
    })
  }

  async listLocalClusters() {
    return toResult(async () => this.pinLocalClusters(await this.local().list()))
  }

  async createLocalCluster(input: LocalClusterInput) {
    return this.changingLocalClusters(() => this.local().create(input))
  }

  async deleteLocalCluster(name: string) {
    return this.changingLocalClusters(async () => {
      const connectionId = (await this.local().list()).find((cluster) => cluster.name === name)?.connectionId
      if (connectionId) {
        this.pinned.delete(connectionId)
        await this.stopMonitor(connectionId)
        this.deps.metricsHistory?.forget(connectionId)
      }
      return this.local().delete(name)
    })
  }

  async localMemberAction(cluster: string, member: string, action: LocalMemberAction) {
    return this.changingLocalClusters(async () => {
      const info = await this.local().memberAction(cluster, member, action)
      // Removing a member changes the endpoints the monitor's client was built with.
      if (action === 'remove') await this.stopMonitor(info.connectionId)
      return info
    })
  }

  async addLocalMember(cluster: string, learner: boolean) {
    return this.changingLocalClusters(async () => {
      const info = await this.local().addMember(cluster, learner)
      // The monitor's client was built with the old endpoints.
      await this.stopMonitor(info.connectionId)
      return info
    })
  }

  async listAlerts(connectionId: string) {
    return toResult(() => this.alerts.list(connectionId))
  }

  onAlert(listener: (alert: AlertInfo) => void): Unsubscribe {
    return this.listen('alert', listener)
  }

  onLocalClustersChanged(listener: (clusters: LocalClusterInfo[]) => void): Unsubscribe {
    return this.listen('local-clusters', listener)
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

  // Key browser: delegated to KeyService (src-main/services/key-service.ts).
  listKeys: KeyService['listKeys'] = (request) => this.keys.listKeys(request)
  countKeys: KeyService['countKeys'] = (...args) => this.keys.countKeys(...args)
  getKey: KeyService['getKey'] = (...args) => this.keys.getKey(...args)
  getKeyHistory: KeyService['getKeyHistory'] = (...args) => this.keys.getKeyHistory(...args)
  saveKey: KeyService['saveKey'] = (request) => this.keys.saveKey(request)
  deleteKey: KeyService['deleteKey'] = (...args) => this.keys.deleteKey(...args)
  deleteKeyPrefix: KeyService['deleteKeyPrefix'] = (...args) => this.keys.deleteKeyPrefix(...args)
  transferKeys: KeyService['transferKeys'] = (request) => this.keys.transferKeys(request)
  exportKeys: KeyService['exportKeys'] = (request) => this.keys.exportKeys(request)
  importKeys: KeyService['importKeys'] = (...args) => this.keys.importKeys(...args)
  onKeyTransferProgress: KeyService['onKeyTransferProgress'] = (listener) => this.keys.onKeyTransferProgress(listener)
  startKeyWatch: KeyService['startKeyWatch'] = (request) => this.keys.startKeyWatch(request)
  stopKeyWatch: KeyService['stopKeyWatch'] = (watchId) => this.keys.stopKeyWatch(watchId)
  onKeyWatch: KeyService['onKeyWatch'] = (listener) => this.keys.onKeyWatch(listener)
  listLeases: KeyService['listLeases'] = (...args) => this.keys.listLeases(...args)
  getLease: KeyService['getLease'] = (...args) => this.keys.getLease(...args)
  leaseAction: KeyService['leaseAction'] = (...args) => this.keys.leaseAction(...args)
  getAuthOverview: KeyService['getAuthOverview'] = (...args) => this.keys.getAuthOverview(...args)
  authAction: KeyService['authAction'] = (...args) => this.keys.authAction(...args)

  // Guided operations: delegated to SnapshotService (src-main/services/snapshots.ts).
  suggestSnapshotPath: WizardsApi['suggestSnapshotPath'] = (...args) => this.snapshots((service) => service.suggestSnapshotPath(...args))
  takeSnapshot: WizardsApi['takeSnapshot'] = (request) => this.snapshots((service) => service.takeSnapshot(request))
  getSnapshotStatus: WizardsApi['getSnapshotStatus'] = (path) => this.snapshots((service) => service.getSnapshotStatus(path))
  verifySnapshot: WizardsApi['verifySnapshot'] = (path) => this.snapshots((service) => service.verifySnapshot(path))
  planRemoteRestore: WizardsApi['planRemoteRestore'] = (request) => this.snapshots((service) => service.planRemoteRestore(request))
  restoreSnapshotToLocal: WizardsApi['restoreSnapshotToLocal'] = async (request) => {
    const result = await this.snapshots((service) => service.restoreSnapshotToLocal(request))
    if (result.ok) {
      const clusters = await this.listLocalClusters()
      if (clusters.ok) this.events.emit('local-clusters', clusters.value)
    }
    return result
  }
  onSnapshotProgress(listener: (event: SnapshotProgressEvent) => void): Unsubscribe {
    return this.deps.snapshots?.onSnapshotProgress(listener) ?? (() => undefined)
  }
  listBackupSchedules: WizardsApi['listBackupSchedules'] = () => this.backups((service) => service.listBackupSchedules())
  saveBackupSchedule: WizardsApi['saveBackupSchedule'] = (input) => this.backups((service) => service.saveBackupSchedule(input))
  deleteBackupSchedule: WizardsApi['deleteBackupSchedule'] = (id) => this.backups((service) => service.deleteBackupSchedule(id))
  runBackupNow: WizardsApi['runBackupNow'] = (id) => this.backups((service) => service.runBackupNow(id))
  getBackupHistory: WizardsApi['getBackupHistory'] = (id) => this.backups((service) => service.getBackupHistory(id))
  planMembershipChange: WizardsApi['planMembershipChange'] = (...args) => this.membership.planMembershipChange(...args)
  applyMembershipChange: WizardsApi['applyMembershipChange'] = (...args) => this.membership.applyMembershipChange(...args)
  onBackupRun(listener: (event: BackupRunEvent) => void): Unsubscribe {
    return this.deps.backups?.onBackupRun(listener) ?? (() => undefined)
  }

  // TLS wizard: delegated to TlsSetupService (src-main/services/tls-setup.ts); subscribers get the new list.
  convertLocalClusterToTls: TlsApi['convertLocalClusterToTls'] = async (request) => {
    if (!this.deps.tls) return fail('unavailable', 'the TLS wizard is not available in this app run')
    const result = await this.deps.tls.convertLocalClusterToTls(request)
    const clusters = await this.listLocalClusters()
    if (clusters.ok) this.events.emit('local-clusters', clusters.value)
    return result
  }
  onTlsProgress(listener: (event: TlsProgressEvent) => void): Unsubscribe {
    return this.deps.tls?.onTlsProgress(listener) ?? (() => undefined)
  }

  // Failure drills and the advisor: delegated to DrillService and AdvisorService (issue 15).
  getDrillState: DrillsApi['getDrillState'] = (cluster, probeWrites) => toResult(() => this.drillService().state(cluster, probeWrites))
  enableDrills: DrillsApi['enableDrills'] = (cluster) => this.changingLocalClusters(() => this.drillService().enable(cluster))
  runDrill: DrillsApi['runDrill'] = (cluster, input) => this.changingLocalClusters(() => this.drillService().run(cluster, input))
  adviseConnection: DrillsApi['adviseConnection'] = (connectionId) =>
    toResult(() => {
      if (!this.deps.advisor) throw new ServiceError('unavailable', 'the advisor is not available in this app run')
      return this.deps.advisor.advise(connectionId)
    })

  private drillService(): DrillService {
    if (!this.deps.drills) throw new ServiceError('unavailable', 'failure drills are not available in this app run')
    return this.deps.drills
  }

  /** Stops every monitor (app quit, server close). */
  async close(): Promise<void> {
    this.keys.close()
    this.deps.snapshots?.close()
    this.deps.tls?.close()
    await this.deps.backups?.close()
    await Promise.all([...this.monitors.keys()].map((id) => this.stopMonitor(id)))
    this.events.removeAllListeners()
  }

  private backups<T>(call: (service: BackupScheduleService) => Promise<Result<T>>): Promise<Result<T>> {
    return this.deps.backups ? call(this.deps.backups) : Promise.resolve(fail('unavailable', 'backup schedules are not available in this app run'))
  }

  private snapshots<T>(call: (service: SnapshotService) => Promise<Result<T>>): Promise<Result<T>> {
    return this.deps.snapshots ? call(this.deps.snapshots) : Promise.resolve(fail('unavailable', 'snapshots are not available in this app run'))
  }

  private local(): LocalClusterService {
    if (!this.deps.localClusters) throw new ServiceError('unavailable', 'local clusters are not available in this app run')
    return this.deps.localClusters
  }

  /** Runs a local-cluster change, then tells subscribers the new list (also after a failure: state may have moved). */
  private async changingLocalClusters<T>(work: () => Promise<T>): Promise<Result<T>> {
    try {
      return await toResult(work)
    } finally {
      if (this.deps.localClusters) {
        const clusters = await this.deps.localClusters.list().catch(() => null)
        if (clusters) this.events.emit('local-clusters', this.pinLocalClusters(clusters))
      }
    }
  }

  /** Starts sampling `connectionId` unless it already runs; returns the history so far. */
  private ensureMonitor(connectionId: string): MetricsHistoryDto {
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
          for (const alert of this.alerts.evaluate(connectionId, points)) this.events.emit('alert', alert)
        },
      })
      this.monitors.set(connectionId, monitor)
      monitor.start()
    }
    return monitor.snapshot()
  }

  /** Keeps a monitor running for every local cluster's connection (alerts without the overview open). */
  private pinLocalClusters(clusters: LocalClusterInfo[]): LocalClusterInfo[] {
    for (const cluster of clusters) {
      if (!cluster.connectionId) continue
      this.pinned.add(cluster.connectionId)
      try {
        this.ensureMonitor(cluster.connectionId)
      } catch {
        // The profile was deleted by hand: the cluster shows without monitoring.
        this.pinned.delete(cluster.connectionId)
      }
    }
    return clusters
  }

  private listen<T>(name: string, listener: (payload: T) => void): Unsubscribe {
    this.events.on(name, listener)
    return () => this.events.off(name, listener)
  }

  private async stopMonitor(connectionId: string): Promise<void> {
    const monitor = this.monitors.get(connectionId)
    if (!monitor) return
    this.monitors.delete(connectionId)
    for (const alert of this.alerts.forget(connectionId)) this.events.emit('alert', alert)
    await monitor.stop()
  }
}
