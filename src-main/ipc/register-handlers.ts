import {
  ADMIN_EVENTS,
  ADMIN_METHODS,
  eventChannel,
  methodChannel,
  type AdminApi,
  type AdminEvent,
  type Result,
  type Unsubscribe,
} from '../api/admin-api'
import { dispatchAdminCall, subscribeAdminEvent } from '../api/dispatch'

// The IPC side of the contract: one `admin:<method>` handler per name in ADMIN_METHODS and one forwarder per
// event. The structural types below are the slices of Electron's ipcMain / IpcMainInvokeEvent / WebContents
// we use, so the handlers are tested in plain Node with small fakes (no Electron binary here).

/** The frame a call came from (Electron's WebFrameMain, as far as the sender check reads it). */
export interface SenderFrameLike {
  url: string
  /** Null for a main frame; an iframe has its parent frame here. */
  parent: unknown
}

/** The parts of Electron's IpcMainInvokeEvent that the sender check reads. */
export interface InvokeEventLike {
  sender: { id: number }
  senderFrame: SenderFrameLike | null
}

/** The parts of Electron's ipcMain used here. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void
  removeHandler(channel: string): void
}

/** A window's webContents, as far as pushing events goes. */
export interface EventTargetLike {
  id: number
  isDestroyed(): boolean
  send(channel: string, payload: unknown): void
}

/** Decides whether an invoke comes from our own app page. */
export interface SenderPolicy {
  /** webContents IDs of the windows we created. */
  isOurWebContents(id: number): boolean
  /** True for the URL our renderer is loaded from (file:// index.html, or the dev server in development). */
  isAppUrl(url: string): boolean
}

/**
 * Rejects anything but our own main frame: an iframe, a foreign webContents (a devtools extension, a
 * popup) or a page that navigated elsewhere cannot call the admin API.
 */
export function isTrustedSender(event: InvokeEventLike, policy: SenderPolicy): boolean {
  const frame = event.senderFrame
  return frame !== null && frame.parent === null && policy.isOurWebContents(event.sender.id) && policy.isAppUrl(frame.url)
}

/**
 * Registers one handler per contract method on `ipcMain`, and forwards every contract event to `targets()`.
 * Handlers do no work of their own: check the sender, check argument shapes, call the service, return its
 * Result. Returns a function that removes the handlers and the event subscriptions.
 */
export function registerAdminHandlers(
  ipcMain: IpcMainLike,
  api: AdminApi,
  policy: SenderPolicy,
  targets: () => EventTargetLike[],
): () => void {
  for (const method of ADMIN_METHODS) {
    ipcMain.handle(methodChannel(method), async (event, ...args): Promise<Result<unknown>> => {
      if (!isTrustedSender(event, policy)) {
        return { ok: false, error: { code: 'forbidden', message: `${method}: caller is not the Quorum window` } }
      }
      return dispatchAdminCall(api, method, args)
    })
  }
  const unsubscribes: Unsubscribe[] = ADMIN_EVENTS.map((name: AdminEvent) =>
    subscribeAdminEvent(api, name, (payload) => {
      for (const target of targets()) {
        if (policy.isOurWebContents(target.id) && !target.isDestroyed()) target.send(eventChannel(name), payload)
      }
    }),
  )
  return () => {
    for (const method of ADMIN_METHODS) ipcMain.removeHandler(methodChannel(method))
    for (const unsubscribe of unsubscribes) unsubscribe()
  }
}
