import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs'
import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import { initCertificates } from '../certs/init'
import { join, resolve } from 'node:path'
import { freePorts } from './ports'
import { ensureLinkProxyProcess, linkProxyEnv, planLinkProxies, readLinkProxyConfig, stopLinkProxyProcess, writeLinkProxyConfig } from './link-proxy'
import { stopClusterPrometheus } from './prometheus'
import { isAlive, isPaused, signal, waitForExit } from './process'
import { readManifest, writeManifest, type ClusterEngine, type ClusterManifest, type ManifestMember, type ManifestTls } from './manifest'

// Local clusters: N member processes on 127.0.0.1 with their own ports and data dirs under one directory,
// described by DIR/cluster.json. No Raft logic here: members are `quorum node` (or real `etcd`) processes
// started with etcd's flags, so killing one from here is as real as a crash.

/** How to start a member process of an engine (the executable and the arguments before etcd's flags). */
export interface MemberCommand {
  command: string
  args: string[]
  env?: NodeJS.ProcessEnv
}

/** Thrown for operations that cannot be done in the cluster's current state (unknown member, not running...). */
export class ClusterOperationError extends Error {
  readonly code = 'CLUSTER_OPERATION'
}

export interface UpOptions {
  dir: string
  size: number
  engine?: ClusterEngine
  /** First port; members take base+i (client), base+100+i (peer), base+200+i (metrics). 0/undefined: free ports. */
  basePort?: number
  heartbeatMs?: number
  electionMs?: number
  snapshotCount?: number
  /** Extra flags for every member. */
  extraArgs?: string[]
  /** Command for the quorum engine (default: this Node running the bundled CLI, see defaultQuorumCommand). */
  quorumCommand?: MemberCommand
  /** Progress lines ("member infra2 healthy"). */
  onProgress?: (line: string) => void
  /** Max time to wait for every member to be healthy. */
  healthTimeoutMs?: number
  /** Client and peer TLS with client-certificate auth (certificates under DIR/certs, CA + root client cert). */
  tls?: boolean
  /** Route peer traffic through per-link proxies for network drills (core/cluster/link-proxy.ts; quorum engine). */
  linkProxies?: boolean
}

/** Health of one member as seen from outside. */
export interface MemberHealth {
  name: string
  pid: number
  running: boolean
  paused: boolean
  healthy: boolean
  /** etcd's /health reason or the connection error. */
  reason: string
}

/**
 * The command that runs `quorum node` from the current `quorum` CLI: this Node (or Electron as Node) with the
 * CLI script the process was started with. Library users outside the CLI pass their own MemberCommand.
 */
export function defaultQuorumCommand(): MemberCommand {
  const script = process.argv[1]
  if (!script || !/cli\.js$|quorum(\.mjs)?$/.test(script)) {
    throw new ClusterOperationError('cannot tell how to start `quorum node` from this process; pass quorumCommand')
  }
  return { command: process.execPath, args: [script, 'node'], env: process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {} }
}

/** Reads the CA and root client certificate of a TLS cluster, for health probes and clients. */
export function clusterTlsFiles(tls: ManifestTls): { ca: Buffer; cert: Buffer; key: Buffer } {
  return { ca: readFileSync(tls.caFile), cert: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) }
}

/** Fetches etcd's /health JSON from a member's client URL (over TLS with `tls`'s root client certificate). */
export async function probeHealth(clientUrl: string, timeoutMs = 1000, tls: ManifestTls | null = null): Promise<{ healthy: boolean; reason: string }> {
  const url = new URL('/health', clientUrl)
  const files = tls && url.protocol === 'https:' ? clusterTlsFiles(tls) : {}
  return new Promise((resolve) => {
    const request = (url.protocol === 'https:' ? httpsGet : httpGet)(url, { ...files, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { health?: string; reason?: string }
          resolve({ healthy: body.health === 'true', reason: body.reason ?? '' })
        } catch (error) {
          resolve({ healthy: false, reason: (error as Error).message })
        }
      })
    })
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    request.on('error', (error) => resolve({ healthy: false, reason: error.message }))
  })
}

