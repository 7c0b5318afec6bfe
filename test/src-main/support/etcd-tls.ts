import { spawn, type ChildProcess } from 'node:child_process'
import { connect as tlsConnect } from 'node:tls'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePorts } from '../../support/ports'
import { tempDir } from '../../support/temp-dir'
import type { Pem } from './tls-certs'

/** A single real etcd 3.4 member serving clients over TLS. */
export interface TlsEtcd {
  /** `https://127.0.0.1:<port>` */
  clientUrl: string
  port: number
  stop(): Promise<void>
}

/**
 * Starts one etcd member whose client port speaks TLS with `server` (optionally requiring client
 * certificates signed by `clientCa`), and waits until its port completes TLS handshakes.
 */
export async function startTlsEtcd(server: Pem, clientCa: string | null): Promise<TlsEtcd> {
  const dir = tempDir('quorum-etcd-tls-')
  const [clientPort, peerPort] = await freePorts(2)
  const files = { cert: join(dir.path, 'server.crt'), key: join(dir.path, 'server.key'), ca: join(dir.path, 'ca.crt') }
  writeFileSync(files.cert, server.cert)
  writeFileSync(files.key, server.key, { mode: 0o600 })
  const dataDir = join(dir.path, 'data')
  mkdirSync(dataDir, { mode: 0o700 })
  const clientUrl = `https://127.0.0.1:${clientPort}`
  const peerUrl = `http://127.0.0.1:${peerPort}`
  const args = [
    '--name', 'tls1', '--data-dir', dataDir,
    '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `tls1=${peerUrl}`, '--initial-cluster-token', `tls-${clientPort}`,
    '--cert-file', files.cert, '--key-file', files.key,
    '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'error',
  ]
  if (clientCa) {
    writeFileSync(files.ca, clientCa)
    args.push('--client-cert-auth', '--trusted-ca-file', files.ca)
  }
  const child: ChildProcess = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr?.resume()
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        dir.remove()
        resolve()
      }
      if (child.exitCode !== null || child.signalCode !== null) return done()
      child.once('exit', done)
      child.kill('SIGKILL')
    })
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: clientPort, rejectUnauthorized: false })
      socket.once('secureConnect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (up) {
      // The TLS listener is up before the server has a leader; give a single member a moment to elect itself.
      await new Promise((resolve) => setTimeout(resolve, 300))
      return { clientUrl, port: clientPort, stop }
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop()
  throw new Error(`TLS etcd on ${clientUrl} did not come up`)
}
