import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { EtcdClient, EtcdError, GrpcError } from '../../core/client'
import { freePort, freePorts } from '../support/ports'
import { tempDir } from '../support/temp-dir'
import { startEtcd, type EtcdCluster } from '../support/etcd'
import { expectEtcdError } from './expect-etcd-error'

// Cluster and Maintenance namespaces, and endpoint failover, against a real 3-member etcd 3.4.
let etcd: EtcdCluster
let client: EtcdClient
const urls = () => etcd.members.map((member) => member.clientUrl)

beforeAll(async () => {
  // Without strict reconfig checks: etcd 3.4 refuses membership changes ("etcdserver: unhealthy cluster") until
  // every member has been connected for 5 s, which would cost this suite 5 s of waiting.
  etcd = await startEtcd({ size: 3, extraArgs: ['--strict-reconfig-check=false'] })
  client = new EtcdClient({ endpoints: urls() })
})

afterAll(async () => {
  client?.close()
  await etcd?.stop()
})

/** The leader's member ID and client URL, as the members report it. */
async function findLeader(): Promise<{ id: bigint; url: string }> {
  const { members } = await client.cluster.memberList()
  const { leader } = await client.maintenance.status()
  const member = members.find((m) => m.id === leader)
  if (!member) throw new Error(`leader ${leader} not in member list`)
  return { id: member.id, url: member.clientUrls[0] }
}

