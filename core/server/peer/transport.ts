import { connect as netConnect, type Socket } from 'node:net'
import { checkServerIdentity, connect as tlsConnect } from 'node:tls'
import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type Http2SecureServer,
  type Http2Server,
  type ServerHttp2Stream,
  type IncomingHttpHeaders,
} from 'node:http2'
import type { SecureContextOptions } from 'node:tls'
import { MessageType, type Message, type NodeId } from '../../raft/types'
import { formatId } from '../ids'
import { decodeMessage, DecodeError, encodeMessage } from './codec'

// Peer transport: Raft messages between members over HTTP/2 on --listen-peer-urls.
//
//   member A (sender)                                member B (receiver)
//   ClientHttp2Session ── POST /raft/stream ───────▶ Http2Server
//        headers: x-quorum-cluster-id, -from, -to     checks cluster id (412), target (404), removed (410)
//        body: frame* (u32 length | encoded Message)  decodes each frame, calls onMessage
//   MsgSnap goes on its own POST /raft/snapshot stream so a large snapshot never delays heartbeats; its
//   completion is reported with onSnapshotStatus (Raft's ReportSnapshot). With snapshotSource/snapshotSink
//   the state image is not inside the message: it is built off the main thread and streamed in chunks after
//   it (snapshot-stream.ts), and the receiver steps the MsgSnap only once the whole image is on its disk.
//
// Sending never blocks the Ready loop: while a peer is unreachable or its stream backlog is above
// maxBacklogBytes, messages to it are dropped and onUnreachable is called (Raft retransmits; etcd does the
// same). Sessions reconnect with exponential backoff, cut short when a message from that peer arrives.

const STREAM_PATH = '/raft/stream'
const SNAPSHOT_PATH = '/raft/snapshot'
const MEMBERS_PATH = '/members'
const HASHKV_PATH = '/members/hashkv'
const HEADER_CLUSTER = 'x-quorum-cluster-id'
const HEADER_FROM = 'x-quorum-from'
const HEADER_TO = 'x-quorum-to'

/** TLS for the peer listener and for dialing peers (https peer URLs). */
export interface PeerTls {
  /** Server side: key, cert, ca; `requestCert` + `rejectUnauthorized` for --peer-client-cert-auth. */
  server: SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean }
  /** Client side: key, cert (presented to peers), ca and whether to verify them. */
  client: SecureContextOptions & { rejectUnauthorized?: boolean }
  /** --peer-cert-allowed-cn: the CN connecting peers must have (empty: any). */
  allowedCn: string
}

/** Injected faults on one directed link, for failure drills without root (issue 15). */
export interface LinkFault {
  /** Drop every message (a partition in this direction). */
  blocked?: boolean
  /** Probability in [0, 1] that a message is dropped. */
  dropRate?: number
  /** Added one-way latency in ms, plus uniform jitter in [0, jitterMs). */
  delayMs?: number
  jitterMs?: number
}

/** Per-peer counters for metrics (etcd_network_peer_*). */
export interface PeerStats {
  active: boolean
  /** Since when (ms since the epoch) the connection to the peer has been up; null while it is down (etcd ActiveSince). */
  activeSince: number | null
  sentBytes: number
  receivedBytes: number
  sentFailures: number
  /** Last measured HTTP/2 PING round trip in ms, or null. */
  roundTripMs: number | null
}

