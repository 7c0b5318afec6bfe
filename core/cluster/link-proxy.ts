import { spawn } from 'node:child_process'
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http'
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { PEER_DIAL_MAP_ENV } from '../server/peer/transport'
import { assert } from '../util/assert'
import { freePorts } from './ports'
import { isAlive, signal, waitForExit } from './process'

// Link proxies: failure drills without root (issue 15). Every directed member pair A→B gets a TCP proxy on
// 127.0.0.1; member A dials B's peer URL through it (the launcher sets QUORUM_PEER_DIAL_MAP in A's
// environment, see PeerTransportOptions.dialMap). One detached process per cluster runs all proxies and
// answers a small HTTP control API, so `quorum cluster drill ...` and the app can change faults while the
// members run.
//
//   member A ──▶ proxy A→B ──▶ member B       bytes A→B: fault "A>B"   (A's Raft messages to B)
//            ◀──             ◀──              bytes B→A: fault "B>A"   (HTTP/2 acks on A's connection)
//   member B ──▶ proxy B→A ──▶ member A       bytes B→A: fault "B>A"   (B's Raft messages to A)
//
// A fault belongs to the bytes travelling from one member to another, whichever connection carries them:
// latency, jitter and loss apply to both proxies' byte streams in that direction. `blocked` is message-level
// (like a Jepsen one-way drop): "A>B" blocked refuses and cuts A's connection to B, so A's messages never
// reach B, while B's connection to A keeps working.

/** Faults of the bytes travelling from one member to another. */
export interface LinkFaultSpec {
  /** Refuse and cut the sender's connection to the receiver: its messages are lost. */
  blocked: boolean
  /** Added one-way delay in ms. */
  delayMs: number
  /** Extra uniform random delay in [0, jitterMs) ms; order is kept (TCP delivers in order). */
  jitterMs: number
  /**
   * Probability in [0, 1] that a chunk is "lost". TCP hides loss as delay: a lost segment arrives after a
   * retransmission timeout (Linux's minimum RTO, 200 ms, plus the round trip), holding back what follows.
   */
  lossRate: number
}

/** A link without faults. */
export const NO_FAULT: LinkFaultSpec = Object.freeze({ blocked: false, delayMs: 0, jitterMs: 0, lossRate: 0 })

/** Linux's TCP_RTO_MIN: the least time a lost segment waits before it is sent again. */
export const MIN_RETRANSMIT_MS = 200

/** One directed link: member `from` dials member `to` at 127.0.0.1:`port`, which forwards to `target`. */
export interface LinkProxyLink {
  from: string
  to: string
  port: number
  /** Origin of the receiver's peer URL (`http://127.0.0.1:2380`): the dial-map key. */
  peerOrigin: string
  /** host:port the proxy forwards to. */
  target: string
}

/** DIR/link-proxy.json: the proxies of one cluster and the faults in force. */
export interface LinkProxyConfig {
  version: 1
  /** Port of the control API on 127.0.0.1. */
  controlPort: number
  /** PID of the proxy process, 0 when it is not running. */
  pid: number
  links: LinkProxyLink[]
  /** Key `from>to`; absent means no fault. */
  faults: Record<string, LinkFaultSpec>
}

/** What the control API reports. */
export interface LinkProxyState {
  links: Array<LinkProxyLink & { connections: number }>
  faults: Record<string, LinkFaultSpec>
}

/** Thrown when drills are used on a cluster without link proxies, or the proxy process does not answer. */
export class LinkProxyError extends Error {
  readonly code = 'LINK_PROXY'
}

export const LINK_PROXY_FILE = 'link-proxy.json'

/** The fault key of the bytes from `from` to `to`. */
export function faultKey(from: string, to: string): string {
  return `${from}>${to}`
}

/** Reads DIR/link-proxy.json, or null when the cluster has no link proxies. */
export function readLinkProxyConfig(dir: string): LinkProxyConfig | null {
  const path = join(dir, LINK_PROXY_FILE)
  if (!existsSync(path)) return null
  const config = JSON.parse(readFileSync(path, 'utf8')) as LinkProxyConfig
  if (config.version !== 1 || !Array.isArray(config.links)) throw new LinkProxyError(`${path} is not a link proxy configuration`)
  return config
}

