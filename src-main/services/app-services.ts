import { join } from 'node:path'
import { AppStore } from '../../core/storage/app-store'
import { systemClock } from '../../core/util/clock'
import { AdminService } from './admin-service'
import { createEtcdClient, defaultClientFactory } from './client-factory'
import { ConnectionService } from './connections'
import { MetricsHistory } from './metrics-history'
import { KeyFileCipher, type SecretCipher } from './secret-cipher'
import { DrillService } from './drills'
import { AdvisorService } from './advisor'
import { SnapshotService } from './snapshots'
import { TlsSetupService } from './tls-setup'
import { BackupScheduleService } from './backups'
import { tmpdir } from 'node:os'
import { LocalClusterService, PLAYGROUND_NAME } from './local-clusters'
import { shippedAlertRules } from '../../core/metrics/shipped-rules'
import type { MemberCommand } from '../../core/cluster/launcher'
import type { LocalClusterInfo, Result } from '../api/admin-api'

/** The app's services over one data directory, as Electron and web mode both run them. */
export interface AppServices {
  store: AppStore
  admin: AdminService
  /**
   * Creates the 3-member "playground" local cluster unless one exists (first start). Resolves with the
   * call's Result, or null when the playground already existed.
   */
  ensurePlayground(): Promise<Result<LocalClusterInfo> | null>
  /** Stops monitors and closes the database (local cluster members keep running). */
  close(): Promise<void>
}

/**
 * Opens `<dataDir>/quorum.db` and builds the admin service on it. Secrets use `cipher` (Electron passes
 * safeStorage) or else an AES-GCM key file `<dataDir>/secret.key` with mode 0600.
 */
export function openAppServices(options: {
  dataDir: string
  mode: 'electron' | 'web'
  version: string
  cipher?: SecretCipher
  /** How local cluster members run `quorum node`. */
  quorumCommand: MemberCommand
  /** Multiplies the alert rules' `for:` durations (default 1). */
  alertForScale?: number
}): AppServices {
  const store = new AppStore(join(options.dataDir, 'quorum.db'))
  const cipher = options.cipher ?? new KeyFileCipher(join(options.dataDir, 'secret.key'))
  const connections = new ConnectionService(store, cipher, systemClock)
  const localClusters = new LocalClusterService({ clustersDir: join(options.dataDir, 'clusters'), connections, quorumCommand: options.quorumCommand })
  const backups = new BackupScheduleService({
    dataDir: options.dataDir,
    connections,
    openClient: createEtcdClient,
    quorumCommand: options.quorumCommand,
    tmpDir: tmpdir(),
    clock: systemClock,
  })
  const admin = new AdminService({
    appInfo: { version: options.version, mode: options.mode, platform: process.platform, secretStorage: cipher.kind },
    connections,
    createClient: defaultClientFactory,
    clock: systemClock,
    metricsHistory: new MetricsHistory(store, systemClock),
    localClusters,
    alertRules: shippedAlertRules(),
    alertForScale: options.alertForScale,
    backups,
    snapshots: new SnapshotService({
      connections,
      openClient: createEtcdClient,
      localClusters,
      quorumCommand: options.quorumCommand,
      snapshotsDir: join(options.dataDir, 'snapshots'),
      tmpDir: tmpdir(),
      clock: systemClock,
    }),
    tls: new TlsSetupService({ localClusters, connections, openClient: createEtcdClient, quorumCommand: options.quorumCommand }),
    drills: new DrillService({ localClusters, quorumCommand: options.quorumCommand }),
    advisor: new AdvisorService({
      connections,
      // Every backup schedule of the connection feeds the backup and restore-drill findings.
      backupRuns: async (connectionId) => {
        const schedules = await backups.listBackupSchedules()
        if (!schedules.ok) return []
        const histories = await Promise.all(schedules.value.filter((schedule) => schedule.connectionId === connectionId).map((schedule) => backups.getBackupHistory(schedule.id)))
        return histories.flatMap((history) => (history.ok ? history.value : []))
      },
    }),
  })
  // Schedules run while the app is open; a run missed while it was closed happens now, once.
  backups.start()
  return {
    store,
    admin,
    ensurePlayground: async () => (localClusters.exists(PLAYGROUND_NAME) ? null : admin.createLocalCluster({ name: PLAYGROUND_NAME, size: 3, tls: false })),
    close: async () => {
      await admin.close()
      store.close()
    },
  }
}
