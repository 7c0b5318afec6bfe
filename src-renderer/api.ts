import { ADMIN_EVENTS, ADMIN_METHODS, type AdminApi, type AdminEvent, type Result, type Unsubscribe } from '../src-main/api/admin-api'

// The renderer's one handle on the admin contract. Only stores import this file. In Electron the preload
// exposes `window.admin`; in web mode (`quorum ui`) a bridge with the same shape talks HTTP + WebSocket to the
// same services. Both are generated from the contract's method and event lists.

declare global {
  interface Window {
    admin?: AdminApi
  }
}

const RECONNECT_MS = 1000

/** A bridge over `POST /api/<method>` and the `/events` WebSocket of web mode (auth: the HttpOnly cookie). */
function createWebBridge(): AdminApi {
  const listeners = new Map<AdminEvent, Set<(payload: unknown) => void>>()
  let socket: WebSocket | null = null

  const connect = () => {
    const url = new URL('events', window.location.href)
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
    url.search = ''
    url.hash = ''
    socket = new WebSocket(url)
    socket.onmessage = (message) => {
      const { event, payload } = JSON.parse(String(message.data)) as { event: AdminEvent; payload: unknown }
      for (const listener of listeners.get(event) ?? []) listener(payload)
    }
    socket.onclose = () => {
      socket = null
      if ([...listeners.values()].some((set) => set.size > 0)) setTimeout(connect, RECONNECT_MS)
    }
  }

  const bridge: Record<string, unknown> = {}
  for (const method of ADMIN_METHODS) {
    bridge[method] = async (...args: unknown[]): Promise<Result<unknown>> => {
      try {
        const response = await fetch(new URL(`api/${method}`, window.location.href), {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          credentials: 'same-origin',
          body: JSON.stringify(args),
        })
        if (response.status === 403) return { ok: false, error: { code: 'forbidden', message: await response.text() } }
        return (await response.json()) as Result<unknown>
      } catch (error) {
        return { ok: false, error: { code: 'unavailable', message: `the Quorum server did not answer: ${String(error)}` } }
      }
    }
  }
  for (const name of ADMIN_EVENTS) {
    bridge[name] = (listener: (payload: unknown) => void): Unsubscribe => {
      let set = listeners.get(name)
      if (!set) listeners.set(name, (set = new Set()))
      set.add(listener)
      if (socket === null) connect()
      return () => {
        set.delete(listener)
      }
    }
  }
  return Object.freeze(bridge) as unknown as AdminApi
}

/** The admin API of this window: Electron's preload bridge, or the web-mode bridge. */
export const api: AdminApi = window.admin ?? createWebBridge()
