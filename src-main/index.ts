import { app, BrowserWindow, ipcMain, safeStorage, type Rectangle } from 'electron'
import { join } from 'node:path'
import { AppStore } from '../core/storage/app-store'
import { systemClock } from '../core/util/clock'
import { registerAdminHandlers } from './ipc/register-handlers'
import { AdminService } from './services/admin-service'
import { defaultClientFactory } from './services/client-factory'
import { ConnectionService } from './services/connections'
import { KeyFileCipher, SafeStorageCipher, type SecretCipher } from './services/secret-cipher'
import { MetricsHistory } from './services/metrics-history'
import { createMainWindow, hardenSession, isAppUrl } from './window'
import { version } from '../package.json'

// Electron main process: the app database under userData, secrets through safeStorage (the OS keychain; a
// key file only where the OS offers none), the admin services on IPC, and one locked-down window.

const BOUNDS_KEY = 'window.bounds'

async function main(): Promise<void> {
  await app.whenReady()
  hardenSession()
  const userData = app.getPath('userData')
  const store = new AppStore(join(userData, 'quorum.db'))
  const cipher: SecretCipher = safeStorage.isEncryptionAvailable()
    ? new SafeStorageCipher(safeStorage)
    : new KeyFileCipher(join(userData, 'secret.key'))
  const service = new AdminService({
    appInfo: { version, mode: 'electron', platform: process.platform, secretStorage: cipher.kind },
    connections: new ConnectionService(store, cipher, systemClock),
    createClient: defaultClientFactory,
    clock: systemClock,
    metricsHistory: new MetricsHistory(store, systemClock),
  })
  const ourWindows = new Set<number>()
  const dispose = registerAdminHandlers(
    ipcMain,
    service,
    { isOurWebContents: (id) => ourWindows.has(id), isAppUrl },
    () => BrowserWindow.getAllWindows().map((window) => window.webContents),
  )
  const open = () => {
    const window = createMainWindow(store.getSetting(BOUNDS_KEY) as Partial<Rectangle> | null, (bounds) => store.setSetting(BOUNDS_KEY, bounds))
    const id = window.webContents.id
    ourWindows.add(id)
    window.on('closed', () => ourWindows.delete(id))
  }
  open()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) open()
  })
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit()
  })
  app.on('will-quit', () => {
    dispose()
    void service.close().finally(() => store.close())
  })
}

void main()
