/**
 * Entry of `npm run chaos` (see cli.ts for the options). It first teaches Node's loader Vite's `?raw` imports,
 * which core modules use for embedded text files, then loads the CLI.
 */
import { register } from 'node:module'

register('./raw-import-hooks.mjs', import.meta.url)
await import('./cli')