export interface PeerTransportOptions {
  memberId: NodeId
  clusterId: NodeId
  /** URLs to listen on (http: or https:). */
  listenUrls: URL[]
  tls?: PeerTls
  /** Called for every message received from a peer, in arrival order per peer. */
  onMessage: (message: Message) => void
  /** Called when messages to `peer` were dropped because it is unreachable or too far behind. */
  onUnreachable?: (peer: NodeId) => void
  /** Called when a snapshot send to `peer` finished (ok) or failed. */
  onSnapshotStatus?: (peer: NodeId, ok: boolean) => void
  /** A peer told us (HTTP 410) that this member was removed from the cluster. */
  onRemovedSelf?: () => void
  /** True for members removed from the cluster: their connections are refused with 410. */
  isRemoved?: (id: NodeId) => boolean
  /** Answers `GET /members` (cluster ID and membership as JSON) for members joining the cluster. */
  membersJson?: () => string
  /**
   * Answers `GET /members/hashkv` (etcd's PeerHashKVPath; JSON body) once the cluster-ID header matched (412
   * otherwise). See core/server/corruption.ts.
   */
  hashKv?: (body: string) => { status: number; body: string }
  /**
   * Leader side of a streamed snapshot: for Raft's MsgSnap, the message to send (its snapshot's metadata,
   * data empty) and the state image body (snapshot-stream.ts imageBody); `release` is called when the send
   * ended either way. Without it, MsgSnap is sent as it is, in one frame.
   */
  snapshotSource?: (message: Message) => Promise<{ message: Message; body: NodeJS.ReadableStream; release: () => void }>
  /**
   * Follower side: stores a streamed image body and resolves with the MsgSnap to step (its data refers to
   * the stored image); rejects, having stored nothing, if the body is damaged or breaks off.
   */
  snapshotSink?: (message: Message, body: AsyncIterable<Buffer>) => Promise<Message>
  /** Largest accepted frame (default 64 MiB); streamed snapshot images are not frames and have no cap. */
  maxFrameBytes?: number
  /** Backlog above which messages to a peer are dropped (default 8 MiB). */
  maxBacklogBytes?: number
  /** Random source for drills' drop/jitter decisions (default Math.random). */
  random?: () => number
  /**
   * Where to dial a peer URL instead of its own host:port (key: the URL's origin, value: `host:port`). Local
   * clusters with failure drills route each directed link through a proxy this way (see parseDialMap).
   */
  dialMap?: ReadonlyMap<string, string>
  log?: (level: 'debug' | 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void
}

/** The environment variable a launcher sets to route a member's peer traffic through link proxies. */
export const PEER_DIAL_MAP_ENV = 'QUORUM_PEER_DIAL_MAP'

/**
 * Parses a dial map `http://127.0.0.1:2380=127.0.0.1:40001,https://...=host:port` (peer URL origin = the
 * address to dial instead). Empty or undefined text gives an empty map; malformed entries throw.
 */
export function parseDialMap(text: string | undefined): Map<string, string> {
  const map = new Map<string, string>()
  for (const entry of (text ?? '').split(',').filter((part) => part.trim() !== '')) {
    const at = entry.lastIndexOf('=')
    const target = entry.slice(at + 1).trim()
    if (at <= 0 || !/^[^\s:]+:\d{1,5}$/.test(target)) throw new Error(`bad ${PEER_DIAL_MAP_ENV} entry "${entry}" (want URL=host:port)`)
    map.set(new URL(entry.slice(0, at).trim()).origin, target)
  }
  return map
}

/** Cluster-ID or addressing mismatch reported by a peer. */
export class PeerRejectedError extends Error {
  readonly code = 'PEER_REJECTED'
}

/**
 * Fetches `GET /members` from a peer URL (used by a member joining with --initial-cluster-state existing to
 * learn the cluster ID and membership). Rejects on connection errors and non-200 answers.
 */
export async function fetchPeerMembers(peerUrl: string, connect: http2.SecureClientSessionOptions = {}, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(peerUrl, connect)
    const timer = setTimeout(() => {
      session.destroy()
      reject(new Error(`timed out asking ${peerUrl} for the membership`))
    }, timeoutMs)
    session.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    const stream = session.request({ ':method': 'GET', ':path': MEMBERS_PATH })
    const chunks: Buffer[] = []
    let status = 0
    stream.on('response', (headers) => (status = Number(headers[':status'])))
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => {
      clearTimeout(timer)
      session.close()
      if (status === 200) resolve(Buffer.concat(chunks).toString('utf8'))
      else reject(new Error(`${peerUrl} answered HTTP ${status} to GET /members`))
    })
    stream.on('error', (error) => {
      clearTimeout(timer)
      session.destroy()
      reject(error)
    })
  })
}

function frame(payload: Buffer): Buffer {
  const header = Buffer.allocUnsafe(4)
  header.writeUInt32BE(payload.length, 0)
  return Buffer.concat([header, payload])
}

