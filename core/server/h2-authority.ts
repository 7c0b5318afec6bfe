import { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import hpack from 'hpack.js'

// etcd compat: etcdctl 3.4 dials maintenance endpoints as `passthrough:///http://host:port`, so its requests
// carry `:authority: http://host:port`. Go's gRPC server accepts that; node:http2 (nghttp2) rejects it with
// PROTOCOL_ERROR. Such connections go through a stream that sits between the socket and grpc-js and rewrites
// the client's HEADERS: it decodes every header block (HPACK state is per connection, so all blocks are
// re-encoded, not only bad ones), strips a scheme from :authority, and re-encodes with its own compressor.
// Other frames pass through. Connections whose first header block is clean skip all this (see
// classifyFirstHeaderBlock and client-listener.ts): node:http2 then reads the socket natively.
//
//   frame = length(24) type(8) flags(8) R+stream(32) payload ; HEADERS = 0x1, CONTINUATION = 0x9

const PREFACE_LENGTH = 24
const FRAME_HEADER = 9
const TYPE_HEADERS = 0x1
const TYPE_SETTINGS = 0x4
const TYPE_PING = 0x6
const TYPE_CONTINUATION = 0x9
const FLAG_ACK = 0x1
const FLAG_END_STREAM = 0x1
const FLAG_END_HEADERS = 0x4
const FLAG_PADDED = 0x8
const FLAG_PRIORITY = 0x20
/** SETTINGS_MAX_FRAME_SIZE's default; node does not raise it for received frames unless told to. */
const MAX_FRAME_PAYLOAD = 16_384
/** node's default SETTINGS_HEADER_TABLE_SIZE, what the client's encoder and our decoder use. */
const TABLE_SIZE = 4096

/** Thrown for a client byte stream that is not valid HTTP/2 framing. */
export class H2FramingError extends Error {
  readonly code = 'H2_FRAMING'
}

function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const header = Buffer.alloc(FRAME_HEADER)
  header.writeUIntBE(length, 0, 3)
  header.writeUInt8(type, 3)
  header.writeUInt8(flags, 4)
  header.writeUInt32BE(streamId & 0x7fffffff, 5)
  return header
}

/** One complete frame in a buffer of client bytes: its type, flags, payload and where it starts and ends. */
interface FrameAt {
  type: number
  flags: number
  payload: Buffer
  start: number
  end: number
}

/** The complete frames of `bytes` after the client preface, in order; stops at the first incomplete one. */
function* completeFrames(bytes: Buffer): Generator<FrameAt> {
  let start = PREFACE_LENGTH
  while (start + FRAME_HEADER <= bytes.length) {
    const end = start + FRAME_HEADER + bytes.readUIntBE(start, 3)
    if (end > bytes.length) return
    yield { type: bytes.readUInt8(start + 3), flags: bytes.readUInt8(start + 4), payload: bytes.subarray(start + FRAME_HEADER, end), start, end }
    start = end
  }
}

/**
 * An empty SETTINGS frame (all defaults): the listener sends it as the server's connection preface while it waits
 * for the client's first header block. grpc-go (etcdctl) and grpc-js send no request before the server's
 * SETTINGS arrive, so without it they would wait for node:http2, which the listener only attaches once it has
 * seen that header block. A second SETTINGS frame (node:http2's own) is legal HTTP/2 (RFC 9113 §6.5).
 */
export const EARLY_SERVER_SETTINGS = frameHeader(0, TYPE_SETTINGS, 0, 0)

/**
 * `bytes` (client preface included) without the first SETTINGS ACK frame, the client's answer to
 * EARLY_SERVER_SETTINGS, which node:http2 never sent and would reject as unexpected; null while no complete
 * SETTINGS ACK is in `bytes`. Throws H2FramingError on bad framing.
 */
export function withoutFirstSettingsAck(bytes: Buffer): Buffer | null {
  for (const frame of completeFrames(bytes)) {
    if (frame.type !== TYPE_SETTINGS || !(frame.flags & FLAG_ACK)) continue
    if (frame.payload.length !== 0) throw new H2FramingError('SETTINGS ACK with a payload')
    return Buffer.concat([bytes.subarray(0, frame.start), bytes.subarray(frame.end)])
  }
  return null
}

/**
 * `bytes` (client preface included) without the client's PING frames, and the PING ACKs that answer them. While
 * the listener waits for a client's first header block nobody else answers its PINGs; a client that connects
 * early and sends keepalive PINGs before its first call (grpc-go with `--keepalive-time`) must get them.
 * Throws H2FramingError on bad framing.
 */
