import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
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

/** `words` as one POSIX shell command line (each word single-quoted). */
function shellWords(words: string[]): string {
  return words.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ')
}

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
 * Runs this same Node command (same loader flags and arguments) again inside a fresh network and mount
 * namespace with loopback up, and resolves with its exit code. Output is inherited.
 */
export function runInPrivateNetns(): Promise<number> {
  const command = [process.execPath, ...process.execArgv, ...process.argv.slice(1)]
  // A private mount namespace too: tmpfs data dirs (disk-full) vanish with the run like the network rules.
  const child = spawn('unshare', ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', ...command], {
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
  const quoted = shellWords(target)
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

/**
 * Flaky links: every packet a member in `members` sends to another member's peer port is dropped with
 * probability `percent`% (nftables `numgen random`), so TCP retransmits and the links stall and jitter. An
 * empty list heals. Uses its own table, so it combines with a partition.
 */
export function applyLoss(members: number[], percent: number, peerPorts: number[]): void {
  if (!inPrivateNetns()) throw new Error('refusing to change nftables outside the private network namespace of the run')
  spawnSync('nft', ['delete', 'table', 'inet', 'quorum_chaos_loss'], { stdio: 'ignore' })
  if (members.length === 0) return
  const rules = members.map((from) => `  meta skuid ${BASE_UID + from + 1} tcp dport { ${peerPorts.filter((_, to) => to !== from).join(', ')} } numgen random mod 100 < ${percent} drop`)
  const table = `table inet quorum_chaos_loss {\n chain out {\n  type filter hook output priority 0; policy accept;\n${rules.join('\n')}\n }\n}\n`
  const result = spawnSync('nft', ['-f', '-'], { input: table, encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`nft failed: ${result.stderr}`)
}

/**
 * A slow network: a token bucket (`tc qdisc tbf`) on the namespace's loopback limits every flow, peers and
 * clients alike, to `rateKbit` with up to `latencyMs` of queueing (the kernel here has no netem). null heals.
 */
export function applySlowLoopback(rateKbit: number | null, latencyMs = 300): void {
  if (!inPrivateNetns()) throw new Error('refusing to shape traffic outside the private network namespace of the run')
  spawnSync('tc', ['qdisc', 'del', 'dev', 'lo', 'root'], { stdio: 'ignore' })
  if (rateKbit === null) return
  const result = spawnSync('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', '16kb', 'latency', `${latencyMs}ms`], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`tc failed: ${result.stderr}`)
}

/** libfaketime, which shifts a process's wall clock (CLOCK_REALTIME) but, with DONT_FAKE_MONOTONIC, not its monotonic clock. */
export const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1'

/**
 * A wrapper script that runs `target "$@"` under libfaketime with the wall-clock offset read from
 * `<dir>/clock-<name>` (its --name), re-read every second: writing "+30s" there jumps that member's wall
 * clock 30 s ahead while it runs (reliability-methods.md §5.6). The monotonic clock stays real, as it must:
 * skewing the rate of the clock durations are measured with would break any system's leases.
 */
export function clockWrapper(target: string[]): { dir: string; path: string; setOffset: (name: string, offset: string) => void; remove: () => void } {
  const dir = tempDir('quorum-chaos-clock-')
  const quoted = shellWords(target)
  const script = `#!/bin/sh
# Quorum chaos harness: run the member under libfaketime with a per-member wall-clock offset file.
prev=""; name=""
for arg in "$@"; do
  case "$prev" in --name) name="$arg" ;; esac
  prev="$arg"
done
file="${dir.path}/clock-$name"
[ -f "$file" ] || echo "+0" > "$file"
export LD_PRELOAD="${LIBFAKETIME}" DONT_FAKE_MONOTONIC=1 FAKETIME_TIMESTAMP_FILE="$file" FAKETIME_CACHE_DURATION=1
exec ${quoted} "$@"
`
  const path = join(dir.path, 'quorum-node')
  writeFileSync(path, script)
  chmodSync(path, 0o755)
  return { dir: dir.path, path, setOffset: (name, offset) => writeFileSync(join(dir.path, `clock-${name}`), `${offset}\n`), remove: dir.remove }
}

/**
 * Mounts a tmpfs of `sizeBytes` on the empty directory `dir` (only inside the run's private namespaces), so
 * what is written there can run out of space. Returns the unmount.
 */
export function mountSmallDisk(dir: string, sizeBytes: number): () => void {
  if (!inPrivateNetns()) throw new Error('refusing to mount outside the private mount namespace of the run')
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'quorum-chaos', dir], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`mount failed: ${result.stderr}`)
  return () => void spawnSync('umount', ['-l', dir], { stdio: 'ignore' })
}

/**
 * Fills the filesystem holding `dir` to the last byte (a filler file written until ENOSPC). Returns the
 * filler's size and a function that deletes it.
 */
export function fillDisk(dir: string): { bytes: number; release: () => void } {
  const path = join(dir, 'chaos-filler')
  const fd = openSync(path, 'w')
  let bytes = 0
  try {
    for (const chunk of [Buffer.alloc(1 << 20), Buffer.alloc(4096), Buffer.alloc(64)]) {
      for (;;) {
        try {
          bytes += writeSync(fd, chunk)
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
          break
        }
      }
    }
  } finally {
    closeSync(fd)
  }
  return { bytes, release: () => rmSync(path, { force: true }) }
}