/** Splits a byte stream into length-prefixed frames. */
class FrameParser {
  private pending: Buffer[] = []
  private pendingBytes = 0

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds bytes; returns the complete frames. Throws DecodeError on an oversized length prefix. */
  push(chunk: Buffer): Buffer[] {
    this.pending.push(chunk)
    this.pendingBytes += chunk.length
    const frames: Buffer[] = []
    while (this.pendingBytes >= 4) {
      const head = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending)
      this.pending = [head]
      const length = head.readUInt32BE(0)
      if (length > this.maxFrameBytes) throw new DecodeError(`frame of ${length} bytes exceeds limit ${this.maxFrameBytes}`)
      if (head.length < 4 + length) break
      frames.push(head.subarray(4, 4 + length))
      const rest = head.subarray(4 + length)
      this.pending = rest.length > 0 ? [rest] : []
      this.pendingBytes = rest.length
    }
    return frames
  }
}

class PeerLink {
  urls: string[]
  session: ClientHttp2Session | null = null
  stream: ClientHttp2Stream | null = null
  /** The counters; `active` is derived from `activeSince` (PeerTransport.stats). */
  stats: Omit<PeerStats, 'active'> = { activeSince: null, sentBytes: 0, receivedBytes: 0, sentFailures: 0, roundTripMs: null }
  fault: LinkFault | null = null
  private backoffMs = 50
  private reconnectTimer: NodeJS.Timeout | null = null
  private pingTimer: NodeJS.Timeout | null = null
  private urlIndex = 0
  private closed = false
  private lastConnectAt = 0

  constructor(
    readonly id: NodeId,
    urls: string[],
    private readonly transport: PeerTransport,
  ) {
    this.urls = urls
  }

  /** Opens the session and the message stream if needed; returns the stream or null while connecting. */
  ensureStream(): ClientHttp2Stream | null {
    if (this.closed) return null
    if (this.stream && !this.stream.destroyed && this.session && !this.session.destroyed) return this.stream
    if (this.reconnectTimer) return null
    this.connect()
    return this.stream
  }

  /**
   * The peer reached us (one of its messages arrived): the network between us works again, so a reconnect
   * waiting out its backoff may go now. Without this, a member whose partition has just healed learns the
   * leader from its heartbeats but drops its own messages to it (a forwarded proposal among them, which then
   * waits for its deadline) for up to a whole backoff. At most one early attempt per 100 ms, so a one-way cut
   * that still lets the peer's heartbeats in does not turn into a connection storm.
   */
  heardFrom(): void {
    if (!this.reconnectTimer || Date.now() - this.lastConnectAt < 100) return
    clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
  }

  private connect(): void {
    this.lastConnectAt = Date.now()
    const url = this.urls[this.urlIndex % this.urls.length]
    this.urlIndex++
    const session = http2.connect(url, this.transport.clientConnectOptions(url))
    this.session = session
    session.on('error', (error) => this.fail(`session error: ${error.message}`))
    session.on('close', () => {
      if (this.session === session) this.fail('session closed')
    })
    session.on('connect', () => {
      this.pingTimer = setInterval(() => this.measureRoundTrip(), 1000)
      this.pingTimer.unref()
    })
    this.stream = this.transport.openStream(session, this.id, STREAM_PATH)
    this.stream.on('response', (headers) => {
      const status = Number(headers[':status'])
      if (status === 200) {
        this.stats.activeSince ??= Date.now()
        this.backoffMs = 50
        return
      }
      this.transport.handleRejection(this.id, status)
      this.fail(`peer answered HTTP ${status}`)
    })
    this.stream.on('error', (error) => this.fail(`stream error: ${error.message}`))
    this.stream.on('close', () => {
      if (this.session === session) this.fail('stream closed')
    })
  }

  private measureRoundTrip(): void {
    const session = this.session
    if (!session || session.destroyed) return
    session.ping((error, durationMs) => {
      if (!error) this.stats.roundTripMs = durationMs
    })
  }

  private fail(reason: string): void {
    if (this.stats.activeSince !== null) this.transport.log('warn', 'lost peer connection', { peer: formatId(this.id), reason })
    this.stats.activeSince = null
    this.teardown()
    if (this.closed || this.reconnectTimer) return
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null
    }, this.backoffMs)
    this.reconnectTimer.unref()
    this.backoffMs = Math.min(this.backoffMs * 2, 1000)
  }

  private teardown(): void {
    if (this.pingTimer) clearInterval(this.pingTimer)
    this.pingTimer = null
    const { session, stream } = this
    this.session = null
    this.stream = null
    stream?.destroy()
    session?.destroy()
  }

  close(): void {
    this.closed = true
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
    this.teardown()
  }
}

