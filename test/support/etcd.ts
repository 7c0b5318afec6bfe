import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { freePorts } from './ports'
import { tempDir } from './temp-dir'

/** One member of a real etcd 3.4 cluster (Debian `etcd-server`) started by a test. */
export interface EtcdMember {
  name: string
  clientUrl: string
  peerUrl: string
  metricsUrl: string
  dataDir: string
  process: ChildProcess | null
  /** Resolves once the last killed process of this member has exited (its ports are free again). */
  exited?: Promise<void>
  /** The last few KiB the member wrote to stderr (its zap log), for failure messages. */
  stderrTail?: string
}

/** A real etcd cluster on 127.0.0.1, the reference every compatibility test compares Quorum against. */
export interface EtcdCluster {
  members: EtcdMember[]
  /** Client URLs joined by commas, as `--endpoints` takes them. */
  endpoints: string
  /** SIGKILLs member `index` (its data dir stays); `restart` waits until it is gone. */
  kill(index: number): void
  /** Starts member `index` again with the same flags (`--initial-cluster-state existing`). */
  restart(index: number): Promise<void>
  /** Kills every member and removes the data dirs. */
  stop(): Promise<void>
}

export interface StartEtcdOptions {
  size?: number
  /** Extra flags for every member, e.g. ['--auth-token', 'simple']. */
  extraArgs?: string[]
  /** Environment for the members (e.g. ETCD_* variables). */
  env?: NodeJS.ProcessEnv
  heartbeatMs?: number
  electionMs?: number
}

/** Runs `etcdctl` (API v3) synchronously and returns its output; never throws on a non-zero exit. */
export function etcdctl(endpoints: string, args: string[], input?: string) {
  const result = spawnSync('etcdctl', ['--endpoints', endpoints, ...args], {
    encoding: 'utf8',
    input,
    env: { ...process.env, ETCDCTL_API: '3' },
    timeout: 30_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Waits until `member` answers /health with true (etcd 3.4: it has a leader and serves a read through Raft). */
export async function waitHealthy(member: EtcdMember, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let lastError = ''
  while (Date.now() < deadline) {
    throwIfExited(member.name, member.process, member.stderrTail ?? '')
    try {
      const response = await fetch(`${member.clientUrl}/health`, { signal: AbortSignal.timeout(2000) })
      const body = (await response.json()) as { health?: string }
      if (body.health === 'true') return
      lastError = JSON.stringify(body)
    } catch (error) {
      lastError = String(error)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`etcd member ${member.name} not healthy after ${timeoutMs} ms: ${lastError}`)
}

/** An etcd member process ended while the test waited for it to become healthy. */
export class EtcdExitedError extends Error {}

/** Throws EtcdExitedError, with `log` (the member's stderr), when `child` has ended: it will never be healthy. */
export function throwIfExited(name: string, child: ChildProcess | null, log: string): void {
  if (child && (child.exitCode !== null || child.signalCode !== null)) {
    throw new EtcdExitedError(`etcd member ${name} exited (${child.exitCode ?? child.signalCode}) before it was healthy: ${log}`)
  }
}

/**
 * Runs `start` (which starts a cluster on free ports) again, up to 3 times, while it fails because a member
 * exited with "address already in use": ports are picked free, but another test process may take one before etcd
 * binds it.
 */
export async function retryWhenPortTaken<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start()
    } catch (error) {
      if (!(error instanceof EtcdExitedError && error.message.includes('address already in use')) || attempt >= 3) throw error
    }
  }
}

/**
 * Starts a real etcd 3.4 cluster of `size` members on free ports and waits until every member is healthy; started
 * again on other ports when a port was taken meanwhile (retryWhenPortTaken).
 */
export function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdCluster> {
  return retryWhenPortTaken(() => startEtcdOnce(options))
}

async function startEtcdOnce(options: StartEtcdOptions): Promise<EtcdCluster> {
  const size = options.size ?? 1
  const dir = tempDir('quorum-etcd-')
  const ports = await freePorts(size * 3)
  const token = `etcd-test-${process.pid}-${ports[0]}`
  const members: EtcdMember[] = Array.from({ length: size }, (_, i) => ({
    name: `etcd${i + 1}`,
    clientUrl: `http://127.0.0.1:${ports[i * 3]}`,
    peerUrl: `http://127.0.0.1:${ports[i * 3 + 1]}`,
    metricsUrl: `http://127.0.0.1:${ports[i * 3 + 2]}`,
    dataDir: join(dir.path, `etcd${i + 1}`),
    process: null,
  }))
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',')

  const launch = (member: EtcdMember, state: 'new' | 'existing') => {
    mkdirSync(member.dataDir, { recursive: true, mode: 0o700 })
    const args = [
      '--name', member.name,
      '--data-dir', member.dataDir,
      '--listen-client-urls', member.clientUrl,
      '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.peerUrl,
      '--initial-advertise-peer-urls', member.peerUrl,
      '--listen-metrics-urls', member.metricsUrl,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', token,
      '--initial-cluster-state', state,
      '--heartbeat-interval', String(options.heartbeatMs ?? 100),
      '--election-timeout', String(options.electionMs ?? 1000),
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      '--log-level', 'error',
      ...(options.extraArgs ?? []),
    ]
    member.process = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...options.env } })
    member.stderrTail = ''
    member.process.stderr?.on('data', (chunk: Buffer) => (member.stderrTail = (member.stderrTail + chunk.toString('utf8')).slice(-4096)))
  }

  for (const member of members) launch(member, 'new')
  const cluster: EtcdCluster = {
    members,
    endpoints: members.map((m) => m.clientUrl).join(','),
    kill(index) {
      const child = members[index].process
      members[index].process = null
      if (!child) return
      members[index].exited = child.exitCode !== null || child.signalCode !== null ? undefined : new Promise((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGKILL')
    },
    async restart(index) {
      // SIGKILL is asynchronous: a process not yet reaped still holds its ports, and the new one would fail to bind
      await members[index].exited
      launch(members[index], 'existing')
      await waitHealthy(members[index], 20_000)
    },
    async stop() {
      await Promise.all(
        members.map(
          (member) =>
            new Promise<void>((resolve) => {
              const child = member.process
              member.process = null
              if (!child || child.exitCode !== null || child.signalCode !== null) return resolve()
              child.once('exit', () => resolve())
              child.kill('SIGKILL')
            }),
        ),
      )
      dir.remove()
    },
  }
  try {
    await Promise.all(members.map((member) => waitHealthy(member, 30_000)))
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}
