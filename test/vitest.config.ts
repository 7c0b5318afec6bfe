import { defineConfig } from 'vitest/config'

// Unit tests (`*.test.ts`) are pure and fast; integration tests (`*.int.test.ts`) use real SQLite files,
// sockets, child processes, etcd 3.4, Chromium and Prometheus. Both run in `npm test`.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time: most integration tests wait on processes and elections, not on the CPU, and CI
    // has 2 cores (vitest's default there would be 1 worker, running every file in series).
    maxWorkers: 2,
    // One retry: integration tests race real elections and process starts on a 2-core machine, where a rare
    // timing miss is not a bug. A test that passes only on retry is still reported (FLAKY in the CI summary,
    // "retry x1" in vitest's own output); one that fails twice fails the run.
    retry: 1,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
  },
})
