import type { Command } from 'commander'
import { readFileSync, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import type { TlsOptions } from '../../client/transport'
import { choiceOption, listOption } from '../options'
import { openEtcdSnapshot } from '../../snapshot/etcd-snapshot'
import { SnapshotError } from '../../snapshot/errors'
import { QUORUM_SNAPSHOT_FORMAT, QuorumSnapshot, isQuorumSnapshotFile } from '../../snapshot/quorum-snapshot'
import { STATUS_WRITE_OUTS, formatSnapshotStatus, humanizeBytes, type StatusWriteOut } from '../../snapshot/status-output'

/**
 * `quorum snapshot`: save, inspect and restore snapshots of Quorum and etcd clusters. Returns the `snapshot`
 * command so further subcommands (save, restore) can be registered on it by their own modules.
 */
export function registerSnapshotCommand(program: Command): Command {
  const snapshot = program
    .command('snapshot')
    .description('save, inspect and restore snapshots of Quorum and etcd clusters')
  registerSnapshotStatusCommand(snapshot)
  registerSnapshotSaveCommand(snapshot)
  registerSnapshotRestoreCommand(snapshot)
  return snapshot
}

interface RestoreFlags {
  name: string
  initialCluster: string
  initialClusterToken: string
  initialAdvertisePeerUrls: string
  dataDir?: string
  skipHashCheck?: boolean
  bumpRevision?: string
  markCompacted?: boolean
}

/**
 * `quorum snapshot restore FILE ...`: a new member data dir from a Quorum or etcd snapshot, with etcdutl's flags
 * and defaults. Exit 0 on success; 1 with `Error: <reason>` (nothing written) otherwise.
 */
export function registerSnapshotRestoreCommand(snapshot: Command): void {
  snapshot
    .command('restore')
    .description('restore a Quorum or etcd snapshot into a new data dir of a new cluster')
    .argument('<file>', 'snapshot file (Quorum or etcd)')
    .option('--name <name>', 'human-readable name for this member', 'default')
    .option('--initial-cluster <name=url,...>', 'initial cluster configuration for restore bootstrap', 'default=http://localhost:2380')
    .option('--initial-cluster-token <token>', 'initial cluster token for the cluster during restore bootstrap', 'etcd-cluster')
    .option('--initial-advertise-peer-urls <urls>', "list of this member's peer URLs to advertise to the rest of the cluster", 'http://localhost:2380')
    .option('--data-dir <dir>', 'path to the data directory (default: <name>.etcd)')
    .option('--skip-hash-check', 'ignore the snapshot integrity hash value (required if copied from a data directory)')
    .option('--bump-revision <n>', 'how much to increase the latest revision after restore (needs --mark-compacted)')
    .option('--mark-compacted', 'mark the latest revision after restore as the point of scheduled compaction')
    .action(async (file: string, flags: RestoreFlags) => {
      const { restoreSnapshot } = await import('../../snapshot/restore')
      try {
        const started = performance.now()
        const result = restoreSnapshot({
          file,
          name: flags.name,
          initialCluster: flags.initialCluster,
          initialClusterToken: flags.initialClusterToken,
          initialAdvertisePeerUrls: listOption(flags.initialAdvertisePeerUrls),
          dataDir: flags.dataDir ?? `${flags.name}.etcd`,
          skipHashCheck: flags.skipHashCheck ?? false,
          bumpRevision: flags.bumpRevision === undefined ? undefined : Number(flags.bumpRevision),
          markCompacted: flags.markCompacted ?? false,
        })
        process.stdout.write(
          `restored ${result.format} snapshot ${file} into ${result.dataDir} in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
            `member ${result.memberId}, cluster ${result.clusterId}, revision ${result.revision}, ${result.liveKeys} keys\n`,
        )
      } catch (error) {
        process.stderr.write(`Error: ${(error as Error).message}\n`)
        process.exitCode = 1
      }
    })
}

// Quorum files: etcdctl's layout (hash is the HashKV) plus the cluster and member the snapshot came from.
function quorumStatusText(file: string, writeOut: StatusWriteOut): string {
  const opened = QuorumSnapshot.open(file)
  try {
    const status = opened.status()
    if (writeOut === 'json') return `${JSON.stringify({ ...status, format: QUORUM_SNAPSHOT_FORMAT, sha256: opened.sha256 ?? null })}\n`
    const identity = `cluster: ${status.clusterId}, member: ${status.memberId}, compact revision: ${status.compactRevision}, live keys: ${status.liveKeys}\n`
    return formatSnapshotStatus({ ...status, format: QUORUM_SNAPSHOT_FORMAT }, writeOut) + identity
  } finally {
    opened.close()
  }
}

/** Flags that say how to reach a secured member, as `snapshot save` and `backup run|schedule` take them. */
export interface ClientSecurityFlags {
  cacert?: string
  cert?: string
  key?: string
  user?: string
  password?: string
}

interface SaveFlags extends ClientSecurityFlags {
  endpoints: string
}

/** Environment variables read for the password of `--user NAME` (first set wins); never echoed or recorded. */
export const PASSWORD_ENV_VARS = ['QUORUM_PASSWORD', 'ETCDCTL_PASSWORD'] as const

/** Adds `--cacert --cert --key --user` (etcdctl's names) to `command`. */
export function addClientSecurityOptions(command: Command): Command {
  return command
    .option('--cacert <file>', 'CA bundle of the server certificates')
    .option('--cert <file>', 'client certificate (mTLS)')
    .option('--key <file>', 'private key of --cert')
    .option('--user <name[:password]>', `etcd user; without ":password" the password comes from $${PASSWORD_ENV_VARS[0]} or a prompt`)
}

/** Thrown when `--user` has no password and there is neither an environment variable nor a terminal to ask. */
export class MissingPasswordError extends Error {
  readonly code = 'MISSING_PASSWORD'
}

// Reads one line from the terminal without echoing it (readline writes its echo into a sink).
async function promptPassword(prompt: string): Promise<string> {
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() })
  const reader = createInterface({ input: process.stdin, output: sink, terminal: true })
  process.stderr.write(prompt)
  try {
    return await new Promise<string>((resolve) => reader.question('', resolve))
  } finally {
    reader.close()
    process.stderr.write('\n')
  }
}

/**
 * The credentials of `--user`: `name:password` as etcdctl takes it, else `--password` (snapshot save only),
 * else $QUORUM_PASSWORD / $ETCDCTL_PASSWORD, else a prompt on the terminal. Undefined without `--user`.
 */
export async function resolveCredentials(flags: ClientSecurityFlags, env: NodeJS.ProcessEnv = process.env): Promise<{ username: string; password: string } | undefined> {
  if (flags.user === undefined) return undefined
  const colon = flags.user.indexOf(':')
  if (colon >= 0) return { username: flags.user.slice(0, colon), password: flags.user.slice(colon + 1) }
  const fromEnv = PASSWORD_ENV_VARS.map((name) => env[name]).find((value) => value !== undefined)
  const password = flags.password ?? fromEnv
  if (password !== undefined) return { username: flags.user, password }
  if (!process.stdin.isTTY) {
    throw new MissingPasswordError(`no password for user ${flags.user}: set ${PASSWORD_ENV_VARS[0]} or run in a terminal to be asked`)
  }
  return { username: flags.user, password: await promptPassword(`Password for ${flags.user}: `) }
}

/** TLS options from `--cacert --cert --key` (files read now), or undefined for plain connections. */
export function tlsFromFlags(flags: ClientSecurityFlags): TlsOptions | undefined {
  if (!flags.cacert && !flags.cert) return undefined
  const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path))
  return { ca: read(flags.cacert), cert: read(flags.cert), key: read(flags.key) }
}

function rate(bytes: number, elapsedMs: number): string {
  return `${humanizeBytes(bytes)} in ${(elapsedMs / 1000).toFixed(1)} s (${humanizeBytes(Math.round(bytes / Math.max(elapsedMs / 1000, 0.001)))}/s)`
}

/**
 * `quorum snapshot save FILE --endpoints URL`: streams a snapshot from one Quorum or etcd member into FILE
 * (temp file, fsync, rename; sha256 trailer verified), with a progress line on stderr. Exit 0 on success,
 * 1 with `Error: <reason>` otherwise; FILE is never overwritten.
 */
export function registerSnapshotSaveCommand(snapshot: Command): void {
  const save = snapshot
    .command('save')
    .description('save a snapshot of one member (Quorum or etcd) to a file')
    .argument('<file>', 'target file (must not exist)')
    .requiredOption('--endpoints <url>', 'client URL of exactly one member')
  addClientSecurityOptions(save)
    .option('--password <password>', 'password of --user when it has no colon')
    .action(async (file: string, flags: SaveFlags) => {
      const endpoints = listOption(flags.endpoints)
      if (endpoints.length !== 1) {
        process.stderr.write('Error: snapshot must be requested to one selected node, not multiple\n')
        process.exitCode = 1
        return
      }
      const { saveSnapshot } = await import('../../snapshot/save')
      const tty = process.stderr.isTTY
      try {
        const saved = await saveSnapshot(file, {
          endpoint: endpoints[0],
          tls: tlsFromFlags(flags),
          auth: await resolveCredentials(flags),
          onProgress: ({ bytes, elapsedMs }) => {
            if (tty) process.stderr.write(`\rfetching snapshot: ${rate(bytes, elapsedMs)}   `)
          },
        })
        if (tty) process.stderr.write('\n')
        process.stderr.write(`fetched ${saved.format} snapshot: ${rate(saved.sizeBytes, saved.elapsedMs)}, sha256 ${saved.sha256}\n`)
        process.stdout.write(`Snapshot saved at ${saved.path}\n`)
      } catch (error) {
        if (tty) process.stderr.write('\n')
        process.stderr.write(`Error: ${(error as Error).message}\n`)
        process.exitCode = 1
      }
    })
}

/**
 * `quorum snapshot status FILE [-w simple|table|json]`: what `etcdctl snapshot status` prints (hash, revision,
 * total keys, total size, same layout) plus the file format. Verifies the sha256 trailer when present.
 * Exit 0 on success; exit 1 with `Error: <reason>` on stderr for a file that is not a readable snapshot.
 */
export function registerSnapshotStatusCommand(snapshot: Command): void {
  snapshot
    .command('status')
    .description('print hash, revision, key count, size and format of a snapshot file (Quorum or etcd)')
    .argument('<file>', 'snapshot file (`etcdctl snapshot save` output or a member/snap/db file)')
    .option('-w, --write-out <format>', `output format: ${STATUS_WRITE_OUTS.join(', ')}`, choiceOption(STATUS_WRITE_OUTS), 'simple')
    .action((file: string, options: { writeOut: StatusWriteOut }) => {
      try {
        // etcd compat: a missing file is reported from stat(2), as etcdctl does ("stat FILE: no such file...").
        const isFile = statSync(file).isFile()
        if (isFile && isQuorumSnapshotFile(file)) {
          process.stdout.write(quorumStatusText(file, options.writeOut))
          return
        }
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
