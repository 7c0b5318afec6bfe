import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseDocument } from 'yaml'
import { launchPrometheus, type PrometheusProcess } from '../../core/metrics/prometheus'
import { freePort } from '../support/ports'
import { tempDir } from '../support/temp-dir'

const SHIPPED_RULES = join(__dirname, '../../build/monitoring/quorum-rules.yml')

/** An alert as Prometheus' /api/v1/alerts reports it. */
export interface PrometheusAlert {
  labels: Record<string, string>
  state: 'pending' | 'firing'
}

/** A real Prometheus (Debian `prometheus` 2.42) started by a test on a free port with temp storage. */
export interface RunningPrometheus extends PrometheusProcess {
  alerts(): Promise<PrometheusAlert[]>
  /** Instant query; returns the sample values by `instance` label. */
  query(promql: string): Promise<Map<string, number>>
}

/**
 * A test copy of the shipped rules with shorter `for:` durations (by alert name), so an alert can go pending
 * and fire within seconds. Everything else, including the expressions, stays as shipped.
 */
export function rulesWithShortFor(forByAlert: Record<string, string>): string {
  const rules = parseDocument(readFileSync(SHIPPED_RULES, 'utf8')).toJS() as {
    groups: { rules: { alert?: string; for?: string }[] }[]
  }
  for (const group of rules.groups) {
    for (const rule of group.rules) {
      if (rule.alert !== undefined && forByAlert[rule.alert] !== undefined) rule.for = forByAlert[rule.alert]
    }
  }
  return JSON.stringify(rules) // JSON is YAML
}

/**
 * Starts Prometheus through the production launcher, scraping `targets` every second under job `quorum-etcd`
 * and evaluating `rulesYaml` every second, in a temp dir removed by `stop()`.
 */
export async function startPrometheus(targets: string[], rulesYaml: string): Promise<RunningPrometheus> {
  const dir = tempDir('quorum-prometheus-')
  const launched = await launchPrometheus({
    targets,
    dir: dir.path,
    listenAddress: `127.0.0.1:${await freePort()}`,
    scrapeIntervalSeconds: 1,
    evaluationIntervalSeconds: 1,
    rulesYaml,
  }).catch((error: unknown) => {
    dir.remove()
    throw error
  })
  return {
    ...launched,
    stop: async () => {
      await launched.stop()
      dir.remove()
    },
    ...prometheusApi(launched.url),
  }
}

/** Queries of the HTTP API of the Prometheus at `url` that the tests use. */
export function prometheusApi(url: string): Pick<RunningPrometheus, 'alerts' | 'query'> & { get<T>(path: string): Promise<T> } {
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`)
    const body = (await response.json()) as { status: string; data: T; error?: string }
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error}`)
    return body.data
  }
  return {
    get,
    alerts: async () => (await get<{ alerts: PrometheusAlert[] }>('/api/v1/alerts')).alerts,
    query: async (promql) => {
      const data = await get<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent(promql)}`,
      )
      return new Map(data.result.map(({ metric, value }) => [metric.instance ?? '', Number(value[1])]))
    },
  }
}
