import type { Command } from 'commander'

/** `quorum certs`: create and inspect TLS certificates for clusters. */
export function registerCertsCommand(program: Command): void {
  program
    .command('certs')
    .description('create and inspect TLS certificates for clusters')
    .action(() => {
      console.error('quorum certs: not available yet in this build')
      process.exitCode = 1
    })
}
