import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Etcd3 } from 'etcd3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../../core/cluster/launcher'
import { addMember } from '../../core/cluster/membership-ops'
import { MemberDb } from '../../core/storage/member-db'
import { getAppliedIndex } from '../../core/storage/metadata'
import { etcdctl } from '../support/etcd'
import { tempDir } from '../support/temp-dir'

// Raft snapshot state transfer between real `quorum node` processes: a member that missed more entries than
// the leader keeps in its log (--snapshot-count 50, --experimental-snapshot-catchup-entries 300) and a learner
// added after the log was compacted both catch up from the leader's snapshot and end with the same HashKV.
// The leader builds the image on a worker thread and streams it in chunks (peer/snapshot-stream.ts).

const CATCH_UP_ENTRIES = 300
const QUORUM_COMMAND = { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'], env: { ETCD_EXPERIMENTAL_SNAPSHOT_CATCHUP_ENTRIES: String(CATCH_UP_ENTRIES) } }

interface HashKv {
  endpoint: string
  revision: number
  hash: number
}

function hashKvs(endpoints: string): HashKv[] {
  const result = etcdctl(endpoints, ['endpoint', 'hashkv', '-w', 'json'])
  if (result.status !== 0) return []
  const rows = JSON.parse(result.stdout) as Array<{ Endpoint: string; HashKV: { header: { revision: number }; hash: number } }>
  return rows.map((r) => ({ endpoint: r.Endpoint, revision: r.HashKV.header.revision, hash: r.HashKV.hash }))
}

function leaderUrl(endpoints: string): string {
  const result = etcdctl(endpoints, ['endpoint', 'status', '-w', 'json'])
  const rows = JSON.parse(result.stdout) as Array<{ Endpoint: string; Status: { leader: number | string; header: { member_id: number | string } } }>
  return rows.find((r) => String(r.Status.leader) === String(r.Status.header.member_id))?.Endpoint ?? ''
}

async function waitConverged(endpoints: string, count: number, timeoutMs: number): Promise<HashKv[]> {
  const deadline = Date.now() + timeoutMs
  let last: HashKv[] = []
  while (Date.now() < deadline) {
    last = hashKvs(endpoints)
    if (last.length === count && last.every((h) => h.revision === last[0].revision && h.hash === last[0].hash)) return last
    await new Promise((resolve) => setTimeout(resolve, 300))
  }
  throw new Error(`members did not converge: ${JSON.stringify(last)}`)
}

async function putMany(client: Etcd3, prefix: string, count: number): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      // a put may time out while the machine is loaded; repeating it writes the same key and value
      for (let attempt = 0; ; attempt++) {
        try {
          await client.put(`${prefix}${String(i).padStart(5, '0')}`).value(`value-${i}`)
          break
        } catch (error) {
          if (attempt >= 5) throw error
        }
      }
    }
  }
  await Promise.all(Array.from({ length: 100 }, worker))
}

// Opens a killed member's database (retrying while the dead process is not yet reaped and still holds the lock).
async function logBounds(dataDir: string): Promise<{ applied: number }> {
  let db: MemberDb | undefined
  for (let attempt = 0; db === undefined; attempt++) {
    try {
      db = MemberDb.open({ dataDir, create: 'never' })
    } catch (error) {
      if ((error as { code?: string }).code !== 'DB_LOCKED' || attempt > 100) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  try {
    return { applied: getAppliedIndex(db) }
  } finally {
    db.close()
  }
}

describe('Raft snapshot state transfer', () => {
  const dir = tempDir('quorum-snapshot-transfer-')
  let cluster: LocalCluster
  let client: Etcd3

  beforeAll(async () => {
    cluster = await LocalCluster.up({ dir: join(dir.path, 'cluster'), size: 3, snapshotCount: 50, quorumCommand: QUORUM_COMMAND, healthTimeoutMs: 60_000 })
    client = new Etcd3({ hosts: cluster.endpoints().split(',') })
  }, 90_000)

  afterAll(async () => {
    client?.close()
    for (const member of cluster?.manifest.members ?? []) await cluster.stopIfRunning(member.name)
    dir.remove()
  })

  it('a member that missed more than the retained log catches up from a snapshot with an equal HashKV', async () => {
    // a follower: killing the leader would only add an election to what this test checks
    const lagging = cluster.manifest.members.find((m) => m.clientURL !== leaderUrl(cluster.endpoints()))!
    await putMany(client, 'before/', 20)
    await cluster.kill(lagging.name)
    const before = await logBounds(lagging.dataDir)
    const others = cluster.manifest.members.filter((m) => m.name !== lagging.name).map((m) => m.clientURL)
    client.close()
    client = new Etcd3({ hosts: others })
    await putMany(client, 'missed/', CATCH_UP_ENTRIES + 300)
    // a few large values so that the image spans many stream chunks
    await Promise.all(Array.from({ length: 24 }, (_, i) => client.put(`large/${i}`).value(Buffer.alloc(200_000, i))))
    await client.lease(60).put('leased').value('yes')

    await cluster.start(lagging.name, 60_000)
    const hashes = await waitConverged(cluster.endpoints(), 3, 90_000)
    expect(hashes.map((h) => h.endpoint).sort()).toEqual(cluster.endpoints().split(',').sort())

    // The entries between its old applied index and the snapshot never were in its log: they came in the image.
    const restored = [...readFileSync(lagging.logFile, 'utf8').matchAll(/restored snapshot \[index: (\d+)/g)].map((m) => Number(m[1]))
    expect(restored.length).toBeGreaterThan(0)
    expect(Math.max(...restored)).toBeGreaterThan(before.applied + CATCH_UP_ENTRIES)
    const keys = etcdctl(lagging.clientURL, ['get', 'missed/', '--prefix', '--keys-only', '--limit', '1', '--consistency', 's', '-w', 'json'])
    expect((JSON.parse(keys.stdout) as { count: number }).count).toBe(CATCH_UP_ENTRIES + 300)
  }, 240_000)

  it('a learner added after the log was compacted catches up from a snapshot', async () => {
    const learner = await addMember(cluster, { learner: true })
    const all = [...cluster.manifest.members.map((m) => m.clientURL)].join(',')
    await waitConverged(all, 4, 90_000)
    const leased = etcdctl(learner.clientURL, ['get', 'leased', '--consistency', 's', '--print-value-only'])
    expect(leased.stdout.trim()).toBe('yes')
  }, 180_000)
})