describe('Cluster and Maintenance against etcd 3.4 (3 members)', () => {
  test('memberList lists the three voting members with their URLs', async () => {
    const { header, members } = await client.cluster.memberList()
    expect(members.map((m) => m.name).sort()).toEqual(['etcd1', 'etcd2', 'etcd3'])
    expect(members.map((m) => m.clientUrls[0]).sort()).toEqual(urls().sort())
    expect(members.map((m) => m.peerUrls[0]).sort()).toEqual(etcd.members.map((m) => m.peerUrl).sort())
    expect(members.every((m) => !m.isLearner && m.id > 0n)).toBe(true)
    expect(header.clusterId).toBeGreaterThan(0n)
  })

  test('status of each member agrees on leader and term; hashKV agrees at one revision', async () => {
    const { header } = await client.kv.put('m/k', 'v')
    const statuses = await Promise.all(urls().map((endpoint) => client.maintenance.status({ endpoint })))
    const memberIds = new Set(statuses.map((s) => s.header.memberId))
    expect(memberIds.size).toBe(3)
    expect(new Set(statuses.map((s) => s.leader)).size).toBe(1)
    expect(memberIds.has(statuses[0].leader)).toBe(true)
    expect(new Set(statuses.map((s) => s.raftTerm)).size).toBe(1)
    for (const status of statuses) {
      expect(status.version).toMatch(/^3\.4\./)
      expect(status.dbSize).toBeGreaterThan(0)
      expect(status.dbSizeInUse).toBeGreaterThan(0)
      expect(status.raftIndex).toBeGreaterThan(0)
      expect(status.isLearner).toBe(false)
    }
    const hashes = await Promise.all(urls().map((endpoint) => client.maintenance.hashKV(header.revision, { endpoint })))
    expect(new Set(hashes.map((h) => h.hash)).size).toBe(1)
    expect((await client.maintenance.hash()).hash).toBeGreaterThan(0)
    expect(await client.maintenance.alarms()).toEqual([])
    expect(await client.maintenance.alarmDeactivate(statuses[0].header.memberId, 'nospace')).toEqual([])
    const defrag = await client.maintenance.defragment({ endpoint: urls()[1] })
    // etcd compat: 3.4 answers Defragment with an empty response (no header).
    expect(defrag.header.memberId).toBe(0n)
    expect(await client.maintenance.healthCheck()).toBe('SERVING')
  })

  test('learner: add, update, promote refused while not in sync, remove; membership errors as etcd sends them', async () => {
    const peerUrl = `http://127.0.0.1:${await freePort()}`
    const added = await client.cluster.memberAdd([peerUrl], { isLearner: true })
    expect(added.member).toMatchObject({ isLearner: true, name: '', peerUrls: [peerUrl], clientUrls: [] })
    expect(added.members).toHaveLength(4)
    await expectEtcdError(client.cluster.memberPromote(added.member.id), 'LEARNER_NOT_READY')
    await expectEtcdError(client.cluster.memberAdd([`http://127.0.0.1:${await freePort()}`], { isLearner: true }), 'TOO_MANY_LEARNERS')
    // NB: re-adding `peerUrl` itself may answer MEMBER_EXIST instead: etcd 3.4 derives a new member's ID from its
    // peer URLs and the Unix second, so the same URL within one second collides on the ID first.
    await expectEtcdError(client.cluster.memberAdd([etcd.members[0].peerUrl]), 'PEER_URL_EXIST')
    await expectEtcdError(client.cluster.memberAdd(['not a url']), 'MEMBER_BAD_URLS')
    const newPeerUrl = `http://127.0.0.1:${await freePort()}`
    const updated = await client.cluster.memberUpdate(added.member.id, [newPeerUrl])
    expect(updated.members.find((m) => m.id === added.member.id)?.peerUrls).toEqual([newPeerUrl])
    // The leader itself: etcd 3.4 first checks that the member is in sync (LEARNER_NOT_READY when its match
    // index is below 90% of the leader's), which a busy follower can fail; the leader always passes.
    const leader = await findLeader()
    await expectEtcdError(client.cluster.memberPromote(leader.id), 'MEMBER_NOT_LEARNER')
    const removed = await client.cluster.memberRemove(added.member.id)
    expect(removed.members.map((m) => m.id)).not.toContain(added.member.id)
    await expectEtcdError(client.cluster.memberRemove(added.member.id), 'MEMBER_NOT_FOUND')
  })

  test('a learner that runs catches up and is promoted to a voting member, then removed', async () => {
    const [peerPort, clientPort] = await freePorts(2)
    const peerUrl = `http://127.0.0.1:${peerPort}`
    const clientUrl = `http://127.0.0.1:${clientPort}`
    const { member } = await client.cluster.memberAdd([peerUrl], { isLearner: true })
    const dir = tempDir('quorum-learner-')
    const initialCluster = [...etcd.members.map((m) => `${m.name}=${m.peerUrl}`), `learner=${peerUrl}`].join(',')
    const learner = spawn('etcd', [
      '--name', 'learner', '--data-dir', join(dir.path, 'data'),
      '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'existing',
      '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'error',
    ], { stdio: ['ignore', 'ignore', 'pipe'] })
    let learnerLog = ''
    learner.stderr?.on('data', (chunk: Buffer) => (learnerLog = (learnerLog + chunk.toString()).slice(-4000)))
    const exited = new Promise((resolve) => learner.once('exit', resolve))
    try {
      // A learner is promotable once its log has caught up with the leader's (etcd 3.4: 90% of its match).
      const deadline = Date.now() + 40_000
      for (;;) {
        try {
          await client.cluster.memberPromote(member.id)
          break
        } catch (error) {
          if (!(error instanceof EtcdError && error.code === 'LEARNER_NOT_READY')) throw error
          if (Date.now() > deadline) throw new Error(`the learner never caught up; its log ends with:\n${learnerLog}`)
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
      }
      const promoted = (await client.cluster.memberList()).members.find((m) => m.id === member.id)
      expect(promoted).toMatchObject({ isLearner: false, name: 'learner', clientUrls: [clientUrl] })
      const status = await client.maintenance.status({ endpoint: urls()[0] })
      expect(status.leader).not.toBe(0n)
      const { members } = await client.cluster.memberRemove(member.id)
      expect(members).toHaveLength(3)
    } finally {
      learner.kill('SIGKILL')
      await exited
      dir.remove()
      // Whatever failed above, leave the three original members alone so later tests keep their quorum.
      const leftover = (await client.cluster.memberList()).members.some((m) => m.id === member.id)
      if (leftover) await client.cluster.memberRemove(member.id)
    }
  }, 60_000)

  test('moveLeader hands leadership to the target; a non-member target is a bad transferee', async () => {
    const leader = await findLeader()
    const target = (await client.cluster.memberList()).members.find((m) => m.id !== leader.id && !m.isLearner)!
    await client.maintenance.moveLeader(target.id, { endpoint: leader.url })
    const status = await client.maintenance.status({ endpoint: target.clientUrls[0] })
    expect(status.leader).toBe(target.id)
    await expectEtcdError(client.maintenance.moveLeader(12345n, { endpoint: target.clientUrls[0] }), 'BAD_LEADER_TRANSFEREE')
  })

  test('snapshot streams the backend in chunks that end with its sha256', async () => {
    const chunks: Buffer[] = []
    for await (const chunk of client.maintenance.snapshot()) chunks.push(chunk)
    const snapshot = Buffer.concat(chunks)
    // etcd compat: the stream is the bbolt file followed by its 32-byte sha256 (size % 512 == 32).
    expect(snapshot.length % 512).toBe(32)
    const { createHash } = await import('node:crypto')
    const body = snapshot.subarray(0, snapshot.length - 32)
    expect(createHash('sha256').update(body).digest().equals(snapshot.subarray(snapshot.length - 32))).toBe(true)
  })

  test('fails over to the next endpoint when the current member is killed; a pinned call does not', async () => {
    const leader = await findLeader()
    const followerIndex = etcd.members.findIndex((m) => m.clientUrl !== leader.url)
    const order = [etcd.members[followerIndex].clientUrl, ...urls().filter((_, i) => i !== followerIndex)]
    const connected = new EtcdClient({ endpoints: order, callTimeoutMs: 5_000 })
    let fresh: EtcdClient | undefined
    try {
      await connected.kv.put('f/k', 'before')
      expect(connected.transport.currentEndpoint).toBe(order[0])
      const watcher = await connected.watch('f/', { prefix: true })
      const watched: string[] = []
      watcher.on('events', (batch) => watched.push(...batch.events.map((e) => e.kv.value.toString())))
      const follower = etcd.members[followerIndex].process!
      const exited = new Promise((resolve) => follower.once('exit', resolve))
      etcd.kill(followerIndex)
      await exited
      // A read is safe to repeat, so it fails over even when its connection drops under it.
      expect((await connected.kv.get('f/k'))?.toString()).toBe('before')
      expect(connected.transport.currentEndpoint).not.toBe(order[0])
      // A write fails over only when it surely never left: here the first endpoint refuses the connection.
      fresh = new EtcdClient({ endpoints: order, callTimeoutMs: 5_000 })
      const put = await fresh.kv.put('f/k', 'after')
      expect(put.header.revision).toBeGreaterThan(0)
      expect(fresh.transport.currentEndpoint).not.toBe(order[0])
      expect((await connected.kv.get('f/k'))?.toString()).toBe('after')
      await fresh.kv.put('f/k', 'later')
      // The watch moved to a live member and resumed where it was: each change exactly once, in order.
      const deadline = Date.now() + 15_000
      while (watched.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
      expect(watched).toEqual(['after', 'later'])
      await watcher.cancel()
      const pinned = await fresh.maintenance.status({ endpoint: order[0], timeoutMs: 2_000 }).catch((e: unknown) => e)
      expect(pinned).toBeInstanceOf(GrpcError)
      expect(pinned).toMatchObject({ code: 'UNAVAILABLE' })
    } finally {
      connected.close()
      fresh?.close()
      await etcd.restart(followerIndex)
    }
  })
})
