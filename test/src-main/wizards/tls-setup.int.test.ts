import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../../../core/cluster/launcher'
import { restoreSnapshot } from '../../../core/snapshot/restore'
import { AppStore } from '../../../core/storage/app-store'
import { systemClock } from '../../../core/util/clock'
import type { TlsProgressEvent } from '../../../src-main/api/admin-api'
import { createEtcdClient } from '../../../src-main/services/client-factory'
import { ConnectionService } from '../../../src-main/services/connections'
import { LocalClusterService } from '../../../src-main/services/local-clusters'
import { KeyFileCipher } from '../../../src-main/services/secret-cipher'
import { TlsSetupService } from '../../../src-main/services/tls-setup'
import { etcdctl } from '../../support/etcd'
import { etcdctlTls } from '../../support/etcd-tls'
import { tempDir } from '../../support/temp-dir'
import { QUORUM_COMMAND, value } from './support'

// The TLS wizard's conversion on a real 3-member local Quorum cluster: a failed restore rolls back to the old
// plaintext cluster with its keys; a conversion keeps every key (values, revisions, versions), serves them to
// real `etcdctl --cacert --cert --key`, refuses plaintext, and repoints the app's connection profile.

interface JsonKv {
  key: string
  value: string
  create_revision: number
  mod_revision: number
  version: number
}

const CLUSTER = 'tlsdemo'

