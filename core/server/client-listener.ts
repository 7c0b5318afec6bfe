import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { answerPings, authorityFixingDuplex, classifyFirstHeaderBlock, EARLY_SERVER_SETTINGS, withoutFirstSettingsAck } from './h2-authority'
import { createServer as createTlsServer, type PeerCertificate, type SecureContextOptions, type TLSSocket } from 'node:tls'
import { ServerCredentials, type Server as GrpcServer } from '@grpc/grpc-js'

// One client URL serves both gRPC (HTTP/2) and plain HTTP/1.1 (/health, /metrics, /version), as etcd does
// with cmux. Plaintext: the first bytes decide (the HTTP/2 connection preface means gRPC). TLS: we terminate
// TLS ourselves and ALPN decides ('h2' means gRPC), which also lets us reload certificates without a restart.
//
//   socket ──▶ sniff / ALPN ──┬─ h2 ──▶ grpc-js (connection injector, plaintext h2 over our socket)
//                             └─ else ▶ node:http request handler

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
/** Bytes a client may send before its first header block is complete (beyond: rewriting path). */
const FIRST_HEADERS_MAX_BYTES = 64 * 1024

/**
 * Hands an HTTP/2 connection to grpc-js once its first header block shows whether its :authority needs the
 * scheme rewrite (h2-authority.ts). Clean connections are given to node:http2 as they are (it re-reads the
 * bytes read here from the socket's buffer and then reads natively, which is far cheaper than the rewriting
 * Duplex); others get the Duplex. A client may connect long before its first call (a connection pool, a
 * benchmark that opens its connections first): the listener waits for that call however long it takes, and
 * answers the client's keepalive PINGs meanwhile, so an idle connection never ends up on the costly path.
 */
function injectH2(socket: Socket, head: Buffer, inject: (connection: Socket | Duplex, route: H2Route) => void): void {
  let buffered = head
  let decided = false
  let sentSettings = false
  /** The first header block was seen and needs no rewrite; only the client's SETTINGS ACK is awaited. */
  let clean = false
  const decide = (native: boolean) => {
    if (decided) return
    decided = true
    socket.off('data', onData)
    socket.pause()
    if (native) {
      socket.unshift(buffered)
      inject(socket, 'native')
    } else {
      const duplex = authorityFixingDuplex(socket, buffered, { dropFirstSettingsAck: sentSettings })
      if ('authorized' in socket) tlsSocketOfDuplex.set(duplex, socket as TLSSocket)
      inject(duplex, 'rewrite')
    }
  }
  const classify = () => {
    if (buffered.length > FIRST_HEADERS_MAX_BYTES) return decide(false)
    try {
      // The client preface is in: answer with the server's, so that clients that wait for it send their request.
      if (!sentSettings && buffered.length >= H2_PREFACE.length) {
        sentSettings = true
        socket.write(EARLY_SERVER_SETTINGS)
      }
      const pings = answerPings(buffered)
      buffered = pings.rest
      for (const ack of pings.acks) socket.write(ack)
      if (!clean) {
        const verdict = classifyFirstHeaderBlock(buffered)
        if (verdict === 'rewrite') return decide(false)
        clean = verdict === 'clean'
      }
      if (clean) {
        // node:http2 must not see the ACK of a SETTINGS frame it never sent; wait for it (clients answer at once).
        const withoutAck = withoutFirstSettingsAck(buffered)
        if (withoutAck) {
          buffered = withoutAck
          decide(true)
        }
      }
    } catch {
      decide(false)
    }
  }
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk])
    classify()
  }
  socket.on('data', onData)
  socket.resume()
  classify()
}

/** The TLS socket under each rewriting Duplex handed to grpc-js (see injectH2). */
const tlsSocketOfDuplex = new WeakMap<object, TLSSocket>()