/** Writes DIR/link-proxy.json atomically (temp file, fsync, rename). */
export function writeLinkProxyConfig(dir: string, config: LinkProxyConfig): void {
  const path = join(dir, LINK_PROXY_FILE)
  const temp = `${path}.tmp-${process.pid}`
  const fd = openSync(temp, 'w', 0o600)
  try {
    writeSync(fd, `${JSON.stringify(config, null, 2)}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temp, path)
}

/**
 * Allocates one proxy port per directed pair of `members` plus the control port, avoiding `reserved` ports and
 * the members' own peer ports (allocated but maybe not bound yet: freePorts may hand them out again).
 */
export async function planLinkProxies(members: ReadonlyArray<{ name: string; peerURL: string }>, reserved: Iterable<number> = []): Promise<LinkProxyConfig> {
  const pairs = members.flatMap((from) => members.filter((to) => to !== from).map((to) => [from, to] as const))
  const taken = new Set([...reserved, ...members.map((member) => Number(new URL(member.peerURL).port))])
  const ports: number[] = []
  for (let attempt = 0; ports.length < pairs.length + 1; attempt++) {
    assert(attempt < 10, `no ${pairs.length + 1} free ports outside the cluster's own after 10 attempts`)
    for (const port of await freePorts(pairs.length + 1 - ports.length)) if (!taken.has(port) && !ports.includes(port)) ports.push(port)
  }
  return {
    version: 1,
    controlPort: ports[0],
    pid: 0,
    links: pairs.map(([from, to], i) => {
      const url = new URL(to.peerURL)
      return { from: from.name, to: to.name, port: ports[i + 1], peerOrigin: url.origin, target: `${url.hostname.replace(/^\[|\]$/g, '')}:${url.port}` }
    }),
    faults: {},
  }
}

/** Environment for member `name`: its dial map through the proxies (empty when the cluster has none). */
export function linkProxyEnv(dir: string, name: string): Record<string, string> {
  const config = readLinkProxyConfig(dir)
  if (!config) return {}
  const entries = config.links.filter((link) => link.from === name).map((link) => `${link.peerOrigin}=127.0.0.1:${link.port}`)
  return entries.length > 0 ? { [PEER_DIAL_MAP_ENV]: entries.join(',') } : {}
}

/** A fault with defaults filled in and its numbers checked. */
export function normalizeFault(fault: Partial<LinkFaultSpec>): LinkFaultSpec {
  const spec = { ...NO_FAULT, ...fault }
  if (!(spec.delayMs >= 0 && spec.jitterMs >= 0 && spec.delayMs <= 60_000 && spec.jitterMs <= 60_000)) {
    throw new LinkProxyError(`delay and jitter must be between 0 and 60000 ms, not ${spec.delayMs}/${spec.jitterMs}`)
  }
  if (!(spec.lossRate >= 0 && spec.lossRate <= 1)) throw new LinkProxyError(`loss rate must be between 0 and 1, not ${spec.lossRate}`)
  return spec
}

function isNoFault(fault: LinkFaultSpec): boolean {
  return !fault.blocked && fault.delayMs === 0 && fault.jitterMs === 0 && fault.lossRate === 0
}

/**
 * Carries bytes of one direction of one proxied connection, applying the current fault of that direction to
 * each chunk. Order is kept: a chunk never overtakes an earlier one, so jitter and loss delay what follows.
 */
class FaultyPipe {
  private readonly queue: Array<{ at: number; chunk: Buffer }> = []
  private timer: NodeJS.Timeout | null = null
  private lastAt = 0

  constructor(
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly fault: () => LinkFaultSpec,
    private readonly random: () => number,
  ) {
    source.on('data', (chunk: Buffer) => this.push(chunk))
  }

  private push(chunk: Buffer): void {
    const fault = this.fault()
    const now = Date.now()
    if (this.queue.length === 0 && fault.delayMs === 0 && fault.jitterMs === 0 && fault.lossRate === 0) {
      this.write(chunk)
      return
    }
    let delay = fault.delayMs + (fault.jitterMs > 0 ? this.random() * fault.jitterMs : 0)
    if (fault.lossRate > 0 && this.random() < fault.lossRate) delay += MIN_RETRANSMIT_MS + 2 * fault.delayMs
    this.lastAt = Math.max(this.lastAt, now + delay)
    this.queue.push({ at: this.lastAt, chunk })
    this.schedule()
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return
    this.timer = setTimeout(() => {
      this.timer = null
      const now = Date.now()
      while (this.queue.length > 0 && this.queue[0].at <= now) this.write(this.queue.shift()!.chunk)
      this.schedule()
    }, Math.max(0, this.queue[0].at - Date.now()))
  }

  private write(chunk: Buffer): void {
    if (this.sink.destroyed) return
    if (!this.sink.write(chunk)) {
      this.source.pause()
      this.sink.once('drain', () => this.source.resume())
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.queue.length = 0
  }
}

/**
 * Runs every proxy of one cluster plus the control API (`GET /state`, `PUT /faults` with
 * `{ faults: { "a>b": LinkFaultSpec | null }, replace?: boolean }`). Faults are kept in DIR/link-proxy.json,
 * so a restarted proxy process resumes them.
 */
export class LinkProxyServer {
  private readonly servers: Server[] = []
  private control: HttpServer | null = null
  private readonly connections = new Map<string, Set<Socket>>()
  private config: LinkProxyConfig

  constructor(
    private readonly dir: string,
    private readonly random: () => number = Math.random,
  ) {
    const config = readLinkProxyConfig(dir)
    if (!config) throw new LinkProxyError(`${dir} has no ${LINK_PROXY_FILE}`)
    this.config = config
  }

  /** Listens on every link port and the control port. Rejects if one is taken. */
  async start(): Promise<void> {
    for (const link of this.config.links) {
      const server = createServer({ noDelay: true }, (client) => this.accept(link, client))
      await listen(server, link.port)
      this.servers.push(server)
    }
    this.control = createHttpServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        try {
          if (request.method === 'PUT' && request.url === '/faults') {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { faults: Record<string, Partial<LinkFaultSpec> | null>; replace?: boolean }
            this.setFaults(body.faults ?? {}, body.replace === true)
          } else if (request.method !== 'GET' || request.url !== '/state') {
            response.writeHead(404).end()
            return
          }
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(this.state()))
        } catch (error) {
          response.writeHead(400, { 'content-type': 'text/plain' }).end((error as Error).message)
        }
      })
    })
    await listen(this.control, this.config.controlPort)
    this.config = { ...this.config, pid: process.pid }
    writeLinkProxyConfig(this.dir, this.config)
  }

  /** Links with their live connection counts, and the faults in force. */
  state(): LinkProxyState {
    return {
      links: this.config.links.map((link) => ({ ...link, connections: this.connections.get(faultKey(link.from, link.to))?.size ?? 0 })),
      faults: this.config.faults,
    }
  }

  /** Sets (or with null clears) faults; `replace` clears every other fault first. Cuts newly blocked links. */
  setFaults(changes: Record<string, Partial<LinkFaultSpec> | null>, replace: boolean): void {
    const known = new Set(this.config.links.map((link) => faultKey(link.from, link.to)))
    const faults: Record<string, LinkFaultSpec> = replace ? {} : { ...this.config.faults }
    for (const [key, change] of Object.entries(changes)) {
      if (!known.has(key)) throw new LinkProxyError(`no link ${key}`)
      const fault = change === null ? NO_FAULT : normalizeFault(change)
      if (isNoFault(fault)) delete faults[key]
      else faults[key] = fault
    }
    this.config = { ...this.config, faults }
    writeLinkProxyConfig(this.dir, this.config)
    for (const [key, fault] of Object.entries(faults)) {
      if (!fault.blocked) continue
      for (const socket of this.connections.get(key) ?? []) socket.destroy()
    }
  }

  private fault(from: string, to: string): LinkFaultSpec {
    return this.config.faults[faultKey(from, to)] ?? NO_FAULT
  }

  private accept(link: LinkProxyLink, client: Socket): void {
    client.on('error', () => undefined)
    if (this.fault(link.from, link.to).blocked) {
      client.destroy()
      return
    }
    const key = faultKey(link.from, link.to)
    const [host, port] = [link.target.slice(0, link.target.lastIndexOf(':')), Number(link.target.slice(link.target.lastIndexOf(':') + 1))]
    const upstream = netConnect({ host, port, noDelay: true })
    upstream.on('error', () => undefined)
    const sockets = this.connections.get(key) ?? new Set<Socket>()
    this.connections.set(key, sockets)
    sockets.add(client)
    const pipes = [
      new FaultyPipe(client, upstream, () => this.fault(link.from, link.to), this.random),
      new FaultyPipe(upstream, client, () => this.fault(link.to, link.from), this.random),
    ]
    const close = () => {
      sockets.delete(client)
      for (const pipe of pipes) pipe.close()
      client.destroy()
      upstream.destroy()
    }
    client.on('close', close)
    upstream.on('close', close)
  }

  /** Closes every listener and connection. */
  async stop(): Promise<void> {
    for (const sockets of this.connections.values()) for (const socket of sockets) socket.destroy()
    await Promise.all([...this.servers, ...(this.control ? [this.control] : [])].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
    this.servers.length = 0
  }
}

