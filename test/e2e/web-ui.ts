import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'

/** The repository root and the built `quorum` CLI the e2e tests run. */
export const ROOT = join(import.meta.dirname, '..', '..')
export const CLI = join(ROOT, 'build', 'bin', 'quorum.mjs')

/** A running `quorum ui` (web mode) and the URL it printed. */
export interface RunningUi {
  child: ChildProcess
  url: string
  /** Everything it printed so far. */
  output: () => string
}

/** Starts `quorum ui --port 0 --data-dir DIR ...extraArgs` and resolves with the URL it prints. */
export function startUi(dataDir: string, extraArgs: string[] = [], timeoutMs = 20_000): Promise<RunningUi> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'ui', '--port', '0', '--data-dir', dataDir, ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const timer = setTimeout(() => reject(new Error(`quorum ui printed no URL: ${output}`)), timeoutMs)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const url = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(output)?.[0]
      if (url) {
        clearTimeout(timer)
        resolve({ child, url, output: () => output })
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`quorum ui exited with ${code}: ${output}`)))
  })
}

/** Stops a `quorum ui` with SIGTERM and waits for it to exit. */
export async function stopUi(ui: RunningUi | undefined): Promise<void> {
  if (!ui || ui.child.exitCode !== null) return
  const exited = new Promise((resolve) => ui.child.once('exit', resolve))
  ui.child.kill('SIGTERM')
  await exited
}

/**
 * Headless Debian Chromium as the e2e tests run it, with one page whose console errors and page errors are
 * appended to `errors` (tests fail on any). Close the browser in afterAll.
 */
export async function openBrowserPage(errors: string[]): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text())
  })
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
  return { browser, page }
}
