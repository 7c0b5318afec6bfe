// The full restore drill: restore a backup into a throw-away single-member Quorum cluster and compare it with
// what the source member said at backup time.
//
//   drillBackup (sha256, trailer, revision, records) ─► `quorum snapshot restore` into WORK/data
//     ─► `quorum node` on free ports ─► /health ─► live key count and HashKV at the snapshot's revision
//     ─► compare with the sidecar ─► SIGTERM (SIGKILL after 5 s) ─► remove WORK, always.

import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { EtcdClient } from '../client'
import type { MemberCommand } from '../cluster/launcher'
import { probeHealth } from '../cluster/launcher'
import { freePorts } from '../cluster/ports'
import { signal, waitForExit } from '../cluster/process'
import { assert } from '../util/assert'
import { drillBackup, type DrillOutcome } from './drill'
import { describeError } from './errors'
import type { BackupMetadata } from './files'

/** How to run the throw-away member. */
export interface RestoreDrillOptions {
  /** The command that runs `quorum node` (its last argument is `node`), as LocalCluster takes it. */
  quorumCommand: MemberCommand
  /** Parent of the temporary work directory. */
  tmpDir: string
  /** Max wait for the restored member to be healthy. Default 60 s. */
  healthTimeoutMs?: number
  /**
   * User and password for the restored member: a snapshot of a cluster with auth enabled restores with auth
   * enabled and the same users, so the drill signs in as the backup did. Held in memory only.
   */
  auth?: { username: string; password: string }
}

/** The key-space facts a drill compares: live keys and HashKV at a revision. */
export interface KeySpaceFacts {
  liveKeys: number
  hashKV: number
}

const ALL_KEYS = Buffer.from([0]) // etcd compat: key "\0" with range_end "\0" selects every key

/** Live keys and HashKV of the member behind `endpoint` at `revision` (the newest when 0). */
export async function keySpaceFacts(client: EtcdClient, endpoint: string, revision: number): Promise<KeySpaceFacts> {
  const range = await client.kv.range(ALL_KEYS, { rangeEnd: ALL_KEYS, countOnly: true, revision, serializable: true }, { endpoint })
  const hash = await client.maintenance.hashKV(revision, { endpoint })
  return { liveKeys: range.count, hashKV: hash.hash }
}

async function waitHealthy(clientUrl: string, timeoutMs: number, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let reason = ''
  while (Date.now() < deadline) {
    const gone = exited()
    if (gone !== null) throw new Error(`restored member exited: ${gone}`)
    const health = await probeHealth(clientUrl)
    if (health.healthy) return
    reason = health.reason
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`restored member not healthy after ${timeoutMs} ms: ${reason}`)
}

/**
 * Runs the status drill, then restores `path` with `quorum snapshot restore` and starts it as a single member
 * on free ports; passes when its live key count and HashKV at the backup's revision equal the sidecar's
 * (fields the sidecar lacks are not compared). Never throws for a bad backup; the member and the work
 * directory are removed whatever happens.
 */
export async function restoreDrill(path: string, metadata: BackupMetadata, options: RestoreDrillOptions): Promise<DrillOutcome> {
  const checked = await drillBackup(path, metadata)
  if (!checked.passed || checked.facts === null) return checked
  const revision = checked.facts.revision
  const { command, args, env } = options.quorumCommand
  assert(args.at(-1) === 'node', `quorumCommand must end in "node", got ${args.join(' ')}`)
  const cli = args.slice(0, -1)
  const work = mkdtempSync(join(options.tmpDir, 'quorum-drill-'))
  const dataDir = join(work, 'data')
  const [clientPort, peerPort] = await freePorts(2)
  const clientUrl = `http://127.0.0.1:${clientPort}`
  const peerUrl = `http://127.0.0.1:${peerPort}`
  const token = `drill-${process.pid}-${peerPort}`
  let child: ReturnType<typeof spawn> | null = null
  let client: EtcdClient | null = null
  try {
    const restored = spawnSync(command, [...cli, 'snapshot', 'restore', path, '--name', 'drill', '--initial-cluster', `drill=${peerUrl}`,
      '--initial-cluster-token', token, '--initial-advertise-peer-urls', peerUrl, '--data-dir', dataDir], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 120_000,
    })
    if (restored.status !== 0) {
      return { passed: false, reason: `quorum snapshot restore failed (exit ${restored.status}): ${(restored.stderr || restored.stdout).trim()}`, facts: checked.facts }
    }
    let exitNote: string | null = null
    child = spawn(command, [...args, '--name', 'drill', '--data-dir', dataDir, '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--initial-cluster', `drill=${peerUrl}`, '--initial-cluster-token', token], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    })
    child.once('exit', (code, name) => {
      exitNote = `code ${code ?? name}`
    })
    await waitHealthy(clientUrl, options.healthTimeoutMs ?? 60_000, () => exitNote)
    client = new EtcdClient({ endpoints: [clientUrl], retry: { maxAttempts: 2 }, auth: options.auth })
    const facts = await keySpaceFacts(client, clientUrl, revision)
    const problems: string[] = []
    if (metadata.liveKeys !== null && facts.liveKeys !== metadata.liveKeys) problems.push(`restored live keys ${facts.liveKeys} != ${metadata.liveKeys} at the source`)
    if (metadata.hashKV !== null && facts.hashKV !== metadata.hashKV) problems.push(`restored HashKV ${facts.hashKV} != ${metadata.hashKV} at the source (revision ${revision})`)
    return { passed: problems.length === 0, reason: problems.length === 0 ? null : problems.join('; '), facts: checked.facts }
  } catch (error) {
    return { passed: false, reason: `restore drill: ${describeError(error)}`, facts: checked.facts }
  } finally {
    client?.close()
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      signal(child.pid, 'SIGTERM')
      if (!(await waitForExit(child.pid, 5000))) signal(child.pid, 'SIGKILL')
      await waitForExit(child.pid, 5000)
    }
    rmSync(work, { recursive: true, force: true })
  }
}
