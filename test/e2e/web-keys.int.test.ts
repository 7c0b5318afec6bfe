import { join } from 'node:path'
import type { Page } from 'playwright-core'
import { Writer } from 'protobufjs/minimal'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient } from '../../core/client'
import { etcdctl, type EtcdCluster } from '../support/etcd'
import { ARTIFACTS, startKeysE2e, type KeysE2e } from './web-keys-support'
import type { RunningUi } from './web-ui'

// The Keys, Leases and Users pages end to end in web mode against a real etcd 3.4 member: browse, edit JSON
// in the CodeMirror editor with validation, resolve a conflict made by etcdctl, history diff and revert, a
// watch that shows an etcdctl put, delete a prefix with typed confirmation, a read-only connection, leases
// and users. Screenshots go to test-artifacts/e2e/. Any console error fails the test.

describe('Keys, Leases and Users pages in web mode (Chromium, real etcd 3.4)', () => {
  let e2e: KeysE2e
  let etcd: EtcdCluster
  let ui: RunningUi
  let page: Page
  let consoleErrors: string[]

  const saveConnection = (name: string, readOnly: boolean) => e2e.saveConnection(name, readOnly)
  const get = (key: string) => etcdctl(etcd.endpoints, ['get', key, '--print-value-only']).stdout.trim()
  const editor = () => page.getByTestId('keys-editor').locator('.cm-content')
  const listPrefix = async (prefix: string) => {
    await page.getByTestId('keys-prefix').locator('input').fill(prefix)
    await page.getByTestId('keys-list').click()
  }

  beforeAll(async () => {
    e2e = await startKeysE2e('keys')
    ;({ etcd, ui, page, consoleErrors } = e2e)
    const client = new EtcdClient({ endpoints: etcd.endpoints.split(',') })
    await client.kv.txn({ success: Array.from({ length: 30 }, (_, i) => ({ type: 'put' as const, key: `app/svc${i % 3}/k${i}`, value: `v${i}` })) })
    client.close()
    etcdctl(etcd.endpoints, ['put', 'app/config', '{"replicas":1}'])
  })
  afterAll(async () => {
    await e2e?.stop()
  })

  it('browses, edits JSON with validation, resolves a conflict, diffs and reverts history, watches, deletes a prefix; read-only has no enabled write control', async () => {
    const id = await saveConnection('keys rw', false)
    await page.goto(`${new URL(ui.url).origin}/#/clusters/${id}/keys`)
    await listPrefix('app/')
    await expect.poll(() => page.getByTestId('keys-entry').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining('app/config'), expect.stringContaining('app/svc0/')]))
    expect(await page.getByTestId('keys-entry').count()).toBe(4)
    // A folder expands in place, with its count on demand.
    await page.getByTestId('keys-entry').filter({ hasText: 'app/svc1/' }).getByTestId('keys-count-button').click()
    await expect.poll(() => page.getByTestId('keys-count').innerText()).toBe('10')
    await page.getByTestId('keys-entry').filter({ hasText: 'app/svc1/' }).click()
    await expect.poll(() => page.getByTestId('keys-entry').count()).toBe(14)
    await page.screenshot({ path: join(ARTIFACTS, 'keys-00-tree.png') })

    await page.getByTestId('keys-entry').filter({ hasText: 'app/config' }).click()
    await expect.poll(() => editor().innerText()).toBe('{"replicas":1}')
    expect(await page.getByTestId('keys-view-json').locator('input').isChecked()).toBe(true)
    await editor().fill('{"replicas": 2,')
    await expect.poll(() => page.getByTestId('keys-validation').innerText()).toContain('Not valid JSON')
    expect(await page.getByTestId('keys-save').isDisabled()).toBe(true)
    await page.screenshot({ path: join(ARTIFACTS, 'keys-01-invalid-json.png') })
    await editor().fill('{"replicas": 2}')
    await expect.poll(() => page.getByTestId('keys-validation').count()).toBe(0)
    await page.getByTestId('keys-save').click()
    await expect.poll(() => get('app/config')).toBe('{"replicas": 2}')
    await expect.poll(() => page.getByTestId('keys-notice').innerText()).toContain('Saved at revision')

    // A second client changes the key; our next save conflicts and the dialog shows base, theirs and ours.
    expect(etcdctl(etcd.endpoints, ['put', 'app/config', '{"replicas":5}']).status).toBe(0)
    await editor().fill('{"replicas": 3}')
    await page.getByTestId('keys-save').click()
    await expect.poll(() => page.getByTestId('conflict-theirs').innerText()).toBe('{"replicas":5}')
    expect(await page.getByTestId('conflict-base').innerText()).toBe('{"replicas": 2}')
    expect(await page.getByTestId('conflict-mine').innerText()).toBe('{"replicas": 3}')
    await page.screenshot({ path: join(ARTIFACTS, 'keys-02-conflict.png') })
    await page.getByTestId('conflict-overwrite').click()
    await expect.poll(() => get('app/config')).toBe('{"replicas": 3}')

    // History lists the versions; the diff of the two newest shows the removed and the added line; revert
    // writes an old version back through the same guarded save.
    await page.locator('.n-tabs-tab', { hasText: 'History' }).click()
    await expect.poll(() => page.getByTestId('keys-history').innerText()).toContain('{"replicas":5}')
    await expect.poll(() => page.getByTestId('keys-diff').locator('.removed').innerText()).toBe('{"replicas":5}')
    expect(await page.getByTestId('keys-diff').locator('.added').innerText()).toBe('{"replicas": 3}')
    await page.screenshot({ path: join(ARTIFACTS, 'keys-02b-history-diff.png') })
    const first = page.getByTestId('keys-history-version').last()
    await first.getByRole('button', { name: 'Revert to this' }).click()
    await expect.poll(() => get('app/config')).toBe('{"replicas":1}')
    await expect.poll(() => page.getByTestId('keys-notice').innerText()).toContain('Reverted')

    // Watch: a put made by etcdctl shows up live, with its value.
    await page.locator('.n-tabs-tab', { hasText: 'Watch' }).click()
    await page.getByTestId('keys-watch-key').locator('input').fill('app/')
    await page.getByTestId('keys-watch-start').click()
    await expect.poll(() => page.getByTestId('keys-watch-state').getAttribute('data-state')).toBe('watching')
    expect(etcdctl(etcd.endpoints, ['put', 'app/watched', 'hello from etcdctl']).status).toBe(0)
    await expect.poll(() => page.getByTestId('keys-watch-event').first().innerText()).toContain('app/watched = hello from etcdctl')
    await page.getByTestId('keys-watch-pause').click()
    expect(etcdctl(etcd.endpoints, ['del', 'app/watched']).status).toBe(0)
    await page.getByTestId('keys-watch-resume').click()
    // Resuming starts at the next revision: the delete made while paused arrives.
    await expect.poll(() => page.locator('[data-testid="keys-watch-event"][data-type="delete"]').count()).toBe(1)
    await page.screenshot({ path: join(ARTIFACTS, 'keys-02c-watch.png') })

    // Refresh marks what changed since the listed revision.
    expect(etcdctl(etcd.endpoints, ['put', 'app/added', 'new']).status).toBe(0)
    await page.getByTestId('keys-refresh').click()
    await expect.poll(() => page.getByTestId('keys-refreshed').innerText()).toMatch(/1 new, 1 changed/)
    expect(await page.getByTestId('keys-mark-added').count()).toBe(1)

    // Go to key: the list starts at that key.
    await page.getByTestId('keys-goto').locator('input').fill('app/svc2/k5')
    await page.getByTestId('keys-goto').locator('input').press('Enter')
    await expect.poll(() => page.getByTestId('keys-selected').innerText()).toBe('app/svc2/k5')
    await expect.poll(() => page.getByTestId('keys-entry').first().innerText()).toContain('app/svc2/k5')

    // Delete a prefix: the dialog shows the count and wants the prefix typed.
    await listPrefix('app/svc1/')
    await page.getByTestId('keys-delete-prefix').click()
    await expect.poll(() => page.getByTestId('keys-delete-dialog').innerText()).toContain('10 keys start with "app/svc1/"')
    expect(await page.getByTestId('keys-delete-confirm').isDisabled()).toBe(true)
    await page.getByTestId('keys-delete-typed').locator('input').fill('app/svc1/')
    await page.screenshot({ path: join(ARTIFACTS, 'keys-03-delete-prefix.png') })
    await page.getByTestId('keys-delete-confirm').click()
    await expect.poll(() => etcdctl(etcd.endpoints, ['get', 'app/svc1/', '--prefix', '--keys-only']).stdout.trim()).toBe('')

    // Read-only: every write control is disabled, the editor does not take input.
    const readOnlyId = await saveConnection('keys ro', true)
    await page.goto(`${new URL(ui.url).origin}/#/clusters/${readOnlyId}/keys`)
    await listPrefix('app/')
    await page.getByTestId('keys-entry').filter({ hasText: 'app/config' }).click()
    await expect.poll(() => editor().innerText()).toBe('{"replicas":1}')
    expect(await page.getByTestId('keys-read-only').count()).toBe(1)
    expect(await editor().getAttribute('contenteditable')).toBe('false')
    for (const testId of ['keys-save', 'keys-delete-prefix', 'keys-prettify']) expect(await page.getByTestId(testId).isDisabled(), testId).toBe(true)
    await page.locator('.n-tabs-tab', { hasText: 'History' }).click()
    const reverts = page.getByRole('button', { name: 'Revert to this' })
    expect(await reverts.count()).toBeGreaterThan(0)
    for (const button of await reverts.all()) expect(await button.isDisabled()).toBe(true)
    await page.screenshot({ path: join(ARTIFACTS, 'keys-04-read-only.png') })
    expect(consoleErrors).toEqual([])
  }, 90_000)

  it('binary values keep their bytes (hex view, text views off, a hex edit writes exactly those bytes); Kubernetes protobuf shows as YAML', async () => {
    // 0xff 0x00 0xc3 0x28 is not UTF-8.
    const key = Buffer.from('bin/k').toString('base64')
    const id = await saveConnection('keys bin', false)
    await page.evaluate(
      async ([id, key]) => {
        await fetch('api/saveKey', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([{ connectionId: id, key, value: '/wDDKA==', expectedModRevision: 0 }]) })
      },
      [id, key] as const,
    )
    await page.goto(`${new URL(ui.url).origin}/#/clusters/${id}/keys`)
    await page.getByTestId('keys-goto').locator('input').fill('bin/k')
    await page.getByTestId('keys-goto').locator('input').press('Enter')
    await expect.poll(() => editor().innerText()).toBe('ff 00 c3 28')
    expect(await page.getByTestId('keys-view-text').locator('input').isDisabled()).toBe(true)
    expect(await page.getByTestId('keys-binary').count()).toBe(1)
    await editor().fill('ff 00 c3 29 00')
    await page.getByTestId('keys-save').click()
    await expect.poll(() => etcdctl(etcd.endpoints, ['get', 'bin/k', '--print-value-only', '--hex']).stdout.trim()).toBe('\\xff\\x00\\xc3\\x29\\x00')
    await page.screenshot({ path: join(ARTIFACTS, 'keys-05-binary.png') })

    // A Kubernetes object stored as protobuf opens in the read-only Kubernetes view as YAML.
    const field = (number: number, value: Uint8Array | string) => {
      const writer = Writer.create()
      writer.uint32((number << 3) | 2)
      return (typeof value === 'string' ? writer.string(value) : writer.bytes(value)).finish()
    }
    const concat = (...parts: Uint8Array[]) => Buffer.concat(parts)
    const pod = field(1, concat(field(1, 'web-0'), field(3, 'default')))
    const envelope = concat(field(1, concat(field(1, 'v1'), field(2, 'Pod'))), field(2, pod))
    const k8sValue = concat(Buffer.from('k8s\0', 'binary'), envelope).toString('base64')
    await page.evaluate(
      async ([id, key, value]) => {
        await fetch('api/saveKey', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify([{ connectionId: id, key, value, expectedModRevision: 0 }]) })
      },
      [id, Buffer.from('/registry/pods/default/web-0').toString('base64'), k8sValue] as const,
    )
    await page.getByTestId('keys-goto').locator('input').fill('/registry/pods/default/web-0')
    await page.getByTestId('keys-goto').locator('input').press('Enter')
    await expect.poll(() => page.getByTestId('keys-kubernetes').innerText()).toContain('v1 Pod')
    await expect.poll(() => editor().innerText()).toContain('kind: Pod')
    expect(await editor().innerText()).toContain('name: web-0')
    expect(await page.getByTestId('keys-save').isDisabled()).toBe(true)
    await page.screenshot({ path: join(ARTIFACTS, 'keys-06-kubernetes.png') })
    expect(consoleErrors).toEqual([])
  }, 30_000)

  it('leases: TTL counts down, attached keys, keep-alive and revoke; users: roles and permissions from etcd', async () => {
    const granted = etcdctl(etcd.endpoints, ['lease', 'grant', '300']).stdout
    const leaseId = /lease ([0-9a-f]+) granted/.exec(granted)![1]!
    expect(etcdctl(etcd.endpoints, ['put', 'leased/a', '1', '--lease', leaseId]).status).toBe(0)
    const id = await saveConnection('leases rw', false)
    await page.goto(`${new URL(ui.url).origin}/#/clusters/${id}/leases`)
    const row = page.locator(`[data-testid="leases-row"][data-lease="${leaseId}"]`)
    await expect.poll(() => row.getByTestId('leases-ttl-left').innerText()).toMatch(/^\d+ s$/)
    const before = Number((await row.getByTestId('leases-ttl-left').innerText()).split(' ')[0])
    await expect.poll(async () => Number((await row.getByTestId('leases-ttl-left').innerText()).split(' ')[0]), { timeout: 5000 }).toBeLessThan(before)
    await row.getByTestId('leases-keys').click()
    await expect.poll(() => page.getByTestId('leases-keys-dialog').innerText()).toContain('leased/a')
    await page.keyboard.press('Escape')
    await expect.poll(() => page.getByTestId('leases-keys-dialog').count(), { timeout: 5000 }).toBe(0)
    await row.getByTestId('leases-keep-alive').click()
    await page.screenshot({ path: join(ARTIFACTS, 'leases-00-list.png') })
    await row.getByTestId('leases-revoke').click()
    await page.getByRole('button', { name: 'Confirm' }).click()
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(0)
    expect(get('leased/a')).toBe('')

    expect(etcdctl(etcd.endpoints, ['role', 'add', 'reader']).status).toBe(0)
    expect(etcdctl(etcd.endpoints, ['role', 'grant-permission', 'reader', 'read', 'app/', '--prefix']).status).toBe(0)
    expect(etcdctl(etcd.endpoints, ['user', 'add', 'alice', '--new-user-password', 'pw']).status).toBe(0)
    await page.goto(`${new URL(ui.url).origin}/#/clusters/${id}/users`)
    await expect.poll(() => page.locator('[data-testid="users-role"][data-role="reader"]').innerText()).toContain('prefix app/')
    expect(await page.getByTestId('users-auth-state').getAttribute('data-enabled')).toBe('false')
    // Enabling auth from an anonymous connection would lock it out: refused with the reason.
    await page.getByTestId('users-enable').click()
    await expect.poll(() => page.getByTestId('users-error').innerText()).toContain('lock this connection out')
    await page.locator('[data-testid="users-user"][data-user="alice"]').locator('.n-base-selection').click()
    await page.locator('.n-base-select-option').filter({ hasText: 'reader' }).click()
    await page.locator('[data-testid="users-user"][data-user="alice"]').getByTestId('users-grant-role').click()
    await expect.poll(() => etcdctl(etcd.endpoints, ['user', 'get', 'alice']).stdout, { timeout: 10_000 }).toContain('reader')
    await page.screenshot({ path: join(ARTIFACTS, 'users-00-roles.png') })
    expect(consoleErrors).toEqual([])
  }, 90_000)
})
