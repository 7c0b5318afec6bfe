import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../../../core/cluster/launcher'
import { etcdctl } from '../../support/etcd'
import { tempDir } from '../../support/temp-dir'
import { ROOT, startUi, stopUi, type RunningUi } from '../web-ui'

// End to end in web mode (Chromium) on local Quorum clusters: the snapshot wizard takes a snapshot of the
// playground cluster from a named member (progress, status, verify by test restore), the restore wizard
// restores it into a new local 3-member cluster and lists the same keys, then generates the remote-restore
// commands; wrong input shows a plain message and writes nothing. A screenshot per step goes to
// test-artifacts/e2e/wizards/; any browser console error fails the test.

const ARTIFACTS = join(ROOT, 'test-artifacts', 'e2e', 'wizards')

describe('web mode end to end: snapshot and restore wizards (Chromium, real Quorum members)', () => {
  let ui: RunningUi
  let browser: Browser
  let page: Page
  let data: ReturnType<typeof tempDir>
  const consoleErrors: string[] = []
  const clustersDir = () => join(data.path, 'app', 'clusters')
  /** The restored cluster's name; a retry of the first test takes a new one, its failed attempt kept 'restored'. */
  let restoredName = 'restored'

  const shot = async (name: string) => {
    await page.waitForTimeout(300)
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
  }

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'out', 'main', 'cli.js')) && existsSync(join(ROOT, 'out', 'renderer', 'index.html')), 'run `npm run build` first').toBe(true)
    mkdirSync(ARTIFACTS, { recursive: true })
    data = tempDir('quorum-e2e-wizards-')
    // The playground (3 members) is the source cluster; `quorum ui` prints its URL once it is up.
    ;[ui, browser] = await Promise.all([
      startUi(join(data.path, 'app'), [], 90_000),
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
  }, 120_000)

  afterAll(async () => {
    await browser?.close()
    await stopUi(ui)
    // Members are detached processes: stop whatever the UI left running.
    for (const name of existsSync(clustersDir()) ? readdirSync(clustersDir()) : []) {
      if (existsSync(join(clustersDir(), name, 'cluster.json'))) await LocalCluster.open(join(clustersDir(), name)).down()
    }
    data?.remove()
  })

  it('snapshot of a named member with progress and status, verified by a test restore, restored into a new 3-member cluster with the same keys', async () => {
    const source = LocalCluster.open(join(clustersDir(), 'playground'))
    const keys = Array.from({ length: 25 }, (_, i) => `wizard/key-${String(i).padStart(2, '0')}`)
    for (const key of keys) expect(etcdctl(source.endpoints(), ['put', key, `value ${key}`]).status).toBe(0)

    await page.goto(ui.url)
    await expect.poll(() => page.url()).toContain('#/clusters/')
    // the playground's entry comes first (a retry also lists the cluster the failed attempt restored)
    await page.getByTestId('nav-snapshot').first().click()
    await expect.poll(() => page.getByTestId('snapshot-member').count(), { timeout: 20_000 }).toBe(3)
    await page.locator('[data-testid=snapshot-member][data-member=member2]').click()
    await shot('01-snapshot-member')
    await page.getByTestId('wizard-next').click()
    await expect.poll(() => page.getByTestId('snapshot-path').locator('input').inputValue()).toMatch(/\.db$/)
    const suggested = await page.getByTestId('snapshot-path').locator('input').inputValue()
    expect(suggested.startsWith(join(data.path, 'app', 'snapshots'))).toBe(true)
    await shot('02-snapshot-destination')
    await page.getByTestId('snapshot-start').click()
    await page.getByTestId('snapshot-step-result').waitFor({ timeout: 30_000 })
    expect(await page.getByTestId('snapshot-saved').innerText()).toContain('from member2')
    expect(await page.getByTestId('snapshot-progress-text').innerText()).toMatch(/received · .+\/s/)
    expect(await page.locator('[data-testid=snapshot-status] [data-field=format]').innerText()).toBe('quorum-sqlite')
    expect(Number(await page.locator('[data-testid=snapshot-status] [data-field=liveKeys]').innerText())).toBe(keys.length)
    await shot('03-snapshot-status')
    await page.getByTestId('snapshot-verify').click()
    await page.getByTestId('snapshot-verify-result').waitFor({ timeout: 90_000 })
    expect(await page.getByTestId('snapshot-verify-result').innerText()).toMatch(/^Test restore passed/)
    await shot('04-snapshot-verified')

    await page.getByTestId('snapshot-restore-this').click()
    await page.getByTestId('snapshot-status').waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('restore-file').locator('input').inputValue()).toBe(suggested)
    await shot('05-restore-file-status')
    await page.getByTestId('wizard-next').click()
    for (let n = 2; existsSync(join(clustersDir(), restoredName)); n++) restoredName = `restored-${n}`
    await page.getByTestId('restore-local-name').locator('input').fill(restoredName)
    await shot('06-restore-target-local')
    await page.getByTestId('restore-local-start').click()
    await page.getByTestId('restore-local-done').waitFor({ timeout: 90_000 })
    // "done" shows as soon as the cluster runs; its keys are listed by a read that follows (the new cluster's
    // first linearizable read waits for its leader's first commit), so wait for the list, then for no error
    await expect
      .poll(async () => (await page.getByTestId('restore-local-key').allInnerTexts()).map((key) => key.trim()), { timeout: 20_000 })
      .toEqual(keys)
    expect(await page.getByTestId('wizard-error').allInnerTexts()).toEqual([])
    await shot('07-restore-local-keys')
    // A new cluster: three members of its own, a cluster id unlike the source's.
    const restored = LocalCluster.open(join(clustersDir(), restoredName))
    expect(restored.activeMembers().map((member) => member.name)).toEqual(['restored1', 'restored2', 'restored3'])
    const clusterId = (endpoint: string) => /"cluster_id":(\d+)/.exec(etcdctl(endpoint, ['endpoint', 'status', '-w', 'json']).stdout)?.[1]
    expect(clusterId(restored.activeMembers()[0].clientURL)).not.toBe(clusterId(source.activeMembers()[0].clientURL))
    expect(etcdctl(restored.endpoints(), ['get', keys[7], '--print-value-only']).stdout.trim()).toBe(`value ${keys[7]}`)
    expect(consoleErrors).toEqual([])
  }, 240_000)

  it('generates the remote restore commands, and refuses a wrong file or an existing target in plain words', async () => {
    const snapshot = readdirSync(join(data.path, 'app', 'snapshots')).find((name) => name.endsWith('.db'))
    expect(snapshot).toBeDefined()
    const file = join(data.path, 'app', 'snapshots', snapshot!)
    await page.getByTestId('nav-local').click()
    await page.getByTestId('nav-restore').click()
    await page.getByTestId('restore-file').locator('input').fill(file)
    await page.getByTestId('restore-read-status').click()
    await page.getByTestId('snapshot-status').waitFor()
    await page.getByTestId('wizard-next').click()
    await page.getByTestId('restore-target-remote').click()
    await shot('08-restore-target-remote')
    await page.getByTestId('restore-remote-generate').click()
    await page.getByTestId('restore-plan').waitFor()
    expect(await page.getByTestId('restore-plan-member').count()).toBe(3)
    const restoreCommand = await page.locator('[data-testid=restore-plan-member][data-member=etcd2] [data-field=restore]').innerText()
    expect(restoreCommand).toMatch(
      /^ETCDCTL_API=3 etcdctl snapshot restore \S+ --name etcd2 --initial-cluster etcd1=http:\/\/10\.0\.0\.1:2380,etcd2=http:\/\/10\.0\.0\.2:2380,etcd3=http:\/\/10\.0\.0\.3:2380 --initial-cluster-token restored-[0-9a-f]{12} --initial-advertise-peer-urls http:\/\/10\.0\.0\.2:2380 --data-dir \/var\/lib\/etcd-restored$/,
    )
    expect(await page.getByTestId('restore-plan-script').innerText()).toContain('#!/usr/bin/env bash')
    await shot('09-restore-remote-plan')

    // Wrong file: a plain message, nothing created.
    const notSnapshot = join(data.path, 'notes.txt')
    writeFileSync(notSnapshot, 'not a snapshot\n'.repeat(300))
    await page.getByTestId('nav-local').click()
    await page.getByTestId('nav-restore').click()
    await page.getByTestId('restore-file').locator('input').fill(notSnapshot)
    await page.getByTestId('restore-read-status').click()
    await page.getByTestId('wizard-error').waitFor()
    expect(await page.getByTestId('wizard-error').innerText()).toMatch(/not|snapshot/i)
    await shot('10-restore-wrong-file')

    // Existing target: the snapshot wizard refuses to overwrite it.
    await page.getByTestId('nav-snapshot').first().click()
    await page.getByTestId('wizard-next').click()
    await expect.poll(() => page.getByTestId('snapshot-path').locator('input').inputValue()).toMatch(/\.db$/)
    await page.getByTestId('snapshot-path').locator('input').fill(file)
    await page.getByTestId('snapshot-start').click()
    await page.getByTestId('wizard-error').waitFor()
    expect(await page.getByTestId('wizard-error').innerText()).toContain('already exists; choose a new file name')
    await shot('11-snapshot-target-exists')
    expect(readdirSync(join(data.path, 'app', 'snapshots')).filter((name) => name.endsWith('.part'))).toEqual([])
    expect(consoleErrors).toEqual([])
  }, 60_000)

  it('a backup schedule with a short interval runs, retention (keep last 1) prunes, drills pass, the size chart draws; a failing backup notifies', async () => {
    await page.getByTestId('nav-backups').click()
    await page.getByTestId('backup-new').click()
    await page.getByTestId('backup-form-connection').click()
    await page.locator('.n-base-select-option', { hasText: 'local: playground' }).click()
    await page.getByTestId('backup-form-every').locator('input').fill('2')
    await page.getByTestId('backup-form-keep-last').locator('input').fill('1')
    await page.getByTestId('backup-form-keep-last').locator('input').press('Tab')
    await shot('12-backup-schedule-form')
    await page.getByTestId('backup-form-submit').click()
    // A run's drill finishes before the next run starts: two ok runs mean at least one drill verdict.
    await expect.poll(() => page.locator('[data-testid=backup-run-row][data-status=ok]').count(), { timeout: 90_000, interval: 500 }).toBeGreaterThanOrEqual(2)
    await page.locator('[data-testid=backup-run-row][data-drill=pass]').first().waitFor({ timeout: 30_000 })
    await page.locator('[data-testid=backup-size-chart][data-chart-ready=true]').waitFor({ timeout: 20_000 })
    const destination = (await page.locator('[data-testid=backup-schedule-row] td.mono').innerText()).trim()
    const kept = () => readdirSync(destination).filter((name) => name.endsWith('.db') && !name.startsWith('.'))
    expect(kept()).toHaveLength(1)
    await shot('13-backup-history-chart')
    await page.getByTestId('backup-pause').click()
    await page.locator('[data-testid=backup-schedule-row][data-paused=true]').waitFor()
    const runs = await page.getByTestId('backup-run-row').count()
    await page.waitForTimeout(3000)
    expect(await page.getByTestId('backup-run-row').count()).toBe(runs)
    await shot('14-backup-paused')

    // A cluster that is down: its first backup fails, and the failure is announced with the reason.
    await LocalCluster.open(join(clustersDir(), restoredName)).down()
    await page.getByTestId('backup-new').click()
    await page.getByTestId('backup-form-connection').click()
    await page.locator('.n-base-select-option', { hasText: new RegExp(`^local: ${restoredName}$`) }).click()
    await page.getByTestId('backup-form-drills').click()
    await page.getByTestId('backup-form-submit').click()
    await page.locator('.n-message', { hasText: `Backup of local: ${restoredName} failed` }).waitFor({ timeout: 30_000 })
    await page.locator('[data-testid=backup-run-row][data-status=failed]').waitFor({ timeout: 10_000 })
    await shot('15-backup-failure-notified')
    expect(consoleErrors).toEqual([])
  }, 150_000)

  it('membership wizard: add learner, wait until caught up, promote, remove, with the quorum maths; a step that would lose quorum is refused', async () => {
    if (!page.url().startsWith('http')) {
      await page.goto(ui.url) // when run alone (-t)
      await expect.poll(() => page.url()).toContain('#/clusters/')
    }
    await page.getByTestId('nav-membership').click()
    await expect.poll(() => page.url()).toContain('#/membership')
    await page.getByTestId('membership-cluster').click()
    await page.locator('.n-base-select-option', { hasText: 'playground' }).click()
    await expect.poll(() => page.getByTestId('membership-member-row').count(), { timeout: 20_000 }).toBe(3)
    expect(await page.getByTestId('membership-after').innerText()).toContain('3 voters need 2 for a quorum and tolerate 1 failed (healthy voters: 3; learners: 1)')
    await shot('16-membership-add-learner')
    await page.getByTestId('membership-add').click()
    await page.locator('[data-testid=membership-step][data-step="2"]').waitFor({ timeout: 90_000 })
    await expect.poll(() => page.getByTestId('membership-catch-up').innerText(), { timeout: 30_000 }).toBe('member4 has caught up with the leader.')
    expect(await page.locator('[data-testid=membership-member-row][data-member=member4]').getAttribute('data-role')).toBe('learner')
    await shot('17-membership-caught-up')
    await page.getByTestId('wizard-next').click()
    await page.locator('[data-testid=membership-step][data-step="3"]').waitFor()
    await expect.poll(() => page.getByTestId('membership-after').innerText()).toContain('4 voters need 3 for a quorum and tolerate 1 failed')
    expect(await page.getByTestId('membership-warning').allInnerTexts()).toEqual(['4 voters tolerate 1 failure, no more than 3 would; prefer an odd number of voters.'])
    await shot('18-membership-promote')
    await page.getByTestId('membership-promote').click()
    await page.locator('[data-testid=membership-step][data-step="4"]').waitFor({ timeout: 60_000 })
    await expect.poll(() => page.getByTestId('membership-after').innerText().catch(() => '')).toContain('3 voters need 2 for a quorum')
    expect(await page.locator('[data-testid=membership-member-row][data-member=member4]').getAttribute('data-role')).toMatch(/leader|follower/)
    await shot('19-membership-remove')
    await page.getByTestId('membership-remove').click()
    await page.getByTestId('membership-done').waitFor({ timeout: 60_000 })
    await expect.poll(() => page.getByTestId('membership-member-row').count()).toBe(3)
    await shot('20-membership-removed')

    // With member3 down, removing member2 would leave 2 voters with 1 healthy: refused, button disabled.
    const playground = LocalCluster.open(join(clustersDir(), 'playground'))
    await playground.stop('member3')
    await page.locator('[data-testid=membership-remove-pick][data-member=member2]').click()
    await page.getByTestId('membership-refusal').waitFor({ timeout: 20_000 })
    expect(await page.getByTestId('membership-refusal').innerText()).toContain(
      'Removing member2 would lose quorum: 2 voters would remain and only 1 of them are healthy, but 2 are needed to accept writes.',
    )
    expect(await page.getByTestId('membership-remove').isDisabled()).toBe(true)
    // The service refuses it too, whatever the page shows.
    const refused = await page.evaluate(async () => {
      const response = await fetch(new URL('api/applyMembershipChange', window.location.href), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(['playground', 'remove', 'member2']),
      })
      return (await response.json()) as { ok: boolean; error?: { code: string } }
    })
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid_argument' } })
    expect(playground.activeMembers().map((member) => member.name)).toContain('member2')
    await shot('21-membership-refused')
    expect(consoleErrors).toEqual([])
  }, 180_000)
})
