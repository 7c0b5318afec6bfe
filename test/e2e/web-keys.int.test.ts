import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'
import { tempDir } from '../support/temp-dir'
import { ROOT, startUi, stopUi, type RunningUi } from './web-ui'

// The Keys page end to end in web mode against a real etcd 3.4 member: browse, edit JSON with validation,
// resolve a conflict made by etcdctl, delete a prefix with typed confirmation, and a read-only connection.
// Screenshots go to test-artifacts/e2e/.

const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e')

describe('Keys page in web mode (Chromium, real etcd 3.4)', () => {
  let etcd: EtcdCluster
  let ui: RunningUi
  let browser: Browser
  let page: Page
  let data: ReturnType<typeof tempDir>
  const consoleErrors: string[] = []

  const saveConnection = (name: string, readOnly: boolean) =>
    page.evaluate(
      async ([name, endpoints, readOnly]) => {
        const response = await fetch('api/saveConnection', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify([{ name, endpoints: [endpoints], readOnly, username: '', tls: { caCert: '', clientCert: '', serverName: '' } }]),
        })
        const result = (await response.json()) as { ok: boolean; value: { id: string } }
        return result.value.id
      },
      [name, etcd.endpoints, readOnly] as const,
    )

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'out', 'renderer', 'index.html')), 'run `npm run build` first').toBe(true)
    mkdirSync(ARTIFACTS, { recursive: true })
    data = tempDir('quorum-e2e-keys-')
    ;[etcd, ui, browser] = await Promise.all([
      startEtcd({ size: 1 }),
      startUi(join(data.path, 'app'), ['--no-playground']),
      chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] }),
    ])
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } })
    page.on('pageerror', (error) => consoleErrors.push(`pageerror: ${error.message}`))
    for (let i = 0; i < 30; i++) etcdctl(etcd.endpoints, ['put', `app/svc${i % 3}/k${i}`, `v${i}`])
    etcdctl(etcd.endpoints, ['put', 'app/config', '{"replicas":1}'])
  })
  afterAll(async () => {
    await browser?.close()
    await stopUi(ui)
    await etcd?.stop()
    data?.remove()
  })

  it('browses, edits JSON with validation, resolves a conflict, deletes a prefix; read-only has no enabled write control', async () => {
    await page.goto(ui.url)
    await expect.poll(() => page.url()).not.toContain('token=')
    const id = await saveConnection('keys rw', false)
    await page.goto(`${new URL(ui.url).origin}/#/clusters/${id}/keys`)
    await page.getByTestId('keys-prefix').locator('input').fill('app/')
    await page.getByTestId('keys-refresh').click()
    await expect.poll(() => page.getByTestId('keys-entry').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining('app/config'), expect.stringContaining('app/svc0/')]))
    expect(await page.getByTestId('keys-entry').count()).toBe(4)
    await page.screenshot({ path: join(ARTIFACTS, 'keys-00-tree.png') })

    await page.getByTestId('keys-entry').filter({ hasText: 'app/config' }).click()
    await expect.poll(() => page.getByTestId('keys-editor').locator('textarea').inputValue()).toBe('{"replicas":1}')
    await page.getByTestId('keys-editor').locator('textarea').fill('{"replicas": 2,')
    await expect.poll(() => page.getByTestId('keys-validation').count()).toBe(1)
    expect(await page.getByTestId('keys-save').isDisabled()).toBe(true)
    await page.screenshot({ path: join(ARTIFACTS, 'keys-01-invalid-json.png') })
    await page.getByTestId('keys-editor').locator('textarea').fill('{"replicas": 2}')
    await page.getByTestId('keys-save').click()
    await expect.poll(() => etcdctl(etcd.endpoints, ['get', 'app/config', '--print-value-only']).stdout.trim()).toBe('{"replicas": 2}')

    // A second client changes the key; our next save conflicts and the dialog shows base, theirs and ours.
    expect(etcdctl(etcd.endpoints, ['put', 'app/config', '{"replicas":5}']).status).toBe(0)
    await page.getByTestId('keys-editor').locator('textarea').fill('{"replicas": 3}')
    await page.getByTestId('keys-save').click()
    await expect.poll(() => page.getByTestId('conflict-theirs').innerText()).toBe('{"replicas":5}')
    expect(await page.getByTestId('conflict-base').innerText()).toBe('{"replicas": 2}')
    expect(await page.getByTestId('conflict-mine').innerText()).toBe('{"replicas": 3}')
    await page.screenshot({ path: join(ARTIFACTS, 'keys-02-conflict.png') })
    await page.getByTestId('conflict-overwrite').click()
    await expect.poll(() => etcdctl(etcd.endpoints, ['get', 'app/config', '--print-value-only']).stdout.trim()).toBe('{"replicas": 3}')
    // History lists the versions; the diff of the two newest shows the removed and the added line.
    await expect.poll(() => page.getByTestId('keys-history').innerText()).toContain('{"replicas":5}')
    await expect.poll(() => page.getByTestId('keys-diff').locator('.removed').innerText()).toBe('{"replicas":5}')
    expect(await page.getByTestId('keys-diff').locator('.added').innerText()).toBe('{"replicas": 3}')
    await page.screenshot({ path: join(ARTIFACTS, 'keys-02b-history-diff.png') })

    // Delete a prefix: the dialog shows the count and wants the prefix typed.
    await page.getByTestId('keys-prefix').locator('input').fill('app/svc1/')
    await page.getByTestId('keys-refresh').click()
    await page.getByTestId('keys-delete-prefix').click()
    await expect.poll(() => page.getByTestId('keys-delete-dialog').innerText()).toContain('10 keys start with "app/svc1/"')
    expect(await page.getByTestId('keys-delete-confirm').isDisabled()).toBe(true)
    await page.getByTestId('keys-delete-typed').locator('input').fill('app/svc1/')
    await page.screenshot({ path: join(ARTIFACTS, 'keys-03-delete-prefix.png') })
    await page.getByTestId('keys-delete-confirm').click()
    await expect.poll(() => etcdctl(etcd.endpoints, ['get', 'app/svc1/', '--prefix', '--keys-only']).stdout.trim()).toBe('')

    // Read-only: every write control is disabled.
    const readOnlyId = await saveConnection('keys ro', true)
    await page.goto(`${new URL(ui.url).origin}/#/clusters/${readOnlyId}/keys`)
    await page.getByTestId('keys-prefix').locator('input').fill('app/')
    await page.getByTestId('keys-refresh').click()
    await page.getByTestId('keys-entry').filter({ hasText: 'app/config' }).click()
    await expect.poll(() => page.getByTestId('keys-editor').locator('textarea').inputValue()).toBe('{"replicas": 3}')
    expect(await page.getByTestId('keys-read-only').count()).toBe(1)
    expect(await page.getByTestId('keys-save').isDisabled()).toBe(true)
    expect(await page.getByTestId('keys-delete-prefix').isDisabled()).toBe(true)
    expect(await page.getByTestId('keys-editor').locator('textarea').getAttribute('readonly')).not.toBeNull()
    await page.screenshot({ path: join(ARTIFACTS, 'keys-04-read-only.png') })
    expect(consoleErrors).toEqual([])
  }, 60_000)
})
