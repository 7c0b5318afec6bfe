import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { buildMemberConfig, ConfigError, mergeEnv, readConfigFile, type RawFlags } from '../../core/server/config'
import { formatId } from '../../core/server/ids'
import { parseGoDuration } from '../../core/util/duration'
import { tempDir } from '../support/temp-dir'

const flags = (entries: Record<string, string>): RawFlags => new Map(Object.entries(entries))

// The flags of etcd's clustering guide (static bootstrap), for member infra1 of three.
const clusteringGuide = flags({
  name: 'infra1',
  'initial-advertise-peer-urls': 'http://127.0.0.1:24380',
  'listen-peer-urls': 'http://127.0.0.1:24380',
  'listen-client-urls': 'http://127.0.0.1:24379',
  'advertise-client-urls': 'http://127.0.0.1:24379',
  'initial-cluster-token': 'tok1',
  'initial-cluster': 'infra1=http://127.0.0.1:24380,infra2=http://127.0.0.1:24381',
  'initial-cluster-state': 'new',
})

function configError(raw: RawFlags): string {
  try {
    buildMemberConfig(raw)
  } catch (error) {
    if (error instanceof ConfigError) return error.message
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('member configuration from etcd flags', () => {
  it("takes etcd's defaults when no flag is given", () => {
    const config = buildMemberConfig(new Map())
    expect(config.name).toBe('default')
    expect(config.dataDir).toBe('default.etcd')
    expect(config.heartbeatMs).toBe(100)
    expect(config.electionMs).toBe(1000)
    expect(config.snapshotCount).toBe(100000)
    expect(config.maxRequestBytes).toBe(1572864)
    expect(config.maxTxnOps).toBe(128)
    expect(config.quotaBackendBytes).toBe(2 * 1024 ** 3)
    expect(config.grpcKeepaliveMinTimeMs).toBe(5000)
    expect(config.grpcKeepaliveIntervalMs).toBe(2 * 3_600_000)
    expect(config.initialClusterToken).toBe('etcd-cluster')
    expect(config.strictReconfigCheck).toBe(true)
    expect(config.listenClientUrls.map(String)).toEqual(['http://localhost:2379/'])
  })

  it('derives the member and cluster IDs as etcd does from the clustering-guide flags', () => {
    const config = buildMemberConfig(clusteringGuide)
    // Same values real etcd 3.4 printed for these flags (see ids.test.ts).
    expect(formatId(config.memberId)).toBe('df9e12470f1e5568')
    expect(formatId(config.clusterId)).toBe('60a57a85f1b6cb12')
    expect([...config.initialCluster.keys()]).toEqual(['infra1', 'infra2'])
  })

  it("rejects a name missing from --initial-cluster with etcd's message", () => {
    const raw = new Map(clusteringGuide)
    raw.set('name', 'infra9')
    expect(configError(raw)).toBe('couldn\'t find local name "infra9" in the initial cluster configuration')
  })

  it("rejects advertised peer URLs that differ from the member's --initial-cluster entry, as etcd", () => {
    const raw = new Map(clusteringGuide)
    raw.set('initial-advertise-peer-urls', 'http://127.0.0.1:2999')
    expect(configError(raw)).toBe(
      '--initial-cluster has infra1=http://127.0.0.1:24380 but missing from --initial-advertise-peer-urls=http://127.0.0.1:2999 (resolved urls: "http://127.0.0.1:2999" != "http://127.0.0.1:24380")',
    )
  })

  it('requires --advertise-client-urls when --listen-client-urls is set, as etcd', () => {
    expect(configError(flags({ 'listen-client-urls': 'http://127.0.0.1:2379' }))).toContain(
      '--advertise-client-urls is required when --listen-client-urls is set explicitly',
    )
  })

  it('checks that the election timeout is at least 5 heartbeats, with etcd\'s message', () => {
    expect(configError(flags({ 'heartbeat-interval': '100', 'election-timeout': '200' }))).toContain(
      '--election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]',
    )
    expect(configError(flags({ 'heartbeat-interval': '0' }))).toContain('--heartbeat-interval must be >0 (set to 0ms)')
  })

  it('rejects unknown auto-compaction modes and reads periodic retention in hours by default', () => {
    expect(configError(flags({ 'auto-compaction-mode': 'sometimes' }))).toContain('error verifying flags, unknown auto-compaction-mode "sometimes"')
    expect(buildMemberConfig(flags({ 'auto-compaction-retention': '2' })).autoCompactionRetention).toBe(2 * 3_600_000)
    expect(buildMemberConfig(flags({ 'auto-compaction-retention': '90s' })).autoCompactionRetention).toBe(90_000)
    expect(buildMemberConfig(flags({ 'auto-compaction-mode': 'revision', 'auto-compaction-retention': '1000' })).autoCompactionRetention).toBe(1000)
  })

  it('rejects duplicate peer URLs and malformed --initial-cluster entries', () => {
    expect(configError(flags({ name: 'a', 'initial-advertise-peer-urls': 'http://h:1', 'initial-cluster': 'a=http://h:1,b=http://h:1' }))).toContain('duplicate peer URL http://h:1')
    expect(configError(flags({ 'initial-cluster': 'default' }))).toContain('not a valid name=URL pair')
    expect(configError(flags({ 'initial-cluster': 'default=notaurl' }))).toContain('invalid URL')
  })

  it('requires certificates for https listeners unless auto TLS is on', () => {
    const https = flags({ 'listen-client-urls': 'https://127.0.0.1:2379', 'advertise-client-urls': 'https://127.0.0.1:2379' })
    expect(configError(https)).toContain('TLS key/cert (--cert-file, --key-file) must be provided')
    https.set('auto-tls', 'true')
    expect(buildMemberConfig(https).clientTls.autoTls).toBe(true)
  })

  it('reads ETCD_* variables for flags not given on the command line', () => {
    const merged = mergeEnv(flags({ name: 'from-flag' }), { ETCD_NAME: 'from-env', ETCD_SNAPSHOT_COUNT: '500' })
    const config = buildMemberConfig(merged)
    expect(config.name).toBe('from-flag')
    expect(config.snapshotCount).toBe(500)
  })
})

describe('etcd YAML config file', () => {
  const dir = tempDir()
  afterAll(() => dir.remove())

  it('reads the same keys as the flags, with nested transport-security sections', () => {
    const path = join(dir.path, 'etcd.yml')
    writeFileSync(
      path,
      [
        'name: infra1',
        'data-dir: /var/lib/etcd/infra1',
        'heartbeat-interval: 50',
        'election-timeout: 500',
        'initial-advertise-peer-urls: https://127.0.0.1:24380',
        'listen-peer-urls: https://127.0.0.1:24380',
        'initial-cluster: infra1=https://127.0.0.1:24380',
        'client-transport-security:',
        '  cert-file: /certs/server.crt',
        '  key-file: /certs/server.key',
        '  client-cert-auth: true',
        'peer-transport-security:',
        '  cert-file: /certs/peer.crt',
        '  key-file: /certs/peer.key',
        '  trusted-ca-file: /certs/ca.crt',
      ].join('\n'),
    )
    const config = buildMemberConfig(readConfigFile(path))
    expect(config.dataDir).toBe('/var/lib/etcd/infra1')
    expect(config.heartbeatMs).toBe(50)
    expect(config.clientTls).toMatchObject({ certFile: '/certs/server.crt', keyFile: '/certs/server.key', clientCertAuth: true })
    expect(config.peerTls).toMatchObject({ certFile: '/certs/peer.crt', trustedCaFile: '/certs/ca.crt' })
  })

  it('rejects unknown keys and non-mapping documents with the file name in the message', () => {
    const typo = join(dir.path, 'typo.yml')
    writeFileSync(typo, 'nmae: infra1\n')
    expect(() => readConfigFile(typo)).toThrow(`config file "${typo}": unknown key "nmae"`)
    const list = join(dir.path, 'list.yml')
    writeFileSync(list, '- a\n- b\n')
    expect(() => readConfigFile(list)).toThrow('not a YAML mapping')
  })
})

describe('Go durations', () => {
  it('parses the forms etcd accepts', () => {
    expect(parseGoDuration('5s')).toBe(5000)
    expect(parseGoDuration('1h30m')).toBe(5_400_000)
    expect(parseGoDuration('250ms')).toBe(250)
    expect(parseGoDuration('1.5h')).toBe(5_400_000)
    expect(parseGoDuration('0')).toBe(0)
    expect(() => parseGoDuration('5')).toThrow('invalid duration')
    expect(() => parseGoDuration('-5s')).toThrow('invalid duration')
    expect(() => parseGoDuration('')).toThrow('invalid duration')
  })
})
