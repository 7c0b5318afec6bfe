// Binary encoding of a ConfChange inside an EntryType.ConfChange entry. Layout (big-endian):
//   [0] type (u8) | [1..9) nodeId (u64) | [9..) context bytes
import { assert } from '../../util/assert'
import { ConfChangeType, type ConfChange } from '../types'

/** Encodes `cc` for a ConfChange entry's data. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const out = new Uint8Array(9 + cc.context.length)
  const view = new DataView(out.buffer)
  out[0] = cc.type
  view.setBigUint64(1, cc.nodeId)
  out.set(cc.context, 9)
  return out
}

/** Decodes a ConfChange entry's data. Throws (assert) on malformed data: all members wrote it via encodeConfChange. */
export function decodeConfChange(data: Uint8Array): ConfChange {
  assert(data.length >= 9, () => `conf change entry of ${data.length} bytes is too short`)
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const type = data[0] as ConfChangeType
  assert(ConfChangeType[type] !== undefined, () => `unknown conf change type ${type}`)
  return { type, nodeId: view.getBigUint64(1), context: data.slice(9) }
}
