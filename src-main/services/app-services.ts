import { join } from 'node:path'
import { AppStore } from '../../core/storage/app-store'
import { systemClock } from '../../core/util/clock'
import { AdminService } from './admin-service'
import { defaultClientFactory } from './client-factory'
import { ConnectionService } from './connections'
import { MetricsHistory } from './metrics-history'
import { KeyFileCipher, type SecretCipher } from './secret-cipher'

/** The app's services over one data directory, as Electron and web mode both run them. */
export interface AppServices {
  store: AppStore
  admin: AdminService
  /** Stops monitors and closes the database. */
  close(): Promise<void>
}

/**
 * Opens `<dataDir>/quorum.db` and builds the admin service on it. Secrets use `cipher` (Electron passes
 * safeStorage) or else an AES-GCM key file `<dataDir>/secret.key` with mode 0600.
 */
export function openAppServices(options: { dataDir: string; mode: 'electron' | 'web'; version: string; cipher?: SecretCipher }): AppServices {
  const store = new AppStore(join(options.dataDir, 'quorum.db'))
  const cipher = options.cipher ?? new KeyFileCipher(join(options.dataDir, 'secret.key'))
  const admin = new AdminService({
    appInfo: { version: options.version, mode: options.mode, platform: process.platform, secretStorage: cipher.kind },
    connections: new ConnectionService(store, cipher, systemClock),
    createClient: defaultClientFactory,
    clock: systemClock,
    metricsHistory: new MetricsHistory(store, systemClock),
  })
  return {
    store,
    admin,
    close: async () => {
      await admin.close()
      store.close()
    },
  }
}
