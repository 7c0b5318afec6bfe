import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { build } from 'vite'
import { afterAll, expect, test } from 'vitest'

// The protos are embedded as TS modules so the loader needs no file path at run time. This bundles
// core/proto the way electron-vite bundles the main process (Vite SSR build, dependencies external) and runs the
// bundle under plain Node from another directory: it must load the same services as in vitest.
const repo = resolve(__dirname, '../..')
// Inside node_modules so the external dependencies resolve from the bundle, as they do for out/main.
const outDir = join(repo, 'node_modules/.cache', `quorum-proto-bundle-${process.pid}`)

afterAll(() => rmSync(outDir, { recursive: true, force: true }))

test('core/proto works from a Vite bundle under plain Node, with no .proto files on disk', async () => {
  mkdirSync(outDir, { recursive: true })
  await build({
    configFile: false,
    logLevel: 'silent',
    root: repo,
    build: {
      ssr: join(repo, 'core/proto/index.ts'),
      outDir,
      emptyOutDir: true,
      rollupOptions: { output: { format: 'es', entryFileNames: 'proto.mjs' } },
    },
  })
  const script = `
    const proto = await import(${JSON.stringify(join(outDir, 'proto.mjs'))})
    const services = proto.loadServices()
    const range = services['etcdserverpb.KV'].Range
    const request = range.requestDeserialize(range.requestSerialize({ key: Buffer.from([0xff]), range_end: Buffer.from('b') }))
    console.log(JSON.stringify({ services: Object.keys(services), rangeEnd: request.range_end.toString(), key: request.key[0] }))
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: '/', encoding: 'utf8' })
  expect(run.stderr).toBe('')
  expect(JSON.parse(run.stdout)).toEqual({
    services: [
      'etcdserverpb.KV',
      'etcdserverpb.Watch',
      'etcdserverpb.Lease',
      'etcdserverpb.Cluster',
      'etcdserverpb.Maintenance',
      'etcdserverpb.Auth',
      'grpc.health.v1.Health',
    ],
    rangeEnd: 'b',
    key: 255,
  })
})
