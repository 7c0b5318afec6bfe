import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../support/temp-dir'

/**
 * Network partitions on loopback (reliability-methods.md §5.3): the run executes in a private network
 * namespace (`unshare --net`, so no rule ever touches the host and the namespace vanishes with the run),
 * every member runs under its own uid, and nftables drops a member's packets to the other members' peer
 * ports by socket owner (`meta skuid`). On loopback every packet has source 127.0.0.1, so the uid is the only
 * reliable way to tell which member sent it.
 */

/** Environment flag set inside the namespace the harness re-executed itself into. */
const IN_NETNS = 'QUORUM_CHAOS_NETNS'

/** First uid for members; member `etcdN` runs as BASE_UID + N. Numeric uids need no /etc/passwd entry. */
export const BASE_UID = 41000

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0

/** Why partitions cannot run here, or null if they can (root, nft, unshare and setpriv present). */
export function partitionUnsupportedReason(): string | null {
  if (process.getuid?.() !== 0) return 'partitions need root (private netns, per-member uids, nftables)'
  const missing = ['nft', 'unshare', 'setpriv', 'ip'].filter((bin) => !has(bin))
  return missing.length > 0 ? `missing tools: ${missing.join(', ')} (apt-get install -y nftables util-linux iproute2)` : null
}

/** True inside the private namespace made by `runInPrivateNetns`. */
export function inPrivateNetns(): boolean {
  return process.env[IN_NETNS] === '1'
}

/**
 * Runs this same Node command (same loader flags and arguments) again inside a fresh network namespace with
 * loopback up, and resolves with its exit code. Output is inherited.
 */
export function runInPrivateNetns(): Promise<number> {
  const command = [process.execPath, ...process.execArgv, ...process.argv.slice(1)]
  const child = spawn('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', ...command], {
    stdio: 'inherit',
    env: { ...process.env, [IN_NETNS]: '1' },
  })
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))))
}

/**
 * A directory holding a wrapper script `name` that starts member N (the digits of its --name: etcd1, infra2)
 * as `target "$@"` under uid BASE_UID + N, after giving that uid its --data-dir. Put the directory first on
 * PATH (etcd) or use the script as the member command (Quorum). The wrapper execs, so the member's PID is
 * still the one the harness signals.
 */
export function uidWrapper(name: string, target: string[]): { dir: string; path: string; remove: () => void } {
  const dir = tempDir('quorum-chaos-bin-')
  const quoted = target.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ')
  const script = `#!/bin/sh
# Quorum chaos harness: run member N under uid ${BASE_UID}+N so nftables can match its packets.
prev=""; name=""; data=""
for arg in "$@"; do
  case "$prev" in --name) name="$arg" ;; --data-dir) data="$arg" ;; esac
  prev="$arg"
done
uid=$((${BASE_UID} + $(printf %s "$name" | tr -cd 0-9)))
mkdir -p "$data" && chown -R "$uid:$uid" "$data" && chmod 755 "$(dirname "$data")" || exit 1
exec setpriv --reuid="$uid" --regid="$uid" --clear-groups ${quoted} "$@"
`
  const path = join(dir.path, name)
  writeFileSync(path, script)
  chmodSync(path, 0o755)
  chmodSync(dir.path, 0o755)
  return { dir: dir.path, path, remove: dir.remove }
}

/** The uid wrapper for the system etcd (see `uidWrapper`). */
export function etcdUidWrapper(): { dir: string; remove: () => void } {
  const realEtcd = spawnSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' }).stdout.trim()
  return uidWrapper('etcd', [realEtcd])
}

/**
 * Replaces the partition rules: members in different groups cannot reach each other's peer ports (both
 * directions, every packet, so established connections stall as in a real blackhole). `peerPorts[i]` and
 * uid BASE_UID + i + 1 belong to member i. An empty list of groups heals.
 */
export function applyPartition(groups: number[][], peerPorts: number[]): void {
  // Never touch the host's ruleset: rules only ever go into the namespace this run created.
  if (!inPrivateNetns()) throw new Error('refusing to change nftables outside the private network namespace of the run')
  spawnSync('nft', ['delete', 'table', 'inet', 'quorum_chaos'], { stdio: 'ignore' })
  if (groups.length === 0) return
  const groupOf = new Map<number, number>()
  groups.forEach((group, g) => group.forEach((member) => groupOf.set(member, g)))
  const rules: string[] = []
  for (const [from, fromGroup] of groupOf) {
    const blocked = [...groupOf].filter(([, g]) => g !== fromGroup).map(([to]) => peerPorts[to])
    if (blocked.length > 0) rules.push(`  meta skuid ${BASE_UID + from + 1} tcp dport { ${blocked.join(', ')} } drop`)
  }
  const table = `table inet quorum_chaos {\n chain out {\n  type filter hook output priority 0; policy accept;\n${rules.join('\n')}\n }\n}\n`
  const result = spawnSync('nft', ['-f', '-'], { input: table, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`nft failed: ${result.stderr}`)
}
