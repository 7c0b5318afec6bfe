import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../../../core/cluster/launcher'
import { etcdctl } from '../../support/etcd'
import { etcdctlTls } from '../../support/etcd-tls'
import { tempDir } from '../../support/temp-dir'
import { openBrowserPage, ROOT, startUi, stopUi, type RunningUi } from '../web-ui'

// End to end in web mode (Chromium): the TLS wizard converts the playground (3 Quorum members) to TLS; the
// app shows the cluster healthy over https and real `etcdctl --cacert --cert --key` reads every key while a
// plaintext etcdctl is refused. A screenshot per step goes to test-artifacts/e2e/wizards/; any browser
// console error fails the test.

const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e', 'wizards')

describe('web mode end to end: TLS wizard (Chromium, real Quorum members, real etcdctl)', () => {
  let ui: RunningUi
  let browser: Browser
  let page: Page
  let data: ReturnType<typeof tempDir>
  const consoleErrors: string[] = []
  const clustersDir = () => join(data.path, 'app', 'clusters')

  const shot = async (name: string) => {
    await page.waitForTimeout(300)
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
  }

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'out', 'main', 'cli.js')) && existsSync(join(ROOT, 'out', 'renderer', 'index.html')), 'run `npm run build` first').toBe(true)
    mkdirSync(ARTIFACTS, { recursive: true })
    data = tempDir('quorum-e2e-tls-')
    ;[ui, { browser, page }] = await Promise.all([startUi(join(data.path, 'app'), [], 90_000), openBrowserPage(consoleErrors)])
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await stopUi(ui)
    for (const name of existsSync(clustersDir()) ? readdirSync(clustersDir()) : []) {
      if (existsSync(join(clustersDir(), name, 'cluster.json'))) await LocalCluster.open(join(clustersDir(), name)).down()
    }
    data?.remove()
  })

  it('converts the playground to TLS with every key kept; the app and etcdctl --cacert --cert --key connect, plaintext is refused', async () => {
    const plain = LocalCluster.open(join(clustersDir(), 'playground'))
    const plainEndpoints = plain.endpoints()
    const keys = Array.from({ length: 20 }, (_, i) => `tls/key-${String(i).padStart(2, '0')}`)
    for (const key of keys) expect(etcdctl(plainEndpoints, ['put', key, `value ${key}`]).status).toBe(0)

    await page.goto(ui.url)
    await expect.poll(() => page.url()).toContain('#/clusters/')
    await page.getByTestId('nav-tls').click()
    await page.getByTestId('tls-plan').waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('tls-plan').innerText()).toContain('new cluster id')
    await shot('tls-01-plan')
    await page.getByTestId('tls-convert').click()
    await page.getByTestId('tls-progress').waitFor()
    await shot('tls-02-progress')
    await page.getByTestId('tls-done').waitFor({ timeout: 120_000 })
    expect(await page.getByTestId('wizard-error').allInnerTexts()).toEqual([])
    const rows = page.locator('[data-testid=tls-progress] tr')
    expect(await rows.evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-step')}:${tr.getAttribute('data-state')}`))).toEqual(
      ['check', 'certificates', 'snapshot', 'stop', 'restore', 'start', 'profile', 'verify'].map((step) => `${step}:done`),
    )
    expect(await page.getByTestId('tls-done').innerText()).toContain(`${keys.length} keys`)
    expect(await page.getByTestId('tls-certificates').innerText()).toContain('IP:127.0.0.1')
    await shot('tls-03-result')

    const converted = LocalCluster.open(join(clustersDir(), 'playground'))
    const tls = converted.manifest.tls
    expect(tls).not.toBeNull()
    const got = await etcdctlTls(converted.endpoints(), { caFile: tls!.caFile, client: { certFile: tls!.clientCertFile, keyFile: tls!.clientKeyFile } }, ['get', 'tls/', '--prefix', '--keys-only'])
    expect(got.status, got.stderr).toBe(0)
    expect(got.stdout.split('\n').filter(Boolean)).toEqual(keys)
    expect(etcdctl(plainEndpoints, ['--command-timeout=2s', '--dial-timeout=1s', 'get', keys[0]]).status).not.toBe(0)

    await page.getByTestId('tls-open-cluster').click()
    await expect.poll(() => page.getByTestId('cluster-status').getAttribute('data-status'), { timeout: 30_000 }).toBe('healthy')
    await shot('tls-04-overview-over-tls')
    expect(consoleErrors).toEqual([])
  }, 240_000)
})
