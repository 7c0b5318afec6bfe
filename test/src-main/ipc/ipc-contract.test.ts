import { describe, expect, it } from 'vitest'
import {
  ADMIN_EVENTS,
  ADMIN_METHODS,
  eventChannel,
  methodChannel,
  type AdminApi,
  type AdminEvent,
  type AdminMethod,
  type Result,
} from '../../../src-main/api/admin-api'
import { ADMIN_ARG_SCHEMAS } from '../../../src-main/api/admin-schemas'
import { registerAdminHandlers, type InvokeEventLike, type IpcMainLike, type SenderPolicy } from '../../../src-main/ipc/register-handlers'
import { buildAdminBridge, type IpcRendererLike } from '../../../src-main/preload/bridge'

// The IPC contract, checked from the method list itself: there is no Electron binary here, so ipcMain,
// ipcRenderer and the invoke event are minimal fakes with the same shapes.

type Handler = (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Handler>()
  handle(channel: string, listener: Handler): void {
    expect(this.handlers.has(channel), `second handler for ${channel}`).toBe(false)
    this.handlers.set(channel, listener)
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel)
  }
}

const APP_URL = 'file:///opt/quorum/out/renderer/index.html'
const OUR_WEB_CONTENTS = 7
const policy: SenderPolicy = {
  isOurWebContents: (id) => id === OUR_WEB_CONTENTS,
  isAppUrl: (url) => url.split('#')[0] === APP_URL,
}
const mainFrame: InvokeEventLike = { sender: { id: OUR_WEB_CONTENTS }, senderFrame: { url: `${APP_URL}#/overview`, parent: null } }

const VALID_ARGS: { [M in AdminMethod]: Parameters<AdminApi[M]> } = {
  getAppInfo: [],
  listConnections: [],
  saveConnection: [{ name: 'prod', endpoints: ['https://10.0.0.1:2379'], readOnly: true, username: '', tls: { caCert: '', clientCert: '', serverName: '' } }],
  deleteConnection: ['a1'],
  testConnection: [{ name: 'x', endpoints: ['http://127.0.0.1:2379'], readOnly: false, username: 'root', password: 'pw', tls: { caCert: '', clientCert: '', serverName: '' } }],
  exportConnections: [],
  importConnections: ['{}'],
  getClusterOverview: ['a1'],
  startMonitoring: ['a1'],
  stopMonitoring: ['a1'],
  listLocalClusters: [],
  createLocalCluster: [{ name: 'playground', size: 3, tls: false }],
  deleteLocalCluster: ['playground'],
  localMemberAction: ['playground', 'member1', 'kill'],
  addLocalMember: ['playground', true],
  listAlerts: [''],
  listKeys: [{ connectionId: 'a1', prefix: 'YS8=', separator: '/', limit: 100 }],
  countKeys: ['a1', 'YS8=', 0],
  getKey: ['a1', 'YQ==', 0, 0],
  getKeyHistory: ['a1', 'YQ=='],
  saveKey: [{ connectionId: 'a1', key: 'YQ==', value: 'eyJ9', expectedModRevision: 3 }],
  deleteKey: ['a1', 'YQ==', 3],
  deleteKeyPrefix: ['a1', 'YS8=', 'a/', 10],
  transferKeys: [{ connectionId: 'a1', operationId: 'op1', mode: 'move', source: 'YS8=', target: 'Yi8=', isPrefix: true }],
  exportKeys: [{ connectionId: 'a1', prefix: 'YS8=' }],
  importKeys: ['a1', '{}', 'skip', true],
  suggestSnapshotPath: ['a1'],
  convertLocalClusterToTls: [{ cluster: 'playground', operationId: 'op1' }],
  listBackupSchedules: [],
  saveBackupSchedule: [{ connectionId: 'a1', everyMs: 60_000, cron: '', destination: '', keepLast: 3, hourly: 0, daily: 7, weekly: 4, drills: true, paused: false }],
  deleteBackupSchedule: ['s1'],
  runBackupNow: ['s1'],
  getBackupHistory: ['s1'],
  planMembershipChange: ['playground', 'remove', 'member2'],
  applyMembershipChange: ['playground', 'addLearner', ''],
  takeSnapshot: [{ connectionId: 'a1', operationId: 'op1', memberId: '', path: '/tmp/s.db' }],
  getSnapshotStatus: ['/tmp/s.db'],
  verifySnapshot: ['/tmp/s.db'],
  restoreSnapshotToLocal: [{ path: '/tmp/s.db', clusterName: 'restored', size: 3 }],
  getDrillState: ['playground', true],
  enableDrills: ['playground'],
  runDrill: ['playground', { kind: 'latency', members: ['member1', 'member2'], direction: 'both', ms: 200, jitterMs: 20, rate: 0 }],
  adviseConnection: ['a1'],
  planRemoteRestore: [
    { snapshotPath: '/tmp/s.db', members: [{ name: 'a', peerUrl: 'http://10.0.0.1:2380', clientUrl: 'http://10.0.0.1:2379', dataDir: '/var/lib/etcd' }], clusterToken: '', tool: 'etcdctl', bumpRevision: 0 },
  ],
  startKeyWatch: [{ connectionId: 'a1', watchId: 'w1', key: 'YS8=', isPrefix: true, startRevision: 0 }],
  stopKeyWatch: ['w1'],
  listLeases: ['a1'],
  getLease: ['a1', '694d7a3c1f0a2b04'],
  leaseAction: ['a1', { kind: 'grant', ttl: 60 }],
  getAuthOverview: ['a1'],
  authAction: ['a1', { kind: 'grantPermission', role: 'r', permission: 'read', key: 'YS8=', shape: 'prefix' }],
}