/**
 * The HTTP/2 peer transport of one member. Lifecycle: `start()` listens, `addPeer` for every other member,
 * `send()` from the Ready loop, `stop()` on shutdown.
 */
export class PeerTransport {
  private readonly links = new Map<NodeId, PeerLink>()
  private readonly servers: Array<Http2Server | Http2SecureServer> = []
  private readonly inboundStreams = new Set<ServerHttp2Stream>()
  private readonly inboundSessions = new Set<http2.ServerHttp2Session>()
  private readonly receivedBytes = new Map<NodeId, number>()
  private readonly maxFrameBytes: number
  private readonly maxBacklogBytes: number
  private readonly random: () => number
  /** Peers a streamed snapshot is being built for or sent to (one at a time per peer). */
  private readonly snapshotsInFlight = new Set<NodeId>()
  private inboundFaults = new Map<NodeId, LinkFault>()

  constructor(private readonly options: PeerTransportOptions) {
    this.maxFrameBytes = options.maxFrameBytes ?? 64 * 1024 * 1024
    this.maxBacklogBytes = options.maxBacklogBytes ?? 8 * 1024 * 1024
    this.random = options.random ?? Math.random
  }

  /** Listens on every peer URL. Rejects if a port is taken. */
  async start(): Promise<void> {
    for (const url of this.options.listenUrls) {
      const server =
        url.protocol === 'https:'
          ? http2.createSecureServer({ ...this.requireTls().server, allowHTTP1: false })
          : http2.createServer()
      server.on('connection', (socket: Socket) => socket.setNoDelay(true))
      server.on('stream', (stream, headers) => this.acceptStream(stream, headers))
      // Garbage, HTTP/1.1 or TLS on the wrong port end only that session.
      server.on('sessionError', () => undefined)
      server.on('session', (session) => {
        session.on('error', () => undefined)
        this.inboundSessions.add(session)
        session.on('close', () => this.inboundSessions.delete(session))
      })
      server.on('tlsClientError', () => undefined)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''), () => {
          server.off('error', reject)
          resolve()
        })
      })
      this.servers.push(server)
    }
  }

  /** Starts talking to `id` at `urls`. Replaces the URLs of a known peer. */
  addPeer(id: NodeId, urls: string[]): void {
    if (id === this.options.memberId) return
    const existing = this.links.get(id)
    if (existing) {
      existing.urls = urls
      return
    }
    this.links.set(id, new PeerLink(id, urls, this))
  }

  /** Stops talking to `id` (removed member). */
  removePeer(id: NodeId): void {
    this.links.get(id)?.close()
    this.links.delete(id)
  }

  /** Known peers. */
  peers(): NodeId[] {
    return [...this.links.keys()]
  }

  /** Counters for one peer (received bytes include inbound streams). */
  stats(id: NodeId): PeerStats | undefined {
    const link = this.links.get(id)
    if (!link) return undefined
    return { ...link.stats, active: link.stats.activeSince !== null, receivedBytes: this.receivedBytes.get(id) ?? 0 }
  }

  /**
   * Injects a fault on the link to `peer` (outbound) or from it (inbound); null heals it. Used by failure
   * drills; has no effect unless called.
   */
  setLinkFault(peer: NodeId, direction: 'outbound' | 'inbound', fault: LinkFault | null): void {
    if (direction === 'inbound') {
      if (fault) this.inboundFaults.set(peer, fault)
      else this.inboundFaults.delete(peer)
      return
    }
    const link = this.links.get(peer)
    if (link) link.fault = fault
  }

  /** Sends messages without blocking; see the file comment for the drop rules. */
  send(messages: readonly Message[]): void {
    for (const message of messages) {
      const link = this.links.get(message.to)
      if (!link) continue
      if (link.fault && this.dropByFault(link.fault)) continue
      const delay = link.fault ? this.delayOf(link.fault) : 0
      if (delay > 0) {
        setTimeout(() => this.sendNow(link, message), delay).unref()
      } else {
        this.sendNow(link, message)
      }
    }
  }

  private dropByFault(fault: LinkFault): boolean {
    return fault.blocked === true || (fault.dropRate !== undefined && this.random() < fault.dropRate)
  }

  private delayOf(fault: LinkFault): number {
    return (fault.delayMs ?? 0) + (fault.jitterMs ? this.random() * fault.jitterMs : 0)
  }

  private sendNow(link: PeerLink, message: Message): void {
    if (message.type === MessageType.MsgSnap) {
      this.sendSnapshot(link, message)
      return
    }
    const stream = link.ensureStream()
    if (!stream) {
      this.dropped(link)
      return
    }
    if (stream.writableLength > this.maxBacklogBytes) {
      this.dropped(link)
      return
    }
    const bytes = frame(encodeMessage(message))
    link.stats.sentBytes += bytes.length
    stream.write(bytes)
  }

  private dropped(link: PeerLink): void {
    link.stats.sentFailures++
    this.options.onUnreachable?.(link.id)
  }

  private sendSnapshot(link: PeerLink, message: Message): void {
    const session = link.session && !link.session.destroyed ? link.session : null
    if (!session) {
      link.ensureStream()
      this.dropped(link)
      this.options.onSnapshotStatus?.(link.id, false)
      return
    }
    if (this.options.snapshotSource) {
      this.sendStreamedSnapshot(link, message, this.options.snapshotSource)
      return
    }
    const stream = this.openStream(session, link.id, SNAPSHOT_PATH)
    const finish = this.snapshotFinisher(link.id, () => undefined)
    stream.on('response', (headers) => finish(Number(headers[':status']) === 200))
    stream.on('error', () => finish(false))
    stream.on('close', () => finish(false))
    const bytes = frame(encodeMessage(message))
    link.stats.sentBytes += bytes.length
    stream.end(bytes)
    stream.resume()
  }

  /** Reports a snapshot send's outcome once, then runs `release`. */
  private snapshotFinisher(peer: NodeId, release: () => void): (ok: boolean) => void {
    let finished = false
    return (ok) => {
      if (finished) return
      finished = true
      release()
      this.options.onSnapshotStatus?.(peer, ok)
    }
  }

  private sendStreamedSnapshot(link: PeerLink, message: Message, source: NonNullable<PeerTransportOptions['snapshotSource']>): void {
    // Raft sends one MsgSnap and waits for ReportSnapshot; a repeat while one is in flight is dropped.
    if (this.snapshotsInFlight.has(link.id)) return
    this.snapshotsInFlight.add(link.id)
    const done = () => this.snapshotsInFlight.delete(link.id)
    source(message).then(
      ({ message: snapshotMessage, body, release }) => {
        const finish = this.snapshotFinisher(link.id, () => {
          done()
          release()
        })
        const session = link.session && !link.session.destroyed ? link.session : null
        if (!session || !this.links.has(link.id)) return finish(false)
        const stream = this.openStream(session, link.id, SNAPSHOT_PATH)
        stream.on('response', (headers) => finish(Number(headers[':status']) === 200))
        stream.on('error', () => finish(false))
        stream.on('close', () => finish(false))
        body.on('error', (error: Error) => {
          this.log('warn', 'snapshot image read failed', { peer: formatId(link.id), error: error.message })
          stream.close(http2.constants.NGHTTP2_CANCEL)
        })
        body.on('data', (chunk: Buffer) => (link.stats.sentBytes += chunk.length))
        const head = frame(encodeMessage(snapshotMessage))
        link.stats.sentBytes += head.length
        stream.write(head)
        body.pipe(stream)
        stream.resume()
        this.log('info', 'sending snapshot', { peer: formatId(link.id), index: snapshotMessage.snapshot?.metadata.index })
      },
      (error: Error) => {
        done()
        this.log('warn', 'cannot build the snapshot image', { peer: formatId(link.id), error: error.message })
        this.options.onSnapshotStatus?.(link.id, false)
      },
    )
  }

  /** Opens a request stream to a peer with our identity headers. */
  openStream(session: ClientHttp2Session, to: NodeId, path: string): ClientHttp2Stream {
    return session.request({
      ':method': 'POST',
      ':path': path,
      [HEADER_CLUSTER]: formatId(this.options.clusterId),
      [HEADER_FROM]: formatId(this.options.memberId),
      [HEADER_TO]: formatId(to),
      'content-type': 'application/octet-stream',
    })
  }

  /** Connection options for dialing a peer URL. */
  clientConnectOptions(url: string): http2.SecureClientSessionOptions {
    // Nagle off: Raft messages are small and latency-bound (etcd's Go transport also sets TCP_NODELAY).
    const parsed = new URL(url)
    const via = this.options.dialMap?.get(parsed.origin)
    if (!url.startsWith('https:')) {
      const [host, port] = via ? [via.slice(0, via.lastIndexOf(':')), via.slice(via.lastIndexOf(':') + 1)] : [parsed.hostname, parsed.port]
      return { createConnection: () => netConnect({ host: host.replace(/^\[|\]$/g, ''), port: Number(port), noDelay: true }) }
    }
    const tls = { ...this.requireTls().client, noDelay: true } as http2.SecureClientSessionOptions
    if (!via) return tls
    // Through a link proxy: dial the proxy but verify the certificate against the peer URL's host.
    const host = parsed.hostname.replace(/^\[|\]$/g, '')
    return {
      ...tls,
      createConnection: () => {
        const socket = tlsConnect({ ...tls, host: via.slice(0, via.lastIndexOf(':')), port: Number(via.slice(via.lastIndexOf(':') + 1)), ALPNProtocols: ['h2'], servername: /^[\d.:]+$/.test(host) ? undefined : host, checkServerIdentity: (_, cert) => checkServerIdentity(host, cert) })
        socket.setNoDelay(true)
        return socket
      },
    }
  }

  /** A peer refused our stream: 410 means we were removed from the cluster. */
  handleRejection(peer: NodeId, status: number): void {
    this.log('warn', 'peer rejected connection', { peer: formatId(peer), status })
    if (status === 410) this.options.onRemovedSelf?.()
  }

  log(level: 'debug' | 'info' | 'warn', message: string, fields?: Record<string, unknown>): void {
    this.options.log?.(level, message, fields)
  }

  private requireTls(): PeerTls {
    if (!this.options.tls) throw new Error('https peer URL without peer TLS settings')
    return this.options.tls
  }

  private answerHashKv(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, answer: NonNullable<PeerTransportOptions['hashKv']>): void {
    if (String(headers[HEADER_CLUSTER] ?? '') !== formatId(this.options.clusterId)) {
      stream.respond({ ':status': 412 }, { endStream: true })
      return
    }
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => {
      const reply = answer(Buffer.concat(chunks).toString('utf8'))
      stream.respond({ ':status': reply.status, 'content-type': reply.status === 200 ? 'application/json' : 'text/plain' })
      stream.end(reply.body)
    })
  }

  private acceptStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined)
    const path = headers[':path']
    if (headers[':method'] === 'GET' && path === MEMBERS_PATH && this.options.membersJson) {
      stream.respond({ ':status': 200, 'content-type': 'application/json' })
      stream.end(this.options.membersJson())
      return
    }
    if (headers[':method'] === 'GET' && path === HASHKV_PATH && this.options.hashKv) {
      this.answerHashKv(stream, headers, this.options.hashKv)
      return
    }
    if (headers[':method'] !== 'POST' || (path !== STREAM_PATH && path !== SNAPSHOT_PATH)) {
      stream.respond({ ':status': 404 }, { endStream: true })
      return
    }
    const clusterId = String(headers[HEADER_CLUSTER] ?? '')
    const to = String(headers[HEADER_TO] ?? '')
    const fromText = String(headers[HEADER_FROM] ?? '')
    if (clusterId !== formatId(this.options.clusterId)) {
      this.log('warn', 'rejected peer stream: cluster ID mismatch', { remoteClusterId: clusterId, from: fromText })
      stream.respond({ ':status': 412 }, { endStream: true })
      return
    }
    if (to !== formatId(this.options.memberId) || !/^[0-9a-f]{1,16}$/.test(fromText)) {
      stream.respond({ ':status': 404 }, { endStream: true })
      return
    }
    const from = BigInt(`0x${fromText}`)
    if (this.options.isRemoved?.(from)) {
      stream.respond({ ':status': 410 }, { endStream: true })
      return
    }
    if (!this.checkPeerCertificate(stream)) {
      stream.respond({ ':status': 403 }, { endStream: true })
      return
    }
    this.inboundStreams.add(stream)
    stream.on('close', () => this.inboundStreams.delete(stream))
    const isSnapshot = path === SNAPSHOT_PATH
    if (isSnapshot && this.options.snapshotSink) {
      void this.receiveSnapshot(stream, from, this.options.snapshotSink)
      return
    }
    if (!isSnapshot) stream.respond({ ':status': 200 })
    const parser = new FrameParser(this.maxFrameBytes)
    stream.on('data', (chunk: Buffer) => {
      this.receivedBytes.set(from, (this.receivedBytes.get(from) ?? 0) + chunk.length)
      let frames: Buffer[]
      try {
        frames = parser.push(chunk)
      } catch (error) {
        this.log('warn', 'closing peer stream with a bad frame', { from: fromText, error: (error as Error).message })
        stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR)
        return
      }
      for (const bytes of frames) this.deliver(stream, from, bytes, isSnapshot)
    })
  }

  /**
   * Reads a snapshot stream: the MsgSnap frame, then (when its data is empty) the streamed image, which the
   * sink stores; the MsgSnap is stepped only after that, and the sender learns the outcome from the status.
   */
  private async receiveSnapshot(stream: ServerHttp2Stream, from: NodeId, sink: NonNullable<PeerTransportOptions['snapshotSink']>): Promise<void> {
    const iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
    let head = Buffer.alloc(0)
    const fail = (status: number, reason: string) => {
      this.log('warn', 'snapshot from peer not installed', { from: formatId(from), reason })
      if (!stream.headersSent && !stream.destroyed) stream.respond({ ':status': status }, { endStream: true })
    }
    try {
      while (head.length < 4 || head.length < 4 + head.readUInt32BE(0)) {
        if (head.length >= 4 && head.readUInt32BE(0) > this.maxFrameBytes) return fail(400, 'oversized snapshot message frame')
        const next = await iterator.next()
        if (next.done) return fail(400, 'snapshot stream ended inside its message frame')
        head = Buffer.concat([head, next.value])
        this.receivedBytes.set(from, (this.receivedBytes.get(from) ?? 0) + next.value.length)
      }
      const length = head.readUInt32BE(0)
      const message = decodeMessage(head.subarray(4, 4 + length))
      if (message.from !== from || message.to !== this.options.memberId || message.type !== MessageType.MsgSnap || !message.snapshot) {
        return fail(400, 'misaddressed or not a MsgSnap')
      }
      const fault = this.inboundFaults.get(from)
      if (fault && this.dropByFault(fault)) return fail(503, 'dropped by an injected fault')
      if (message.snapshot.data.length > 0) {
        this.options.onMessage(message)
      } else {
        const rest = head.subarray(4 + length)
        const receivedBytes = this.receivedBytes
        async function* body(): AsyncGenerator<Buffer> {
          if (rest.length > 0) yield rest
          for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
            receivedBytes.set(from, (receivedBytes.get(from) ?? 0) + next.value.length)
            yield next.value
          }
        }
        this.options.onMessage(await sink(message, body()))
      }
      if (!stream.headersSent && !stream.destroyed) stream.respond({ ':status': 200 }, { endStream: true })
    } catch (error) {
      fail(500, (error as Error).message)
    }
  }

  private deliver(stream: ServerHttp2Stream, from: NodeId, bytes: Buffer, isSnapshot: boolean): void {
    let message: Message
    try {
      message = decodeMessage(bytes)
    } catch (error) {
      this.log('warn', 'dropping undecodable peer message', { from: formatId(from), error: (error as Error).message })
      stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR)
      return
    }
    if (message.from !== from || message.to !== this.options.memberId) {
      this.log('warn', 'dropping misaddressed peer message', { from: formatId(from) })
      return
    }
    const fault = this.inboundFaults.get(from)
    if (fault && this.dropByFault(fault)) {
      if (isSnapshot) stream.respond({ ':status': 503 }, { endStream: true })
      return
    }
    this.links.get(from)?.heardFrom()
    this.options.onMessage(message)
    if (isSnapshot && !stream.headersSent) stream.respond({ ':status': 200 }, { endStream: true })
  }

  private checkPeerCertificate(stream: ServerHttp2Stream): boolean {
    const allowedCn = this.options.tls?.allowedCn
    if (!allowedCn) return true
    const socket = stream.session?.socket as import('node:tls').TLSSocket | undefined
    const certificate = socket?.getPeerCertificate?.()
    return certificate !== undefined && certificate.subject?.CN === allowedCn
  }

  /** Closes every connection and listener. */
  async stop(): Promise<void> {
    for (const link of this.links.values()) link.close()
    this.links.clear()
    for (const stream of this.inboundStreams) stream.destroy()
    const closing = this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())))
    // Sessions of peers that are still connected would keep close() waiting.
    for (const session of this.inboundSessions) session.destroy()
    await Promise.all(closing)
    this.servers.length = 0
  }
}
