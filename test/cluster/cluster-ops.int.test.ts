import Database from 'better-sqlite3'
import { spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster, type MemberCommand } from '../../core/cluster/launcher'
import { currentLeader, plannedMember } from '../../core/cluster/membership-ops'
import type { ManifestMember } from '../../core/cluster/manifest'
import { freePorts } from '../../core/cluster/ports'
import { etcdctl } from '../support/etcd'
import { tempDir } from '../support/temp-dir'

// Cluster operations on one shared 3-member Quorum cluster (and, for the comparisons, one real etcd 3.4
// cluster started the same way), driven with the real etcdctl 3.4 as an operator would.
const quorumCommand: MemberCommand = { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] }

/** Runs etcdctl without blocking the event loop (so both clusters can be driven at once). */
function etcdctlAsync(endpoints: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('etcdctl', ['--endpoints', endpoints, ...args], { env: { ...process.env, ETCDCTL_API: '3' } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

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

/**
 * Masks what legitimately differs between two clusters in etcdctl's text output (URLs, IDs, sizes, timings,
 * numbers, column padding) and sorts the lines (member order follows the random IDs).
 */
function maskText(text: string): string {
  return text
    .trim()
    .replace(/ETCD_INITIAL_CLUSTER="([^"]*)"/g, (_, list: string) => `ETCD_INITIAL_CLUSTER="${list.split(',').sort().join(',')}"`)
    .replace(/https?:\/\/127\.0\.0\.1:\d+/g, 'URL')
    .replace(/\b[0-9a-f]{6,16}\b/g, 'ID')
    .replace(/\d+(\.\d+)? ?[kMG]?B\b/g, 'SIZE')
    .replace(/\d+(\.\d+)?(ns|µs|ms|s)\b/g, 'DURATION')
    .replace(/\b\d+\b/g, 'N')
    .replace(/-{2,}/g, '--')
    .replace(/ {2,}/g, ' ')
    .split('\n')
    .map((line) => line.trimEnd())
    .sort()
    .join('\n')
}

/** The shape of etcdctl's JSON: keys (sorted), value types, masked strings; array elements sorted. */
function jsonShape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonShape).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([key, inner]) => [key, jsonShape(inner)]))
  }
  if (typeof value === 'number') return 0
  if (typeof value === 'string') return maskText(value)
  return value
}

/** One etcdctl run, reduced to what must match between engines: exit status, masked stdout and stderr. */
function masked(endpoints: string, args: string[]): { status: number | null; stdout: unknown; stderr: string } {
  let out = etcdctl(endpoints, args)
  // etcd refuses membership changes until every peer connection is 5 s old (mayAddMember: ErrUnhealthy).
  for (let attempt = 0; attempt < 20 && out.stderr.includes('etcdserver: unhealthy cluster'); attempt++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500)
    out = etcdctl(endpoints, args)
  }
  const json = args.includes('json') && out.status === 0
  // clientv3's own JSON log lines (retry warnings with random target names) are not part of the command's output.
  const stderr = out.stderr.split('\n').filter((line) => !line.startsWith('{"level":')).join('\n')
  return { status: out.status, stdout: json ? jsonShape(JSON.parse(out.stdout)) : maskText(out.stdout), stderr: maskText(stderr) }
}

/** Runs the same etcdctl command against both clusters (`args` may depend on the cluster) and returns both results. */
function both(clusters: { quorum: LocalCluster; etcd: LocalCluster }, args: (cluster: LocalCluster) => string[], endpoints = (cluster: LocalCluster) => cluster.endpoints()) {
  return { quorum: masked(endpoints(clusters.quorum), args(clusters.quorum)), etcd: masked(endpoints(clusters.etcd), args(clusters.etcd)) }
}

/** Records a member that `etcdctl member add` just added, so the launcher can start it (`existing` state). */
async function recordAdded(cluster: LocalCluster, name: string, peerURL: string): Promise<void> {
  cluster.manifest.members.push(await plannedMember(cluster, name, peerURL))
  cluster.save()
}

