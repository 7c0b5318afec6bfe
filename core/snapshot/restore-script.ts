// The remote-restore runbook as commands: for a real etcd cluster that Quorum does not run, a snapshot is
// restored by hand on every member's host. This file turns the wizard's answers into the exact per-member
// `etcdctl snapshot restore` (etcd 3.4) or `etcdutl snapshot restore` (3.5+) commands, the `etcd` start
// commands that go with them, and one bash script that does both. Pure: no I/O.
//
// etcd compat: op-guide/recovery.md "Restoring a cluster": every member restores from the SAME snapshot file
// with its own --name and --initial-advertise-peer-urls, the same --initial-cluster and a NEW
// --initial-cluster-token (so the restored cluster never talks to members of the old one), into a new
// --data-dir (etcd-io/website#1092: the docs examples omit it); then every member starts with the same
// --initial-cluster / --initial-cluster-token. `--bump-revision --mark-compacted` exist only in etcdutl (3.6).

/** One member of the cluster to restore. URLs are what the member advertises; it listens on them too. */
export interface RemoteRestoreMember {
  name: string
  /** `http(s)://host:port` the other members reach this one at (--initial-advertise-peer-urls). */
  peerUrl: string
  /** `http(s)://host:port` clients use (--advertise-client-urls). */
  clientUrl: string
  /** A new, empty directory on the member's host; the restore refuses an existing one. */
  dataDir: string
}

/** What the restore wizard collects for a remote cluster. */
export interface RemoteRestoreInput {
  /** Path of the snapshot file on the members' hosts (the same file everywhere). */
  snapshotPath: string
  members: RemoteRestoreMember[]
  /** The restored cluster's token; must differ from the old cluster's (the caller generates one). */
  clusterToken: string
  /** `etcdctl` for etcd 3.4 (restore lives there), `etcdutl` for 3.5 and later. */
  tool: 'etcdctl' | 'etcdutl'
  /**
   * Raise the revision by this much and mark it compacted (Kubernetes: watchers must re-list, see
   * recovery.md); etcdutl only. 0 or absent = off.
   */
  bumpRevision?: number
}

/** The commands of one member, as argument lists and as copyable shell lines. */
export interface RemoteRestoreMemberPlan {
  name: string
  restoreArgs: string[]
  startArgs: string[]
  restoreCommand: string
  startCommand: string
}

/** The generated runbook. */
export interface RemoteRestorePlan {
  initialCluster: string
  clusterToken: string
  members: RemoteRestoreMemberPlan[]
  /** bash script: `restore.sh [restore|start|all] [member...]` (default: all members, restore then start). */
  script: string
  /** The order of operations, in plain words. */
  steps: string[]
  /** Where etcd's docs warn, for this input. */
  warnings: string[]
}

/** Why an input cannot give a correct runbook; the message names the field. */
export class RestoreScriptError extends Error {
  readonly code = 'RESTORE_SCRIPT_INPUT'
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

function checkUrl(url: string, what: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new RestoreScriptError(`${what} "${url}" is not a URL (http(s)://host:port)`)
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !parsed.port || (parsed.pathname !== '/' && parsed.pathname !== '')) {
    throw new RestoreScriptError(`${what} "${url}" must be http(s)://host:port`)
  }
  return `${parsed.protocol}//${parsed.host}`
}

/** Single-quotes `value` for POSIX shells (`'` becomes `'\''`). */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

function checkInput(input: RemoteRestoreInput): void {
  if (input.members.length === 0) throw new RestoreScriptError('at least one member is needed')
  if (!input.snapshotPath.trim()) throw new RestoreScriptError('the snapshot path is empty')
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(input.clusterToken)) throw new RestoreScriptError(`cluster token "${input.clusterToken}" must be 1-128 of A-Z a-z 0-9 _ . -`)
  const seen = { name: new Set<string>(), peer: new Set<string>(), client: new Set<string>(), dir: new Set<string>() }
  for (const member of input.members) {
    if (!NAME.test(member.name)) throw new RestoreScriptError(`member name "${member.name}" must be letters, digits, _ . - (at most 64)`)
    const peer = checkUrl(member.peerUrl, `peer URL of ${member.name}`)
    const client = checkUrl(member.clientUrl, `client URL of ${member.name}`)
    if (!member.dataDir.trim()) throw new RestoreScriptError(`data dir of ${member.name} is empty (--data-dir is required)`)
    for (const [kind, value] of [['name', member.name], ['peer', peer], ['client', client], ['dir', `${new URL(peer).hostname} ${member.dataDir}`]] as const) {
      if (seen[kind].has(value)) throw new RestoreScriptError(`two members share the ${kind === 'dir' ? 'data dir' : kind === 'name' ? 'name' : `${kind} URL`} ${value}`)
      seen[kind].add(value)
    }
  }
  const bump = input.bumpRevision ?? 0
  if (!Number.isSafeInteger(bump) || bump < 0) throw new RestoreScriptError(`bump revision ${bump} must be a whole number >= 0`)
  if (bump > 0 && input.tool !== 'etcdutl') throw new RestoreScriptError('--bump-revision needs etcdutl (etcd 3.6); etcdctl 3.4 has no such flag')
}