export function answerPings(bytes: Buffer): { rest: Buffer; acks: Buffer[] } {
  const acks: Buffer[] = []
  const kept: Buffer[] = [bytes.subarray(0, Math.min(bytes.length, PREFACE_LENGTH))]
  let consumed = Math.min(bytes.length, PREFACE_LENGTH)
  for (const frame of completeFrames(bytes)) {
    consumed = frame.end
    if (frame.type !== TYPE_PING || frame.flags & FLAG_ACK) {
      kept.push(bytes.subarray(frame.start, frame.end))
      continue
    }
    if (frame.payload.length !== 8) throw new H2FramingError('PING payload is not 8 bytes')
    acks.push(Buffer.concat([frameHeader(8, TYPE_PING, FLAG_ACK, 0), frame.payload]))
  }
  if (acks.length === 0) return { rest: bytes, acks }
  kept.push(bytes.subarray(consumed))
  return { rest: Buffer.concat(kept), acks }
}

/** A scheme in front of an :authority value (`http://host:port`). */
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * Looks at the first bytes of a plaintext HTTP/2 connection (preface included) for the client's first header
 * block. 'clean': its :authority carries no scheme, so the connection can go to node:http2 untouched (HPACK
 * state is per connection and clients keep one :authority per connection, as grpc-go and node do);
 * 'rewrite': it does; 'wait': no complete header block yet. Throws H2FramingError on bad framing.
 */
export function classifyFirstHeaderBlock(bytes: Buffer): 'clean' | 'rewrite' | 'wait' {
  const fragments: Buffer[] = []
  for (const { type, flags, payload } of completeFrames(bytes)) {
    if (type === TYPE_HEADERS) {
      let start = 0
      let end = payload.length
      if (flags & FLAG_PADDED) {
        start = 1
        end -= payload.readUInt8(0)
      }
      if (flags & FLAG_PRIORITY) start += 5
      if (end < start) throw new H2FramingError('bad HEADERS padding')
      fragments.push(payload.subarray(start, end))
    } else if (type === TYPE_CONTINUATION && fragments.length > 0) {
      fragments.push(payload)
    } else if (fragments.length > 0) {
      throw new H2FramingError('frame inside an open header block')
    }
    if (fragments.length > 0 && flags & FLAG_END_HEADERS) {
      const decoder = hpack.decompressor.create({ table: { maxSize: TABLE_SIZE } })
      decoder.write(Buffer.concat(fragments))
      let failure: Error | undefined
      decoder.execute((error) => (failure = error ?? undefined))
      if (failure) throw new H2FramingError(`bad header block: ${failure.message}`)
      for (let field = decoder.read(); field !== null; field = decoder.read()) {
        if (field.name === ':authority' && SCHEME.test(field.value)) return 'rewrite'
      }
      return 'clean'
    }
  }
  return 'wait'
}

/** Rewrites client→server HTTP/2 bytes; feed with `push`, which returns the bytes to forward. */
export class AuthorityRewriter {
  private pending: Buffer = Buffer.alloc(0)
  private prefaceDone = false
  /** Drops the client's first SETTINGS ACK: it answers the listener's early SETTINGS, not node:http2's. */
  private dropSettingsAck: boolean
  private readonly decoder = hpack.decompressor.create({ table: { maxSize: TABLE_SIZE } })
  private readonly encoder = hpack.compressor.create({ table: { maxSize: TABLE_SIZE } })
  /** A HEADERS block waiting for its CONTINUATION frames. */
  private open: { streamId: number; flags: number; priority: Buffer | null; fragments: Buffer[] } | null = null

