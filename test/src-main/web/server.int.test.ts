import { mkdirSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { ADMIN_EVENTS, ADMIN_METHODS, type AdminApi, type AdminEvent, type Result } from '../../../src-main/api/admin-api'
import { startWebServer, TOKEN_COOKIE, TOKEN_HEADER, type WebServer } from '../../../src-main/web/server'
import { tempDir } from '../../support/temp-dir'

// Web mode over real sockets: the token gate, the loopback-only listener, Host/Origin checks, the API
// routes generated from the method list, and events over the WebSocket.

interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function raw(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

describe('web mode server', () => {
  let dir: ReturnType<typeof tempDir>
  let server: WebServer
  const calls: { method: string; args: unknown[] }[] = []
  const listeners = new Map<AdminEvent, (payload: unknown) => void>()

  beforeAll(async () => {
    dir = tempDir('quorum-web-')
    mkdirSync(join(dir.path, 'renderer', 'assets'), { recursive: true })
    writeFileSync(join(dir.path, 'renderer', 'index.html'), '<!doctype html><title>Quorum</title>')
    writeFileSync(join(dir.path, 'renderer', 'assets', 'app.js'), 'console.log(1)')
    writeFileSync(join(dir.path, 'secret.txt'), 'outside the renderer')
    const api: Record<string, unknown> = {}
    for (const method of ADMIN_METHODS) {
      api[method] = async (...args: unknown[]): Promise<Result<unknown>> => {
        calls.push({ method, args })
        return { ok: true, value: { echoed: args } }
      }
    }
    for (const name of ADMIN_EVENTS) {
      api[name] = (listener: (payload: unknown) => void) => {
        listeners.set(name, listener)
        return () => listeners.delete(name)
      }
    }
    server = await startWebServer({ api: api as unknown as AdminApi, rendererDir: join(dir.path, 'renderer'), port: 0 })
  })
  afterAll(async () => {
    await server?.close()
    dir?.remove()
  })

  const auth = () => ({ [TOKEN_HEADER]: server.token, Host: `127.0.0.1:${server.port}` })

  it('prints a 127.0.0.1 URL with a long random token and listens on loopback only', async () => {
    expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[A-Za-z0-9_-]{43}$`))
    const external = Object.values(networkInterfaces()).flat().find((address) => address && address.family === 'IPv4' && !address.internal)
    if (external) {
      const reached = await new Promise<boolean>((resolve) => {
        const socket = connect({ host: external.address, port: server.port })
        socket.once('connect', () => (socket.destroy(), resolve(true)))
        socket.once('error', () => resolve(false))
      })
      expect(reached, `port ${server.port} answered on ${external.address}`).toBe(false)
    }
  })

  it('refuses pages, assets and API calls without the token (or with a wrong one)', async () => {
    expect((await raw(server.port, '/')).status).toBe(403)
    expect((await raw(server.port, '/assets/app.js')).status).toBe(403)
    expect((await raw(server.port, '/?token=wrong')).status).toBe(403)
    const call = await raw(server.port, '/api/listConnections', { method: 'POST', headers: { 'Content-Type': 'application/json', [TOKEN_HEADER]: 'x'.repeat(43) }, body: '[]' })
    expect(call.status).toBe(403)
    expect(calls).toEqual([])
  })

  it('the token in the URL becomes an HttpOnly SameSite=Strict cookie and leaves the address bar', async () => {
    const first = await raw(server.port, `/?token=${server.token}`)
    expect(first.status).toBe(303)
    expect(first.headers.location).toBe('/')
    const cookie = String(first.headers['set-cookie'])
    expect(cookie).toContain(`${TOKEN_COOKIE}=${server.token}`)
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    const page = await raw(server.port, '/', { headers: { Cookie: `${TOKEN_COOKIE}=${server.token}` } })
    expect(page.status).toBe(200)
    expect(page.body).toContain('<title>Quorum</title>')
    expect(page.headers['content-security-policy']).toContain("default-src 'self'")
  })

  it('refuses a foreign Host header (DNS rebinding), path traversal and cross-origin API calls', async () => {
    expect((await raw(server.port, '/', { headers: { ...auth(), Host: `evil.example:${server.port}` } })).status).toBe(421)
    expect((await raw(server.port, '/../secret.txt', { headers: auth() })).status).toBe(404)
    expect((await raw(server.port, '/%2e%2e/secret.txt', { headers: auth() })).status).toBe(404)
    const cross = await raw(server.port, '/api/listConnections', { method: 'POST', headers: { ...auth(), Origin: 'https://evil.example', 'Content-Type': 'application/json' }, body: '[]' })
    expect(cross.status).toBe(403)
    expect(calls).toEqual([])
  })

  it('serves every contract method at POST /api/<method>, checking argument shapes', async () => {
    for (const method of ['listConnections', 'getAppInfo']) {
      const response = await raw(server.port, `/api/${method}`, { method: 'POST', headers: { ...auth(), 'Content-Type': 'application/json' }, body: '[]' })
      expect(JSON.parse(response.body)).toEqual({ ok: true, value: { echoed: [] } })
    }
    const bad = await raw(server.port, '/api/deleteConnection', { method: 'POST', headers: { ...auth(), 'Content-Type': 'application/json' }, body: '[42]' })
    expect(JSON.parse(bad.body)).toMatchObject({ ok: false, error: { code: 'invalid_argument' } })
    expect((await raw(server.port, '/api/constructor', { method: 'POST', headers: { ...auth(), 'Content-Type': 'application/json' }, body: '[]' })).status).toBe(404)
    expect((await raw(server.port, '/api/listConnections', { headers: auth() })).status).toBe(405)
    expect(calls.map((call) => call.method)).toEqual(['listConnections', 'getAppInfo'])
  })

  it('pushes contract events over the WebSocket only to an authorised same-origin socket', async () => {
    const origin = server.origin
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events`, { origin })
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('error', () => resolve(-1))
    })
    expect(refused).toBe(403)
    const foreign = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events`, { origin: 'https://evil.example', headers: { Cookie: `${TOKEN_COOKIE}=${server.token}` } })
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('error', () => resolve(-1))
    })
    expect(foreign).toBe(403)

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/events`, { origin, headers: { Cookie: `${TOKEN_COOKIE}=${server.token}` } })
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)))
    const received = new Promise<unknown>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)))))
    listeners.get('onMetricsSample')!({ connectionId: 'c', points: [] })
    expect(await received).toEqual({ event: 'onMetricsSample', payload: { connectionId: 'c', points: [] } })
    ws.close()
  })
})
