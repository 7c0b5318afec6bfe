import { assert } from '../../util/assert'
import {
  EntryType,
  type ConfState,
  type Entry,
  type Message,
  type MessageType,
  type Snapshot,
} from '../../raft/types'

// Binary codec for Raft messages between Quorum members (members only talk to members, so this is our own
// compact format, not etcd's raftpb). Layout, all integers big-endian:
//
//   u8 version(=1) | u8 type | u64 to | u64 from | f64 term | f64 logTerm | f64 index | f64 commit
//   | u8 flags (bit0 reject, bit1 has snapshot) | f64 rejectHint | bytes context
//   | u32 entryCount | entry* | [snapshot]
//   entry    = f64 term | f64 index | u8 type | bytes data
//   snapshot = f64 index | f64 term | ids voters | ids learners | bytes data
//   bytes    = u32 length | raw ;  ids = u32 count | u64*
//
// Terms and indexes are safe integers, stored as f64 (exact up to 2^53). Decoding checks every length
// against the remaining input, so garbage on the peer port yields a DecodeError, never a huge allocation.

const VERSION = 1

/** Thrown for bytes that are not a valid encoded message. */
export class DecodeError extends Error {
  readonly code = 'PEER_DECODE'
}

class Writer {
  private buffer: Buffer
  private offset = 0

  constructor(initialSize: number) {
    this.buffer = Buffer.allocUnsafe(initialSize)
  }

  private reserve(size: number): void {
    if (this.offset + size <= this.buffer.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.offset + size))
    this.buffer.copy(grown, 0, 0, this.offset)
    this.buffer = grown
  }

  u8(value: number): void {
    this.reserve(1)
    this.buffer.writeUInt8(value, this.offset)
    this.offset += 1
  }

  u32(value: number): void {
    this.reserve(4)
    this.buffer.writeUInt32BE(value, this.offset)
    this.offset += 4
  }

  u64(value: bigint): void {
    this.reserve(8)
    this.buffer.writeBigUInt64BE(value, this.offset)
    this.offset += 8
  }

  f64(value: number): void {
    assert(Number.isSafeInteger(value), () => `cannot encode ${value}: not a safe integer`)
    this.reserve(8)
    this.buffer.writeDoubleBE(value, this.offset)
    this.offset += 8
  }

  bytes(value: Uint8Array): void {
    this.u32(value.length)
    this.reserve(value.length)
    this.buffer.set(value, this.offset)
    this.offset += value.length
  }

  ids(values: readonly bigint[]): void {
    this.u32(values.length)
    for (const value of values) this.u64(value)
  }

  finish(): Buffer {
    return this.buffer.subarray(0, this.offset)
  }
}

class Reader {
  private offset = 0

  constructor(private readonly buffer: Buffer) {}

  private need(size: number): void {
    if (this.offset + size > this.buffer.length) {
      throw new DecodeError(`truncated message: need ${size} bytes at offset ${this.offset} of ${this.buffer.length}`)
    }
  }

  u8(): number {
    this.need(1)
    return this.buffer.readUInt8(this.offset++)
  }

  u32(): number {
    this.need(4)
    const value = this.buffer.readUInt32BE(this.offset)
    this.offset += 4
    return value
  }

  u64(): bigint {
    this.need(8)
    const value = this.buffer.readBigUInt64BE(this.offset)
    this.offset += 8
    return value
  }

  f64(): number {
    this.need(8)
    const value = this.buffer.readDoubleBE(this.offset)
    this.offset += 8
    if (!Number.isSafeInteger(value) || value < 0) throw new DecodeError(`bad integer ${value} at offset ${this.offset - 8}`)
    return value
  }

  bytes(): Uint8Array {
    const length = this.u32()
    this.need(length)
    // Copy, so the message does not pin the (possibly large) frame buffer it came in.
    const value = new Uint8Array(this.buffer.subarray(this.offset, this.offset + length))
    this.offset += length
    return value
  }

  count(itemSize: number): number {
    const count = this.u32()
    this.need(count * itemSize)
    return count
  }

  ids(): bigint[] {
    const count = this.count(8)
    return Array.from({ length: count }, () => this.u64())
  }

  done(): void {
    if (this.offset !== this.buffer.length) throw new DecodeError(`${this.buffer.length - this.offset} trailing bytes`)
  }
}

function encodedSizeHint(message: Message): number {
  let size = 96 + message.context.length + (message.snapshot?.data.length ?? 0)
  for (const entry of message.entries) size += 21 + entry.data.length
  return size
}

/** Encodes a Raft message for the peer transport. */
export function encodeMessage(message: Message): Buffer {
  const writer = new Writer(encodedSizeHint(message))
  writer.u8(VERSION)
  writer.u8(message.type)
  writer.u64(message.to)
  writer.u64(message.from)
  writer.f64(message.term)
  writer.f64(message.logTerm)
  writer.f64(message.index)
  writer.f64(message.commit)
  writer.u8((message.reject ? 1 : 0) | (message.snapshot ? 2 : 0))
  writer.f64(message.rejectHint)
  writer.bytes(message.context)
  writer.u32(message.entries.length)
  for (const entry of message.entries) {
    writer.f64(entry.term)
    writer.f64(entry.index)
    writer.u8(entry.type)
    writer.bytes(entry.data)
  }
  if (message.snapshot) {
    const { metadata, data } = message.snapshot
    writer.f64(metadata.index)
    writer.f64(metadata.term)
    writer.ids(metadata.confState.voters)
    writer.ids(metadata.confState.learners)
    writer.bytes(data)
  }
  return writer.finish()
}

/** Decodes bytes made by encodeMessage. Throws DecodeError for anything else. */
export function decodeMessage(buffer: Buffer): Message {
  const reader = new Reader(buffer)
  const version = reader.u8()
  if (version !== VERSION) throw new DecodeError(`unsupported message version ${version}`)
  const type = reader.u8()
  if (type > 18) throw new DecodeError(`unknown message type ${type}`)
  const to = reader.u64()
  const from = reader.u64()
  const term = reader.f64()
  const logTerm = reader.f64()
  const index = reader.f64()
  const commit = reader.f64()
  const flags = reader.u8()
  const rejectHint = reader.f64()
  const context = reader.bytes()
  const entryCount = reader.count(21)
  const entries: Entry[] = []
  for (let i = 0; i < entryCount; i++) {
    const entryTerm = reader.f64()
    const entryIndex = reader.f64()
    const entryType = reader.u8()
    if (entryType !== EntryType.Normal && entryType !== EntryType.ConfChange) throw new DecodeError(`unknown entry type ${entryType}`)
    entries.push({ term: entryTerm, index: entryIndex, type: entryType, data: reader.bytes() })
  }
  let snapshot: Snapshot | undefined
  if (flags & 2) {
    const snapshotIndex = reader.f64()
    const snapshotTerm = reader.f64()
    const confState: ConfState = { voters: reader.ids(), learners: reader.ids() }
    snapshot = { metadata: { index: snapshotIndex, term: snapshotTerm, confState }, data: reader.bytes() }
  }
  reader.done()
  return {
    type: type as MessageType,
    to,
    from,
    term,
    logTerm,
    index,
    entries,
    commit,
    snapshot,
    reject: (flags & 1) !== 0,
    rejectHint,
    context,
  }
}
