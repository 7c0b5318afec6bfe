import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signal, waitForExit } from '../../../core/cluster/process'
import { buildRemoteRestorePlan, RestoreScriptError } from '../../../core/snapshot/restore-script'
import { saveSnapshot } from '../../../core/snapshot/save'
import { etcdctl, startEtcd, type EtcdCluster } from '../../support/etcd'
import { freePorts } from '../../support/ports'
import { tempDir } from '../../support/temp-dir'

// Acceptance (issue 13): the generated remote-restore script, run against three real etcd 3.4 members on
// 127.0.0.1 with a snapshot that Quorum's own `snapshot save` took from a real etcd, brings up a restored
// etcd cluster holding every key.

describe('remote restore script (real etcd 3.4)', () => {
  let source: EtcdCluster
  let work: ReturnType<typeof tempDir>
  const pidFiles: string[] = []

  beforeAll(async () => {
    work = tempDir('quorum-restore-script-')
    source = await startEtcd({ size: 1 })
  })

  afterAll(async () => {
    for (const file of pidFiles) {
      if (!existsSync(file)) continue
      const pid = Number(readFileSync(file, 'utf8').trim())
      if (pid > 0 && signal(pid, 'SIGKILL')) await waitForExit(pid, 5000)
    }
    await source?.stop()
    work?.remove()
  })

  it('restores a Quorum-saved snapshot of real etcd into a new 3-member etcd cluster with every key present', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `app/config/${String(i).padStart(2, '0')}`)
    for (const key of keys) expect(etcdctl(source.endpoints, ['put', key, `value of ${key}`]).status).toBe(0)
    expect(etcdctl(source.endpoints, ['put', 'quote\'s key', 'it\'s "quoted"']).status).toBe(0)
    const snapshotPath = join(work.path, 'snap shot.db') // a space: the script must quote paths
    const saved = await saveSnapshot(snapshotPath, { endpoint: source.members[0].clientUrl })
    expect(saved.format).toBe('etcd-bbolt')

    const ports = await freePorts(6)
    const members = ['r1', 'r2', 'r3'].map((name, i) => ({
      name,
      peerUrl: `http://127.0.0.1:${ports[i * 2]}`,
      clientUrl: `http://127.0.0.1:${ports[i * 2 + 1]}`,
      dataDir: join(work.path, `${name}.etcd`),
    }))
    pidFiles.push(...members.map((member) => `${member.dataDir}.pid`))
    const plan = buildRemoteRestorePlan({ snapshotPath, members, clusterToken: `restored-${ports[0]}`, tool: 'etcdctl' })
    expect(plan.initialCluster).toBe(members.map((m) => `${m.name}=${m.peerUrl}`).join(','))
    const scriptPath = join(work.path, 'restore.sh')
    writeFileSync(scriptPath, plan.script, { mode: 0o700 })

    const run = spawnSync('bash', [scriptPath], { encoding: 'utf8', timeout: 60_000 })
    expect(run.status, run.stderr).toBe(0)

    const endpoints = members.map((m) => m.clientUrl).join(',')
    await expect
      .poll(() => etcdctl(endpoints, ['endpoint', 'health']).stderr.match(/is healthy/g)?.length ?? 0, { timeout: 30_000, interval: 500 })
      .toBe(3)
    const list = etcdctl(endpoints, ['member', 'list']).stdout
    for (const member of members) expect(list).toContain(`${member.name}, ${member.peerUrl}, ${member.clientUrl}`)
    const got = etcdctl(endpoints, ['get', '', '--prefix', '--keys-only']).stdout.split('\n').filter(Boolean).sort()
    expect(got).toEqual([...keys, 'quote\'s key'].sort())
    expect(etcdctl(members[2].clientUrl, ['get', 'quote\'s key', '--print-value-only', '--consistency=s']).stdout.trim()).toBe('it\'s "quoted"')
    // The restored cluster is new: it accepts writes, and its id differs from the source's.
    expect(etcdctl(endpoints, ['put', 'after/restore', 'yes']).status).toBe(0)
    const clusterId = (eps: string) => (JSON.parse(etcdctl(eps, ['endpoint', 'status', '-w', 'json']).stdout) as { Status: { header: { cluster_id: number } } }[])[0].Status.header.cluster_id
    expect(clusterId(members[0].clientUrl)).not.toBe(clusterId(source.endpoints))
  }, 120_000)

  it('refuses inputs etcd would reject: shared peer URL, bump-revision with etcdctl 3.4, missing data dir', () => {
    const member = (name: string, port: number, dataDir = `/var/lib/${name}`) => ({ name, peerUrl: `http://10.0.0.1:${port}`, clientUrl: `http://10.0.0.1:${port + 1}`, dataDir })
    const base = { snapshotPath: '/tmp/s.db', clusterToken: 'new-token', tool: 'etcdctl' as const }
    expect(() => buildRemoteRestorePlan({ ...base, members: [member('a', 2380), member('b', 2380)] })).toThrow(/share the peer URL/)
    expect(() => buildRemoteRestorePlan({ ...base, members: [member('a', 2380)], bumpRevision: 1000 })).toThrow(RestoreScriptError)
    expect(() => buildRemoteRestorePlan({ ...base, members: [member('a', 2380, ' ')] })).toThrow(/--data-dir is required/)
    const k8s = buildRemoteRestorePlan({ ...base, tool: 'etcdutl', members: [member('a', 2380)], bumpRevision: 1_000_000_000 })
    expect(k8s.members[0].restoreCommand).toBe(
      'etcdutl snapshot restore /tmp/s.db --name a --initial-cluster a=http://10.0.0.1:2380 --initial-cluster-token new-token ' +
        '--initial-advertise-peer-urls http://10.0.0.1:2380 --data-dir /var/lib/a --bump-revision 1000000000 --mark-compacted',
    )
  })
})
