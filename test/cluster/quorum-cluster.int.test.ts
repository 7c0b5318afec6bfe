import Database from 'better-sqlite3'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster, type MemberCommand } from '../../core/cluster/launcher'
import { addMember, currentLeader, moveLeader, promoteMember, removeMember } from '../../core/cluster/membership-ops'
import { clusterStatus } from '../../core/cluster/status'
import { H2UnaryClient } from '../../core/bench/h2-client'
import { serviceMethods } from '../../core/proto/services'
import { etcdctl } from '../support/etcd'
import { tempDir } from '../support/temp-dir'

// A local Quorum cluster operated the way a user does it: real member processes, real etcdctl 3.4.
const quorumCommand: MemberCommand = { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] }

const KV = serviceMethods('etcdserverpb.KV')
/** Keys written before the learner joins: more Raft entries than the 5,000 the leader keeps after a snapshot. */
const BULK_KEYS = 10_000

/** Puts `count` keys `bulk/<n>` through `url`, 64 in flight; resolves once every put was acknowledged. */
async function putMany(url: string, count: number): Promise<void> {
  const client = new H2UnaryClient(url)
  let next = 0
  try {
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < count) {
          const n = next++
          await client.call(KV.Put, { key: Buffer.from(`bulk/${n}`), value: Buffer.from(String(n)) } as never)
        }
      }),
    )
  } finally {
    client.close()
  }
}

/** The first index still in a running member's Raft log (read-only; the member keeps writing). */
function firstLogIndex(dataDir: string): number {
  const db = new Database(join(dataDir, 'member.db'), { readonly: true })
  try {
    return (db.prepare('SELECT min(idx) AS idx FROM raft_entry').get() as { idx: number }).idx
  } finally {
    db.close()
  }
}

/** `etcdctl get bulk/ --prefix --limit 1`'s total count, answered by `url` alone (serializable). */
function bulkCount(url: string): number {
  const out = etcdctl(url, ['get', 'bulk/', '--prefix', '--limit', '1', '--consistency=s', '-w', 'json'])
  return (JSON.parse(out.stdout) as { count?: number }).count ?? 0
}

function hashKvs(cluster: LocalCluster): Map<string, string> {
  const out = etcdctl(cluster.endpoints(), ['endpoint', 'hashkv', '--cluster', '-w', 'json'])
  expect(out.status, out.stderr).toBe(0)
  const rows = JSON.parse(out.stdout) as Array<{ Endpoint: string; HashKV: { hash: number; header: { revision: number } } }>
  return new Map(rows.map((row) => [row.Endpoint, `${row.HashKV.header.revision}:${row.HashKV.hash}`]))
}

