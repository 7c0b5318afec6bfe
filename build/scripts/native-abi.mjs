// better-sqlite3 is a native module compiled for one ABI at a time: Node's (tests, web mode, the CLI) or
// Electron's (the desktop app and the members it starts, which run as ELECTRON_RUN_AS_NODE). `npm start` with
// an Electron binary rebuilds it for Electron; `pretest` rebuilds it for Node when it finds it built for
// Electron. Packaged apps get their own Electron build from electron-builder (npmRebuild in electron-builder.yml).
import { spawnSync } from 'node:child_process'

/**
 * Whether better-sqlite3 opens a database when loaded by `command` (this Node by default, or the Electron binary
 * running as Node). Returns `{ ok: true }` or `{ ok: false, abiMismatch, message }` where `abiMismatch` says the
 * module was compiled for another runtime (the fix is a rebuild) rather than missing or broken.
 */
export function nativeModuleLoads(command = process.execPath, env = {}) {
  const probe = "new (require('better-sqlite3'))(':memory:').prepare('select 1 as one').get().one === 1 || process.exit(3)"
  const result = spawnSync(command, ['-e', probe], { env: { ...process.env, ...env }, encoding: 'utf8' })
  if (result.status === 0) return { ok: true }
  const message = `${result.stderr ?? ''}${result.error?.message ?? ''}`.trim()
  return { ok: false, abiMismatch: /NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(message), message }
}
