import type { Command } from 'commander'

/** `quorum node`: run one cluster member with etcd's flags (etcd v3 gRPC API on the client URLs). */
export function registerNodeCommand(program: Command): void {
  program
    .command('node')
    .description("run one cluster member with etcd's flags (etcd v3 gRPC API on the client URLs)")
    .action(() => {
      console.error('quorum node: not available yet in this build')
      process.exitCode = 1
    })
}
