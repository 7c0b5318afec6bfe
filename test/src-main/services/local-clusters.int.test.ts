import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAlive } from '../../../core/cluster/process'
import type { LocalClusterInfo, Result } from '../../../src-main/api/admin-api'
import { openAppServices, type AppServices } from '../../../src-main/services/app-services'
import { tempDir } from '../../support/temp-dir'

// Local clusters through the admin contract, on real `quorum node` processes of the bundled CLI (run
// `npm run build` first, as `npm test` does): create, kill the leader, add a learner and promote it, delete.

const ROOT = join(import.meta.dirname, '..', '..', '..')

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
  return result.value
}

describe('local clusters service (real Quorum members)', () => {
  let data: ReturnType<typeof tempDir>
  let services: AppServices
  let cluster: LocalClusterInfo | null = null
  const changes: LocalClusterInfo[][] = []

  beforeAll(() => {
    data = tempDir('quorum-local-clusters-')
    services = openAppServices({
      dataDir: data.path,
      mode: 'web',
      version: 'test',
      quorumCommand: { command: process.execPath, args: [join(ROOT, 'build', 'bin', 'quorum.mjs'), 'node'] },
    })
    services.admin.onLocalClustersChanged((clusters) => changes.push(clusters))
  })
  afterAll(async () => {
    if (cluster && existsSync(join(data.path, 'clusters', cluster.name))) await services.admin.deleteLocalCluster(cluster.name)
    await services?.close()
    data?.remove()
  })

  const leaderOf = async (name: string) => (value(await services.admin.listLocalClusters()).find((c) => c.name === name)?.leader ?? '')

  it('creates a 3-member cluster with a connection profile, persisted under <dataDir>/clusters', async () => {
    cluster = value(await services.admin.createLocalCluster({ name: 'svc', size: 3, tls: false }))
    expect(cluster.members.map((m) => m.name)).toEqual(['member1', 'member2', 'member3'])
    expect(cluster.members.every((m) => m.healthy && m.pid > 0)).toBe(true)
    expect(cluster.members.filter((m) => m.state === 'leader')).toHaveLength(1)
    expect(existsSync(join(data.path, 'clusters', 'svc', 'cluster.json'))).toBe(true)
    const profile = value(await services.admin.listConnections()).find((p) => p.id === cluster!.connectionId)
    expect(profile?.endpoints).toEqual(cluster.members.map((m) => m.clientUrl))
    expect(changes.at(-1)?.map((c) => c.name)).toEqual(['svc'])
    // The same name twice is refused, and so is a name that is not a directory name.
    expect(await services.admin.createLocalCluster({ name: 'svc', size: 1, tls: false })).toMatchObject({ ok: false, error: { code: 'invalid_argument' } })
  }, 60_000)

  it('killing the leader makes another member leader; restarting it brings it back as a follower', async () => {
    const oldLeader = cluster!.leader
    const afterKill = value(await services.admin.localMemberAction('svc', oldLeader, 'kill'))
    expect(afterKill.members.find((m) => m.name === oldLeader)).toMatchObject({ state: 'stopped', pid: 0, healthy: false })
    await expect.poll(() => leaderOf('svc'), { timeout: 15_000, interval: 300 }).not.toMatch(new RegExp(`^(${oldLeader})?$`))
    const restarted = value(await services.admin.localMemberAction('svc', oldLeader, 'restart'))
    expect(restarted.members.find((m) => m.name === oldLeader)?.healthy).toBe(true)
    // Moving leadership back to it works through the same call.
    value(await services.admin.localMemberAction('svc', oldLeader, 'moveLeader'))
    await expect.poll(() => leaderOf('svc'), { timeout: 15_000, interval: 300 }).toBe(oldLeader)
  }, 60_000)

  it('adds a learner, promotes it to a voter and keeps the connection endpoints in step', async () => {
    const added = value(await services.admin.addLocalMember('svc', true))
    expect(added.members.find((m) => m.name === 'member4')).toMatchObject({ state: 'learner', healthy: true })
    const promoted = value(await services.admin.localMemberAction('svc', 'member4', 'promote'))
    expect(promoted.members.find((m) => m.name === 'member4')?.state).toMatch(/^(follower|leader)$/)
    const profile = value(await services.admin.listConnections()).find((p) => p.id === promoted.connectionId)
    expect(profile?.endpoints).toHaveLength(4)
    const removed = value(await services.admin.localMemberAction('svc', 'member4', 'remove'))
    expect(removed.members.map((m) => m.name)).toEqual(['member1', 'member2', 'member3'])
  }, 90_000)

  it('delete stops every member process, removes the directory and the connection profile', async () => {
    const pids = value(await services.admin.listLocalClusters())[0].members.map((m) => m.pid)
    expect(pids.every((pid) => pid > 0 && isAlive(pid))).toBe(true)
    value(await services.admin.deleteLocalCluster('svc'))
    expect(pids.some((pid) => isAlive(pid))).toBe(false)
    expect(existsSync(join(data.path, 'clusters', 'svc'))).toBe(false)
    expect(value(await services.admin.listConnections())).toEqual([])
    expect(value(await services.admin.listLocalClusters())).toEqual([])
    expect(await services.admin.localMemberAction('svc', 'member1', 'kill')).toMatchObject({ ok: false, error: { code: 'not_found' } })
  }, 60_000)
})
