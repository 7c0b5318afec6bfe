import type { Command } from 'commander'

/** `quorum bench`: benchmark Quorum against a real etcd 3.4 on this machine. */
export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('benchmark Quorum against a real etcd 3.4 on this machine')
    .action(() => {
      console.error('quorum bench: not available yet in this build')
      process.exitCode = 1
    })
}
