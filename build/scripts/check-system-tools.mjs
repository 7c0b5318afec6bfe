#!/usr/bin/env node
// pretest: the tests use real system tools (etcd 3.4 as the reference server, etcdctl as a black-box client,
// Chromium for the UI, Xvfb for headed checks, Prometheus/promtool for monitoring, nftables + iproute2 for
// the fault-injection suite's network partitions). Install them with apt-get
// when running as root; otherwise print the exact command and fail.
import { execFileSync, spawnSync } from 'node:child_process'
import { nativeModuleLoads } from './native-abi.mjs'

const tools = [
  { bin: 'etcd', pkg: 'etcd-server' },
  { bin: 'etcdctl', pkg: 'etcd-client' },
  { bin: 'chromium', pkg: 'chromium' },
  { bin: 'Xvfb', pkg: 'xvfb' },
  { bin: 'prometheus', pkg: 'prometheus' },
  { bin: 'promtool', pkg: 'prometheus' },
  { bin: 'openssl', pkg: 'openssl' },
  { bin: 'nft', pkg: 'nftables' },
  { bin: 'ip', pkg: 'iproute2' },
]

// After `npm start` ran the Electron app, better-sqlite3 is built for Electron's ABI: rebuild it for this Node.
const native = nativeModuleLoads()
if (!native.ok && native.abiMismatch) {
  console.error('pretest: better-sqlite3 is built for another runtime (Electron); rebuilding it for this Node (about 2 minutes)')
  execFileSync('npm', ['rebuild', 'better-sqlite3'], { stdio: 'inherit' })
} else if (!native.ok) {
  console.error(`pretest: better-sqlite3 does not load: ${native.message}`)
  process.exit(1)
}

const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0
const missing = [...new Set(tools.filter((tool) => !has(tool.bin)).map((tool) => tool.pkg))]
if (missing.length === 0) process.exit(0)

const install = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing.join(' ')}`
if (process.getuid?.() !== 0) {
  console.error(`pretest: missing system packages: ${missing.join(', ')}. Install them with:\n  sudo sh -c '${install}'`)
  process.exit(1)
}
console.error(`pretest: installing ${missing.join(', ')} with apt-get`)
execFileSync('sh', ['-c', install], { stdio: 'inherit' })
