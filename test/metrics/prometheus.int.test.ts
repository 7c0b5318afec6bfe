import { fork, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExposerCommand, ExposerStats } from './fixtures/exposer'
import { dashboardExpressions, until } from './support'
import { rulesWithShortFor, startPrometheus, type PrometheusAlert, type RunningPrometheus } from './prometheus-support'


// A stand-in member in its own process exposes our registry in a simulated no-leader state; a real Prometheus
// scrapes it every second and evaluates the shipped rules (etcdNoLeader's `for` shortened from 1m to 3s).
describe('real Prometheus 2.42 scraping the registry', () => {
  let exposer: ChildProcess
  let port = 0
  let prometheus: RunningPrometheus | undefined
  const messages: { kind: string }[] = []
  let idle: { before: ExposerStats; after: ExposerStats }

  const request = async <T extends { kind: string }>(command: ExposerCommand, reply: string): Promise<T> => {
    const from = messages.length
    exposer.send(command)
    return until(reply, async () => messages.slice(from).find((message) => message.kind === reply) as T | undefined, 10_000)
  }
  const stats = () => request<ExposerStats>({ kind: 'stats' }, 'stats')

  beforeAll(async () => {
    exposer = fork(join(__dirname, 'fixtures/exposer.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    exposer.on('message', (message: { kind: string }) => messages.push(message))
    const ready = await until('exposer', async () => messages.find((m) => m.kind === 'ready') as { port: number } | undefined)
    port = ready.port
    // CPU of the idle exposer, the baseline the scrape cost is measured against.
    await new Promise((resolve) => setTimeout(resolve, 500))
    const before = await stats()
    await new Promise((resolve) => setTimeout(resolve, 3000))
    idle = { before, after: await stats() }
    // Start with no member and add it through file service discovery, as `quorum cluster` will when members change.
    prometheus = await startPrometheus([], rulesWithShortFor({ etcdNoLeader: '3s' }))
    prometheus.setTargets([`127.0.0.1:${port}`])
  })
  afterAll(async () => {
    await prometheus?.stop()
    if (exposer && exposer.exitCode === null) {
      await new Promise<void>((resolve) => {
        exposer.once('exit', () => resolve())
        exposer.kill('SIGTERM')
      })
    }
  })

  it('etcdNoLeader goes pending then firing, and resolves once a leader is back; leader changes increase', async () => {
    const server = prometheus as RunningPrometheus
    const scrapingFrom = await until('first scrape', async () => {
      const current = await stats()
      return current.scrapes > 0 ? current : undefined
    })
    const noLeaderState = async () =>
      (await server.alerts()).find((alert: PrometheusAlert) => alert.labels.alertname === 'etcdNoLeader')?.state
    const seen: string[] = []
    await until('etcdNoLeader firing', async () => {
      const state = await noLeaderState()
      if (state !== undefined && seen.at(-1) !== state) seen.push(state)
      return state === 'firing' ? true : undefined
    })
    expect(seen).toEqual(['pending', 'firing'])
    const firing = (await server.alerts()).find((alert) => alert.labels.alertname === 'etcdNoLeader')
    expect(firing?.labels).toMatchObject({ job: 'quorum-etcd', instance: `127.0.0.1:${port}`, severity: 'critical' })

    const changesBefore = (await server.query('etcd_server_leader_changes_seen_total')).get(`127.0.0.1:${port}`)
    expect(changesBefore).toBe(1)
    await request({ kind: 'leader', lead: '0xfd422379fda50e48' }, 'leader-set')
    await until('leader changes increased in Prometheus', async () =>
      (await server.query('etcd_server_leader_changes_seen_total')).get(`127.0.0.1:${port}`) === 2 ? true : undefined,
    )
    await until('etcdNoLeader resolved', async () => ((await noLeaderState()) === undefined ? true : undefined))

    // Scrape cost: keep scraping for at least 10 s, then compare the exposer's CPU rate with its idle rate.
    const elapsed = performance.now() - scrapingFrom.atMs
    if (elapsed < 10_000) await new Promise((resolve) => setTimeout(resolve, 10_000 - elapsed))
    const scrapingTo = await stats()
    const rate = (from: ExposerStats, to: ExposerStats) => (to.cpuMicros - from.cpuMicros) / 1000 / (to.atMs - from.atMs)
    const idleRate = rate(idle.before, idle.after)
    const scrapingRate = rate(scrapingFrom, scrapingTo)
    const scrapes = scrapingTo.scrapes - scrapingFrom.scrapes
    const perScrapeMs = ((scrapingRate - idleRate) * (scrapingTo.atMs - scrapingFrom.atMs)) / scrapes
    console.log(
      `scrape cost at 1 scrape/s: ${((scrapingRate - idleRate) * 100).toFixed(2)}% of one core ` +
        `(process ${(scrapingRate * 100).toFixed(2)}% while scraped vs ${(idleRate * 100).toFixed(2)}% idle), ` +
        `${perScrapeMs.toFixed(2)} ms CPU per scrape, ${scrapes} scrapes, ${scrapingTo.scrapeBytes} bytes each`,
    )
    // Prometheus really scraped during the window (the exact count depends on machine load, so the bound is loose).
    expect(scrapes).toBeGreaterThanOrEqual(3)
  })

  it('every dashboard query runs on Prometheus 2.42 and returns data from the registry', async () => {
    const server = prometheus as RunningPrometheus
    const empty: string[] = []
    for (const expr of dashboardExpressions()) {
      const promql = expr.replaceAll('$job', '.*etcd.*').replaceAll('$__rate_interval', '1m')
      if ((await server.query(promql)).size === 0) empty.push(promql)
    }
    expect(empty).toEqual([])
  })
})
