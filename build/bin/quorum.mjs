#!/usr/bin/env node
// The `quorum` command. The CLI is bundled by `npm run build` (run by `prepare` on `npm install`) into
// out/main/cli.js, which is also what every cluster member process runs.
import { existsSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'

const cli = fileURLToPath(new URL('../../out/main/cli.js', import.meta.url))
if (!existsSync(cli)) {
  console.error(`quorum: ${cli} is missing; run \`npm run build\` first`)
  process.exit(1)
}
await import(pathToFileURL(cli).href)