describe('TLS wizard: convert a local cluster by snapshot and restore (real quorum members, real etcdctl)', () => {
  let work: ReturnType<typeof tempDir>
  let store: AppStore
  let connections: ConnectionService
  let local: LocalClusterService
  let plainEndpoints: string
  let before: JsonKv[]

  const kvs = (stdout: string) => ((JSON.parse(stdout) as { kvs?: JsonKv[] }).kvs ?? []).sort((a, b) => a.key.localeCompare(b.key))
  const cluster = () => LocalCluster.open(local.dir(CLUSTER), QUORUM_COMMAND)

  beforeAll(async () => {
    work = tempDir('quorum-wizard-tls-')
    store = new AppStore(join(work.path, 'quorum.db'))
    connections = new ConnectionService(store, new KeyFileCipher(join(work.path, 'secret.key')), systemClock)
    local = new LocalClusterService({ clustersDir: join(work.path, 'clusters'), connections, quorumCommand: QUORUM_COMMAND })
    const info = await local.create({ name: CLUSTER, size: 3, tls: false })
    plainEndpoints = info.members.map((member) => member.clientUrl).join(',')
    for (let i = 0; i < 40; i++) expect(etcdctl(plainEndpoints, ['put', `app/${String(i).padStart(2, '0')}`, `v${i}`]).status).toBe(0)
    expect(etcdctl(plainEndpoints, ['put', 'app/07', 'changed']).status).toBe(0)
    expect(etcdctl(plainEndpoints, ['del', 'app/13']).status).toBe(0)
    before = kvs(etcdctl(plainEndpoints, ['get', '', '--prefix', '-w', 'json']).stdout)
    expect(before).toHaveLength(39)
  }, 90_000)

  afterAll(async () => {
    if (local && existsSync(join(local.dir(CLUSTER), 'cluster.json'))) await cluster().down()
    store?.close()
    work?.remove()
  }, 60_000)

  it('a conversion whose restore step fails rolls back: the old plaintext cluster runs again with every key, nothing converted is left', async () => {
    let restores = 0
    const failing = new TlsSetupService({
      localClusters: local,
      connections,
      openClient: createEtcdClient,
      quorumCommand: QUORUM_COMMAND,
      restoreMember: (options) => {
        if (++restores === 2) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })
        return restoreSnapshot(options)
      },
    })
    const events: TlsProgressEvent[] = []
    failing.onTlsProgress((event) => events.push(event))
    const result = await failing.convertLocalClusterToTls({ cluster: CLUSTER, operationId: 'op-fail' })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error.message).toMatch(/failed at step "restore": no space left on device\. Rolled back/)
    expect(events.filter((e) => e.state !== 'running').map((e) => `${e.step}:${e.state}`)).toEqual([
      'check:done', 'certificates:done', 'snapshot:done', 'stop:done', 'restore:failed', 'rollback:done',
    ])
    const after = cluster()
    expect(after.manifest.tls).toBeNull()
    expect(after.endpoints()).toBe(plainEndpoints)
    // Each member answered /health before the rollback reported done; a loaded machine can still miss the 1 s probe.
    await expect.poll(async () => (await after.health()).filter((member) => !member.healthy).map((m) => `${m.name}: ${m.reason}`), { timeout: 15_000 }).toEqual([])
    expect(kvs(etcdctl(plainEndpoints, ['get', '', '--prefix', '-w', 'json']).stdout)).toEqual(before)
    expect(readdirSync(after.dir).filter((file) => file.includes('pre-tls') || file === 'certs' || file.startsWith('tls-conversion'))).toEqual([])
    failing.close()
  }, 120_000)

  it('a conversion keeps every key and revision, etcdctl --cacert --cert --key reads them over https, plaintext is refused, the app profile connects', async () => {
    const service = new TlsSetupService({ localClusters: local, connections, openClient: createEtcdClient, quorumCommand: QUORUM_COMMAND })
    const steps: string[] = []
    service.onTlsProgress((event) => event.state === 'done' && steps.push(event.step))
    const report = value(await service.convertLocalClusterToTls({ cluster: CLUSTER, operationId: 'op-ok' }))
    expect(steps).toEqual(['check', 'certificates', 'snapshot', 'stop', 'restore', 'start', 'profile', 'verify'])
    expect(report.keys).toBe(39)
    expect(report.newClusterId).not.toBe(report.oldClusterId)
    expect(report.endpoints.every((endpoint) => endpoint.startsWith('https://127.0.0.1:'))).toBe(true)
    expect(report.cluster.tls).toBe(true)
    expect(report.certificates[0].isCa).toBe(true)
    expect(report.certificates.map((c) => c.file)).toEqual(expect.arrayContaining(['server-member1.crt', 'peer-member3.crt', 'client-root.crt']))
    expect(report.certificates.find((c) => c.file === 'server-member2.crt')?.subjectAltNames).toContain('IP:127.0.0.1')

    const endpoints = report.endpoints.join(',')
    const client = { certFile: report.clientCertFile, keyFile: report.clientKeyFile }
    const got = await etcdctlTls(endpoints, { caFile: report.caFile, client }, ['get', '', '--prefix', '-w', 'json'])
    expect(got.status, got.stderr).toBe(0)
    expect(kvs(got.stdout)).toEqual(before) // same values, create/mod revisions and versions
    const put = await etcdctlTls(endpoints, { caFile: report.caFile, client }, ['put', 'after/tls', 'yes'])
    expect(put.status, put.stderr).toBe(0)

    const plain = etcdctl(plainEndpoints, ['--command-timeout=2s', '--dial-timeout=1s', 'get', 'app/00'])
    expect(plain.status).not.toBe(0)
    const noClientCert = await etcdctlTls(endpoints, { caFile: report.caFile }, ['get', 'app/00'], ['--command-timeout=2s', '--dial-timeout=1s'])
    expect(noClientCert.status).not.toBe(0)

    const profile = connections.get(report.cluster.connectionId)
    expect(profile.endpoints).toEqual(report.endpoints)
    const app = createEtcdClient(connections.clientOptions(report.cluster.connectionId, 10_000))
    try {
      const read = await app.kv.range('after/tls')
      expect(read.kvs[0]?.value.toString()).toBe('yes')
    } finally {
      app.close()
    }
    const manifest = cluster().manifest
    expect(manifest.members.every((member) => member.peerURL.startsWith('https://'))).toBe(true)
    expect(readdirSync(cluster().dir).filter((file) => file.includes('pre-tls') || file.startsWith('tls-conversion'))).toEqual([])
    const again = await service.convertLocalClusterToTls({ cluster: CLUSTER, operationId: 'op-again' })
    expect(again.ok ? '' : again.error.message).toBe('this cluster already uses TLS')
    service.close()
  }, 120_000)
})
