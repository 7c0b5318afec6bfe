import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startEtcd, type EtcdCluster } from '../support/etcd'
import { tempDir } from '../support/temp-dir'
import { ROOT, startUi, stopUi, type RunningUi } from './web-ui'

/** Where the key browser e2e tests save screenshots. */
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e')

/** A real etcd 3.4 member, `quorum ui` and a Chromium page signed in to it, collecting console errors. */
export interface KeysE2e {
  etcd: EtcdCluster
  ui: RunningUi
  browser: Browser
  page: Page
  /** Page errors and console errors so far; a test ends by expecting it empty. */
  consoleErrors: string[]
  /** Saves a connection profile to the etcd member through the web API; resolves with its id. */
  saveConnection(name: string, readOnly: boolean): Promise<string>
  /** Opens a page of the app by its hash route (`/clusters/ID/keys`). */
  open(route: string): Promise<void>
  stop(): Promise<void>
}

/** Starts etcd (with `etcdArgs`), `quorum ui` and Chromium in parallel and signs the page in. */
export async function startKeysE2e(name: string, etcdArgs: string[] = []): Promise<KeysE2e> {
  if (!existsSync(join(ROOT, 'out', 'renderer', 'index.html'))) throw new Error('run `npm run build` first')
  mkdirSync(ARTIFACTS, { recursive: true })
  const data = tempDir(`quorum-e2e-${name}-`)
  const [etcd, ui, browser] = await Promise.all([
    startEtcd({ size: 1, extraArgs: etcdArgs }),
    startUi(join(data.path, 'app'), ['--no-playground']),
    chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] }),
  ])
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  // An action that cannot happen fails on its own line, well inside the test's timeout.
  page.setDefaultTimeout(20_000)
  const consoleErrors: string[] = []
  page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`console: ${message.text()}`)
  })
  await page.goto(ui.url)
  await page.waitForURL((url) => !url.search.includes('token='))
  return {
    etcd,
    ui,
    browser,
    page,
    consoleErrors,
    saveConnection: (profileName, readOnly) =>
      page.evaluate(
        async ([profileName, endpoints, readOnly]) => {
          const response = await fetch('api/saveConnection', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify([{ name: profileName, endpoints: [endpoints], readOnly, username: '', tls: { caCert: '', clientCert: '', serverName: '' } }]),
          })
          return ((await response.json()) as { value: { id: string } }).value.id
        },
        [profileName, etcd.endpoints, readOnly] as const,
      ),
    open: async (route) => {
      await page.goto(`${new URL(ui.url).origin}/#${route}`)
    },
    stop: async () => {
      await browser.close()
      await stopUi(ui)
      await etcd.stop()
      data.remove()
    },
  }
}
