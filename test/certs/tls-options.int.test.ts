import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer, type ConnectionOptions, type Server } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { certificatePaths } from '../../core/certs/files'
import { initCertificates } from '../../core/certs/init'
import { ETCD_CIPHER_SUITES, etcdTlsOptions } from '../../core/certs/tls-options'
import { startEtcdTls, type EtcdTlsCluster } from '../support/etcd-tls'
import { tempDir } from '../support/temp-dir'
import { tlsHandshake } from './tls-probe'

const SUITES = ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305']

describe('etcd-like TLS options (--cipher-suites, TLS 1.2 minimum)', () => {
  const temp = tempDir('quorum-certs-tlsopt-')
  const dir = join(temp.path, 'certs')
  let etcd: EtcdTlsCluster
  let server: Server
  let serverPort: number
  let client: ConnectionOptions

  beforeAll(async () => {
    await initCertificates({ dir, hosts: ['localhost', '127.0.0.1'], memberNames: ['etcd1'], clientNames: ['root'] })
    const root = certificatePaths(dir, 'client', 'root')
    const member = certificatePaths(dir, 'server', 'etcd1')
    const peer = certificatePaths(dir, 'peer', 'etcd1')
    const ca = join(dir, 'ca.crt')
    client = { ca: readFileSync(ca), cert: readFileSync(root.certFile), key: readFileSync(root.keyFile) }
    etcd = await startEtcdTls({
      names: ['etcd1'],
      caFile: ca,
      files: () => ({ certFile: member.certFile, keyFile: member.keyFile, peerCertFile: peer.certFile, peerKeyFile: peer.keyFile }),
      healthClient: root,
      extraArgs: ['--cipher-suites', SUITES.join(',')],
    })
    const tls = { cert: readFileSync(member.certFile), key: readFileSync(member.keyFile), ca: readFileSync(ca), requestCert: true, rejectUnauthorized: true }
    server = createServer({ ...tls, ...etcdTlsOptions(SUITES) }, (socket) => socket.end())
    serverPort = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))
  })

  afterAll(async () => {
    await etcd?.stop()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    temp.remove()
  })

  it('maps every etcd suite name to the OpenSSL name of its IANA name (openssl ciphers -stdname)', () => {
    const listing = spawnSync('openssl', ['ciphers', '-stdname', 'ALL:COMPLEMENTOFALL'], { encoding: 'utf8' }).stdout
    const byIana = new Map(listing.trim().split('\n').map((line) => line.split(/\s+/)).map((fields) => [fields[0], fields[2]]))
    for (const [name, openssl] of Object.entries(ETCD_CIPHER_SUITES)) {
      const iana = name.endsWith('CHACHA20_POLY1305') ? `${name}_SHA256` : name
      if (/RC4|3DES/.test(name)) expect(byIana.has(iana), name).toBe(false) // this OpenSSL 3 has neither
      else expect(byIana.get(iana), name).toBe(openssl)
    }
  })

  it('rejects an unknown suite with etcd\'s message', () => {
    expect(() => etcdTlsOptions(['TLS_FOO'])).toThrow('unexpected TLS cipher suite "TLS_FOO"')
    expect(etcdTlsOptions()).toEqual({ minVersion: 'TLSv1.2' })
  })

  it('accepts and refuses the same handshakes as etcd 3.4 started with the same --cipher-suites', async () => {
    const cases: [string, ConnectionOptions][] = [
      ['TLS 1.2 with a listed suite', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }],
      ['TLS 1.2 with the other listed suite', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' }],
      ['TLS 1.2 with an unlisted suite', { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }],
      ['TLS 1.3 (suites not configurable)', { minVersion: 'TLSv1.3' }],
      ['TLS 1.1', { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }],
    ]
    // 'TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256' for a completed handshake, 'refused' for any TLS error.
    const outcome = async (port: number, options: ConnectionOptions) => {
      const result = await tlsHandshake(port, { ...client, ...options })
      return 'error' in result ? 'refused' : `${result.protocol} ${result.cipher}`
    }
    const outcomes = (port: number) => Promise.all(cases.map(([, options]) => outcome(port, options)))
    const [fromEtcd, fromNode] = await Promise.all([outcomes(Number(new URL(etcd.members[0].clientUrl).port)), outcomes(serverPort)])
    const expected = [
      'TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256',
      'TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305',
      'refused',
      'TLSv1.3 TLS_AES_128_GCM_SHA256',
      'refused',
    ]
    expect(fromEtcd).toEqual(expected)
    expect(fromNode).toEqual(expected)
  })
})