async function listen(server: Server | HttpServer, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
}

/** Entry of the proxy process (`quorum cluster link-proxy --dir DIR`): runs until SIGTERM or SIGINT. */
export async function runLinkProxyProcess(dir: string): Promise<void> {
  const server = new LinkProxyServer(dir)
  await server.start()
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
  await server.stop()
}

/** How to start the proxy process: the member command with `node` replaced by `cluster link-proxy`. */
export interface LinkProxyCommand {
  command: string
  args: string[]
  env?: NodeJS.ProcessEnv
}

/** Calls the control API of the cluster in `dir`. Rejects with LinkProxyError when it does not answer. */
export async function linkProxyRequest(dir: string, method: 'GET' | 'PUT', body?: unknown, timeoutMs = 3000): Promise<LinkProxyState> {
  const config = readLinkProxyConfig(dir)
  if (!config) throw new LinkProxyError('this cluster has no link proxies (enable network drills first: `quorum cluster drill enable`)')
  const payload = body === undefined ? undefined : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port: config.controlPort, agent: false, method, path: method === 'GET' ? '/state' : '/faults', timeout: timeoutMs, headers: payload ? { 'content-type': 'application/json' } : {} },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          if (response.statusCode === 200) resolve(JSON.parse(text) as LinkProxyState)
          else reject(new LinkProxyError(`link proxy answered HTTP ${response.statusCode}: ${text}`))
        })
      },
    )
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    request.on('error', (error) => reject(new LinkProxyError(`link proxy of ${dir} does not answer: ${error.message}`)))
    request.end(payload)
  })
}

