import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../../core/cluster/launcher'
import { etcdctl } from '../support/etcd'
import { tempDir } from '../support/temp-dir'
import { ROOT, startUi, stopUi, type RunningUi } from './web-ui'

// End to end in web mode on local clusters: `quorum ui --no-playground --alert-for-scale 0.01` (so a rule's
// `for: 10m` lasts 6 s), headless Debian Chromium creates a 3-member Quorum cluster from the UI, kills its
// leader from the UI, sees the leader change and the members-down alert fire, restarts the member and sees
// the alert resolve. Screenshots go to test-artifacts/e2e/; any browser console error fails the test.

const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e')

describe('web mode end to end: local clusters and alerts (Chromium, real Quorum members)', () => {
  let ui: RunningUi
  let browser: Browser
  let page: Page
  let data: ReturnType<typeof tempDir>
  const consoleErrors: string[] = []
  let writer: NodeJS.Timeout | null = null

  const shot = async (name: string, height = 900) => {
    await page.setViewportSize({ width: 1440, height })
    await page.waitForTimeout(400)
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
    await page.setViewportSize({ width: 1440, height: 900 })
  }
  const memberRow = (name: string) => page.locator(`[data-testid=local-member-row][data-member=${name}]`)

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'out', 'main', 'cli.js')) && existsSync(join(ROOT, 'out', 'renderer', 'index.html')), 'run `npm run build` first').toBe(true)
    mkdirSync(ARTIFACTS, { recursive: true })
    data = tempDir('quorum-e2e-local-')
    ;[ui, browser] = await Promise.all([
      startUi(join(data.path, 'app'), ['--no-playground', '--alert-for-scale', '0.01']),
      chromium.launch({
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      }),
    ])
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`))
  })

  afterAll(async () => {
    if (writer) clearInterval(writer)
    await browser?.close()
    await stopUi(ui)
    // Members are detached processes: stop whatever the UI left running.
    const dir = join(data.path, 'app', 'clusters', 'demo')
    if (existsSync(join(dir, 'cluster.json'))) await LocalCluster.open(dir).down()
    data?.remove()
  })

  it('creates a local 3-member cluster, kills its leader, sees the leader change and an alert fire, then resolve after a restart', async () => {
    await page.goto(ui.url)
    await expect.poll(() => page.url()).toContain('#/connections')
    await page.getByTestId('nav-local').click()
    await page.getByTestId('local-create').click()
    await page.getByTestId('local-form-name').locator('input').fill('demo')
    await shot('10-local-create-dialog')
    await page.getByTestId('local-form-submit').click()
    await expect.poll(() => page.getByTestId('local-member-row').count(), { timeout: 60_000 }).toBe(3)
    await expect.poll(() => page.locator('[data-testid=local-member-row][data-healthy=true]').count(), { timeout: 20_000 }).toBe(3)
    await expect.poll(() => page.locator('[data-testid=local-member-row][data-state=leader]').count(), { timeout: 20_000 }).toBe(1)
    // The new cluster also appears as a connection in the sidebar.
    await expect.poll(() => page.getByTestId('nav-cluster').allInnerTexts()).toEqual(['local: demo'])
    await shot('11-local-clusters')

    const endpoints = (await page.locator('[data-testid=local-member-row] td:nth-child(5)').allInnerTexts()).map((text) => text.trim())
    let n = 0
    writer = setInterval(() => etcdctl(endpoints.join(','), ['put', `e2e/${n++ % 50}`, `v${n}`]), 500)

    await page.getByTestId('local-cluster-open').click()
    await expect.poll(() => page.getByTestId('member-row').count(), { timeout: 20_000 }).toBe(3)
    await expect.poll(() => page.locator('[data-chart-ready=true]').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(6)
    expect(await page.getByTestId('alert-banner').count()).toBe(0)
    await shot('12-local-overview', 1560)

    await page.getByTestId('nav-local').click()
    const leader = await page.locator('[data-testid=local-member-row][data-state=leader]').getAttribute('data-member')
    expect(leader).toMatch(/^member[1-3]$/)
    await memberRow(leader!).getByTestId('member-action-kill').click()
    await expect.poll(() => memberRow(leader!).getAttribute('data-state'), { timeout: 15_000 }).toBe('stopped')
    // Another member wins the election (the page follows onLocalClustersChanged and its own refresh).
    await expect
      .poll(async () => page.getByTestId('local-cluster').getAttribute('data-leader'), { timeout: 20_000 })
      .toMatch(new RegExp(`^(?!${leader}$)member[1-3]$`))
    await shot('13-local-leader-killed')

    await page.getByTestId('nav-cluster').first().click()
    await expect
      .poll(async () => page.locator('[data-testid=member-row][data-role=leader]').getAttribute('data-member').catch(() => null), { timeout: 20_000 })
      .toMatch(new RegExp(`^(?!${leader}$)member[1-3]$`))
    // etcdMembersDown (for: 10m, scaled to 6 s) shows pending, then firing.
    const banner = page.locator('[data-testid=alert-banner][data-alert=etcdMembersDown]')
    await expect.poll(() => banner.getAttribute('data-state').catch(() => null), { timeout: 20_000 }).toBe('firing')
    expect(await banner.innerText()).toContain('"local: demo": members are down (1)')
    await shot('14-overview-alert-firing', 1560)

    await page.getByTestId('nav-local').click()
    await memberRow(leader!).getByTestId('member-action-start').click()
    await expect.poll(() => memberRow(leader!).getAttribute('data-healthy'), { timeout: 30_000 }).toBe('true')

    await page.getByTestId('nav-cluster').first().click()
    await expect.poll(() => page.getByTestId('alert-banner').count(), { timeout: 20_000 }).toBe(0)
    await page.getByTestId('alert-history').click()
    await expect
      .poll(() => page.locator('[data-testid=alert-history-row][data-alert=etcdMembersDown]').first().getAttribute('data-state'), { timeout: 10_000 })
      .toBe('resolved')
    await shot('15-overview-alert-resolved', 1560)

    expect(consoleErrors).toEqual([])
    if (writer) clearInterval(writer)
    writer = null
  }, 140_000)

  it('on first start creates the 3-member playground and opens its overview', async () => {
    const dataDir = join(data.path, 'first-start')
    const first = await startUi(dataDir, [], 60_000)
    try {
      await page.goto(first.url)
      await expect.poll(() => page.url(), { timeout: 10_000 }).toMatch(/#\/clusters\/[\w-]+$/)
      await expect.poll(() => page.getByTestId('member-row').count(), { timeout: 20_000 }).toBe(3)
      expect(await page.getByTestId('nav-cluster').allInnerTexts()).toEqual(['local: playground'])
      await shot('16-playground-overview')
    } finally {
      // Leave the page first: a server going away under it would log connection errors.
      await page.goto('about:blank')
      await stopUi(first)
    }
    await LocalCluster.open(join(dataDir, 'clusters', 'playground')).down()
    expect(consoleErrors).toEqual([])
  }, 120_000)
})
