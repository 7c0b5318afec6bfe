import Database from 'better-sqlite3'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster, type MemberCommand } from '../../core/cluster/launcher'
import { currentLeader } from '../../core/cluster/membership-ops'
import type { ManifestMember } from '../../core/cluster/manifest'
import { etcdctl } from '../support/etcd'
import { tempDir } from '../support/temp-dir'

// Cluster operations on one shared 3-member Quorum cluster (and, for the comparisons, one real etcd 3.4
// cluster started the same way), driven with the real etcdctl 3.4 as an operator would.
const quorumCommand: MemberCommand = { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] }

/** Hex member ID -> the decimal form `etcdctl alarm list` prints. */
function decimalId(hex: string): string {
  return BigInt(`0x${hex}`).toString()
}

/** `etcdctl member list` (table) as name -> hex ID. */
function memberIds(endpoints: string): Map<string, string> {
  const out = etcdctl(endpoints, ['member', 'list'])
  expect(out.status, out.stderr).toBe(0)
  return new Map(out.stdout.trim().split('\n').map((line) => line.split(', ')).map((cells) => [cells[2], cells[0]]))
}

/** Writes `value` under `key` straight into a stopped Quorum member's SQLite database (all revisions of it). */
function tamper(member: ManifestMember, key: string, value: string): void {
  const db = new Database(join(member.dataDir, 'member.db'))
  try {
    const changed = db.prepare('UPDATE mvcc_kv SET value = ? WHERE key = ?').run(Buffer.from(value), Buffer.from(key)).changes
    expect(changed).toBeGreaterThan(0)
  } finally {
    db.close()
  }
}

describe('cluster operations on a shared Quorum cluster', () => {
  const dir = tempDir('quorum-ops-')
  let quorum: LocalCluster

  beforeAll(async () => {
    quorum = await LocalCluster.up({ dir: join(dir.path, 'quorum'), size: 3, quorumCommand, extraArgs: ['--experimental-corrupt-check-time', '1s'] })
  }, 90_000)
  afterAll(async () => {
    await quorum?.down()
    dir.remove()
  })

  describe('corruption check (etcd 3.4 corrupt.go)', () => {
    it('raises CORRUPT for a member whose data was changed behind Raft, refuses writes, and clears after repair + disarm', async () => {
      const endpoints = quorum.endpoints()
      for (let i = 0; i < 5; i++) expect(etcdctl(endpoints, ['put', `corrupt/${i}`, `v${i}`]).stdout.trim()).toBe('OK')
      const leader = await currentLeader(quorum)
      const victim = quorum.activeMembers().find((m) => m.name !== leader.name)!
      const victimId = memberIds(endpoints).get(victim.name)!
      await expect.poll(() => new Set(quorum.activeMembers().map((m) => etcdctl(m.clientURL, ['endpoint', 'hashkv', '-w', 'json']).stdout.match(/"hash":(\d+)/)?.[1])).size, { timeout: 10_000 }).toBe(1)

      await quorum.stop(victim.name)
      tamper(victim, 'corrupt/2', 'tampered')

      // --experimental-initial-corrupt-check: the member compares its HashKV with its peers' and refuses to start.
      const initial = spawnSync(quorumCommand.command, [...quorumCommand.args, ...quorum.memberFlags(victim), '--experimental-initial-corrupt-check'], { encoding: 'utf8', timeout: 30_000 })
      expect(initial.status, initial.stderr.slice(0, 3000)).toBe(1)
      expect(initial.stderr).toContain(`${victimId} found data inconsistency with peers`)

      // Without it the member starts, and the leader's periodic check raises its CORRUPT alarm through Raft.
      await quorum.start(victim.name, 30_000, { allowAlarms: true })
      await expect.poll(() => etcdctl(endpoints, ['alarm', 'list']).stdout.trim(), { timeout: 15_000 }).toBe(`memberID:${decimalId(victimId)} alarm:CORRUPT`)
      const refused = etcdctl(endpoints, ['put', 'corrupt/after', 'x'])
      expect(refused.status).not.toBe(0)
      expect(refused.stderr).toContain('etcdserver: corrupt cluster')
      expect(etcdctl(leader.clientURL, ['get', 'corrupt/1', '--print-value-only']).stdout.trim()).toBe('v1')

      // Repair the data, then disarm: the next passes find equal hashes and writes work again.
      await quorum.stop(victim.name)
      tamper(victim, 'corrupt/2', 'v2')
      await quorum.start(victim.name, 30_000, { allowAlarms: true })
      expect(etcdctl(endpoints, ['alarm', 'disarm']).stdout.trim()).toBe(`memberID:${decimalId(victimId)} alarm:CORRUPT`)
      await new Promise((resolve) => setTimeout(resolve, 2500))
      expect(etcdctl(endpoints, ['alarm', 'list']).stdout.trim()).toBe('')
      expect(etcdctl(endpoints, ['put', 'corrupt/after', 'x']).stdout.trim()).toBe('OK')
    }, 90_000)
  })
})
