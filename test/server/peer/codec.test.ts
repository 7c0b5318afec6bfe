import { describe, expect, it } from 'vitest'
import { decodeMessage, DecodeError, encodeMessage } from '../../../core/server/peer/codec'
import { EntryType, MessageType, type Message } from '../../../core/raft/types'
import { seededRand } from '../../../core/util/rand'

function message(overrides: Partial<Message> = {}): Message {
  return {
    type: MessageType.MsgApp,
    to: 0xdf9e12470f1e5568n,
    from: 0xffffffffffffffffn,
    term: 7,
    logTerm: 6,
    index: 2 ** 40,
    entries: [
      { term: 7, index: 2 ** 40 + 1, type: EntryType.Normal, data: new Uint8Array([0, 255, 1]) },
      { term: 7, index: 2 ** 40 + 2, type: EntryType.ConfChange, data: new Uint8Array() },
    ],
    commit: 99,
    reject: true,
    rejectHint: 12,
    context: new Uint8Array([9, 9]),
    ...overrides,
  }
}

describe('peer message codec', () => {
  it('round-trips every field, including 64-bit IDs and large indexes', () => {
    const original = message()
    expect(decodeMessage(encodeMessage(original))).toEqual({ ...original, snapshot: undefined })
  })

  it('round-trips a snapshot message with its configuration', () => {
    const original = message({
      type: MessageType.MsgSnap,
      entries: [],
      snapshot: { data: new Uint8Array([1, 2, 3]), metadata: { index: 500, term: 4, confState: { voters: [1n, 2n], learners: [3n] } } },
    })
    expect(decodeMessage(encodeMessage(original))).toEqual(original)
  })

  it('rejects truncated input at every cut point with DecodeError', () => {
    const bytes = encodeMessage(message())
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodeMessage(bytes.subarray(0, cut))).toThrow(DecodeError)
    }
  })

  it('never allocates what a corrupt length merely claims, and never throws anything but DecodeError', () => {
    const rand = seededRand(42)
    const bytes = encodeMessage(message())
    for (let round = 0; round < 2000; round++) {
      const corrupt = Buffer.from(bytes)
      for (let flips = 0; flips < 3; flips++) corrupt[rand.int(corrupt.length)] = rand.int(256)
      try {
        decodeMessage(corrupt)
      } catch (error) {
        expect(error).toBeInstanceOf(DecodeError)
      }
    }
    const hugeCount = Buffer.from(bytes)
    hugeCount.writeUInt32BE(0xffffffff, 59) // the context length field: 2 + 8 + 8 + 4 * 8 + 1 + 8 bytes in
    expect(() => decodeMessage(hugeCount)).toThrow(DecodeError)
  })

  it('rejects trailing bytes and unknown versions', () => {
    const bytes = encodeMessage(message())
    expect(() => decodeMessage(Buffer.concat([bytes, Buffer.from([0])]))).toThrow('trailing bytes')
    const version = Buffer.from(bytes)
    version[0] = 9
    expect(() => decodeMessage(version)).toThrow('unsupported message version 9')
  })
})
