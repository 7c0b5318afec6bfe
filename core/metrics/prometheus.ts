import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stringify as stringifyYaml } from 'yaml'
import { assert } from '../util/assert'
import { SHIPPED_RULES_YAML } from './shipped-rules'

/** How to run a real Prometheus (Debian `prometheus` 2.x) for a local cluster (`quorum cluster up --prometheus`). */
export interface PrometheusOptions {
  /** `host:port` of every member's metrics endpoint (`--listen-metrics-urls` or a client URL). */
  targets: string[]
  /** Working directory: config, rules, targets file and the TSDB go here (created if missing). */
  dir: string
  /** `--web.listen-address`, e.g. `127.0.0.1:9090`. */
  listenAddress: string
  /** Scrape job, one per cluster; must contain "etcd" for the shipped rules (default `quorum-etcd`). */
  jobName?: string
  /** Value of a `cluster` target label (default: none). */
  clusterName?: string
  /** Default 15 s. */
  scrapeIntervalSeconds?: number
  /** Default 15 s. */
  evaluationIntervalSeconds?: number
  /** Rules file text; default build/monitoring/quorum-rules.yml. */
  rulesYaml?: string
  /** Executable; default `prometheus` from PATH. */
  binary?: string
  /** How long to wait for `/-/ready`; default 30 s. */
  readyTimeoutMs?: number
  /**
   * Outlive the caller (`quorum cluster up` exits while Prometheus keeps scraping): own process group, output
   * appended to `logFile`, not waited for. Stop it later by its `pid` (SIGTERM). Default false.
   */
  detached?: boolean
  /** Where a detached Prometheus writes its log (default `dir`/prometheus.log). */
  logFile?: string
}

/** Prometheus did not start or did not become ready. */
export class PrometheusStartError extends Error {
  override name = 'PrometheusStartError'
  readonly code = 'PROMETHEUS_START'
}

/** A running Prometheus launched by `launchPrometheus`. */
export interface PrometheusProcess {
  /** Base URL of its web UI and HTTP API. */
  url: string
  /** Process id (what `quorum cluster down` signals for a detached Prometheus). */
  pid: number
  /** Replaces the scraped members (file service discovery; Prometheus notices within a second, no restart). */
  setTargets(targets: string[]): void
  /** SIGTERM and wait for exit; the TSDB stays in `dir`. Only for a Prometheus this process did not detach. */
  stop(): Promise<void>
}

const CONFIG_FILE = 'prometheus.yml'
const RULES_FILE = 'quorum-rules.yml'
const TARGETS_FILE = 'targets.json'

/**
 * The prometheus.yml text for `options`: the shipped rules, one job reading its members from a file_sd targets
 * file next to it (same layout as build/monitoring/prometheus-local.yml). Paths are relative to `dir`.
 */
export function prometheusConfig(options: PrometheusOptions): string {
  const job = options.jobName ?? 'quorum-etcd'
  assert(job.includes('etcd'), `job ${job} must contain "etcd": the shipped rules select job=~".*etcd.*"`)
  const scrape = options.scrapeIntervalSeconds ?? 15
  return stringifyYaml({
    global: {
      scrape_interval: `${scrape}s`,
      scrape_timeout: `${Math.min(scrape, 10)}s`,
      evaluation_interval: `${options.evaluationIntervalSeconds ?? 15}s`,
    },
    rule_files: [RULES_FILE],
    scrape_configs: [{ job_name: job, file_sd_configs: [{ files: [TARGETS_FILE], refresh_interval: '30s' }] }],
  })
}

function targetsJson(targets: string[], clusterName: string | undefined): string {
  return JSON.stringify([{ targets, labels: clusterName === undefined ? {} : { cluster: clusterName } }])
}

// Prometheus may read the targets file while it is being written: write a sibling and rename over it.
function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text)
  renameSync(`${path}.tmp`, path)
}

/** Writes prometheus.yml, the rules file and the targets file into `options.dir`; returns the config's path. */
export function writePrometheusFiles(options: PrometheusOptions): string {
  mkdirSync(options.dir, { recursive: true })
  writeFileSync(join(options.dir, RULES_FILE), options.rulesYaml ?? SHIPPED_RULES_YAML)
  writeAtomically(join(options.dir, TARGETS_FILE), targetsJson(options.targets, options.clusterName))
  const configPath = join(options.dir, CONFIG_FILE)
  writeFileSync(configPath, prometheusConfig(options))
  return configPath
}

/**
 * Writes the files (see `writePrometheusFiles`), starts Prometheus and resolves once `/-/ready` answers
 * 200. Fails with `PrometheusStartError` (after killing the process) when it exits or is not ready in time.
 */
export async function launchPrometheus(options: PrometheusOptions): Promise<PrometheusProcess> {
  const configPath = writePrometheusFiles(options)
  const args = [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${join(options.dir, 'data')}`,
    `--web.listen-address=${options.listenAddress}`,
    '--log.level=warn',
  ]
  const logFile = options.logFile ?? join(options.dir, 'prometheus.log')
  const logFd = options.detached ? openSync(logFile, 'a', 0o600) : null
  let child: ChildProcess
  try {
    child = spawn(options.binary ?? 'prometheus', args, {
      detached: options.detached ?? false,
      stdio: logFd === null ? ['ignore', 'ignore', 'pipe'] : ['ignore', logFd, logFd],
    })
  } finally {
    if (logFd !== null) closeSync(logFd)
  }
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000)
  })
  let spawnError: Error | null = null
  child.once('error', (error) => {
    spawnError = error
  })
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null || spawnError !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  const url = `http://${options.listenAddress}`
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000)
  for (;;) {
    if (await isReady(url)) break
    if (spawnError !== null || child.exitCode !== null || Date.now() > deadline) {
      await stop()
      const reason = spawnError === null ? `exit code ${child.exitCode}` : String(spawnError)
      const detail = logFd === null ? log.trim() : `see ${logFile}`
      throw new PrometheusStartError(`prometheus at ${url} not ready (${reason}): ${detail}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  if (options.detached) child.unref()
  assert(child.pid !== undefined, 'a ready prometheus has a pid')
  return {
    url,
    pid: child.pid,
    setTargets: (targets) => writePrometheusTargets(options.dir, targets, options.clusterName),
    stop,
  }
}

/** Rewrites the scraped members of a Prometheus set up in `dir` (file service discovery; no restart). */
export function writePrometheusTargets(dir: string, targets: string[], clusterName?: string): void {
  writeAtomically(join(dir, TARGETS_FILE), targetsJson(targets, clusterName))
}

async function isReady(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/-/ready`)).status === 200
  } catch {
    return false // not listening yet
  }
}
