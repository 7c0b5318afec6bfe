// `quorum snapshot restore` with etcdutl's semantics: a snapshot of a 3-member Quorum cluster holding 100k keys,
// history, a lease and a compaction, restored into a new 3-member Quorum cluster (new names, ports, token), and a
// real etcd 3.4 snapshot restored into Quorum, serve exactly the keys, values, create/mod revisions and versions
// of their source; leases come back as etcd restores them; the new cluster has a new cluster id and only its own
// members; bad input gives a clear error and writes nothing.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient } from '../../core/client'
import { LocalCluster } from '../../core/cluster/launcher'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'
import { freePorts } from '../support/ports'
import { tempDir } from '../support/temp-dir'

const QUORUM_COMMAND = { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] }

function quorum(args: string[]) {
  const result = spawnSync(process.execPath, ['build/bin/quorum.mjs', ...args], { encoding: 'utf8', timeout: 120_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** `quorum` without blocking the event loop, so several restores run at once. */
function quorumAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['build/bin/quorum.mjs', ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('close', (status) => resolve({ status, stderr }))
  })
}

const BULK_KEYS = 100_000
const BULK_TXN_OPS = 10_000

/** 100k keys `bulk/NNNNNN` in Txns of 10k puts (the source runs with --max-txn-ops 10000). */
async function loadBulk(endpoints: string): Promise<void> {
  const client = new EtcdClient({ endpoints: endpoints.split(','), callTimeoutMs: 60_000 })
  try {
    for (let from = 0; from < BULK_KEYS; from += BULK_TXN_OPS) {
      const success = Array.from({ length: BULK_TXN_OPS }, (_, i) => {
        const n = String(from + i).padStart(6, '0')
        return { type: 'put' as const, key: Buffer.from(`bulk/${n}`), value: Buffer.from(`v${n}`) }
      })
      await client.kv.txn({ success })
    }
  } finally {
    client.close()
  }
}

/** The leases a member lists, each with its granted and remaining TTL and attached keys (LeaseTimeToLive). */
async function leases(endpoint: string): Promise<Array<{ id: string; grantedTtl: number; ttl: number; keys: string[] }>> {
  const client = new EtcdClient({ endpoints: [endpoint.split(',')[0]!] })
  try {
    const ids = await client.lease.leases()
    return await Promise.all(ids.map(async (id) => {
      const live = await client.lease.timeToLive(id, { keys: true })
      return { id: id.toString(16), grantedTtl: live.grantedTtl, ttl: live.ttl, keys: live.keys.map((key) => key.toString()) }
    }))
  } finally {
    client.close()
  }
}

/**
 * Every key with value, create/mod revision, version and lease, plus the store revision: serializable reads of
 * 10k keys at a time, pinned to the revision of the first page (100k keys are over etcdctl's output limits).
 */
async function dump(endpoint: string): Promise<{ revision: number; kvs: unknown[] }> {
  const client = new EtcdClient({ endpoints: [endpoint.split(',')[0]!], callTimeoutMs: 60_000 })
  try {
    const kvs: unknown[] = []
    let from = Buffer.from([0])
    let revision = 0
    for (;;) {
      const page = await client.kv.range(from, { rangeEnd: Buffer.from([0]), limit: 10_000, revision, serializable: true })
      revision ||= page.header.revision
      for (const kv of page.kvs) {
        kvs.push({ key: kv.key.toString(), value: kv.value.toString(), create: kv.createRevision, mod: kv.modRevision, version: kv.version, lease: kv.lease.toString(16) })
      }
      if (!page.more) return { revision, kvs }
      from = Buffer.concat([page.kvs.at(-1)!.key, Buffer.from([0])])
    }
  } finally {
    client.close()
  }
}

/** The store revision a member reports (a one-key linearizable read). */
async function revisionOf(endpoint: string): Promise<number> {
  const client = new EtcdClient({ endpoints: [endpoint.split(',')[0]!] })
  try {
    return (await client.kv.range('revision-probe')).header.revision
  } finally {
    client.close()
  }
}

function clusterId(endpoint: string): bigint {
  const text = etcdctl(endpoint, ['endpoint', 'status', '-w', 'json']).stdout
  return BigInt(/"cluster_id":(\d+)/.exec(text)?.[1] ?? '0')
}

/** History: overwrites, deletes, a lease and a compaction, through etcdctl. */
function writeHistory(endpoint: string): void {
  for (let batch = 0; batch < 3; batch++) {
    const ops = Array.from({ length: 100 }, (_, i) => `put key/${String(batch * 100 + i).padStart(3, '0')} value-${i}`).join('\n')
    expect(etcdctl(endpoint, ['txn'], `\n${ops}\n\n\n`).status).toBe(0)
  }
  for (let i = 0; i < 20; i++) expect(etcdctl(endpoint, ['put', `key/${String(i).padStart(3, '0')}`, `again-${i}`]).status).toBe(0)
  expect(etcdctl(endpoint, ['del', 'key/05', '--prefix']).status).toBe(0)
  const lease = /lease ([0-9a-f]+) granted/.exec(etcdctl(endpoint, ['lease', 'grant', '600']).stdout)?.[1]
  expect(etcdctl(endpoint, ['put', 'leased', 'yes', '--lease', lease ?? '0']).status).toBe(0)
  const revision = (JSON.parse(etcdctl(endpoint, ['get', 'leased', '-w', 'json']).stdout) as { header: { revision: number } }).header.revision
  expect(etcdctl(endpoint, ['compact', String(revision - 5)]).status).toBe(0)
  expect(etcdctl(endpoint, ['put', 'after-compaction', 'z']).status).toBe(0)
}

interface Started {
  endpoints: string[]
  processes: ChildProcess[]
}

async function waitHealthy(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const body = (await (await fetch(`${url}/health`)).json()) as { health?: string }
      if (body.health === 'true') return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms`)
}

describe('snapshot restore', () => {
  const dir = tempDir('quorum-snapshot-restore-')
  const children: ChildProcess[] = []
  let source: LocalCluster
  let etcd: EtcdCluster

  /** Restores `file` into `names.length` new members and starts them as one new cluster. */
  async function restoreCluster(file: string, names: string[], token: string): Promise<Started> {
    const ports = await freePorts(names.length * 2)
    const peer = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`
    const client = (i: number) => `http://127.0.0.1:${ports[2 * i]}`
    const initialCluster = names.map((name, i) => `${name}=${peer(i)}`).join(',')
    const dataDirOf = (name: string) => join(dir.path, token, name)
    const restores = await Promise.all(names.map((name, i) =>
      quorumAsync(['snapshot', 'restore', file, '--name', name, '--initial-cluster', initialCluster, '--initial-cluster-token', token, '--initial-advertise-peer-urls', peer(i), '--data-dir', dataDirOf(name)])))
    for (const restored of restores) expect(restored.status, restored.stderr).toBe(0)
    const processes = names.map((name, i) => {
      const dataDir = dataDirOf(name)
      const child = spawn(process.execPath, [...QUORUM_COMMAND.args, '--name', name, '--data-dir', dataDir, '--listen-peer-urls', peer(i), '--initial-advertise-peer-urls', peer(i),
        '--listen-client-urls', client(i), '--advertise-client-urls', client(i), '--initial-cluster', initialCluster, '--initial-cluster-token', token], { stdio: 'ignore' })
      children.push(child)
      return child
    })
    const endpoints = names.map((_, i) => client(i))
    await Promise.all(endpoints.map((url) => waitHealthy(url, 60_000)))
    return { endpoints, processes }
  }

  beforeAll(async () => {
    ;[source, etcd] = await Promise.all([
      LocalCluster.up({ dir: join(dir.path, 'source'), size: 3, quorumCommand: QUORUM_COMMAND, healthTimeoutMs: 60_000, extraArgs: ['--max-txn-ops', String(BULK_TXN_OPS)] }),
      startEtcd({ size: 1 }),
    ])
    writeHistory(source.endpoints())
    writeHistory(etcd.endpoints)
    // a small Quorum snapshot for the flag and bad-input cases, then the 100k keys for the round trip
    const small = quorum(['snapshot', 'save', join(dir.path, 'quorum-small.snap'), '--endpoints', source.manifest.members[0].clientURL])
    expect(small.status, small.stderr).toBe(0)
    await loadBulk(source.endpoints())
    // from a follower: any member's snapshot holds the whole cluster state
    const saved = quorum(['snapshot', 'save', join(dir.path, 'quorum.snap'), '--endpoints', source.manifest.members[2].clientURL])
    expect(saved.status, saved.stderr).toBe(0)
    expect(etcdctl(etcd.endpoints, ['snapshot', 'save', join(dir.path, 'etcd.snap')]).status).toBe(0)
  }, 180_000)

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    for (const member of source?.manifest.members ?? []) await source.stopIfRunning(member.name)
    await etcd?.stop()
    dir.remove()
  })

  it('round trip of 100k keys from a 3-member Quorum cluster to a new 3-member one: same keys, values, revisions and versions; leases as etcd restores them; new cluster id; the clusters never talk', async () => {
    const expected = await dump(source.endpoints())
    expect(expected.kvs.length).toBeGreaterThan(BULK_KEYS)
    const sourceLeases = await leases(source.endpoints())
    expect(sourceLeases).toMatchObject([{ grantedTtl: 600, keys: ['leased'] }])
    const restored = await restoreCluster(join(dir.path, 'quorum.snap'), ['alpha', 'beta', 'gamma'], 'restored-token')
    for (const endpoint of restored.endpoints) expect(await dump(endpoint)).toEqual(expected)
    expect(clusterId(restored.endpoints[0])).not.toBe(clusterId(source.endpoints()))
    // etcd compat (etcdutl restore keeps the lease bucket; the new leader's lessor Promote refreshes every
    // lease to its full TTL): same IDs, granted TTLs and attached keys, remaining TTL counted from the restore.
    const restoredLeases = await leases(restored.endpoints[0])
    expect(restoredLeases.map(({ id, grantedTtl, keys }) => ({ id, grantedTtl, keys }))).toEqual(sourceLeases.map(({ id, grantedTtl, keys }) => ({ id, grantedTtl, keys })))
    expect(restoredLeases.every((lease) => lease.ttl > lease.grantedTtl - 60)).toBe(true)
    // the new cluster knows only its own members, the old one only its own, and writes stay in their cluster
    const names = (endpoints: string) => etcdctl(endpoints, ['member', 'list']).stdout.split('\n').filter(Boolean).map((line) => line.split(', ')[2]).sort()
    expect(names(restored.endpoints.join(','))).toEqual(['alpha', 'beta', 'gamma'])
    expect(names(source.endpoints())).toEqual(['member1', 'member2', 'member3'])
    expect(etcdctl(restored.endpoints.join(','), ['put', 'after-restore', '1']).status).toBe(0)
    expect(etcdctl(restored.endpoints.join(','), ['lease', 'revoke', sourceLeases[0]!.id]).status).toBe(0)
    expect(await revisionOf(restored.endpoints[0])).toBe(expected.revision + 2)
    expect(await revisionOf(source.endpoints())).toBe(expected.revision) // nothing reached the old cluster
    expect((await leases(source.endpoints())).map((lease) => lease.id)).toEqual(sourceLeases.map((lease) => lease.id))
  }, 180_000)

  it('a real etcd 3.4 snapshot restored into Quorum serves what etcd served, revision included', async () => {
    const expected = await dump(etcd.endpoints)
    const restored = await restoreCluster(join(dir.path, 'etcd.snap'), ['solo'], 'from-etcd')
    expect(await dump(restored.endpoints[0])).toEqual(expected)
    const status = quorum(['snapshot', 'status', join(dir.path, 'etcd.snap'), '-w', 'json'])
    expect((JSON.parse(status.stdout) as { revision: number }).revision).toBe(expected.revision)
  }, 120_000)

  it('--bump-revision with --mark-compacted restores at the old revision plus the bump', () => {
    const dataDir = join(dir.path, 'bumped')
    const result = quorum(['snapshot', 'restore', join(dir.path, 'quorum-small.snap'), '--name', 'b', '--initial-cluster', 'b=http://127.0.0.1:1', '--initial-advertise-peer-urls', 'http://127.0.0.1:1', '--data-dir', dataDir, '--bump-revision', '1000', '--mark-compacted'])
    expect(result.status, result.stderr).toBe(0)
    const status = quorum(['snapshot', 'status', join(dir.path, 'quorum-small.snap'), '-w', 'json'])
    const revision = (JSON.parse(status.stdout) as { revision: number }).revision
    expect(result.stdout).toContain(`revision ${revision + 1000}`)
  })

  it('bad input is refused with a clear error and nothing is written', () => {
    const good = readFileSync(join(dir.path, 'quorum-small.snap'))
    const write = (name: string, bytes: Buffer) => {
      writeFileSync(join(dir.path, name), bytes)
      return join(dir.path, name)
    }
    const flipped = Buffer.from(good)
    flipped[8000] ^= 0xff
    // a newer schema version (SQLite header user_version at offset 60) with a valid trailer
    const newer = Buffer.from(good)
    newer.writeUInt32BE(99, 60)
    createHash('sha256').update(newer.subarray(0, newer.length - 32)).digest().copy(newer, newer.length - 32)
    const nonEmpty = join(dir.path, 'non-empty')
    mkdirSync(nonEmpty)
    writeFileSync(join(nonEmpty, 'keep'), 'x')
    const base = ['--name', 'x', '--initial-cluster', 'x=http://127.0.0.1:2', '--initial-advertise-peer-urls', 'http://127.0.0.1:2']
    const cases: Array<[string, string[], string, RegExp]> = [
      ['truncated', base, write('truncated.snap', good.subarray(0, 20_000)), /truncated|sha256|corrupt/i],
      ['flipped byte', base, write('flipped.snap', flipped), /sha256 mismatch/],
      ['not a snapshot', base, write('text.snap', Buffer.from('hello, this is not a database\n'.repeat(100))), /not|bbolt|snapshot/i],
      ['newer format', base, write('newer.snap', newer), /schema version 99, newer than the supported/],
      ['name missing', ['--name', 'y', '--initial-cluster', 'x=http://127.0.0.1:2', '--initial-advertise-peer-urls', 'http://127.0.0.1:2'], join(dir.path, 'quorum-small.snap'), /--initial-cluster has no member named "y"/],
    ]
    for (const [label, flags, file, message] of cases) {
      const dataDir = join(dir.path, `bad-${label.replaceAll(' ', '-')}`)
      const result = quorum(['snapshot', 'restore', file, ...flags, '--data-dir', dataDir])
      expect(result.status, label).toBe(1)
      expect(result.stderr, label).toMatch(/^Error: /)
      expect(result.stderr, label).toMatch(message)
      expect(existsSync(dataDir), label).toBe(false)
    }
    const refused = quorum(['snapshot', 'restore', join(dir.path, 'quorum-small.snap'), ...base, '--data-dir', nonEmpty])
    expect(refused.stderr).toContain('exists and is not empty')
    expect(readFileSync(join(nonEmpty, 'keep'), 'utf8')).toBe('x')
  }, 120_000) // several CLI runs: slow on a loaded machine
})
