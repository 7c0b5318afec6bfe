import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import { authorityFixingDuplex } from './h2-authority'
import { createServer as createTlsServer, type SecureContextOptions, type TLSSocket } from 'node:tls'
import { ServerCredentials, type Server as GrpcServer } from '@grpc/grpc-js'

// One client URL serves both gRPC (HTTP/2) and plain HTTP/1.1 (/health, /metrics, /version), as etcd does
// with cmux. Plaintext: the first bytes decide (the HTTP/2 connection preface means gRPC). TLS: we terminate
// TLS ourselves and ALPN decides ('h2' means gRPC), which also lets us reload certificates without a restart.
//
//   socket ──▶ sniff / ALPN ──┬─ h2 ──▶ grpc-js (connection injector, plaintext h2 over our socket)
//                             └─ else ▶ node:http request handler

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')

export interface ClientListenerOptions {
  url: URL
  grpc: GrpcServer
  http: (request: IncomingMessage, response: ServerResponse) => void
  /** For https URLs: the TLS context (and client-certificate checks). */
  tls?: SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean }
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

  const route = (socket: Socket | TLSSocket, isH2: boolean) => {
    if (isH2) injector.injectConnection(authorityFixingDuplex(socket, Buffer.alloc(0)))
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
          injector.injectConnection(authorityFixingDuplex(socket, buffered))
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
