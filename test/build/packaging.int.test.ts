import { extractAll, listPackage } from '@electron/asar'
import { execFile } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../../core/cluster/launcher'
import { etcdctl } from '../support/etcd'
import { tempDir } from '../support/temp-dir'

// `npm run dist` packaging, checked on what electron-builder really produces from build/electron-builder.yml and
// the built `out/` (needs `npm run build`, which pretest runs). This machine cannot download Electron (see
// ../shared/notes/toolchain.md), so `electronDist` points at a stand-in directory holding only an `electron`
// file: it replaces the Electron runtime files, never anything Quorum ships. Native rebuilds for Electron's ABI
// need Electron's headers from the network too, so `npmRebuild` is off here; the packaged better-sqlite3 is the
// Node build, which lets the packaged CLI run under this Node and prove the production dependency set complete.

const ROOT = join(import.meta.dirname, '..', '..')
const exec = promisify(execFile)
const workDir = tempDir('quorum-dist-')
const output = join(workDir.path, 'dist')
const appDir = join(output, 'linux-unpacked')
const asarFile = join(appDir, 'resources', 'app.asar')
const extracted = join(workDir.path, 'app')
let entries: string[] = []

beforeAll(async () => {
  const electronDist = join(workDir.path, 'electron-dist')
  mkdirSync(electronDist)
  writeFileSync(join(electronDist, 'electron'), '#!/bin/sh\nexit 0\n')
  chmodSync(join(electronDist, 'electron'), 0o755)
  const electronVersion = (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'electron', 'package.json'), 'utf8')) as { version: string }).version
  await exec(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'electron-builder', 'cli.js'),
      '--config', 'build/electron-builder.yml',
      '--linux', 'dir',
      '--publish', 'never',
      `-c.electronDist=${electronDist}`,
      `-c.electronVersion=${electronVersion}`,
      '-c.npmRebuild=false',
      `-c.directories.output=${output}`,
    ],
    { cwd: ROOT, env: { ...process.env, CI: 'true' }, maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`electron-builder failed: ${error.message}\n${(error.stdout ?? '').slice(-2000)}${(error.stderr ?? '').slice(-2000)}`)
  })
  entries = listPackage(asarFile, { isPack: false })
  // What the app sees at run time: the archive plus its unpacked native files at the same paths.
  extractAll(asarFile, extracted)
  cpSync(join(appDir, 'resources', 'app.asar.unpacked'), extracted, { recursive: true })
}, 240_000)

afterAll(() => workDir.remove())

describe('npm run dist (electron-builder, Linux unpacked)', () => {
  it('ships the main process, CLI, CommonJS preload and renderer, with package.json pointing at the main bundle', () => {
    for (const file of ['/out/main/index.js', '/out/main/cli.js', '/out/preload/index.cjs', '/out/renderer/index.html']) {
      expect(entries).toContain(file)
    }
    const packaged = JSON.parse(readFileSync(join(extracted, 'package.json'), 'utf8')) as { main: string; devDependencies?: unknown }
    expect(packaged.main).toBe('out/main/index.js')
    expect(existsSync(join(appDir, 'quorum'))).toBe(true)
  })

  it('leaves renderer-only libraries out (vite bundles them) and ships no source maps', () => {
    for (const bundled of ['vue', 'naive-ui', 'echarts', 'pinia', 'vue-router', '@codemirror/view']) {
      expect(entries.filter((entry) => entry.startsWith(`/node_modules/${bundled}/`))).toEqual([])
    }
    expect(entries.filter((entry) => entry.endsWith('.map'))).toEqual([])
  })

  it('unpacks the better-sqlite3 native module outside the archive without its C sources or build intermediates', () => {
    const module = join(appDir, 'resources', 'app.asar.unpacked', 'node_modules', 'better-sqlite3')
    expect(existsSync(join(module, 'build', 'Release', 'better_sqlite3.node'))).toBe(true)
    for (const leftover of ['deps', 'src', join('build', 'Release', 'obj'), join('build', 'Release', 'test_extension.node')]) {
      expect(existsSync(join(module, leftover)), leftover).toBe(false)
    }
  })

  it('runs a member from the packaged CLI with only the production dependencies, and etcdctl reads what it wrote', async () => {
    const cluster = await LocalCluster.up({
      dir: join(workDir.path, 'cluster'),
      size: 1,
      quorumCommand: { command: process.execPath, args: [join(extracted, 'out', 'main', 'cli.js'), 'node'] },
    })
    try {
      const endpoint = cluster.manifest.members[0]!.clientURL
      expect((etcdctl(endpoint, ['put', 'packaged', 'works'])).stdout.trim()).toBe('OK')
      expect((etcdctl(endpoint, ['get', 'packaged', '--print-value-only'])).stdout.trim()).toBe('works')
    } finally {
      await cluster.down()
    }
  }, 60_000)
})
