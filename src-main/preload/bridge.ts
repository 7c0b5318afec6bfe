import {
  ADMIN_EVENTS,
  ADMIN_METHODS,
  eventChannel,
  methodChannel,
  type AdminApi,
  type Unsubscribe,
} from '../api/admin-api'

/** The parts of Electron's ipcRenderer the preload uses (a fake in tests). */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown
  removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): unknown
}

/**
 * Builds the object the preload exposes as `window.admin`: exactly one function per contract method and
 * event, each bound to its own channel. It never hands out `ipcRenderer`, a generic invoke, or Node APIs.
 */
export function buildAdminBridge(ipc: IpcRendererLike): AdminApi {
  const bridge: Record<string, unknown> = {}
  for (const method of ADMIN_METHODS) {
    const channel = methodChannel(method)
    bridge[method] = (...args: unknown[]) => ipc.invoke(channel, ...args)
  }
  for (const name of ADMIN_EVENTS) {
    const channel = eventChannel(name)
    bridge[name] = (listener: (payload: unknown) => void): Unsubscribe => {
      if (typeof listener !== 'function') throw new TypeError(`${name}: listener must be a function`)
      const forward = (_event: unknown, payload: unknown) => listener(payload)
      ipc.on(channel, forward)
      let active = true
      return () => {
        if (!active) return
        active = false
        ipc.removeListener(channel, forward)
      }
    }
  }
  return Object.freeze(bridge) as unknown as AdminApi
}
