#!/usr/bin/env node
// `npm start`: runs the Electron app when an Electron binary is present; otherwise falls back to web mode
// (`quorum ui`), which serves the same app to a browser on 127.0.0.1 and prints the URL with its token.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { nativeModuleLoads } from './native-abi.mjs'

const require = createRequire(import.meta.url)
let electronPath = null
try {
  const candidate = require('electron')
  if (typeof candidate === 'string' && existsSync(candidate)) electronPath = candidate
} catch {
  // The electron package throws when its binary was never downloaded (its install script is off here).
  electronPath = null
}

// The app and its members load better-sqlite3 inside Electron: build it for Electron's ABI first (electron-builder
// fetches Electron's headers for that; `npm test` later rebuilds it for Node, see native-abi.mjs).
if (electronPath) {
  const native = nativeModuleLoads(electronPath, { ELECTRON_RUN_AS_NODE: '1' })
  if (!native.ok) {
    console.log('npm start: rebuilding better-sqlite3 for Electron (electron-builder install-app-deps)')
    execFileSync(process.platform === 'win32' ? 'npx.cmd' : 'npx', ['electron-builder', 'install-app-deps'], { stdio: 'inherit' })
  }
}

const [command, args] = electronPath
  ? [electronPath, ['.']]
  : [process.execPath, ['build/bin/quorum.mjs', 'ui', ...process.argv.slice(2)]]
if (!electronPath) console.log('npm start: no Electron binary on this machine; starting web mode (quorum ui) instead.')
const child = spawn(command, args, { stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)))
