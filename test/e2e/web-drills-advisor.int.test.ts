import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../../core/cluster/launcher'
import { tempDir } from '../support/temp-dir'
import { openBrowserPage, ROOT, startUi, stopUi, type RunningUi } from './web-ui'

// End to end in web mode (headless Debian Chromium, real Quorum members, no root): create a plain 3-member
// local cluster from the UI, enable network drills, partition the leader from the Drills page and see the
// leader change, who can write and the quorum explanation; heal; then the Advisor page lists the findings of
// this deliberately weak cluster (no TLS, no backups). Screenshots go to test-artifacts/e2e/; any browser
// console error fails the test.

const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e')

describe('web mode end to end: failure drills and the advisor (Chromium, real Quorum members)', () => {
  let ui: RunningUi
  let browser: Browser
  let page: Page
  let data: ReturnType<typeof tempDir>
  const consoleErrors: string[] = []
  let attempt = 0

  const shot = async (name: string, height = 1100) => {
    await page.setViewportSize({ width: 1440, height })
    await page.waitForTimeout(300)
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
    await page.setViewportSize({ width: 1440, height: 900 })
  }

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'out', 'main', 'cli.js')) && existsSync(join(ROOT, 'out', 'renderer', 'index.html')), 'run `npm run build` first').toBe(true)
    mkdirSync(ARTIFACTS, { recursive: true })
    data = tempDir('quorum-e2e-drills-')
    let opened: { browser: Browser; page: Page }
    ;[ui, opened] = await Promise.all([startUi(join(data.path, 'app'), ['--no-playground']), openBrowserPage(consoleErrors)])
    ;({ browser, page } = opened)
  })

  afterAll(async () => {
    await browser?.close()
    await stopUi(ui)
    // Members and the link proxy process are detached: stop whatever the UI left running (a retried test
    // leaves a second cluster).
    const clusters = join(data.path, 'app', 'clusters')
    for (const name of existsSync(clusters) ? readdirSync(clusters) : []) {
      if (existsSync(join(clusters, name, 'cluster.json'))) await LocalCluster.open(join(clusters, name)).down()
    }
    data?.remove()
  })

  it('partitions the leader from the Drills page: a new leader on the majority side, the old one cannot write, the quorum maths explained; heal', async () => {
    await page.goto(ui.url)
    await page.getByTestId('nav-local').click()
    await page.getByTestId('local-create').click()
    // A retry (vitest retries once) creates a cluster of its own name.
    await page.getByTestId('local-form-name').locator('input').fill(`weak${++attempt}`)
    await page.getByTestId('local-form-submit').click()
    await expect.poll(() => page.locator('[data-testid=local-member-row][data-healthy=true]').count(), { timeout: 90_000 }).toBe(3)

    await page.getByTestId('nav-drills').click()
    await page.getByTestId('drills-enable').click({ timeout: 30_000 })
    await expect.poll(() => page.getByTestId('drill-run').count(), { timeout: 90_000 }).toBe(1)
    await expect.poll(() => page.getByTestId('drill-faults-none').count(), { timeout: 10_000 }).toBe(1)
    await shot('30-drills-ready')

    await page.getByTestId('drill-kind-partition').click()
    await page.getByTestId('drill-run').click()
    const change = page.getByTestId('drill-leader-change')
    await expect.poll(() => change.innerText().catch(() => ''), { timeout: 45_000 }).toMatch(/^Leader changed: member[1-3] → member[1-3]$/)
    const [, before, after] = /Leader changed: (member\d) → (member\d)/.exec(await change.innerText())!
    expect(after).not.toBe(before)
    const explanation = await page.getByTestId('drill-explanation').innerText()
    expect(explanation).toContain(`${before} is cut off: 1 of 3 < 2, so it cannot elect a leader or commit writes`)
    expect(explanation).toContain('2 of 3 ≥ quorum 2, so quorum is held on their side')
    expect(await page.getByTestId('drill-quorum-maths').innerText()).toBe('3 voters, quorum 2: a write commits once 2 members have it.')
    expect(await page.getByTestId(`drill-write-${before}`).innerText()).toBe('no')
    expect(await page.getByTestId(`drill-write-${after}`).innerText()).toMatch(/^yes \(\d+ ms\)$/)
    expect(await page.getByTestId('drill-faults').locator('tr').count()).toBe(4)
    await shot('31-drills-leader-partitioned')

    await page.getByTestId('drill-kind-heal').click()
    await page.getByTestId('drill-run').click()
    await expect
      .poll(() => page.getByTestId('drill-explanation').innerText().catch(() => ''), { timeout: 45_000 })
      .toBe('All 3 members can talk: 3 of 3 ≥ quorum 2, so the cluster elects a leader and accepts writes.')
    // Each cell with its probe's error (the cell's title), so a failure says why a member could not write.
    const writes = () => page.locator('[data-testid^=drill-write-]').evaluateAll((cells) => cells.map((cell) => `${cell.textContent?.trim()} ${cell.getAttribute('title') ?? ''}`.trim()))
    await expect.poll(writes, { timeout: 10_000 }).toEqual([
      expect.stringMatching(/^yes/),
      expect.stringMatching(/^yes/),
      expect.stringMatching(/^yes/),
    ])
    await shot('32-drills-healed')
    expect(consoleErrors).toEqual([])
  }, 300_000)

  it('the Advisor page lists the findings of the weak cluster (no TLS, no backup) with their fixes and a score', async () => {
    await page.getByTestId('nav-advisor').first().click()
    const row = (id: string) => page.locator(`[data-testid=advisor-finding][data-finding-id=${id}]`)
    await expect.poll(() => row('client-tls').getAttribute('data-severity').catch(() => null), { timeout: 30_000 }).toBe('critical')
    expect(await row('client-tls').getByTestId('advisor-finding-title').innerText()).toBe('Client traffic (keys, values, passwords) is unencrypted on 3 of 3 URL(s)')
    expect(await row('client-tls').getByTestId('advisor-finding-fix').innerText()).toBe(
      'Fix: Turn on client TLS: --cert-file, --key-file, --trusted-ca-file and --client-cert-auth.',
    )
    expect(await row('peer-tls').getAttribute('data-severity')).toBe('critical')
    expect(await row('backup-recent').getByTestId('advisor-finding-title').innerText()).toBe('No backup recorded')
    expect(await row('backup-recent').getByTestId('advisor-finding-fix').innerText()).toBe('Fix: Schedule snapshots (at least daily) and keep them off the cluster machines.')
    expect(await row('auth').getAttribute('data-severity')).toBe('warning')
    // Passing checks are hidden until asked for.
    expect(await row('member-count').count()).toBe(0)
    const score = Number(/Score (\d+)\/100/.exec(await page.getByTestId('advisor-score').innerText())?.[1])
    expect(score).toBeLessThanOrEqual(100 - 3 * 20)
    await shot('33-advisor-weak-cluster', 1300)
    await page.getByTestId('advisor-show-ok').click()
    expect(await row('member-count').getByTestId('advisor-finding-title').innerText()).toBe('3 members: tolerates 1 failure(s)')

    // The overview shows the score and the top findings, linking to the Advisor page.
    await page.getByTestId('nav-cluster').first().click()
    await expect.poll(() => page.getByTestId('advisor-summary-score').innerText().catch(() => ''), { timeout: 20_000 }).toBe(`Score ${score}/100`)
    expect(await page.getByTestId('advisor-summary-finding').count()).toBe(3)
    expect(await page.getByTestId('advisor-summary-finding').first().innerText()).toMatch(/^critical/)
    await shot('34-overview-advisor-summary', 1300)
    await page.getByTestId('advisor-summary-open').click()
    await expect.poll(() => page.url()).toMatch(/#\/clusters\/[\w-]+\/advisor$/)
    expect(consoleErrors).toEqual([])
  }, 60_000)
})
