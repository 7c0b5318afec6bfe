import type { Command } from 'commander'

/** `quorum cluster`: launch and operate local multi-member clusters. */
export function registerClusterCommand(program: Command): void {
  program
    .command('cluster')
    .description('launch and operate local multi-member clusters')
    .action(() => {
      console.error('quorum cluster: not available yet in this build')
      process.exitCode = 1
    })
}
