import { app, BrowserWindow, ipcMain, Notification, safeStorage, type Rectangle } from 'electron'
import { join } from 'node:path'
import { registerAdminHandlers } from './ipc/register-handlers'
import { openAppServices } from './services/app-services'
import { SafeStorageCipher } from './services/secret-cipher'
import { createMainWindow, hardenSession, isAppUrl } from './window'
import { version } from '../package.json'

// Electron main process: the app database under userData, secrets through safeStorage (the OS keychain; a
// key file only where the OS offers none), the admin services on IPC, and one locked-down window.

const BOUNDS_KEY = 'window.bounds'

async function main(): Promise<void> {
  await app.whenReady()
  hardenSession()
  const userData = app.getPath('userData')
  const { store, admin: service, close, ensurePlayground } = openAppServices({
    dataDir: userData,
    mode: 'electron',
    version,
    // Members are this Electron binary running the bundled CLI as plain Node (out/main/cli.js next to us).
    quorumCommand: { command: process.execPath, args: [join(__dirname, 'cli.js'), 'node'], env: { ELECTRON_RUN_AS_NODE: '1' } },
    // The OS keychain where there is one; otherwise openAppServices falls back to a key file.
    cipher: safeStorage.isEncryptionAvailable() ? new SafeStorageCipher(safeStorage) : undefined,
  })
  const ourWindows = new Set<number>()
  const dispose = registerAdminHandlers(
    ipcMain,
    service,
    { isOurWebContents: (id) => ourWindows.has(id), isAppUrl },
    () => BrowserWindow.getAllWindows().map((window) => window.webContents),
  )
  // Desktop notifications for alerts that start firing (the renderer shows banners for every state).
  const stopNotifications = service.onAlert((alert) => {
    if (alert.state === 'firing' && Notification.isSupported()) new Notification({ title: alert.summary, body: alert.description }).show()
  })
  if (!process.argv.includes('--no-playground')) {
    const created = await ensurePlayground()
    if (created && !created.ok) console.error(`the playground cluster did not start: ${created.error.message}`)
  }
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
    stopNotifications()
    void close()
  })
}

void main()
