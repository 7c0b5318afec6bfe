import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { _electron as electron } from 'playwright-core'
import { describe, expect, it } from 'vitest'

// The real Electron app, launched with Playwright's Electron support. The electron npm package's binary is
// downloaded by its install script, which cannot reach its download host on this machine, so here the test
// is skipped with that reason; on a machine with the binary it runs.

const ROOT = join(import.meta.dirname, '..', '..')

function electronBinary(): string | null {
  try {
    const path = createRequire(import.meta.url)('electron') as unknown
    return typeof path === 'string' && existsSync(path) ? path : null
  } catch {
    // require('electron') throws when the binary was never downloaded.
    return null
  }
}

const binary = electronBinary()

describe('Electron app smoke test', () => {
  // Skipped when no Electron binary is installed (its download is blocked here); see the file comment.
  it.skipIf(binary === null)('opens a sandboxed window on the connections page with window.admin and no Node', async () => {
    const app = await electron.launch({ executablePath: binary!, args: [join(ROOT, 'out', 'main', 'index.js'), '--no-playground'], env: { ...process.env, ELECTRON_ENABLE_LOGGING: '1' } })
    try {
      const window = await app.firstWindow()
      await window.getByText('Connections').first().waitFor()
      const exposed = await window.evaluate(() => ({
        admin: Object.keys((window as unknown as { admin: object }).admin).sort(),
        node: typeof (window as unknown as { require?: unknown }).require,
      }))
      expect(exposed.admin).toContain('listConnections')
      expect(exposed.node).toBe('undefined')
    } finally {
      await app.close()
    }
  })
})