/** Builds the runbook for `input`; throws RestoreScriptError for an input that cannot be restored as given. */
export function buildRemoteRestorePlan(input: RemoteRestoreInput): RemoteRestorePlan {
  checkInput(input)
  const initialCluster = input.members.map((member) => `${member.name}=${checkUrl(member.peerUrl, 'peer URL')}`).join(',')
  const bump = input.bumpRevision ?? 0
  const members = input.members.map((member): RemoteRestoreMemberPlan => {
    const peer = checkUrl(member.peerUrl, 'peer URL')
    const client = checkUrl(member.clientUrl, 'client URL')
    const restoreArgs = [
      input.tool, 'snapshot', 'restore', input.snapshotPath,
      '--name', member.name,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', input.clusterToken,
      '--initial-advertise-peer-urls', peer,
      '--data-dir', member.dataDir,
      ...(bump > 0 ? ['--bump-revision', String(bump), '--mark-compacted'] : []),
    ]
    const startArgs = [
      'etcd',
      '--name', member.name,
      '--data-dir', member.dataDir,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', input.clusterToken,
      '--initial-cluster-state', 'new',
    ]
    const line = (args: string[]) => args.map(shellQuote).join(' ')
    const env = input.tool === 'etcdctl' ? 'ETCDCTL_API=3 ' : ''
    return { name: member.name, restoreArgs, startArgs, restoreCommand: env + line(restoreArgs), startCommand: line(startArgs) }
  })
  const warnings = [
    'Every member must restore from the same snapshot file; copy it to each host first and compare its sha256.',
    `The new cluster token ${input.clusterToken} must never be the old cluster's token, or restored members may talk to old ones.`,
    'Stop every old member before starting a restored one; their data dirs stay untouched (the restore writes new ones).',
  ]
  if (bump === 0) warnings.push('Kubernetes clusters need --bump-revision and --mark-compacted (etcdutl 3.6) so watchers re-list after the restore.')
  if (input.members.length % 2 === 0) warnings.push(`${input.members.length} members tolerate no more failures than ${input.members.length - 1}; prefer an odd count.`)
  const steps = [
    'Stop every member of the old cluster (all of them, before any restored member starts).',
    `Copy ${input.snapshotPath} to every member's host.`,
    ...members.map((member) => `On ${member.name}: ${member.restoreCommand}`),
    ...members.map((member) => `On ${member.name}: ${member.startCommand}`),
    'Verify: etcdctl endpoint status --cluster and read a few keys.',
  ]
  return { initialCluster, clusterToken: input.clusterToken, members, script: script(input, members), steps, warnings }
}

function script(input: RemoteRestoreInput, members: RemoteRestoreMemberPlan[]): string {
  const cases = (pick: (member: RemoteRestoreMemberPlan) => string[], member: RemoteRestoreMember) =>
    pick(members.find((plan) => plan.name === member.name)!).map(shellQuote).join(' ')
  const restoreCases = input.members
    .map((member) => `    ${shellQuote(member.name)}) ${input.tool === 'etcdctl' ? 'ETCDCTL_API=3 ' : ''}${cases((plan) => plan.restoreArgs, member)} ;;`)
    .join('\n')
  const startCases = input.members
    .map(
      (member) =>
        `    ${shellQuote(member.name)})\n      nohup ${cases((plan) => plan.startArgs, member)} >>${shellQuote(`${member.dataDir}.log`)} 2>&1 &\n` +
        `      echo $! >${shellQuote(`${member.dataDir}.pid`)}\n      echo "started ${member.name} (pid $!), log ${member.dataDir}.log" ;;`,
    )
    .join('\n')
  return `#!/usr/bin/env bash
# Restore etcd from one snapshot into a NEW cluster (token ${input.clusterToken}).
# Generated by Quorum. Steps: stop every old member; copy the snapshot to every host; on each host run
#   ./restore.sh restore <member>   then, once all are restored,   ./restore.sh start <member>
# With every member on this host, \`./restore.sh\` does all of it. Each etcd logs to <data-dir>.log and
# writes its pid to <data-dir>.pid; a real deployment starts etcd from its service manager instead.
set -euo pipefail

SNAPSHOT=${shellQuote(input.snapshotPath)}
MEMBERS=(${input.members.map((member) => shellQuote(member.name)).join(' ')})

restore_member() {
  if [ ! -f "$SNAPSHOT" ]; then echo "snapshot $SNAPSHOT not found" >&2; exit 1; fi
  case "$1" in
${restoreCases}
    *) echo "unknown member $1" >&2; exit 2 ;;
  esac
}

start_member() {
  case "$1" in
${startCases}
    *) echo "unknown member $1" >&2; exit 2 ;;
  esac
}

action="\${1:-all}"
[ $# -gt 0 ] && shift
targets=("$@")
[ \${#targets[@]} -eq 0 ] && targets=("\${MEMBERS[@]}")

case "$action" in
  restore) for m in "\${targets[@]}"; do restore_member "$m"; done ;;
  start) for m in "\${targets[@]}"; do start_member "$m"; done ;;
  all)
    for m in "\${targets[@]}"; do restore_member "$m"; done
    for m in "\${targets[@]}"; do start_member "$m"; done ;;
  *) echo "usage: $0 [restore|start|all] [member...]" >&2; exit 2 ;;
esac
`
}
