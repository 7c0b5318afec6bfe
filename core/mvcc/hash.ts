// Hashing as etcd does it: crc32 with the Castagnoli polynomial over revision keys and protobuf-encoded
// mvccpb.KeyValue values (etcd compat: mvcc/kvstore.go hashByRev), so HashKV is comparable with etcd's.
import type { KeyValue } from './types'

const CASTAGNOLI_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    table[i] = c >>> 0
  }
  return table
})()

/** An incremental crc32c (Castagnoli), as Go's crc32.New(crc32.MakeTable(crc32.Castagnoli)). */
export class Crc32c {
  private crc = 0xffffffff

  update(bytes: Uint8Array): this {
    let c = this.crc
    for (let i = 0; i < bytes.length; i++) c = CASTAGNOLI_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
    this.crc = c
    return this
  }

  /** The checksum of everything written so far, as an unsigned 32-bit number. */
  digest(): number {
    return (this.crc ^ 0xffffffff) >>> 0
  }
}

function pushVarint(out: number[], value: bigint): void {
  let v = BigInt.asUintN(64, value)
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80)
    v >>= 7n
  }
  out.push(Number(v))
}

function pushBytesField(out: number[], field: number, bytes: Uint8Array): void {
  if (bytes.length === 0) return
  out.push((field << 3) | 2)
  pushVarint(out, BigInt(bytes.length))
  for (const b of bytes) out.push(b)
}

function pushIntField(out: number[], field: number, value: bigint): void {
  if (value === 0n) return
  out.push(field << 3)
  pushVarint(out, value)
}

/** The protobuf encoding of mvccpb.KeyValue as gogoproto marshals it (fields in order, zero values omitted). */
export function encodeKeyValue(kv: KeyValue): Buffer {
  const out: number[] = []
  pushBytesField(out, 1, kv.key)
  pushIntField(out, 2, BigInt(kv.createRevision))
  pushIntField(out, 3, BigInt(kv.modRevision))
  pushIntField(out, 4, BigInt(kv.version))
  pushBytesField(out, 5, kv.value)
  pushIntField(out, 6, kv.lease)
  return Buffer.from(out)
}
