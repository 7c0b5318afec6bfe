import { connect, type ConnectionOptions } from 'node:tls'

/** One TLS handshake's outcome: the server's certificate serial (lower-case hex) and the negotiation, or the error. */
export type HandshakeResult = { serial: string; protocol: string; cipher: string } | { error: string }

/** Connects to 127.0.0.1:`port` (SNI `localhost`), completes one handshake and hangs up. Never rejects. */
export function tlsHandshake(port: number, options: ConnectionOptions): Promise<HandshakeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', ...options })
    socket.once('secureConnect', () => {
      resolve({ serial: socket.getPeerCertificate().serialNumber.toLowerCase(), protocol: String(socket.getProtocol()), cipher: socket.getCipher().name })
      socket.destroy()
    })
    socket.once('error', (error) => resolve({ error: error.message }))
  })
}
