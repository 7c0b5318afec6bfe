import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseDocument } from 'yaml'
import { freePort } from '../support/ports'
import { tempDir } from '../support/temp-dir'

const SHIPPED_RULES = join(__dirname, '../../build/monitoring/quorum-rules.yml')

/** An alert as Prometheus' /api/v1/alerts reports it. */
export interface PrometheusAlert {
  labels: Record<string, string>
  state: 'pending' | 'firing'
}

/** A real Prometheus (Debian `prometheus` 2.42) started by a test on a free port with temp storage. */
export interface RunningPrometheus {
  url: string
  alerts(): Promise<PrometheusAlert[]>
  /** Instant query; returns the sample values by `instance` label. */
  query(promql: string): Promise<Map<string, number>>
  stop(): Promise<void>
}

/**
 * Writes a test copy of the shipped rules with shorter `for:` durations (by alert name), so an alert can go
 * pending and fire within seconds. Everything else, including the expressions, stays as shipped.
 */
export function rulesWithShortFor(forByAlert: Record<string, string>): string {
  const document = parseDocument(readFileSync(SHIPPED_RULES, 'utf8'))
  const groups = document.toJS() as { groups: { rules: { alert?: string; for?: string }[] }[] }
  for (const group of groups.groups) {
    for (const rule of group.rules) {
      if (rule.alert !== undefined && forByAlert[rule.alert] !== undefined) rule.for = forByAlert[rule.alert]
    }
  }
  return JSON.stringify(groups) // JSON is YAML
}

/** Starts Prometheus scraping `targets` every second under job `quorum-etcd`, evaluating `rulesYaml` every second. */
export async function startPrometheus(targets: string[], rulesYaml: string): Promise<RunningPrometheus> {
  const dir = tempDir('quorum-prometheus-')
  const port = await freePort()
  writeFileSync(join(dir.path, 'rules.yml'), rulesYaml)
  writeFileSync(
    join(dir.path, 'prometheus.yml'),
    JSON.stringify({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: ['rules.yml'],
      scrape_configs: [{ job_name: 'quorum-etcd', static_configs: [{ targets }] }],
    }),
  )
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir.path, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir.path, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000)
  })
  const url = `http://127.0.0.1:${port}`
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`)
    const body = (await response.json()) as { status: string; data: T; error?: string }
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`)
    return body.data
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
    }
    dir.remove()
  }
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).status === 200) break
    } catch {
      // not listening yet: retry below
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`prometheus did not become ready: ${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    stop,
    alerts: async () => (await api<{ alerts: PrometheusAlert[] }>('/api/v1/alerts')).alerts,
    query: async (promql) => {
      const data = await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent(promql)}`,
      )
      return new Map(data.result.map(({ metric, value }) => [metric.instance ?? '', Number(value[1])]))
    },
  }
}
