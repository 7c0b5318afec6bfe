// Issue 8 acceptance: `quorum cluster up --prometheus` starts a real Prometheus 2.42 that scrapes a 3-member
// Quorum cluster every second with the shipped rules; a leader kill shows up in Prometheus' API as more leader
// changes and etcdMembersDown pending then firing; a restart resolves it; `down` stops Prometheus too.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClusterManifest } from '../../core/cluster/manifest'
import { isAlive, signal } from '../../core/cluster/process'
import { shippedAlertRules } from '../../core/metrics/shipped-rules'
import { tempDir } from '../support/temp-dir'
import { prometheusApi, rulesWithShortFor, type PrometheusAlert } from './prometheus-support'
import { promtoolCheckMetrics, until } from './support'

/** Runs the built CLI without blocking the event loop (Prometheus is polled meanwhile). */
function quorum(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['build/bin/quorum.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

interface UpJson {
  members: { name: string; clientURL: string; metricsURL: string; pid: number }[]
  prometheus: { url: string; pid: number }
}

describe('quorum cluster up --prometheus: real Prometheus 2.42 scraping a 3-member Quorum cluster', () => {
  const dir = tempDir('quorum-prometheus-cluster-')
  const clusterDir = join(dir.path, 'c')
  let up: UpJson
  let api: ReturnType<typeof prometheusApi>
  const manifest = () => JSON.parse(readFileSync(join(clusterDir, 'cluster.json'), 'utf8')) as ClusterManifest
  const hostOf = (url: string) => new URL(url).host

  beforeAll(async () => {
    const result = await quorum('cluster', 'up', '--dir', clusterDir, '--size', '3', '--prometheus', '--json')
    expect(result.status, result.stderr).toBe(0)
    up = JSON.parse(result.stdout) as UpJson
    api = prometheusApi(up.prometheus.url)
    // The shipped etcdMembersDown waits 10m before firing; the test copy waits 2s (expressions unchanged),
    // loaded the way an operator would: edit the rules file, SIGHUP Prometheus.
    writeFileSync(join(manifest().prometheus!.dir, 'quorum-rules.yml'), rulesWithShortFor({ etcdMembersDown: '2s' }))
    signal(up.prometheus.pid, 'SIGHUP')
    await until('the reloaded rules', async () => {
      const { groups } = await api.get<{ groups: { rules: { name: string; duration: number }[] }[] }>('/api/v1/rules')
      return groups.flatMap((group) => group.rules).some((rule) => rule.name === 'etcdMembersDown' && rule.duration === 2) ? true : undefined
    })
  }, 90_000)

  afterAll(async () => {
    await quorum('cluster', 'down', '--dir', clusterDir)
    for (const pid of [up?.prometheus.pid ?? 0, ...(up?.members.map((m) => m.pid) ?? [])]) if (isAlive(pid)) signal(pid, 'SIGKILL')
    dir.remove()
  })

  it('records Prometheus in the manifest and status; it scrapes every member each second with the shipped rules', async () => {
    expect(manifest().prometheus).toMatchObject({ url: up.prometheus.url, pid: up.prometheus.pid, scrapeIntervalSeconds: 1 })
    const activeTargets = await until('3 targets discovered', async () => {
      const { activeTargets: targets } = await api.get<{ activeTargets: { labels: Record<string, string>; scrapeInterval: string }[] }>('/api/v1/targets')
      return targets.length === 3 ? targets : undefined
    })
    expect(activeTargets.map((target) => target.labels.instance).sort()).toEqual(up.members.map((m) => hostOf(m.metricsURL)).sort())
    expect(activeTargets.every((target) => target.scrapeInterval === '1s' && target.labels.job === 'quorum-etcd' && target.labels.cluster === 'c')).toBe(true)
    const { groups } = await api.get<{ groups: { rules: unknown[] }[] }>('/api/v1/rules')
    expect(groups.flatMap((group) => group.rules)).toHaveLength(shippedAlertRules().length)

    const status = await quorum('cluster', 'status', '--dir', clusterDir, '-w', 'json')
    expect(JSON.parse(status.stdout).prometheus).toEqual({ url: up.prometheus.url, pid: up.prometheus.pid, running: true })
    expect((await quorum('cluster', 'status', '--dir', clusterDir)).stdout).toContain(`prometheus: ${up.prometheus.url} (running, pid ${up.prometheus.pid})`)
  })

  it('promtool check metrics parses what a Quorum member serves on its client URL and its --listen-metrics-urls', async () => {
    for (const url of [up.members[0].clientURL, up.members[0].metricsURL]) {
      const text = await (await fetch(`${url}/metrics`)).text()
      expect(text).toContain('# TYPE etcd_server_leader_changes_seen_total counter')
      const lint = promtoolCheckMetrics(text)
      expect(lint.status, lint.problems.join('\n')).not.toBe(1) // 1 = parse error; 3 = etcd's own naming lints
    }
  })

  it('a leader kill raises leader changes and etcdMembersDown goes pending then firing; a restart resolves it', async () => {
    // A retry finds the member that a failed attempt killed still stopped: start it again first.
    for (const member of manifest().members) {
      if (member.removed || isAlive(member.pid)) continue
      const restarted = await quorum('cluster', 'start', '--dir', clusterDir, '--member', member.name)
      expect(restarted.status, restarted.stderr).toBe(0)
    }
    const leader = await until('one leader and 3 targets up in Prometheus', async () => {
      const isLeader = await api.query('etcd_server_is_leader == 1')
      const upCount = await api.query('up == 1')
      return isLeader.size === 1 && upCount.size === 3 ? [...isLeader.keys()][0] : undefined
    })
    const leaderName = up.members.find((m) => hostOf(m.metricsURL) === leader)!.name
    const survivors = up.members.filter((m) => m.name !== leaderName).map((m) => hostOf(m.metricsURL))
    const before = await api.query('etcd_server_leader_changes_seen_total')
    // The alert's states are recorded from the kill on, while the leader changes are awaited: it is pending for
    // only 2 s, which a loaded machine can spend before the survivors' counters are scraped.
    const seen: string[] = []
    const membersDown = async () => (await api.alerts()).find((alert: PrometheusAlert) => alert.labels.alertname === 'etcdMembersDown')
    const firing = until('etcdMembersDown firing', async () => {
      const alert = await membersDown()
      if (alert !== undefined && seen.at(-1) !== alert.state) seen.push(alert.state)
      return alert?.state === 'firing' ? alert : undefined
    }, 90_000)
    firing.catch(() => undefined) // awaited below; a failure before that must not count as unhandled
    const killed = await quorum('cluster', 'kill', '--dir', clusterDir, '--member', leaderName)
    expect(killed.status, killed.stderr).toBe(0)

    await until('leader changes increased on the survivors', async () => {
      const now = await api.query('etcd_server_leader_changes_seen_total')
      return survivors.every((host) => (now.get(host) ?? 0) > (before.get(host) ?? 0)) ? true : undefined
    }, 60_000)
    const fired = await firing
    expect(seen).toEqual(['pending', 'firing'])
    expect(fired.labels).toMatchObject({ job: 'quorum-etcd', severity: 'critical', cluster: 'c' })

    const started = await quorum('cluster', 'start', '--dir', clusterDir, '--member', leaderName)
    expect(started.status, started.stderr).toBe(0)
    await until('etcdMembersDown resolved', async () => ((await membersDown()) === undefined ? true : undefined), 180_000)
  }, 300_000)

  it('down stops Prometheus with the members and status reports it stopped', async () => {
    const down = await quorum('cluster', 'down', '--dir', clusterDir)
    expect(down.status, down.stderr).toBe(0)
    expect(isAlive(up.prometheus.pid)).toBe(false)
    expect(manifest().prometheus?.pid).toBe(0)
    const status = await quorum('cluster', 'status', '--dir', clusterDir)
    expect(status.stdout).toContain(`prometheus: ${up.prometheus.url} (STOPPED)`)
  })
})