/** An AdminApi whose every method records its call and echoes its arguments. */
function recordingApi(calls: { method: string; args: unknown[] }[], listeners: Map<AdminEvent, (payload: unknown) => void>): AdminApi {
  const api: Record<string, unknown> = {}
  for (const method of ADMIN_METHODS) {
    api[method] = async (...args: unknown[]): Promise<Result<unknown>> => {
      calls.push({ method, args })
      return { ok: true, value: args }
    }
  }
  for (const name of ADMIN_EVENTS) {
    api[name] = (listener: (payload: unknown) => void) => {
      listeners.set(name, listener)
      return () => listeners.delete(name)
    }
  }
  return api as unknown as AdminApi
}

function setup() {
  const ipcMain = new FakeIpcMain()
  const calls: { method: string; args: unknown[] }[] = []
  const listeners = new Map<AdminEvent, (payload: unknown) => void>()
  const sent: { channel: string; payload: unknown }[] = []
  const target = { id: OUR_WEB_CONTENTS, isDestroyed: () => false, send: (channel: string, payload: unknown) => sent.push({ channel, payload }) }
  const foreign = { id: 99, isDestroyed: () => false, send: (channel: string, payload: unknown) => sent.push({ channel: `foreign:${channel}`, payload }) }
  const dispose = registerAdminHandlers(ipcMain, recordingApi(calls, listeners), policy, () => [target, foreign])
  return { ipcMain, calls, listeners, sent, dispose }
}

