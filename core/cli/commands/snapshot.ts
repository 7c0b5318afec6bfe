import type { Command } from 'commander'

/** `quorum snapshot`: save, inspect and restore snapshots of Quorum and etcd clusters. */
export function registerSnapshotCommand(program: Command): void {
  program
    .command('snapshot')
    .description('save, inspect and restore snapshots of Quorum and etcd clusters')
    .action(() => {
      console.error('quorum snapshot: not available yet in this build')
      process.exitCode = 1
    })
}
