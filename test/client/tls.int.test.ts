import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { EtcdClient, GrpcError, type TlsOptions } from '../../core/client'
import { freePorts } from '../support/ports'
import { tempDir } from '../support/temp-dir'

// TLS and mTLS options against a real etcd 3.4 with `--client-cert-auth`. Certificates come from the openssl
// CLI here (EC P-256), so this test does not depend on core/certs. The member is started by hand because it
// serves only https (test/support/etcd.ts health-checks over http).
const dir = tempDir('quorum-tls-')
let etcd: ChildProcess | null = null
let endpoint = ''
const pem: Record<string, Buffer> = {}

function openssl(args: string[]): void {
  const result = spawnSync('openssl', args, { cwd: dir.path, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`)
}

/** A CA `name` and, signed by it, a certificate `leaf` with the given extensions. */
function issue(ca: string, leaf: string, subject: string, extensions: string): void {
  writeFileSync(join(dir.path, `${leaf}.ext`), extensions)
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${leaf}.key`])
  openssl(['req', '-new', '-key', `${leaf}.key`, '-subj', subject, '-out', `${leaf}.csr`])
  openssl(['x509', '-req', '-in', `${leaf}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial',
    '-days', '1', '-out', `${leaf}.crt`, '-extfile', `${leaf}.ext`])
}

function makeCa(name: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`])
  openssl(['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '1', '-out', `${name}.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
}

function connect(tls: TlsOptions, url = endpoint): EtcdClient {
  return new EtcdClient({ endpoints: [url], tls, callTimeoutMs: 3_000, retry: { maxAttempts: 1 } })
}

beforeAll(async () => {
  makeCa('ca')
  makeCa('other-ca')
  issue('ca', 'server', '/CN=etcd', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n')
  issue('ca', 'client', '/CN=root', 'extendedKeyUsage=clientAuth\n')
  issue('other-ca', 'stranger', '/CN=root', 'extendedKeyUsage=clientAuth\n')
  for (const name of ['ca', 'other-ca', 'client', 'stranger']) {
    pem[`${name}.crt`] = readFileSync(join(dir.path, `${name}.crt`))
    if (name !== 'ca' && name !== 'other-ca') pem[`${name}.key`] = readFileSync(join(dir.path, `${name}.key`))
  }
  const [clientPort, peerPort] = await freePorts(2)
  endpoint = `https://127.0.0.1:${clientPort}`
  const peer = `http://127.0.0.1:${peerPort}`
  etcd = spawn('etcd', [
    '--name', 'tls1', '--data-dir', join(dir.path, 'data'),
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer, '--initial-cluster', `tls1=${peer}`,
    '--cert-file', join(dir.path, 'server.crt'), '--key-file', join(dir.path, 'server.key'),
    '--trusted-ca-file', join(dir.path, 'ca.crt'), '--client-cert-auth',
    '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'error',
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  etcd.stderr?.resume()
  const probe = connect({ ca: pem['ca.crt'], cert: pem['client.crt'], key: pem['client.key'] })
  try {
    const deadline = Date.now() + 30_000
    for (;;) {
      try {
        await probe.maintenance.status({ timeoutMs: 1_000 })
        break
      } catch (error) {
        if (Date.now() > deadline) throw error
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  } finally {
    probe.close()
  }
})

afterAll(async () => {
  if (etcd && etcd.exitCode === null) {
    const exited = new Promise((resolve) => etcd!.once('exit', resolve))
    etcd.kill('SIGKILL')
    await exited
  }
  dir.remove()
})

/** The failure of a call made with these TLS options (the call must fail). */
async function failure(client: EtcdClient): Promise<unknown> {
  try {
    return await client.kv.get('t').then(() => new Error('the call unexpectedly succeeded'))
  } catch (error) {
    return error
  } finally {
    client.close()
  }
}

describe('TLS against etcd 3.4 with --client-cert-auth', () => {
  test('a client certificate from the trusted CA works for unary calls and streams', async () => {
    const client = connect({ ca: pem['ca.crt'], cert: pem['client.crt'], key: pem['client.key'] })
    try {
      await client.kv.put('t', Buffer.from([0x00, 0xff]))
      expect((await client.kv.get('t'))?.equals(Buffer.from([0x00, 0xff]))).toBe(true)
      const chunks: Buffer[] = []
      for await (const chunk of client.maintenance.snapshot()) chunks.push(chunk)
      expect(Buffer.concat(chunks).length).toBeGreaterThan(0)
    } finally {
      client.close()
    }
  })

  test('servername overrides the name checked against the certificate', async () => {
    const good = connect({ ca: pem['ca.crt'], cert: pem['client.crt'], key: pem['client.key'], servername: 'localhost' })
    try {
      expect((await good.kv.get('t'))?.length).toBe(2)
    } finally {
      good.close()
    }
    const wrongName = await failure(
      connect({ ca: pem['ca.crt'], cert: pem['client.crt'], key: pem['client.key'], servername: 'wrong.example' }),
    )
    expect(wrongName).toBeInstanceOf(GrpcError)
    expect(wrongName).toMatchObject({ code: 'UNAVAILABLE' })
  })

  test('no client certificate, a certificate from another CA, or an untrusted server all fail the handshake', async () => {
    for (const tls of [
      { ca: pem['ca.crt'] },
      { ca: pem['ca.crt'], cert: pem['stranger.crt'], key: pem['stranger.key'] },
      { ca: pem['other-ca.crt'], cert: pem['client.crt'], key: pem['client.key'] },
    ]) {
      const error = await failure(connect(tls))
      expect(error).toBeInstanceOf(GrpcError)
      expect(error).toMatchObject({ code: 'UNAVAILABLE' })
    }
    const plaintext = await failure(
      new EtcdClient({ endpoints: [endpoint.replace('https', 'http')], callTimeoutMs: 3_000, retry: { maxAttempts: 1 } }),
    )
    expect(plaintext).toBeInstanceOf(GrpcError)
  })
})
