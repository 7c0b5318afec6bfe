import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '../support/temp-dir'

// `quorum cluster` end to end through the real CLI bundle, with the etcd engine (the Quorum engine runs the
// same commands once members are Quorum processes).
function quorum(...args: string[]) {
  const result = spawnSync(process.execPath, ['build/bin/quorum.mjs', ...args], { encoding: 'utf8', timeout: 60_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('quorum cluster CLI', () => {
  const dir = tempDir('quorum-cli-cluster-')
  const clusterDir = join(dir.path, 'c')
  afterAll(() => {
    quorum('cluster', 'down', '--dir', clusterDir, '--remove')
    dir.remove()
  })

  it('up --json prints every member with id, URLs, pid and data dir, and returns while members run', () => {
    const result = quorum('cluster', 'up', '--dir', clusterDir, '--size', '3', '--engine', 'etcd', '--json')
    expect(result.status).toBe(0)
    const { members } = JSON.parse(result.stdout) as { members: Array<Record<string, unknown>> }
    expect(members).toHaveLength(3)
    for (const member of members) {
      expect(Object.keys(member).sort()).toEqual(['clientURL', 'dataDir', 'id', 'metricsURL', 'name', 'peerURL', 'pid'])
      expect(member.id).toMatch(/^[0-9a-f]{1,16}$/)
      expect(process.kill(member.pid as number, 0)).toBe(true)
    }
  })

  it('status reports one leader and quorum held, then quorum lost (exit 1) after two kills', () => {
    const healthy = quorum('cluster', 'status', '--dir', clusterDir, '-w', 'json')
    expect(healthy.status).toBe(0)
    const status = JSON.parse(healthy.stdout)
    expect(status.members.filter((m: { role: string }) => m.role === 'leader')).toHaveLength(1)
    expect(status).toMatchObject({ voters: 3, quorumSize: 2, hasQuorum: true, faultTolerance: 1 })

    expect(quorum('cluster', 'kill', '--dir', clusterDir, '--member', 'member1').status).toBe(0)
    expect(quorum('cluster', 'kill', '--dir', clusterDir, '--member', 'member2').status).toBe(0)
    const lost = quorum('cluster', 'status', '--dir', clusterDir)
    expect(lost.status).toBe(1)
    expect(lost.stdout).toContain('QUORUM LOST: 1 of 3 voters up, 2 needed')

    expect(quorum('cluster', 'start', '--dir', clusterDir, '--member', 'member1').status).toBe(0)
    expect(quorum('cluster', 'status', '--dir', clusterDir).stdout).toContain('quorum held: 2 of 3 voters up')
  })

  it('explains operations on unknown members and missing clusters in one line (exit 1)', () => {
    const unknown = quorum('cluster', 'kill', '--dir', clusterDir, '--member', 'member9')
    expect(unknown.status).toBe(1)
    expect(unknown.stderr.trim()).toBe('quorum cluster: no member named "member9" (members: member1, member2, member3)')
    const missing = quorum('cluster', 'status', '--dir', join(dir.path, 'nothing'))
    expect(missing.status).toBe(1)
    expect(missing.stderr).toContain('no cluster here (run `quorum cluster up` first)')
  })

  it('rejects bad sizes as usage errors (exit 2) and warns about even sizes', () => {
    expect(quorum('cluster', 'up', '--dir', join(dir.path, 'x'), '--size', '0').status).toBe(2)
    expect(quorum('cluster', 'up', '--dir', join(dir.path, 'x'), '--size', 'three').status).toBe(2)
    const even = quorum('cluster', 'up', '--dir', join(dir.path, 'even'), '--size', '2', '--engine', 'etcd')
    expect(even.stderr).toContain('warning: 2 members tolerate 0 failure(s)')
    expect(quorum('cluster', 'down', '--dir', join(dir.path, 'even'), '--remove').status).toBe(0)
    expect(existsSync(join(dir.path, 'even'))).toBe(false)
  })
})
