import { BrowserWindow, session, shell, type Rectangle } from 'electron'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** Content-Security-Policy of the app page: only our own files; no remote scripts, frames or objects. */
export const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"

/** The file:// URL of the renderer's index.html next to the bundled main process. */
export function rendererUrl(): string {
  return pathToFileURL(join(__dirname, '../renderer/index.html')).href
}

/** True for our renderer page (any hash route), the only URL allowed to call the admin API. */
export function isAppUrl(url: string): boolean {
  return url.split('#')[0] === rendererUrl()
}

/**
 * Locks the default session down once: CSP on every response, no permission prompts (camera, notifications
 * through the web API, ...), no requests to remote hosts.
 */
export function hardenSession(): void {
  const defaultSession = session.defaultSession
  defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [APP_CSP] } })
  })
  defaultSession.webRequest.onBeforeRequest({ urls: ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*'] }, (_details, callback) => {
    callback({ cancel: true })
  })
  defaultSession.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false))
  defaultSession.setPermissionCheckHandler(() => false)
}

/**
 * The main window: isolated, sandboxed, no Node, CommonJS preload. Navigation away from the app page and new
 * windows are blocked; http(s) links open in the system browser instead.
 */
export function createMainWindow(bounds: Partial<Rectangle> | null, onBoundsChanged: (bounds: Rectangle) => void): BrowserWindow {
  const window = new BrowserWindow({
    width: bounds?.width ?? 1280,
    height: bounds?.height ?? 820,
    x: bounds?.x,
    y: bounds?.y,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Quorum',
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  })
  const contents = window.webContents
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault()
  })
  contents.on('will-redirect', (event) => event.preventDefault())
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  let saveTimer: NodeJS.Timeout | null = null
  const remember = () => {
    if (saveTimer) clearTimeout(saveTimer)
    saveTimer = setTimeout(() => {
      if (!window.isDestroyed() && !window.isMaximized() && !window.isMinimized()) onBoundsChanged(window.getBounds())
    }, 500)
  }
  window.on('resize', remember)
  window.on('move', remember)
  window.once('ready-to-show', () => window.show())
  void window.loadURL(rendererUrl())
  return window
}
