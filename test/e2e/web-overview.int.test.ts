import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'
import { freePort } from '../support/ports'
import { tempDir } from '../support/temp-dir'
import { ROOT, startUi, stopUi, type RunningUi } from './web-ui'

// End to end in web mode: the built `quorum ui` serves the built renderer; headless Debian Chromium drives
// it against a real etcd 3.4 three-member cluster. Screenshots go to test-artifacts/e2e/ (gitignored); any
// browser console error fails the test.

const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e')

describe('web mode end to end (Chromium, real etcd 3.4)', () => {
  let cluster: EtcdCluster
  let ui: RunningUi
  let browser: Browser
  let page: Page
  let data: ReturnType<typeof tempDir>
  const consoleErrors: string[] = []
  let writer: NodeJS.Timeout | null = null

  // The app scrolls inside its layout, so a tall viewport shows a whole page in one screenshot.
  const shot = async (name: string, height = 900) => {
    await page.setViewportSize({ width: 1440, height })
    // Charts resize on the next frame (ResizeObserver); let them redraw before the picture.
    await page.waitForTimeout(400)
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
    await page.setViewportSize({ width: 1440, height: 900 })
  }

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'out', 'main', 'cli.js')) && existsSync(join(ROOT, 'out', 'renderer', 'index.html')), 'run `npm run build` first').toBe(true)
    mkdirSync(ARTIFACTS, { recursive: true })
    data = tempDir('quorum-e2e-')
    ;[cluster, ui, browser] = await Promise.all([
      startEtcd({ size: 3 }),
      startUi(join(data.path, 'app'), ['--no-playground']),
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
    // A steady trickle of writes so the proposal and gRPC graphs have something to show.
    let n = 0
    writer = setInterval(() => etcdctl(cluster.endpoints, ['put', `e2e/${n++ % 50}`, `v${n}`]), 400)
  })

  afterAll(async () => {
    if (writer) clearInterval(writer)
    await browser?.close()
    await stopUi(ui)
    await cluster?.stop()
    data?.remove()
  })

  it('adds a connection by URL, shows 3 members and filling graphs, and follows a leader change', async () => {
    await page.goto(ui.url)
    await expect.poll(() => page.url()).not.toContain('token=')
    await page.getByTestId('add-connection').first().click()
    await page.getByTestId('connection-name').locator('input').fill('etcd 3.4 playground')
    // A wrong port first: the form explains the failure in plain words before anything is saved.
    await page.getByTestId('connection-endpoints').locator('textarea').fill(`http://127.0.0.1:${await freePort()}`)
    await page.getByTestId('connection-test').click()
    await expect.poll(() => page.getByTestId('connection-test-report').getAttribute('data-problem'), { timeout: 15_000 }).toBe('refused')
    expect(await page.getByTestId('connection-test-report').innerText()).toContain('Connection refused')
    await shot('00-connection-refused-explained')
    await page.getByTestId('connection-endpoints').locator('textarea').fill(cluster.members.map((member) => member.clientUrl).join('\n'))
    await page.getByTestId('connection-test').click()
    await expect.poll(() => page.getByTestId('connection-test-report').getAttribute('data-problem'), { timeout: 15_000 }).toBe('ok')
    await expect.poll(() => page.getByTestId('connection-test-report').innerText()).toContain('3 member(s)')
    await shot('01-connection-form-tested')
    await page.getByTestId('connection-save').click()
    await page.getByTestId('connection-row').first().waitFor()
    await shot('02-connections')

    await page.getByTestId('connection-open').first().click()
    const rows = page.getByTestId('member-row')
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(3)
    await expect.poll(() => page.locator('[data-testid=member-row][data-role=leader]').count(), { timeout: 20_000 }).toBe(1)
    await expect.poll(() => page.locator('[data-testid=member-row][data-healthy=true]').count()).toBe(3)
    expect(await page.getByTestId('card-tolerance').innerText()).toContain('can lose 1 of 3')
    // Graphs fill: every chart draws a line (rates need three samples, 2 s apart).
    await expect.poll(() => page.locator('[data-chart-ready=true]').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(6)
    await shot('03-overview', 1560)

    const leaderName = await page.locator('[data-testid=member-row][data-role=leader]').getAttribute('data-member')
    const leaderIndex = cluster.members.findIndex((member) => member.name === leaderName)
    expect(leaderIndex).toBeGreaterThanOrEqual(0)
    cluster.kill(leaderIndex)

    await expect
      .poll(async () => page.locator('[data-testid=member-row][data-role=leader]').getAttribute('data-member').catch(() => null), { timeout: 30_000 })
      .not.toMatch(new RegExp(`^(${leaderName}|null)$`))
    await expect.poll(() => page.locator(`[data-testid=member-row][data-member=${leaderName}]`).getAttribute('data-healthy'), { timeout: 20_000 }).toBe('false')
    await expect.poll(() => page.getByTestId('cluster-status').getAttribute('data-status')).toBe('degraded')
    expect(await page.getByTestId('card-tolerance').innerText()).toContain('can lose 0 of 3')
    await shot('04-overview-after-leader-killed', 1560)

    await page.getByTestId('theme-switch').getByText('Dark').click()
    await page.waitForTimeout(300)
    await shot('05-overview-dark', 1560)
    await page.keyboard.press('Alt+1')
    await page.getByTestId('connection-row').first().waitFor()

    expect(consoleErrors).toEqual([])
  }, 120_000)
})
