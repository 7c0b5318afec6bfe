import { existsSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ClusterOperationError, LocalCluster } from '../../core/cluster/launcher'
import { readManifest } from '../../core/cluster/manifest'
import { isAlive } from '../../core/cluster/process'
import { etcdctl } from '../support/etcd'
import { tempDir } from '../support/temp-dir'

// The launcher is engine-agnostic; here it runs real etcd 3.4 members, which pins down the process handling
// (the Quorum engine runs the same code with `quorum node`).
describe('local cluster launcher (etcd engine)', () => {
  const dir = tempDir('quorum-cluster-')
  let cluster: LocalCluster

  beforeAll(async () => {
    cluster = await LocalCluster.up({ dir: join(dir.path, 'c'), size: 3, engine: 'etcd' })
  }, 60_000)
  afterAll(async () => {
    await cluster?.down()
    dir.remove()
  })

  it('starts 3 healthy members with distinct ports and data dirs and records them in the manifest', async () => {
    const manifest = readManifest(cluster.dir)
    expect(manifest.members).toHaveLength(3)
    expect(new Set(manifest.members.map((m) => m.clientURL)).size).toBe(3)
    expect(new Set(manifest.members.map((m) => m.peerURL)).size).toBe(3)
    for (const member of manifest.members) expect(existsSync(member.dataDir)).toBe(true)
    const health = await cluster.health()
    expect(health.every((m) => m.healthy && m.running)).toBe(true)
    const list = etcdctl(cluster.endpoints(), ['member', 'list', '-w', 'json'])
    expect(JSON.parse(list.stdout).members.map((m: { name: string }) => m.name).sort()).toEqual(['member1', 'member2', 'member3'])
  })

  it('kills a member for real and restarts it with its data', async () => {
    expect(etcdctl(cluster.endpoints(), ['put', 'survives', 'yes']).status).toBe(0)
    const pid = cluster.member('member2').pid
    await cluster.kill('member2')
    expect(isAlive(pid)).toBe(false)
    expect((await cluster.health()).find((m) => m.name === 'member2')).toMatchObject({ running: false, healthy: false })
    await cluster.start('member2')
    expect(etcdctl(cluster.member('member2').clientURL, ['get', 'survives', '--print-value-only', '--consistency', 's']).stdout.trim()).toBe('yes')
  })

  it('pauses and resumes a member (SIGSTOP/SIGCONT)', async () => {
    cluster.pause('member3')
    // SIGSTOP is delivered asynchronously: the process shows as stopped ('T') a moment later.
    await vi.waitFor(async () => expect((await cluster.health()).find((m) => m.name === 'member3')).toMatchObject({ running: true, paused: true, healthy: false }), { timeout: 5_000, interval: 50 })
    cluster.resume('member3')
    await cluster.waitHealthy(['member3'], 10_000)
  })

  it('says why a member exited during startup: the end of its log is in the error', async () => {
    await cluster.stop('member2')
    const db = join(cluster.member('member2').dataDir, 'member', 'snap', 'db')
    renameSync(db, `${db}.away`)
    writeFileSync(db, Buffer.alloc(64 * 1024, 0x5a)) // not a bbolt file
    try {
      await expect(cluster.start('member2')).rejects.toThrow(/member member2 exited during startup; see \S+member2\.log; its log ends with:\n[^]*invalid database/)
    } finally {
      renameSync(`${db}.away`, db)
    }
    await cluster.start('member2')
  })

  it('stops a member gracefully and refuses to operate on unknown or stopped members', async () => {
    await cluster.stop('member1')
    await expect(cluster.stop('member1')).rejects.toThrow('member member1 is not running')
    expect(() => cluster.member('nobody')).toThrow(ClusterOperationError)
    await cluster.start('member1')
  })

  it('refuses to create a cluster in a directory that already holds one', async () => {
    await expect(LocalCluster.up({ dir: cluster.dir, size: 1, engine: 'etcd' })).rejects.toThrow('already holds a cluster')
  })

  it('reopens the cluster from its manifest in another process', () => {
    const reopened = LocalCluster.open(cluster.dir)
    expect(reopened.endpoints()).toBe(cluster.endpoints())
    expect(reopened.member('member2').pid).toBe(cluster.member('member2').pid)
  })
})
