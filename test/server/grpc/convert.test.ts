import { describe, expect, it } from 'vitest'
import { keyValueToWire, txnToWire, wireInt } from '../../../core/server/grpc/convert'
import { serviceMethods } from '../../../core/proto/services'
import type * as mvcc from '../../../core/mvcc/types'

const KV = serviceMethods('etcdserverpb.KV')

// Responses go out with int64 fields as numbers where they are safe integers (cheaper to encode) and as decimal
// strings otherwise; either way the bytes on the wire must be those of the exact value.
describe('wire conversion of int64 fields', () => {
  it('keeps safe integers as numbers and everything else exact as a string', () => {
    expect(wireInt(42)).toBe(42)
    expect(wireInt(0n)).toBe(0)
    expect(wireInt(-5n)).toBe(-5)
    expect(wireInt(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER)
    expect(wireInt(2n ** 53n)).toBe('9007199254740992')
    expect(wireInt(2n ** 63n - 1n)).toBe('9223372036854775807')
    expect(wireInt(-(2n ** 63n))).toBe('-9223372036854775808')
  })

  it('encodes a Txn response to the same bytes as the all-strings message, large lease IDs included', () => {
    const kv = (lease: bigint): mvcc.KeyValue => ({ key: Buffer.from('k'), value: Buffer.from('v'), createRevision: 3, modRevision: 9, version: 4, lease })
    const response: mvcc.TxnResponse = {
      revision: 9,
      succeeded: true,
      responses: [
        { responsePut: { revision: 9, prevKv: kv(2n ** 62n + 7n) } },
        { responseRange: { revision: 9, kvs: [kv(0n), kv(-(2n ** 63n))], more: true, count: 2 } },
        { responseDeleteRange: { revision: 9, deleted: 1, prevKvs: [kv(12345n)] } },
      ],
    }
    const header = (revision: number) => ({ cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision, raft_term: 3 })
    const wire = txnToWire(response, header)
    expect(wire.responses?.[0]?.response_put?.header).toEqual({ cluster_id: 0, member_id: 0, revision: 9, raft_term: 0 })
    const strings = JSON.parse(JSON.stringify(wire, (key, value: unknown) => (typeof value === 'number' ? String(value) : value)), (key, value: unknown) =>
      value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' ? Buffer.from((value as { data: number[] }).data) : value,
    )
    expect(typeof strings.responses[1].response_range.kvs[0].mod_revision).toBe('string')
    const bytes = KV.Txn.responseSerialize(wire as never)
    expect(bytes.equals(KV.Txn.responseSerialize(strings))).toBe(true)
    const decoded = KV.Txn.responseDeserialize(bytes)
    expect(decoded.responses[0].response_put?.prev_kv?.lease).toBe(String(2n ** 62n + 7n))
    expect(decoded.responses[1].response_range?.kvs[1].lease).toBe(String(-(2n ** 63n)))
    expect(decoded.responses[1].response_range?.kvs[0]).toMatchObject({ create_revision: '3', mod_revision: '9', version: '4', lease: '0' })
    expect(decoded.header?.member_id).toBe('10276657743932975437')
  })

  it('gives a stored KeyValue all its fields', () => {
    expect(keyValueToWire({ key: Buffer.from('a'), value: Buffer.from('b'), createRevision: 1, modRevision: 2, version: 1, lease: 0n })).toEqual({
      key: Buffer.from('a'),
      value: Buffer.from('b'),
      create_revision: 1,
      mod_revision: 2,
      version: 1,
      lease: 0,
    })
  })
})
