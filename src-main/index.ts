import { app, BrowserWindow, ipcMain, safeStorage, type Rectangle } from 'electron'
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
  const { store, admin: service, close } = openAppServices({
    dataDir: userData,
    mode: 'electron',
    version,
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
    void close()
  })
}

void main()
