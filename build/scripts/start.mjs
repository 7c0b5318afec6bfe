#!/usr/bin/env node
// `npm start`: runs the Electron app when an Electron binary is present; otherwise falls back to web mode
// (`quorum ui`), which serves the same app to a browser on 127.0.0.1 and prints the URL with its token.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
let electronPath = null
try {
  const candidate = require('electron')
  if (typeof candidate === 'string' && existsSync(candidate)) electronPath = candidate
} catch {
  // The electron package throws when its binary was never downloaded (its install script is off here).
  electronPath = null
}

const [command, args] = electronPath
  ? [electronPath, ['.']]
  : [process.execPath, ['build/bin/quorum.mjs', 'ui', ...process.argv.slice(2)]]
if (!electronPath) console.log('npm start: no Electron binary on this machine; starting web mode (quorum ui) instead.')
const child = spawn(command, args, { stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)))
