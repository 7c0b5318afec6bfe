import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { intOption } from '../../core/cli/options'
import { defaultQuorumCommand } from '../../core/cluster/launcher'
import { openAppServices } from '../services/app-services'
import { startWebServer } from './server'
import { version } from '../../package.json'

/** The app's data directory in web mode: `--data-dir`, else $QUORUM_DATA_DIR, else $XDG_CONFIG_HOME/quorum. */
export function defaultDataDir(): string {
  return process.env.QUORUM_DATA_DIR || join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'quorum')
}

/** The built renderer next to this bundle (out/main → out/renderer), or out/renderer when run from source. */
function findRendererDir(): string {
  const candidates = ['../renderer', '../../out/renderer'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)))
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]
}

interface UiOptions {
  port: number
  dataDir?: string
  /** False with `--no-playground`. */
  playground: boolean
  alertForScale: number
}

function positiveNumber(text: string): number {
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`not a positive number: ${text}`)
  return value
}

/** `quorum ui`: serves the app in a browser (web mode) on 127.0.0.1 with a random token. */
export function registerUiCommand(program: Command): void {
  program
    .command('ui')
    .description('serve the Quorum app to a browser on 127.0.0.1 (web mode), protected by a random token')
    .option('--port <port>', 'TCP port on 127.0.0.1 (0 picks a free one)', intOption(0, 65535), 0)
    .option('--data-dir <dir>', 'where the app keeps its database and secret key (default $QUORUM_DATA_DIR or ~/.config/quorum)')
    .option('--no-playground', 'do not create the local 3-member "playground" cluster on first start')
    .option('--alert-for-scale <factor>', "multiply the alert rules' for: durations (demos and tests, e.g. 0.01)", positiveNumber, 1)
    .action(async (options: UiOptions) => {
      const rendererDir = findRendererDir()
      if (!existsSync(join(rendererDir, 'index.html'))) {
        console.error(`quorum ui: the app is not built (${rendererDir}/index.html is missing); run \`npm run build\``)
        process.exitCode = 1
        return
      }
      const dataDir = options.dataDir ?? defaultDataDir()
      const services = openAppServices({ dataDir, mode: 'web', version, quorumCommand: defaultQuorumCommand(), alertForScale: options.alertForScale })
      if (options.playground) {
        console.log('Starting the local "playground" cluster if it does not exist yet...')
        const created = await services.ensurePlayground()
        if (created && !created.ok) console.error(`quorum ui: the playground cluster did not start: ${created.error.message}`)
      }
      const server = await startWebServer({ api: services.admin, rendererDir, port: options.port })
      console.log(`Quorum web mode (data in ${dataDir}). Open this URL in a browser on this machine:`)
      console.log(server.url)
      await new Promise<void>((resolveStop) => {
        const stop = () => resolveStop()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
      await server.close()
      await services.close()
    })
}