/**
 * Starts the proxy process of the cluster in `dir` (detached, like the members) unless it runs, and waits
 * until its control API answers. `command` must end in `node` (the member command).
 */
export async function ensureLinkProxyProcess(dir: string, command: LinkProxyCommand, timeoutMs = 15_000): Promise<void> {
  const config = readLinkProxyConfig(dir)
  if (!config) throw new LinkProxyError(`${dir} has no ${LINK_PROXY_FILE}`)
  if (config.pid > 0 && isAlive(config.pid)) return
  assert(command.args.at(-1) === 'node', `the member command must end in "node", got ${command.args.join(' ')}`)
  const log = openSync(join(dir, 'link-proxy.log'), 'a', 0o600)
  try {
    const child = spawn(command.command, [...command.args.slice(0, -1), 'cluster', 'link-proxy', '--dir', dir], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, ...command.env },
    })
    child.unref()
    if (!child.pid) throw new LinkProxyError(`could not start the link proxy process (${command.command})`)
    writeLinkProxyConfig(dir, { ...config, pid: child.pid })
  } finally {
    closeSync(log)
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await linkProxyRequest(dir, 'GET', undefined, 1000)
      return
    } catch (error) {
      const pid = readLinkProxyConfig(dir)?.pid ?? 0
      if (!isAlive(pid)) throw new LinkProxyError(`the link proxy process exited; see ${join(dir, 'link-proxy.log')}`)
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/** Stops the proxy process of `dir` if it runs (SIGTERM, then SIGKILL). */
export async function stopLinkProxyProcess(dir: string): Promise<void> {
  const config = readLinkProxyConfig(dir)
  if (!config || config.pid <= 0 || !isAlive(config.pid)) return
  signal(config.pid, 'SIGTERM')
  if (!(await waitForExit(config.pid, 5000))) {
    signal(config.pid, 'SIGKILL')
    await waitForExit(config.pid, 5000)
  }
  if (existsSync(join(dir, LINK_PROXY_FILE))) writeLinkProxyConfig(dir, { ...config, pid: 0 })
}

/** Removes the proxy configuration of `dir` (after stopping the process): members started later dial directly. */
export async function removeLinkProxies(dir: string): Promise<void> {
  await stopLinkProxyProcess(dir)
  rmSync(join(dir, LINK_PROXY_FILE), { force: true })
}