/** Creates (or extends, reusing the CA) the certificates of a TLS cluster under DIR/certs. */
export async function ensureClusterCertificates(dir: string, memberNames: string[]): Promise<ManifestTls> {
  const certDir = join(dir, 'certs')
  const clientNames = existsSync(join(certDir, 'client-root.crt')) ? [] : ['root']
  await initCertificates({ dir: certDir, hosts: ['127.0.0.1', 'localhost', '::1'], memberNames, clientNames })
  return { caFile: join(certDir, 'ca.crt'), clientCertFile: join(certDir, 'client-root.crt'), clientKeyFile: join(certDir, 'client-root.key') }
}

/** A local cluster described by DIR/cluster.json. */
export class LocalCluster {
  manifest: ClusterManifest

  private constructor(
    readonly dir: string,
    manifest: ClusterManifest,
    private readonly quorumCommand: MemberCommand | undefined,
  ) {
    this.manifest = manifest
  }

  /** Opens an existing cluster directory. */
  static open(dir: string, quorumCommand?: MemberCommand): LocalCluster {
    return new LocalCluster(resolve(dir), readManifest(resolve(dir)), quorumCommand)
  }

  /**
   * Creates DIR (which must not hold a cluster yet), allocates ports, writes the manifest, starts every member
   * and waits until all are healthy. On failure, members already started are stopped.
   */
  static async up(options: UpOptions): Promise<LocalCluster> {
    const dir = resolve(options.dir)
    if (options.size < 1 || options.size > 9) throw new ClusterOperationError(`cluster size must be between 1 and 9, not ${options.size}`)
    if (existsSync(join(dir, 'cluster.json'))) throw new ClusterOperationError(`${dir} already holds a cluster (use \`quorum cluster start\` or remove it)`)
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new ClusterOperationError(`${dir} is not empty`)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const ports = options.basePort
      ? Array.from({ length: options.size }, (_, i) => [options.basePort! + i, options.basePort! + 100 + i, options.basePort! + 200 + i]).flat()
      : await freePorts(options.size * 3)
    const scheme = options.tls ? 'https' : 'http'
    const members: ManifestMember[] = Array.from({ length: options.size }, (_, i) => ({
      name: `member${i + 1}`,
      id: '',
      clientURL: `${scheme}://127.0.0.1:${ports[i * 3]}`,
      peerURL: `${scheme}://127.0.0.1:${ports[i * 3 + 1]}`,
      metricsURL: `http://127.0.0.1:${ports[i * 3 + 2]}`,
      dataDir: join(dir, `member${i + 1}`),
      logFile: join(dir, `member${i + 1}.log`),
      pid: 0,
      bootstrapped: false,
    }))
    const manifest: ClusterManifest = {
      version: 1,
      engine: options.engine ?? 'quorum',
      token: `quorum-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      createdAt: new Date().toISOString(),
      heartbeatMs: options.heartbeatMs ?? 100,
      electionMs: options.electionMs ?? 1000,
      snapshotCount: options.snapshotCount ?? 100000,
      tls: options.tls ? await ensureClusterCertificates(dir, members.map((m) => m.name)) : null,
      members,
    }
    writeManifest(dir, manifest)
    const cluster = new LocalCluster(dir, manifest, options.quorumCommand)
    try {
      if (options.linkProxies) {
        if (manifest.engine !== 'quorum') throw new ClusterOperationError('network drills (link proxies) need the quorum engine')
        writeLinkProxyConfig(dir, await planLinkProxies(members, ports))
        await cluster.ensureLinkProxies()
      }
      for (const member of members) cluster.spawnMember(member, options.extraArgs ?? [])
      await cluster.waitHealthy(members.map((m) => m.name), options.healthTimeoutMs ?? 30_000, options.onProgress)
    } catch (error) {
      await cluster.down()
      throw error
    }
    return cluster
  }

  /** Writes the manifest after changes made through `manifest`. */
  save(): void {
    writeManifest(this.dir, this.manifest)
  }

  /** The member named `name`. */
  member(name: string): ManifestMember {
    const member = this.manifest.members.find((m) => m.name === name)
    if (!member) throw new ClusterOperationError(`no member named "${name}" (members: ${this.manifest.members.map((m) => m.name).join(', ')})`)
    return member
  }

  /** Members that are part of the cluster (not removed). */
  activeMembers(): ManifestMember[] {
    return this.manifest.members.filter((m) => !m.removed)
  }

  /** Client URLs of the active members, comma-separated (etcdctl --endpoints). */
  endpoints(): string {
    return this.activeMembers().map((m) => m.clientURL).join(',')
  }

  /**
   * The etcd flags of `member` (shared by both engines). Members created by `up` bootstrap a new cluster;
   * members added later join it (`existing`). Once a data dir exists both engines ignore the initial-cluster flags.
   */
  memberFlags(member: ManifestMember): string[] {
    const initialCluster = this.activeMembers().map((m) => `${m.name}=${m.peerURL}`).join(',')
    return [
      '--name', member.name,
      '--data-dir', member.dataDir,
      '--listen-client-urls', member.clientURL,
      '--advertise-client-urls', member.clientURL,
      '--listen-peer-urls', member.peerURL,
      '--initial-advertise-peer-urls', member.peerURL,
      '--listen-metrics-urls', member.metricsURL,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', this.manifest.token,
      '--initial-cluster-state', member.added ? 'existing' : 'new',
      '--heartbeat-interval', String(this.manifest.heartbeatMs),
      '--election-timeout', String(this.manifest.electionMs),
      '--snapshot-count', String(this.manifest.snapshotCount),
      ...this.tlsFlags(member),
    ]
  }

  /** etcd's TLS flags for `member` of a TLS cluster: client and peer TLS, both with client-certificate auth. */
  private tlsFlags(member: ManifestMember): string[] {
    const tls = this.manifest.tls
    if (!tls) return []
    const certDir = join(this.dir, 'certs')
    return [
      '--cert-file', join(certDir, `server-${member.name}.crt`),
      '--key-file', join(certDir, `server-${member.name}.key`),
      '--trusted-ca-file', tls.caFile,
      '--client-cert-auth',
      '--peer-cert-file', join(certDir, `peer-${member.name}.crt`),
      '--peer-key-file', join(certDir, `peer-${member.name}.key`),
      '--peer-trusted-ca-file', tls.caFile,
      '--peer-client-cert-auth',
    ]
  }

  /** Starts the link proxy process if this cluster has link proxies (DIR/link-proxy.json) and it is not running. */
  async ensureLinkProxies(): Promise<void> {
    if (readLinkProxyConfig(this.dir)) await ensureLinkProxyProcess(this.dir, this.commandFor())
  }

  private commandFor(): MemberCommand {
    if (this.manifest.engine === 'etcd') return { command: 'etcd', args: [] }
    return this.quorumCommand ?? defaultQuorumCommand()
  }

  private spawnMember(member: ManifestMember, extraArgs: string[] = []): void {
    if (member.removed) throw new ClusterOperationError(`member ${member.name} was removed from the cluster; its data dir cannot rejoin`)
    mkdirSync(member.dataDir, { recursive: true, mode: 0o700 })
    const { command, args, env } = this.commandFor()
    const engineArgs = this.manifest.engine === 'etcd' ? ['--logger', 'zap', '--log-outputs', 'stderr'] : []
    const log = openSync(member.logFile, 'a', 0o600)
    try {
      const child = spawn(command, [...args, ...this.memberFlags(member), ...engineArgs, ...extraArgs], {
        detached: true,
        stdio: ['ignore', log, log],
        env: { ...process.env, ...env, ...linkProxyEnv(this.dir, member.name) },
      })
      child.unref()
      if (!child.pid) throw new ClusterOperationError(`could not start ${command} for ${member.name}`)
      member.pid = child.pid
    } finally {
      closeSync(log)
    }
    member.bootstrapped = true
    writeManifest(this.dir, this.manifest)
  }

  /**
   * Waits until every named member answers /health with true (or, with `allowAlarms`, answers at all but is
   * unhealthy only because of an active alarm such as CORRUPT, which keeps /health false until disarmed).
   */
  async waitHealthy(names: string[], timeoutMs: number, onProgress?: (line: string) => void, allowAlarms = false): Promise<void> {
    const deadline = Date.now() + timeoutMs
    const pending = new Set(names)
    while (pending.size > 0) {
      for (const name of [...pending]) {
        const member = this.member(name)
        if (!isAlive(member.pid)) {
          const tail = logTail(member.logFile)
          throw new ClusterOperationError(`member ${name} exited during startup; see ${member.logFile}${tail ? `; its log ends with:\n${tail}` : ''}`)
        }
        const probe = await probeHealth(member.clientURL, 1000, this.manifest.tls)
        if (probe.healthy || (allowAlarms && probe.reason.startsWith('ALARM '))) {
          pending.delete(name)
          onProgress?.(`member ${name} healthy at ${member.clientURL}`)
        }
      }
      if (pending.size === 0) break
      if (Date.now() > deadline) throw new ClusterOperationError(`members not healthy after ${timeoutMs} ms: ${[...pending].join(', ')}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  /** Starts a stopped member (with `--initial-cluster-state existing` once bootstrapped) and waits for health. */
  async start(name: string, timeoutMs = 30_000, options: { allowAlarms?: boolean } = {}): Promise<void> {
    const member = this.member(name)
    if (isAlive(member.pid)) throw new ClusterOperationError(`member ${name} is already running (pid ${member.pid})`)
    await this.ensureLinkProxies()
    this.spawnMember(member)
    await this.waitHealthy([name], timeoutMs, undefined, options.allowAlarms)
  }

  /** SIGKILLs a member (a crash: no graceful shutdown). */
  async kill(name: string): Promise<void> {
    const member = this.runningMember(name)
    signal(member.pid, 'SIGCONT') // a paused process must die too
    signal(member.pid, 'SIGKILL')
    await waitForExit(member.pid, 5000)
    this.markStopped(member)
  }

  /** Stops a member gracefully (SIGTERM; SIGKILL after `timeoutMs`). */
  async stop(name: string, timeoutMs = 10_000): Promise<void> {
    const member = this.runningMember(name)
    signal(member.pid, 'SIGCONT')
    signal(member.pid, 'SIGTERM')
    if (!(await waitForExit(member.pid, timeoutMs))) {
      signal(member.pid, 'SIGKILL')
      await waitForExit(member.pid, 5000)
    }
    this.markStopped(member)
  }

  /** Stops a member if its process is still running (after it was removed from the cluster). */
  async stopIfRunning(name: string): Promise<void> {
    if (isAlive(this.member(name).pid)) await this.stop(name)
  }

  /** Stops then starts a member. */
  async restart(name: string): Promise<void> {
    if (isAlive(this.member(name).pid)) await this.stop(name)
    await this.start(name)
  }

  /** Freezes a member with SIGSTOP (it keeps its sockets but answers nothing). */
  pause(name: string): void {
    signal(this.runningMember(name).pid, 'SIGSTOP')
  }

  /** Resumes a paused member with SIGCONT. */
  resume(name: string): void {
    signal(this.runningMember(name).pid, 'SIGCONT')
  }

  /** Process and /health state of every active member. */
  async health(): Promise<MemberHealth[]> {
    return Promise.all(
      this.activeMembers().map(async (member) => {
        const running = isAlive(member.pid)
        const paused = running && isPaused(member.pid)
        const probe = running && !paused ? await probeHealth(member.clientURL, 1000, this.manifest.tls) : { healthy: false, reason: running ? 'paused' : 'not running' }
        return { name: member.name, pid: running ? member.pid : 0, running, paused, healthy: probe.healthy, reason: probe.reason }
      }),
    )
  }

  /** Stops the cluster's Prometheus (if any), then every member (gracefully, in parallel); with `remove`, deletes the cluster directory. */
  async down(options: { remove?: boolean } = {}): Promise<void> {
    if (this.manifest.prometheus) {
      await stopClusterPrometheus(this.manifest.prometheus)
      this.save()
    }
    await Promise.all(this.manifest.members.filter((m) => isAlive(m.pid)).map((m) => this.stop(m.name)))
    await stopLinkProxyProcess(this.dir)
    if (options.remove) rmSync(this.dir, { recursive: true, force: true })
  }

  private runningMember(name: string): ManifestMember {
    const member = this.member(name)
    if (!isAlive(member.pid)) throw new ClusterOperationError(`member ${name} is not running`)
    return member
  }

  private markStopped(member: ManifestMember): void {
    member.pid = 0
    writeManifest(this.dir, this.manifest)
  }
}

/**
 * The last whole lines of a member's log, at most `maxBytes` (empty when it cannot be read): the reason a member
 * stopped, shown where it is reported instead of behind a path (a test's temp dir is gone once it fails).
 */
export function logTail(file: string, maxBytes = 2048): string {
  try {
    const size = statSync(file).size
    const length = Math.min(size, maxBytes)
    const buffer = Buffer.alloc(length)
    const fd = openSync(file, 'r')
    try {
      readSync(fd, buffer, 0, length, size - length)
    } finally {
      closeSync(fd)
    }
    const text = buffer.toString('utf8')
    return (length < size ? text.slice(text.indexOf('\n') + 1) : text).trimEnd()
  } catch {
    return ''
  }
}
