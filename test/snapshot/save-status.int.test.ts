// `quorum snapshot save` against a real `quorum node` and a real etcd 3.4, and `quorum snapshot status` on
// both kinds of file: the saved file verifies, status agrees with what the live member (HashKV) or etcdctl
// reports, an existing target is never overwritten and a damaged file is refused.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../../core/cluster/launcher'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'
import { tempDir } from '../support/temp-dir'

const QUORUM_COMMAND = { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] }

function quorum(args: string[]) {
  const result = spawnSync(process.execPath, ['build/bin/quorum.mjs', ...args], { encoding: 'utf8', timeout: 60_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function fill(endpoints: string, count: number): void {
  const ops = Array.from({ length: count }, (_, i) => `put key/${i} value-${i}`).join('\n')
  for (let i = 0; i < 3; i++) expect(etcdctl(endpoints, ['txn'], `\n${ops}\n\n\n`).status).toBe(0)
  expect(etcdctl(endpoints, ['del', 'key/3']).status).toBe(0)
}

describe('snapshot save and status', () => {
  const dir = tempDir('quorum-snapshot-save-')
  let cluster: LocalCluster
  let etcd: EtcdCluster

  beforeAll(async () => {
    ;[cluster, etcd] = await Promise.all([
      LocalCluster.up({ dir: join(dir.path, 'cluster'), size: 1, quorumCommand: QUORUM_COMMAND, healthTimeoutMs: 60_000 }),
      startEtcd({ size: 1 }),
    ])
    fill(cluster.endpoints(), 100)
    fill(etcd.endpoints, 100)
  }, 90_000)

  afterAll(async () => {
    for (const member of cluster?.manifest.members ?? []) await cluster.stopIfRunning(member.name)
    await etcd?.stop()
    dir.remove()
  })

  it('saves a Quorum member snapshot whose status matches the live HashKV, revision and identity', () => {
    const file = join(dir.path, 'quorum.db')
    const saved = quorum(['snapshot', 'save', file, '--endpoints', cluster.endpoints()])
    expect(saved.status, saved.stderr).toBe(0)
    expect(saved.stdout).toBe(`Snapshot saved at ${file}\n`)
    expect(saved.stderr).toMatch(/fetched quorum-sqlite snapshot: .* sha256 [0-9a-f]{64}/)
    expect(existsSync(`${file}.part`)).toBe(false)

    const status = quorum(['snapshot', 'status', file, '-w', 'json'])
    expect(status.status, status.stderr).toBe(0)
    const report = JSON.parse(status.stdout) as { hash: number; revision: number; liveKeys: number; memberId: string; clusterId: string; format: string }
    const hashkv = etcdctl(cluster.endpoints(), ['endpoint', 'hashkv', '-w', 'json']).stdout
    const live = JSON.parse(hashkv) as Array<{ HashKV: { header: { revision: number }; hash: number } }>
    expect(report.format).toBe('quorum-sqlite')
    expect(report.revision).toBe(live[0].HashKV.header.revision)
    expect(report.hash).toBe(live[0].HashKV.hash)
    expect(report.liveKeys).toBe(99)
    // uint64 IDs lose precision through JSON.parse: read the digits
    expect(BigInt(`0x${report.memberId}`)).toBe(BigInt(/"member_id":(\d+)/.exec(hashkv)?.[1] ?? '0'))
    expect(BigInt(`0x${report.clusterId}`)).toBe(BigInt(/"cluster_id":(\d+)/.exec(hashkv)?.[1] ?? '0'))

    const table = quorum(['snapshot', 'status', file, '-w', 'table'])
    expect(table.stdout).toContain(`|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |`)
    expect(table.stdout).toContain(`cluster: ${report.clusterId}, member: ${report.memberId}`)
  })

  it('saves a real etcd snapshot that etcdctl snapshot status reads the same way quorum does', () => {
    const file = join(dir.path, 'etcd.db')
    const saved = quorum(['snapshot', 'save', file, '--endpoints', etcd.endpoints])
    expect(saved.status, saved.stderr).toBe(0)
    expect(saved.stderr).toContain('fetched etcd-bbolt snapshot')
    const { format, ...ours } = JSON.parse(quorum(['snapshot', 'status', file, '-w', 'json']).stdout) as Record<string, unknown>
    const theirs = JSON.parse(etcdctl(etcd.endpoints, ['snapshot', 'status', file, '-w', 'json']).stdout) as Record<string, unknown>
    expect(format).toBe('etcd-bbolt')
    expect(ours).toEqual(theirs)
    expect(theirs.revision).toBeGreaterThan(1)
  })

  it('never overwrites an existing file, refuses several endpoints, and rejects a damaged Quorum snapshot', () => {
    const existing = join(dir.path, 'existing.db')
    writeFileSync(existing, 'keep me')
    const refused = quorum(['snapshot', 'save', existing, '--endpoints', cluster.endpoints()])
    expect(refused.status).toBe(1)
    expect(refused.stderr).toContain('already exists; refusing to overwrite it')
    expect(readFileSync(existing, 'utf8')).toBe('keep me')

    const several = quorum(['snapshot', 'save', join(dir.path, 'x.db'), '--endpoints', `${cluster.endpoints()},${etcd.endpoints}`])
    expect(several.stderr).toContain('snapshot must be requested to one selected node')
    expect(existsSync(join(dir.path, 'x.db'))).toBe(false)

    const good = join(dir.path, 'quorum.db')
    const damaged = join(dir.path, 'damaged.db')
    const bytes = readFileSync(good)
    bytes[5000] ^= 0xff
    writeFileSync(damaged, bytes)
    const status = quorum(['snapshot', 'status', damaged])
    expect(status.status).toBe(1)
    expect(status.stderr).toBe(`Error: ${damaged}: sha256 mismatch, the file is damaged\n`)
  })
})
