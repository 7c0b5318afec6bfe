import type { Command } from 'commander'
import { choiceOption } from '../options'
import { openEtcdSnapshot } from '../../snapshot/etcd-snapshot'
import { SnapshotError } from '../../snapshot/errors'
import { STATUS_WRITE_OUTS, formatSnapshotStatus, type StatusWriteOut } from '../../snapshot/status-output'

/**
 * `quorum snapshot`: save, inspect and restore snapshots of Quorum and etcd clusters. Returns the `snapshot`
 * command so further subcommands (save, restore) can be registered on it by their own modules.
 */
export function registerSnapshotCommand(program: Command): Command {
  const snapshot = program
    .command('snapshot')
    .description('save, inspect and restore snapshots of Quorum and etcd clusters')
  registerSnapshotStatusCommand(snapshot)
  return snapshot
}

/**
 * `quorum snapshot status FILE [-w simple|table|json]`: what `etcdctl snapshot status` prints (hash, revision,
 * total keys, total size, same layout) plus the file format. Verifies the sha256 trailer when present.
 * Exit 0 on success; exit 1 with `Error: <reason>` on stderr for a file that is not a readable snapshot.
 */
export function registerSnapshotStatusCommand(snapshot: Command): void {
  snapshot
    .command('status')
    .description('print hash, revision, key count, size and format of a snapshot file (etcd bbolt snapshots)')
    .argument('<file>', 'snapshot file (`etcdctl snapshot save` output or a member/snap/db file)')
    .option('-w, --write-out <format>', `output format: ${STATUS_WRITE_OUTS.join(', ')}`, choiceOption(STATUS_WRITE_OUTS), 'simple')
    .action((file: string, options: { writeOut: StatusWriteOut }) => {
      try {
        const opened = openEtcdSnapshot(file)
        try {
          process.stdout.write(formatSnapshotStatus({ ...opened.status(), format: opened.format }, options.writeOut))
        } finally {
          opened.close()
        }
      } catch (error) {
        if (error instanceof SnapshotError) process.stderr.write(`Error: ${error.message}\n`)
        else if (isFileError(error)) process.stderr.write(`Error: ${goFileError(error)}\n`)
        else throw error
        process.exitCode = 1
      }
    })
}

// A missing or unreadable file is the user's input problem, reported like the snapshot errors.
function isFileError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && 'syscall' in error
}

// etcd compat: Go's *PathError text, "stat FILE: no such file or directory", from Node's
// "ENOENT: no such file or directory, stat 'FILE'".
function goFileError(error: NodeJS.ErrnoException): string {
  const description = /^[A-Z]+: (.+), \w+ '.*'$/.exec(error.message)?.[1]
  return description && error.path ? `${error.syscall} ${error.path}: ${description}` : error.message
}