  constructor(options: { dropFirstSettingsAck?: boolean } = {}) {
    this.dropSettingsAck = options.dropFirstSettingsAck ?? false
  }

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    const out: Buffer[] = []
    if (!this.prefaceDone) {
      if (this.pending.length < PREFACE_LENGTH) return out
      out.push(this.pending.subarray(0, PREFACE_LENGTH))
      this.pending = this.pending.subarray(PREFACE_LENGTH)
      this.prefaceDone = true
    }
    while (this.pending.length >= FRAME_HEADER) {
      const length = this.pending.readUIntBE(0, 3)
      if (this.pending.length < FRAME_HEADER + length) break
      const type = this.pending.readUInt8(3)
      const flags = this.pending.readUInt8(4)
      const streamId = this.pending.readUInt32BE(5) & 0x7fffffff
      const frame = this.pending.subarray(0, FRAME_HEADER + length)
      const payload = frame.subarray(FRAME_HEADER)
      this.pending = this.pending.subarray(FRAME_HEADER + length)
      if (type === TYPE_HEADERS) {
        if (this.open) throw new H2FramingError('HEADERS inside an open header block')
        let offset = 0
        let end = payload.length
        if (flags & FLAG_PADDED) {
          const padding = payload.readUInt8(0)
          offset = 1
          end -= padding
        }
        const priority = flags & FLAG_PRIORITY ? Buffer.from(payload.subarray(offset, offset + 5)) : null
        if (priority) offset += 5
        if (end < offset) throw new H2FramingError('bad HEADERS padding')
        this.open = { streamId, flags, priority, fragments: [Buffer.from(payload.subarray(offset, end))] }
        if (flags & FLAG_END_HEADERS) out.push(...this.finishBlock())
      } else if (type === TYPE_CONTINUATION && this.open) {
        if (streamId !== this.open.streamId) throw new H2FramingError('CONTINUATION for another stream')
        this.open.fragments.push(Buffer.from(payload))
        if (flags & FLAG_END_HEADERS) out.push(...this.finishBlock())
      } else {
        if (this.open) throw new H2FramingError('frame inside an open header block')
        if (this.dropSettingsAck && type === TYPE_SETTINGS && flags & FLAG_ACK) this.dropSettingsAck = false
        else out.push(Buffer.from(frame))
      }
    }
    return out
  }

  private finishBlock(): Buffer[] {
    const block = this.open!
    this.open = null
    this.decoder.write(Buffer.concat(block.fragments))
    let failure: Error | undefined
    this.decoder.execute((error) => (failure = error ?? undefined))
    if (failure) throw new H2FramingError(`bad header block: ${failure.message}`)
    const headers: Array<{ name: string; value: string }> = []
    for (let field = this.decoder.read(); field !== null; field = this.decoder.read()) {
      const value = field.name === ':authority' ? field.value.replace(SCHEME, '').replace(/\/+$/, '') : field.value
      headers.push({ name: field.name, value })
    }
    this.encoder.write(headers)
    const chunks: Buffer[] = []
    for (let chunk = this.encoder.read(); chunk !== null; chunk = this.encoder.read()) chunks.push(chunk)
    const encoded = Buffer.concat(chunks)
    const first = Buffer.concat([block.priority ?? Buffer.alloc(0), encoded.subarray(0, MAX_FRAME_PAYLOAD - (block.priority ? 5 : 0))])
    let rest = encoded.subarray(first.length - (block.priority ? 5 : 0))
    const flags = (block.flags & (FLAG_END_STREAM | FLAG_PRIORITY)) | (rest.length === 0 ? FLAG_END_HEADERS : 0)
    const frames = [frameHeader(first.length, TYPE_HEADERS, flags, block.streamId), first]
    while (rest.length > 0) {
      const piece = rest.subarray(0, MAX_FRAME_PAYLOAD)
      rest = rest.subarray(piece.length)
      frames.push(frameHeader(piece.length, TYPE_CONTINUATION, rest.length === 0 ? FLAG_END_HEADERS : 0, block.streamId), piece)
    }
    return frames
  }
}

/**
 * A Duplex over `socket` for grpc-js that first replays `head` (bytes read while sniffing the protocol) and
 * rewrites client header blocks with AuthorityRewriter. NB: node:http2 reads a net.Socket through its native
 * handle; a plain Duplex makes it read through the stream API, which is what lets us replay and rewrite.
 */
export function authorityFixingDuplex(socket: Socket, head: Buffer, options: { dropFirstSettingsAck?: boolean } = {}): Duplex {
  const rewriter = new AuthorityRewriter(options)
  const duplex = new Duplex({
    read() {
      socket.resume()
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback)
    },
    final(callback) {
      socket.end(callback)
    },
    destroy(error, callback) {
      socket.destroy(error ?? undefined)
      callback(error)
    },
  })
  const forward = (chunk: Buffer) => {
    let out: Buffer[]
    try {
      out = rewriter.push(chunk)
    } catch {
      socket.destroy()
      return
    }
    for (const piece of out) if (!duplex.push(piece)) socket.pause()
  }
  forward(head)
  socket.on('data', forward)
  socket.on('end', () => duplex.push(null))
  socket.on('close', () => duplex.destroy())
  socket.on('error', (error) => duplex.destroy(error))
  return duplex
}
