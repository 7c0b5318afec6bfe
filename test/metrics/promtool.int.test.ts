import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LocalCluster } from '../../core/cluster/launcher'
import { prometheusConfig, writePrometheusFiles } from '../../core/metrics/prometheus'
import { shippedAlertRules } from '../../core/metrics/shipped-rules'
import { tempDir } from '../support/temp-dir'
import {
  ETCD_NAMES_FLAGGED_BY_LINT,
  LAZY_ETCD_NAMES_FLAGGED_BY_LINT,
  PROM_CLIENT_NAMES_FLAGGED_BY_LINT,
  populatedMetrics,
  promtoolCheckMetrics,
} from './support'

const MONITORING = join(__dirname, '../../build/monitoring')

function promtool(...args: string[]) {
  const result = spawnSync('promtool', args, { cwd: MONITORING, encoding: 'utf8', timeout: 60_000 })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

describe('shipped monitoring files pass promtool 2.42', () => {
  it('promtool check rules: the rules file is valid and holds what the app evaluates', () => {
    const { status, output } = promtool('check', 'rules', 'quorum-rules.yml')
    expect(status, output).toBe(0)
    expect(output).toContain(`SUCCESS: ${shippedAlertRules().length} rules found`)
  })

  it('promtool check config: the local scrape config and its rule file are valid', () => {
    const { status, output } = promtool('check', 'config', 'prometheus-local.yml')
    expect(status, output).toBe(0)
    expect(output).toContain('SUCCESS: 1 rule files found')
  })

  it('promtool check config: the config `quorum cluster up --prometheus` writes is valid, shipped rules included', () => {
    const dir = tempDir('quorum-prometheus-config-')
    try {
      const options = { targets: ['127.0.0.1:12381', '127.0.0.1:22381'], dir: dir.path, listenAddress: '127.0.0.1:9090', clusterName: 'local' }
      const configPath = writePrometheusFiles(options)
      const result = spawnSync('promtool', ['check', 'config', configPath], { encoding: 'utf8', timeout: 60_000 })
      const output = `${result.stdout}${result.stderr}`
      expect(result.status, output).toBe(0)
      expect(output).toContain(`SUCCESS: ${shippedAlertRules().length} rules found`)
      expect(() => prometheusConfig({ ...options, jobName: 'quorum' })).toThrow(/must contain "etcd"/)
    } finally {
      dir.remove()
    }
  })

  it('promtool test rules: no leader, insufficient members, members down, leader changes, quota, growth', () => {
    const { status, output } = promtool('test', 'rules', 'quorum-rules.test.yml')
    expect(status, output).toBe(0)
    expect(output).toContain('SUCCESS')
  })

  it('promtool check metrics: the exposition parses, and lints only names etcd itself uses', async () => {
    const lint = promtoolCheckMetrics(await populatedMetrics('extensive').metrics())
    expect(lint.status, lint.problems.join('\n')).not.toBe(1) // 1 = parse error
    const accepted = new Set([...ETCD_NAMES_FLAGGED_BY_LINT, ...LAZY_ETCD_NAMES_FLAGGED_BY_LINT, ...PROM_CLIENT_NAMES_FLAGGED_BY_LINT])
    expect(lint.problems.filter((line) => !accepted.has(line.split(' ')[0]))).toEqual([])
    // Every etcd naming quirk is really there (the test would not notice a renamed family otherwise).
    for (const name of ETCD_NAMES_FLAGGED_BY_LINT) expect(lint.flaggedNames.has(name), name).toBe(true)
  })

  it('promtool check metrics: a live Quorum member with --metrics extensive, on its client URL and --listen-metrics-urls', async () => {
    const dir = tempDir('quorum-promtool-member-')
    const cluster = await LocalCluster.up({
      dir: join(dir.path, 'c'),
      size: 1,
      extraArgs: ['--metrics', 'extensive'],
      quorumCommand: { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] },
      healthTimeoutMs: 60_000,
    })
    try {
      const [member] = cluster.activeMembers()
      await fetch(`${member.clientURL}/health`) // a linearizable read: one served Range for the histograms
      const accepted = new Set([...ETCD_NAMES_FLAGGED_BY_LINT, ...LAZY_ETCD_NAMES_FLAGGED_BY_LINT, ...PROM_CLIENT_NAMES_FLAGGED_BY_LINT])
      for (const url of [member.clientURL, member.metricsURL]) {
        const text = await (await fetch(`${url}/metrics`)).text()
        expect(text, url).toContain('# TYPE grpc_server_handling_seconds histogram') // extensive only
        const lint = promtoolCheckMetrics(text)
        expect(lint.status, lint.problems.join('\n')).not.toBe(1) // 1 = parse error
        expect(lint.problems.filter((line) => !accepted.has(line.split(' ')[0])), url).toEqual([])
      }
    } finally {
      await cluster.down()
      dir.remove()
    }
  }, 90_000)
})
