import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request } from 'node:https'
import { join } from 'node:path'
import { retryWhenPortTaken, throwIfExited } from './etcd'
import { freePorts } from './ports'
import { tempDir } from './temp-dir'

/** The TLS files of one etcd member, as etcd's flags name them. */
export interface EtcdTlsMemberFiles {
  certFile: string
  keyFile: string
  peerCertFile: string
  peerKeyFile: string
}

/** A client certificate and key (etcdctl `--cert`/`--key`). */
export interface ClientCertFiles {
  certFile: string
  keyFile: string
}

/** One member of a real etcd 3.4 cluster serving https client and peer URLs. */
export interface EtcdTlsMember {
  name: string
  clientUrl: string
  peerUrl: string
  process: ChildProcess | null
  /** Everything the member wrote to stderr (zap JSON lines at `--log-level warn`, so TLS rejections are in it). */
  log: string[]
}

/** A running TLS etcd cluster; `stop()` kills the members and removes their data dirs. */
export interface EtcdTlsCluster {
  members: EtcdTlsMember[]
  endpoints: string
  /** All members' stderr in order of arrival; it only grows, so a length taken earlier is a valid offset. */
  logs(): string
  stop(): Promise<void>
}

/** Options of `startEtcdTls`. */
export interface StartEtcdTlsOptions {
  /** Member names; the cluster size is their count. */
  names: string[]
  caFile: string
  files(name: string): EtcdTlsMemberFiles
  /** The certificate the health probe presents (client-cert-auth is always on). */
  healthClient: ClientCertFiles
  extraArgs?: string[]
}

// Polls GET /health over https presenting the probe's client certificate. The host name is not checked, so a
// member whose server certificate is for another host (a negative test) can still be waited for.
async function waitHealthy(member: EtcdTlsMember, caFile: string, client: ClientCertFiles, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const tls = { ca: readFileSync(caFile), cert: readFileSync(client.certFile), key: readFileSync(client.keyFile) }
  let lastError = ''
  while (Date.now() < deadline) {
    throwIfExited(member.name, member.process, member.log.join('').slice(-2000))
    const body = await new Promise<string>((resolve) => {
      const req = request(`${member.clientUrl}/health`, { ...tls, checkServerIdentity: () => undefined, timeout: 2000 }, (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        response.on('end', () => resolve(text))
      })
      req.on('error', (error) => resolve(String(error)))
      req.on('timeout', () => req.destroy(new Error('timeout')))
      req.end()
    })
    if (body.includes('"health":"true"')) return
    lastError = body
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`etcd member ${member.name} not healthy after ${timeoutMs} ms: ${lastError}\n${member.log.join('').slice(-2000)}`)
}

// SIGKILLs a member and resolves once it has exited (at once if it is not running).
async function killAndWait(member: EtcdTlsMember): Promise<void> {
  const child = member.process
  member.process = null
  if (child === null || child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

/**
 * Starts a real etcd 3.4 cluster with https client and peer URLs on 127.0.0.1, client-cert-auth on both
 * (`--client-cert-auth --peer-client-cert-auth`, the same CA for both), and waits until every member is healthy.
 * A member that exits first fails the start at once with its log; one that exits with "address already in use"
 * (another test process took a free port first) makes the cluster start again on other ports, up to 3 times.
 */
export function startEtcdTls(options: StartEtcdTlsOptions): Promise<EtcdTlsCluster> {
  return retryWhenPortTaken(() => startEtcdTlsOnce(options))
}

async function startEtcdTlsOnce(options: StartEtcdTlsOptions): Promise<EtcdTlsCluster> {
  const dir = tempDir('quorum-etcd-tls-')
  const ports = await freePorts(options.names.length * 2)
  const members: EtcdTlsMember[] = options.names.map((name, i) => ({
    name,
    clientUrl: `https://127.0.0.1:${ports[i * 2]}`,
    peerUrl: `https://127.0.0.1:${ports[i * 2 + 1]}`,
    process: null,
    log: [],
  }))
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',')
  let allLogs = ''
  for (const member of members) {
    const files = options.files(member.name)
    const dataDir = join(dir.path, member.name)
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    // prettier-ignore
    const args = [
      '--name', member.name, '--data-dir', dataDir,
      '--listen-client-urls', member.clientUrl, '--advertise-client-urls', member.clientUrl,
      '--listen-peer-urls', member.peerUrl, '--initial-advertise-peer-urls', member.peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-token', `etcd-tls-${process.pid}-${ports[0]}`,
      '--initial-cluster-state', 'new', '--heartbeat-interval', '100', '--election-timeout', '1000',
      '--cert-file', files.certFile, '--key-file', files.keyFile, '--trusted-ca-file', options.caFile, '--client-cert-auth',
      '--peer-cert-file', files.peerCertFile, '--peer-key-file', files.peerKeyFile,
      '--peer-trusted-ca-file', options.caFile, '--peer-client-cert-auth',
      '--logger', 'zap', '--log-outputs', 'stderr', '--log-level', 'warn',
      ...(options.extraArgs ?? []),
    ]
    member.process = spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    member.process.stderr?.setEncoding('utf8')
    member.process.stderr?.on('data', (chunk: string) => {
      member.log.push(chunk)
      allLogs += chunk
    })
  }
  const cluster: EtcdTlsCluster = {
    members,
    endpoints: members.map((m) => m.clientUrl).join(','),
    logs: () => allLogs,
    async stop() {
      await Promise.all(members.map((member) => killAndWait(member)))
      dir.remove()
    },
  }
  try {
    await Promise.all(members.map((member) => waitHealthy(member, options.caFile, options.healthClient, 30_000)))
  } catch (error) {
    await cluster.stop()
    throw error
  }
  return cluster
}

/** The result of one etcdctl run. */
export interface EtcdctlResult {
  status: number | null
  stdout: string
  stderr: string
}

/**
 * Runs `etcdctl` (API v3) asynchronously over TLS: `--cacert` plus, when given, `--cert`/`--key`. `extra` goes
 * before the command (e.g. `--debug`, which makes grpc-go print the handshake error, or `--command-timeout 1s`).
 */
export function etcdctlTls(endpoints: string, tls: { caFile?: string; client?: ClientCertFiles }, args: string[], extra: string[] = []): Promise<EtcdctlResult> {
  const flags = [
    ...(tls.caFile === undefined ? [] : ['--cacert', tls.caFile]),
    ...(tls.client === undefined ? [] : ['--cert', tls.client.certFile, '--key', tls.client.keyFile]),
  ]
  return new Promise((resolve) => {
    const child = spawn('etcdctl', ['--endpoints', endpoints, ...flags, ...extra, ...args], { env: { ...process.env, ETCDCTL_API: '3' } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('close', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

/** What GET /members on a peer URL answered: an HTTP status and body, or the connection/TLS error. */
export type PeerAnswer = { status: number; body: string } | { error: string }

/** GET `url`/members (the peer API), over TLS with the given CA/client pair for https URLs; never rejects. */
export function getPeerMembers(url: string, tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }): Promise<PeerAnswer> {
  return new Promise((resolve) => {
    const send = url.startsWith('https:') ? request : httpRequest
    const req = send(`${url}/members`, { ...tls, timeout: 5000 }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      response.on('error', (error) => resolve({ error: String(error) }))
    })
    req.on('error', (error) => resolve({ error: String(error) }))
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.end()
  })
}