describe('local Quorum cluster operations', () => {
  const dir = tempDir('quorum-qcluster-')
  let cluster: LocalCluster
  const acknowledged: string[] = []

  beforeAll(async () => {
    // --snapshot-count 50: the leader compacts its log (keeping etcd's 5,000 catch-up entries), so a learner
    // added after BULK_KEYS puts can only catch up from a snapshot. A 3 s election timeout rides out the leader's
    // pause while it builds the snapshot image on a loaded CI machine.
    cluster = await LocalCluster.up({ dir: join(dir.path, 'c'), size: 3, quorumCommand, snapshotCount: 50, electionMs: 3000, healthTimeoutMs: 60_000 })
  }, 90_000)
  afterAll(async () => {
    await cluster?.down()
    dir.remove()
  })

  function put(key: string, value: string, endpoints = cluster.endpoints()): void {
    const out = etcdctl(endpoints, ['put', key, value])
    expect(out.stdout.trim(), out.stderr).toBe('OK')
    acknowledged.push(key)
  }

  it('elects exactly one leader and serves etcdctl on every member', async () => {
    const status = await clusterStatus(cluster)
    expect(status.members.filter((m) => m.role === 'leader')).toHaveLength(1)
    expect(status).toMatchObject({ voters: 3, hasQuorum: true, faultTolerance: 1 })
    put('hello', 'world')
    for (const member of cluster.activeMembers()) {
      expect(etcdctl(member.clientURL, ['get', 'hello', '--print-value-only']).stdout.trim()).toBe('world')
    }
  })

  it('adds a learner after 10k writes, it catches up from a snapshot, is promoted and listed as a voter', async () => {
    // Match by peer URL: the name shows only once the new member has published its attributes through Raft.
    const memberList = () => (JSON.parse(etcdctl(cluster.endpoints(), ['member', 'list', '-w', 'json']).stdout) as { members: Array<{ peerURLs: string[]; isLearner?: boolean }> }).members
    // A retry finds the learner that a failed attempt added (perhaps never started): remove it first, or the
    // cluster refuses a second one ("too many learner members").
    for (const stale of memberList().filter((m) => m.isLearner)) {
      const known = cluster.activeMembers().find((m) => stale.peerURLs.includes(m.peerURL))
      if (known) await removeMember(cluster, known.name)
    }
    for (let i = 0; i < 20; i++) put(`before-learner/${i}`, String(i))
    const leader = await currentLeader(cluster)
    await putMany(leader.clientURL, BULK_KEYS)
    await expect.poll(() => firstLogIndex(leader.dataDir), { timeout: 20_000 }).toBeGreaterThan(1000)
    const learner = await addMember(cluster, { learner: true })
    expect(memberList().find((m) => m.peerURLs.includes(learner.peerURL))?.isLearner).toBe(true)
    await promoteMember(cluster, learner.name)
    const promoted = memberList().find((m) => m.peerURLs.includes(learner.peerURL))
    expect(promoted).toBeDefined()
    expect(promoted?.isLearner ?? false).toBe(false)
    expect(etcdctl(learner.clientURL, ['get', 'before-learner/19', '--print-value-only', '--consistency', 's']).stdout.trim()).toBe('19')
    await expect.poll(() => bulkCount(learner.clientURL), { timeout: 20_000 }).toBe(BULK_KEYS)
  }, 120_000)

  it('moves leadership, then removes the old leader without losing writes', async () => {
    const leader = await currentLeader(cluster)
    const target = cluster.activeMembers().find((m) => m.name !== leader.name)!
    await moveLeader(cluster, target.name)
    expect((await currentLeader(cluster)).name).toBe(target.name)
    await removeMember(cluster, leader.name)
    expect(cluster.member(leader.name).removed).toBe(true)
    const names = (JSON.parse(etcdctl(cluster.endpoints(), ['member', 'list', '-w', 'json']).stdout) as { members: Array<{ name: string }> }).members.map((m) => m.name)
    expect(names).not.toContain(leader.name)
    put('after-remove', 'yes')
  }, 90_000)

  it('survives kill -9 of a follower, keeps writing, and converges after restart', async () => {
    const leader = await currentLeader(cluster)
    const follower = cluster.activeMembers().find((m) => m.name !== leader.name)!
    await cluster.kill(follower.name)
    for (let i = 0; i < 10; i++) put(`while-down/${i}`, String(i), leader.clientURL)
    await cluster.start(follower.name)
    for (const key of acknowledged) {
      const out = etcdctl(follower.clientURL, ['get', key, '--print-value-only'])
      expect(out.stdout.trim().length, `${key} missing on ${follower.name}`).toBeGreaterThan(0)
    }
    await expect.poll(() => new Set(hashKvs(cluster).values()).size, { timeout: 10_000 }).toBe(1)
    for (const member of cluster.activeMembers()) expect(bulkCount(member.clientURL), member.name).toBe(BULK_KEYS)
  }, 90_000)

  it('refuses to restart a removed member', async () => {
    const removed = cluster.manifest.members.find((m) => m.removed)!
    await expect(cluster.start(removed.name)).rejects.toThrow('was removed from the cluster')
  })
})
