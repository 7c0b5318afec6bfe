// Acceptance (issue 4, STYLE §2): core/raft is pure: it imports nothing but itself and core/util, and never
// touches the clock, timers, Math.random, async code or I/O.
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'

const core = join(import.meta.dirname, '../../core')
const root = join(core, 'raft')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') ? [join(dir, d.name)] : [],
  )
}

/** Source text without comments, so that doc comments may mention what the code must not do. */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1')
}

describe('core/raft purity', () => {
  const files = sources(root)

  test('imports only core/raft itself and core/util', () => {
    expect(files.length).toBeGreaterThan(10)
    for (const file of files) {
      for (const m of code(file).matchAll(/from\s+'([^']+)'/g)) {
        const spec = m[1]
        const target = relative(core, resolve(dirname(file), spec))
        const allowed = spec.startsWith('.') && (target.startsWith('raft/') || target.startsWith('util/'))
        expect(allowed, `${relative(root, file)} imports ${spec}`).toBe(true)
      }
    }
  })

  test('uses no clock, timers, Math.random, async code or I/O', () => {
    const forbidden = /\b(Date|setTimeout|setInterval|setImmediate|queueMicrotask|Math\.random|process|require|await|async|Promise|performance)\b/
    for (const file of files) {
      const m = forbidden.exec(code(file))
      expect(m?.[0], `${relative(root, file)} uses ${m?.[0]}`).toBeUndefined()
    }
  })
})