/**
 * The verified client certificate of the TLS connection under `connection` (a rewriting Duplex from injectH2),
 * or undefined. For --client-cert-auth: grpc-js `getAuthContext()` sees the TLS socket only on connections handed
 * to node:http2 natively; node wraps a Duplex in a JSStreamSocket, which is no TLSSocket.
 */
export function verifiedClientCertificate(connection: unknown): PeerCertificate | undefined {
  const socket = typeof connection === 'object' && connection !== null ? tlsSocketOfDuplex.get(connection) : undefined
  if (!socket?.authorized) return undefined
  const certificate = socket.getPeerCertificate()
  return certificate && Object.keys(certificate).length > 0 ? certificate : undefined
}

/** How an HTTP/2 connection reached grpc-js: read by node:http2 itself, or through the :authority rewriter. */
export type H2Route = 'native' | 'rewrite'

export interface ClientListenerOptions {
  url: URL
  grpc: GrpcServer
  http: (request: IncomingMessage, response: ServerResponse) => void
  /** For https URLs: the TLS context (and client-certificate checks). */
  tls?: SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean }
  /** Told how each HTTP/2 connection was routed (tests, diagnostics). */
  onH2Route?: (route: H2Route) => void
}

/** A listening client URL; `close()` stops accepting and destroys open connections. */
export interface ClientListener {
  close(): Promise<void>
  /** Replaces the TLS certificate/key/CA for new connections (certificate renewal). */
  setSecureContext(options: SecureContextOptions): void
}

/** Starts serving gRPC + HTTP/1.1 on one URL. Rejects when the port is taken. */
export async function listenClientUrl(options: ClientListenerOptions): Promise<ClientListener> {
  const injector = options.grpc.createConnectionInjector(ServerCredentials.createInsecure())
  const http = createHttpServer(options.http)
  http.keepAliveTimeout = 5000
  const sockets = new Set<Socket>()

  const toGrpc = (connection: Socket | Duplex, how: H2Route) => {
    options.onH2Route?.(how)
    injector.injectConnection(connection as Socket)
  }
  const route = (socket: Socket | TLSSocket, isH2: boolean) => {
    if (isH2) injectH2(socket, Buffer.alloc(0), toGrpc)
    else http.emit('connection', socket)
  }

  let server: NetServer
  if (options.url.protocol === 'https:') {
    if (!options.tls) throw new Error(`client URL ${options.url.href} is https but no TLS settings were given`)
    const tlsServer = createTlsServer({ ...options.tls, ALPNProtocols: ['h2', 'http/1.1'] })
    tlsServer.on('secureConnection', (socket: TLSSocket) => {
      socket.setNoDelay(true)
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      route(socket, socket.alpnProtocol === 'h2')
    })
    tlsServer.on('tlsClientError', () => undefined)
    server = tlsServer
  } else {
    // Nagle off, as Go's net package does by default for etcd: unary answers are small and latency-bound.
    server = createNetServer({ noDelay: true }, (socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => undefined)
      let buffered = Buffer.alloc(0)
      const onData = (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk])
        const compared = Math.min(buffered.length, H2_PREFACE.length)
        const isH2Prefix = buffered.subarray(0, compared).equals(H2_PREFACE.subarray(0, compared))
        if (isH2Prefix && buffered.length < H2_PREFACE.length) return // need more bytes to decide
        socket.off('data', onData)
        socket.pause()
        if (isH2Prefix) {
          injectH2(socket, buffered, toGrpc)
        } else {
          socket.unshift(buffered)
          http.emit('connection', socket)
          socket.resume()
        }
      }
      socket.on('data', onData)
    })
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(Number(options.url.port), options.url.hostname.replace(/^\[|\]$/g, ''), () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      injector.destroy()
      for (const socket of sockets) socket.destroy()
      http.close()
      await closed
    },
    setSecureContext(context: SecureContextOptions) {
      if ('setSecureContext' in server) (server as ReturnType<typeof createTlsServer>).setSecureContext(context)
    },
  }
}
