// Node module hooks for the chaos CLI under tsx: Vite's `import text from './file.yml?raw'` (used by core code
// that the Electron bundle embeds) becomes a module whose default export is the file's text, as Vite does.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export function resolve(specifier, context, nextResolve) {
  if (!specifier.endsWith('?raw')) return nextResolve(specifier, context)
  return { url: new URL(specifier, context.parentURL).href, shortCircuit: true }
}

export function load(url, context, nextLoad) {
  if (!url.endsWith('?raw')) return nextLoad(url, context)
  const text = readFileSync(fileURLToPath(url.slice(0, -'?raw'.length)), 'utf8')
  return { format: 'module', source: `export default ${JSON.stringify(text)}`, shortCircuit: true }
}
