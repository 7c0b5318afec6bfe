import type { Command } from 'commander'
import { intOption } from '../../core/cli/options'

/** `quorum ui`: serves the app in a browser (web mode) on 127.0.0.1 with a random token. */
export function registerUiCommand(program: Command): void {
  program
    .command('ui')
    .description('serve the Quorum app to a browser on 127.0.0.1 (web mode), protected by a random token')
    .option('--port <port>', 'TCP port on 127.0.0.1 (0 picks a free one)', intOption(0, 65535), 0)
    .action(() => {
      console.error('quorum ui: not available yet in this build')
      process.exitCode = 1
    })
}
