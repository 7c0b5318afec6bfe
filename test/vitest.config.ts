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
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
  },
})