describe('IPC contract', () => {
  it('every contract method has exactly one admin:<method> handler and an argument schema', () => {
    const { ipcMain } = setup()
    expect([...ipcMain.handlers.keys()].sort()).toEqual(ADMIN_METHODS.map(methodChannel).sort())
    expect(Object.keys(ADMIN_ARG_SCHEMAS).sort()).toEqual([...ADMIN_METHODS].sort())
  })

  it('the preload bridge exposes exactly one function per method and event, and nothing else', () => {
    const fakeRenderer: IpcRendererLike = { invoke: async () => null, on: () => undefined, removeListener: () => undefined }
    const bridge = buildAdminBridge(fakeRenderer) as unknown as Record<string, unknown>
    expect(Object.keys(bridge).sort()).toEqual([...ADMIN_METHODS, ...ADMIN_EVENTS].sort())
    for (const key of Object.keys(bridge)) expect(typeof bridge[key]).toBe('function')
    expect(Object.isFrozen(bridge)).toBe(true)
  })

  it('a preload call travels through its own channel to the service with the same arguments', async () => {
    const { ipcMain, calls } = setup()
    const fakeRenderer: IpcRendererLike = {
      invoke: (channel, ...args) => ipcMain.handlers.get(channel)!(mainFrame, ...args),
      on: () => undefined,
      removeListener: () => undefined,
    }
    const bridge = buildAdminBridge(fakeRenderer)
    for (const method of ADMIN_METHODS) {
      const call = bridge[method] as (...args: unknown[]) => Promise<Result<unknown>>
      const result = await call(...VALID_ARGS[method])
      expect(result, method).toEqual({ ok: true, value: VALID_ARGS[method] })
    }
    expect(calls.map((call) => call.method)).toEqual([...ADMIN_METHODS])
  })

  it('rejects a call from an iframe, a foreign webContents, or a page that navigated away', async () => {
    const { ipcMain, calls } = setup()
    const handler = ipcMain.handlers.get(methodChannel('listConnections'))!
    const bad: InvokeEventLike[] = [
      { sender: { id: OUR_WEB_CONTENTS }, senderFrame: { url: APP_URL, parent: mainFrame.senderFrame } },
      { sender: { id: 99 }, senderFrame: { url: APP_URL, parent: null } },
      { sender: { id: OUR_WEB_CONTENTS }, senderFrame: { url: 'https://evil.example/', parent: null } },
      { sender: { id: OUR_WEB_CONTENTS }, senderFrame: null },
    ]
    for (const event of bad) {
      expect(await handler(event)).toMatchObject({ ok: false, error: { code: 'forbidden' } })
    }
    expect(calls).toEqual([])
  })

  it('rejects bad argument shapes before the service sees them', async () => {
    const { ipcMain, calls } = setup()
    const save = ipcMain.handlers.get(methodChannel('saveConnection'))!
    const good = VALID_ARGS.saveConnection[0]
    const badArgs: unknown[][] = [
      [],
      [null],
      [{ ...good, endpoints: [] }],
      [{ ...good, endpoints: ['ftp://x:1'] }],
      [{ ...good, readOnly: 'yes' }],
      [{ ...good, extra: 1 }],
      [good, 'surplus'],
    ]
    for (const args of badArgs) {
      expect(await save(mainFrame, ...args), JSON.stringify(args)).toMatchObject({ ok: false, error: { code: 'invalid_argument' } })
    }
    const del = ipcMain.handlers.get(methodChannel('deleteConnection'))!
    expect(await del(mainFrame, 42)).toMatchObject({ ok: false, error: { code: 'invalid_argument' } })
    expect(calls).toEqual([])
  })

  it('forwards every contract event to our windows only, and unsubscribes on dispose', () => {
    const { listeners, sent, dispose } = setup()
    expect([...listeners.keys()].sort()).toEqual([...ADMIN_EVENTS].sort())
    for (const name of ADMIN_EVENTS) listeners.get(name)!({ from: name })
    expect(sent).toEqual(ADMIN_EVENTS.map((name) => ({ channel: eventChannel(name), payload: { from: name } })))
    dispose()
    expect(listeners.size).toBe(0)
  })

  it('a preload event subscription receives payloads and stops after unsubscribe', () => {
    const registered = new Map<string, (event: unknown, payload: unknown) => void>()
    const fakeRenderer: IpcRendererLike = {
      invoke: async () => null,
      on: (channel, listener) => registered.set(channel, listener),
      removeListener: (channel) => registered.delete(channel),
    }
    const bridge = buildAdminBridge(fakeRenderer)
    const received: unknown[] = []
    const unsubscribe = bridge.onMetricsSample((event) => received.push(event))
    registered.get(eventChannel('onMetricsSample'))!({}, { connectionId: 'c', points: [] })
    unsubscribe()
    unsubscribe()
    expect(received).toEqual([{ connectionId: 'c', points: [] }])
    expect(registered.has(eventChannel('onMetricsSample'))).toBe(false)
  })
})
