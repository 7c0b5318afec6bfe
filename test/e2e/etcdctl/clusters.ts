import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { LocalCluster, type UpOptions } from '../../../core/cluster/launcher'
import { etcdctl } from '../../support/etcd'
import { tempDir } from '../../support/temp-dir'

// A reusable fixture: a Quorum cluster and a real etcd 3.4 cluster started the same way, by core/cluster's
// LocalCluster, with the flags of etcd's clustering guide (static bootstrap: --name, --initial-advertise-peer-urls,
// --listen-peer-urls, --listen-client-urls, --advertise-client-urls, --initial-cluster-token, --initial-cluster,
// --initial-cluster-state new) plus --heartbeat-interval/--election-timeout/--snapshot-count.

/** How tests start `quorum node`: this Node running the bundled CLI (`npm run build` first; pretest does). */
export const QUORUM_COMMAND = { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] }

/** A started cluster of one engine, with its temp dir. */
export interface TestCluster {
  engine: 'quorum' | 'etcd'
  cluster: LocalCluster
  /** Client URLs, comma-separated. */
  endpoints: string
  /** Kills every member and removes the directory. */
  stop(): Promise<void>
}

/** Starts a cluster of `engine` with `size` members on free ports; the caller must `stop()` it. */
export async function startTestCluster(engine: 'quorum' | 'etcd', options: Partial<UpOptions> = {}): Promise<TestCluster> {
  const dir = tempDir(`quorum-${engine}-`)
  try {
    const cluster = await LocalCluster.up({
      size: 3,
      ...options,
      dir: join(dir.path, 'cluster'),
      engine,
      quorumCommand: QUORUM_COMMAND,
      healthTimeoutMs: 60_000,
    })
    return {
      engine,
      cluster,
      endpoints: cluster.endpoints(),
      async stop() {
        for (const member of cluster.manifest.members) {
          try {
            await cluster.kill(member.name)
          } catch {
            // not running (already killed by the test)
          }
        }
        dir.remove()
      },
    }
  } catch (error) {
    dir.remove()
    throw error
  }
}

/** Starts a Quorum and a real etcd cluster with the same options, one after the other. */
export async function startBothClusters(options: Partial<UpOptions> = {}): Promise<{ quorum: TestCluster; etcd: TestCluster; stop(): Promise<void> }> {
  const quorum = await startTestCluster('quorum', options)
  let etcd: TestCluster
  try {
    etcd = await startTestCluster('etcd', options)
  } catch (error) {
    await quorum.stop()
    throw error
  }
  return { quorum, etcd, stop: async () => void (await Promise.all([quorum.stop(), etcd.stop()])) }
}

/** One etcdctl run: stdout and stderr concatenated, and the exit status. */
export function runEtcdctl(endpoints: string, args: string[], input?: string): { status: number | null; output: string } {
  const result = etcdctl(endpoints, args, input)
  return { status: result.status, output: result.stdout + result.stderr }
}

/** Runs etcdctl in the background (e.g. `watch`) and resolves with its stdout when it exits or after `ms`. */
export function etcdctlFor(endpoints: string, args: string[], ms: number): { output: Promise<string> } {
  const child = spawn('etcdctl', ['--endpoints', endpoints, ...args], { env: { ...process.env, ETCDCTL_API: '3' } })
  let text = ''
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
  const timer = setTimeout(() => child.kill('SIGTERM'), ms)
  return {
    output: new Promise((resolve) =>
      child.once('close', () => {
        clearTimeout(timer)
        resolve(text)
      }),
    ),
  }
}