describe('cluster operations on a shared Quorum cluster, compared with etcd 3.4', () => {
  const dir = tempDir('quorum-ops-')
  const clusters = {} as { quorum: LocalCluster; etcd: LocalCluster }
  let quorum: LocalCluster

  beforeAll(async () => {
    const [q, e] = await Promise.allSettled([
      LocalCluster.up({ dir: join(dir.path, 'quorum'), size: 3, quorumCommand, extraArgs: ['--experimental-corrupt-check-time', '1s'] }),
      LocalCluster.up({ dir: join(dir.path, 'etcd'), size: 3, engine: 'etcd' }),
    ])
    if (q.status === 'fulfilled') clusters.quorum = quorum = q.value
    if (e.status === 'fulfilled') clusters.etcd = e.value
    if (q.status === 'rejected') throw q.reason
    if (e.status === 'rejected') throw e.reason
  }, 90_000)
  afterAll(async () => {
    await Promise.all([clusters.quorum?.down(), clusters.etcd?.down()])
    dir.remove()
  })

  describe('etcdctl 3.4 output shapes (differential)', () => {
    it.each([
      ['member list'],
      ['member list -w json'],
      ['endpoint status --cluster'],
      ['endpoint status --cluster -w json'],
      ['endpoint health --cluster'],
      ['endpoint health --cluster -w json'],
      ['endpoint hashkv --cluster'],
      ['endpoint hashkv --cluster -w json'],
      ['alarm list'],
      ['alarm list -w json'],
      ['alarm disarm'],
      ['defrag --cluster'],
    ])('etcdctl %s', (command) => {
      const result = both(clusters, () => command.split(' '))
      expect(result.quorum.status, result.quorum.stderr).toBe(0)
      expect(result.quorum).toEqual(result.etcd)
    })

    it('etcdctl move-leader, member add/add --learner/promote/update/remove', async () => {
      const leaderOf = async (cluster: LocalCluster) => (await currentLeader(cluster)).clientURL
      const leaders = { quorum: await leaderOf(clusters.quorum), etcd: await leaderOf(clusters.etcd) }
      const followerId = (cluster: LocalCluster, leaderUrl: string) => memberIds(cluster.endpoints()).get(cluster.activeMembers().find((m) => m.clientURL !== leaderUrl)!.name)!
      const moved = both(clusters, (c) => ['move-leader', followerId(c, c === quorum ? leaders.quorum : leaders.etcd)])
      expect(moved.quorum.stdout).toBe('Leadership transferred from ID to ID')
      expect(moved.quorum).toEqual(moved.etcd)

      // Distinct peer URLs for the voter and the learner: a member ID hashes the URLs and the second it was added.
      const ports = await freePorts(4)
      const peerOf = (c: LocalCluster) => `http://127.0.0.1:${c === quorum ? ports[0] : ports[1]}`
      const voterPeerOf = (c: LocalCluster) => `http://127.0.0.1:${c === quorum ? ports[2] : ports[3]}`
      const voter = both(clusters, (c) => ['member', 'add', 'member9', `--peer-urls=${voterPeerOf(c)}`])
      expect(voter.quorum.status, voter.quorum.stderr).toBe(0)
      expect(voter.quorum).toEqual(voter.etcd)
      const removedVoter = both(clusters, (c) => ['member', 'remove', memberIds(c.endpoints()).get('') ?? 'missing'])
      expect(removedVoter.quorum).toEqual(removedVoter.etcd)

      const learner = both(clusters, (c) => ['member', 'add', 'member4', '--learner', `--peer-urls=${peerOf(c)}`])
      expect(learner.quorum.status, learner.quorum.stderr).toBe(0)
      expect(learner.quorum).toEqual(learner.etcd)
      const listed = both(clusters, () => ['member', 'list'])
      expect(listed.quorum).toEqual(listed.etcd)

      await Promise.all(
        [clusters.quorum, clusters.etcd].map(async (cluster) => {
          await recordAdded(cluster, 'member4', peerOf(cluster))
          await cluster.start('member4', 60_000)
        }),
      )
      const idOf = (c: LocalCluster) => memberIds(c.endpoints()).get('member4')!
      const promote = (c: LocalCluster) => masked(c.endpoints(), ['member', 'promote', idOf(c)])
      let promoted = { quorum: promote(clusters.quorum), etcd: promote(clusters.etcd) }
      for (let attempt = 0; attempt < 30 && (promoted.quorum.status !== 0 || promoted.etcd.status !== 0); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 500))
        promoted = { quorum: promoted.quorum.status === 0 ? promoted.quorum : promote(clusters.quorum), etcd: promoted.etcd.status === 0 ? promoted.etcd : promote(clusters.etcd) }
      }
      expect(promoted.quorum.stdout).toBe('Member ID promoted in cluster ID')
      expect(promoted.quorum).toEqual(promoted.etcd)

      const updated = both(clusters, (c) => ['member', 'update', idOf(c), `--peer-urls=${peerOf(c)}`])
      expect(updated.quorum.stdout).toBe('Member ID updated in cluster ID')
      expect(updated.quorum).toEqual(updated.etcd)

      const removed = both(clusters, (c) => ['member', 'remove', idOf(c)], (c) => c.activeMembers().filter((m) => m.name !== 'member4').map((m) => m.clientURL).join(','))
      expect(removed.quorum.stdout).toBe('Member ID removed from cluster ID')
      expect(removed.quorum).toEqual(removed.etcd)
      for (const cluster of [clusters.quorum, clusters.etcd]) {
        cluster.member('member4').removed = true
        cluster.save()
        await cluster.stopIfRunning('member4')
      }
    }, 120_000)
  })

  describe('bad membership input gets etcd 3.4 errors and leaves the cluster unchanged', () => {
    it('remove a non-member, promote a voter, duplicate peer URL, a learner beyond the limit, move-leader to a learner', async () => {
      const learnerPeers = { quorum: `http://127.0.0.1:${(await freePorts(1))[0]}`, etcd: `http://127.0.0.1:${(await freePorts(1))[0]}` }
      const added = both(clusters, (c) => ['member', 'add', 'pending', '--learner', `--peer-urls=${c === quorum ? learnerPeers.quorum : learnerPeers.etcd}`])
      expect(added.quorum.status, added.quorum.stderr).toBe(0)
      const before = both(clusters, () => ['member', 'list', '-w', 'json'])
      const learnerId = (c: LocalCluster) => memberIds(c.endpoints()).get('')!
      const voterId = (c: LocalCluster) => memberIds(c.endpoints()).get(c.activeMembers()[0].name)!
      const leaderUrl = async (c: LocalCluster) => (await currentLeader(c)).clientURL
      const leaders = { quorum: await leaderUrl(clusters.quorum), etcd: await leaderUrl(clusters.etcd) }
      const cases: Array<[string, (c: LocalCluster) => string[], string]> = [
        ['remove a non-member', () => ['member', 'remove', '1234abcd'], 'etcdserver: member not found'],
        ['promote a voter', (c) => ['member', 'promote', voterId(c)], 'etcdserver: can only promote a learner member'],
        ['duplicate peer URL', (c) => ['member', 'add', 'dup', `--peer-urls=${c.activeMembers()[1].peerURL}`], 'etcdserver: Peer URLs already exists'],
        ['second learner', (c) => ['member', 'add', 'extra', '--learner', `--peer-urls=http://127.0.0.1:${c === quorum ? 1 : 2}`], 'etcdserver: too many learner members in cluster'],
        ['move-leader to a learner', (c) => ['move-leader', learnerId(c)], 'etcdserver: bad leader transferee'],
      ]
      for (const [name, args, error] of cases) {
        const result = both(clusters, args, (c) => (c === quorum ? leaders.quorum : leaders.etcd))
        expect(result.quorum.status, name).not.toBe(0)
        expect(result.quorum.stderr, name).toBe(`Error: ${error}`)
        expect(result.quorum, name).toEqual(result.etcd)
        const after = both(clusters, () => ['member', 'list', '-w', 'json'])
        expect(after.quorum, name).toEqual(before.quorum)
        expect(after.etcd, name).toEqual(before.etcd)
      }
      const cleanup = both(clusters, (c) => ['member', 'remove', learnerId(c)])
      expect(cleanup.quorum).toEqual(cleanup.etcd)
    }, 60_000)
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

  describe('strict reconfiguration checks (etcd mayAddMember / mayRemoveMember)', () => {
    /** Restarts a follower, then asks the leader for a member add at once and again until it is accepted. */
    async function addAfterRestart(cluster: LocalCluster) {
      const leader = await currentLeader(cluster)
      const follower = cluster.activeMembers().find((m) => m.name !== leader.name)!
      await cluster.kill(follower.name)
      await cluster.start(follower.name, 30_000)
      const peer = `http://127.0.0.1:${(await freePorts(1))[0]}`
      const errorLine = (stderr: string) => stderr.split('\n').find((line) => line.startsWith('Error:')) ?? stderr.trim()
      const early = await etcdctlAsync(leader.clientURL, ['member', 'add', 'early', `--peer-urls=${peer}`])
      const deadline = Date.now() + 20_000
      let later = early
      while (later.status !== 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 250))
        later = await etcdctlAsync(leader.clientURL, ['member', 'add', 'later', `--peer-urls=${peer}`])
      }
      // etcdctl prints the ID with %16x: an ID with a leading zero nibble comes space-padded
      const id = /Member\s+([0-9a-f]+) added/.exec(later.stdout)?.[1] ?? memberIds(cluster.endpoints()).get('') ?? 'missing'
      // the added member never starts: a member that is down may be removed at once
      const removed = await etcdctlAsync(leader.clientURL, ['member', 'remove', id])
      return { early: { status: early.status, error: errorLine(early.stderr) }, later: later.status, removed: removed.status, members: memberIds(cluster.endpoints()).size }
    }

    it('right after a peer reconnects, a member add is refused with "unhealthy cluster", then accepted once every connection is 5 s old (as etcd)', async () => {
      const [q, e] = await Promise.all([addAfterRestart(clusters.quorum), addAfterRestart(clusters.etcd)])
      expect(q).toEqual({ early: { status: 1, error: 'Error: etcdserver: unhealthy cluster' }, later: 0, removed: 0, members: 3 })
      expect(q).toEqual(e)
    }, 90_000)
  })

  describe('quorum loss', () => {
    /** Kills 2 of 3 voters, tries a write and a serializable read on the survivor, restarts one, writes again. */
    async function loseQuorum(cluster: LocalCluster) {
      const [survivor, ...victims] = cluster.activeMembers()
      expect((await etcdctlAsync(cluster.endpoints(), ['put', 'quorum-loss/before', 'kept'])).stdout.trim()).toBe('OK')
      for (const victim of victims) await cluster.kill(victim.name)
      const failed = await etcdctlAsync(survivor.clientURL, ['put', 'quorum-loss/during', 'x', '--command-timeout=20s'])
      const serializable = await etcdctlAsync(survivor.clientURL, ['get', 'quorum-loss/before', '--print-value-only', '--consistency=s'])
      await cluster.start(victims[0].name, 30_000, { allowAlarms: true })
      const deadline = Date.now() + 20_000
      let resumed = await etcdctlAsync(survivor.clientURL, ['put', 'quorum-loss/after', 'y'])
      while (resumed.status !== 0 && Date.now() < deadline) resumed = await etcdctlAsync(survivor.clientURL, ['put', 'quorum-loss/after', 'y'])
      await cluster.start(victims[1].name, 30_000, { allowAlarms: true })
      const caughtUp = await etcdctlAsync(victims[1].clientURL, ['get', 'quorum-loss/after', '--print-value-only'])
      const error = failed.stderr.split('\n').find((line) => line.startsWith('Error:')) ?? failed.stderr
      return { status: failed.status, error, serializable: serializable.stdout.trim(), resumed: resumed.stdout.trim(), caughtUp: caughtUp.stdout.trim() }
    }

    it('with 2 of 3 voters killed writes time out, serializable reads answer; one restart and writes resume (as etcd)', async () => {
      const [q, e] = await Promise.all([loseQuorum(clusters.quorum), loseQuorum(clusters.etcd)])
      expect(q.status).not.toBe(0)
      expect(q.error).toMatch(/^Error: etcdserver: (request timed out|no leader)/)
      expect(q).toEqual({ status: q.status, error: q.error, serializable: 'kept', resumed: 'OK', caughtUp: 'y' })
      expect(q).toEqual(e)
    }, 90_000)
  })
})
