import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, realpath } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { extname, join, resolve, sep } from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import { ADMIN_EVENTS, ADMIN_METHODS, type AdminApi, type AdminMethod } from '../api/admin-api'
import { dispatchAdminCall, subscribeAdminEvent } from '../api/dispatch'

// Web mode: the built renderer and the admin contract over HTTP + WebSocket, for a browser on this machine.
//
//   GET  /?token=T        sets an HttpOnly SameSite=Strict cookie and redirects to / (the token leaves the URL bar)
//   GET  /<file>           static files of out/renderer (cookie required)
//   POST /api/<method>     body: JSON array of arguments → JSON Result (cookie or x-quorum-token header)
//   GET  /events (upgrade) WebSocket; every contract event as {"event": name, "payload": ...}
//
// Every request needs the token, the Host header must name our loopback address (DNS rebinding), and
// cross-origin API calls and sockets are refused (Origin check).

/** Header, cookie and query names of the access token. */
export const TOKEN_HEADER = 'x-quorum-token'
export const TOKEN_COOKIE = 'quorum_token'
export const TOKEN_QUERY = 'token'

/** CSP of every response: our own origin only (the WebSocket is same-origin too). */
export const WEB_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; object-src 'none'; frame-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
}
const MAX_BODY_BYTES = 8 * 1024 * 1024

/** Where and how to serve. */
export interface WebServerOptions {
  api: AdminApi
  /** Directory of the built renderer (out/renderer). */
  rendererDir: string
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number
  /** Fixed token (tests); default 32 random bytes, base64url. */
  token?: string
}

/** A running web-mode server. */
export interface WebServer {
  /** `http://127.0.0.1:<port>/?token=<token>`: the URL to open. */
  url: string
  origin: string
  port: number
  token: string
  close(): Promise<void>
}

function sameToken(given: string | undefined, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function cookieValue(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return rest.join('=')
  }
  return undefined
}

function send(response: ServerResponse, status: number, body: string | Buffer, contentType: string, extra: Record<string, string> = {}): void {
  response.writeHead(status, {
    'Content-Type': contentType,
    'Content-Security-Policy': WEB_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    ...extra,
  })
  response.end(body)
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'))
        request.destroy()
      } else chunks.push(chunk)
    })
    request.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

/** Starts the web-mode server on 127.0.0.1 only. */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = options.token ?? randomBytes(32).toString('base64url')
  const rendererDir = await realpath(resolve(options.rendererDir))
  const methods = new Set<string>(ADMIN_METHODS)
  let port = 0
  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`])

  const authorised = (request: IncomingMessage, url: URL) =>
    sameToken(request.headers[TOKEN_HEADER] as string | undefined, token) ||
    sameToken(cookieValue(request, TOKEN_COOKIE), token) ||
    sameToken(url.searchParams.get(TOKEN_QUERY) ?? undefined, token)

  const refuse = (response: ServerResponse, status: number, why: string) => send(response, status, `Quorum web mode: ${why}\n`, 'text/plain; charset=utf-8')

  const serveStatic = async (url: URL, response: ServerResponse) => {
    const relative = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)
    const path = resolve(join(rendererDir, relative))
    if (!path.startsWith(rendererDir + sep)) return refuse(response, 404, 'not found')
    try {
      const body = await readFile(path)
      send(response, 200, body, CONTENT_TYPES[extname(path)] ?? 'application/octet-stream')
    } catch {
      refuse(response, 404, 'not found')
    }
  }

  const server = createServer((request, response) => {
    void (async () => {
      if (!allowedHosts().has(request.headers.host ?? '')) return refuse(response, 421, 'unexpected Host header')
      const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`)
      if (!authorised(request, url)) return refuse(response, 403, 'missing or wrong token; open the URL that `quorum ui` printed')
      if (url.searchParams.has(TOKEN_QUERY) && request.method === 'GET') {
        url.searchParams.delete(TOKEN_QUERY)
        return send(response, 303, '', 'text/plain', {
          Location: `${url.pathname}${url.search}${url.hash}`,
          'Set-Cookie': `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        })
      }
      if (url.pathname.startsWith('/api/')) {
        const origin = request.headers.origin
        if (origin !== undefined && !allowedOrigins().has(origin)) return refuse(response, 403, 'cross-origin call refused')
        const method = url.pathname.slice('/api/'.length)
        if (request.method !== 'POST') return refuse(response, 405, 'use POST')
        if (!methods.has(method)) return refuse(response, 404, `no method ${method}`)
        if (!(request.headers['content-type'] ?? '').startsWith('application/json')) return refuse(response, 415, 'send application/json')
        let args: unknown
        try {
          args = JSON.parse(await readBody(request))
        } catch (error) {
          return send(response, 400, JSON.stringify({ ok: false, error: { code: 'invalid_argument', message: `body is not JSON: ${(error as Error).message}` } }), 'application/json')
        }
        const result = await dispatchAdminCall(options.api, method as AdminMethod, args)
        return send(response, 200, JSON.stringify(result), 'application/json')
      }
      if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(response, 405, 'method not allowed')
      return serveStatic(url, response)
    })().catch((error: unknown) => {
      if (!response.headersSent) refuse(response, 500, error instanceof Error ? error.message : String(error))
      else response.destroy()
    })
  })

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
  server.on('upgrade', (request, socket, head) => {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`)
    const ok =
      url.pathname === '/events' &&
      allowedHosts().has(request.headers.host ?? '') &&
      allowedOrigins().has(request.headers.origin ?? '') &&
      authorised(request, url)
    if (!ok) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n')
      return
    }
    sockets.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      const unsubscribes = ADMIN_EVENTS.map((event) =>
        subscribeAdminEvent(options.api, event, (payload) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }))
        }),
      )
      ws.on('close', () => unsubscribes.forEach((unsubscribe) => unsubscribe()))
      // The socket is one-way (server → browser); anything the browser sends is ignored.
      ws.on('message', () => undefined)
    })
  })

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(options.port, '127.0.0.1', () => resolveListen())
  })
  port = (server.address() as { port: number }).port
  const origin = `http://127.0.0.1:${port}`
  return {
    url: `${origin}/?${TOKEN_QUERY}=${token}`,
    origin,
    port,
    token,
    close: async () => {
      for (const client of sockets.clients) client.terminate()
      sockets.close()
      server.closeAllConnections()
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()))
    },
  }
}
