import { describe, expect, it } from 'vitest'
import { decodeRaftRequest, encodeRaftRequest, RaftRequestDecodeError, type InternalRaftRequest } from '../../core/server/raft-request'

const header = { id: '18446744073709551615', username: 'alice', auth_revision: '3' }

describe('raft request codec', () => {
  it('round-trips a put with binary key and value and a 64-bit lease id', () => {
    const request: InternalRaftRequest = {
      header,
      request: 'put',
      put: { key: Buffer.from([0xff, 0xfe, 0x00, 0x80]), value: Buffer.from([0xc3, 0x28]), lease: '7587862045829383474', prev_kv: true, ignore_value: false, ignore_lease: false },
    }
    const decoded = decodeRaftRequest(encodeRaftRequest(request))
    expect(decoded.request).toBe('put')
    expect(decoded.header).toEqual(header)
    if (decoded.request !== 'put') throw new Error('wrong kind')
    expect(Buffer.compare(decoded.put.key, request.put.key)).toBe(0)
    expect(Buffer.compare(decoded.put.value, request.put.value)).toBe(0)
    expect(decoded.put.lease).toBe('7587862045829383474')
    expect(decoded.put.prev_kv).toBe(true)
  })

  it('round-trips a nested txn with compares and every op kind', () => {
    const request = {
      header,
      request: 'txn',
      txn: {
        compare: [{ result: 0, target: 2, key: Buffer.from('k'), range_end: Buffer.alloc(0), mod_revision: '5', target_union: 'mod_revision' }],
        success: [
          { request_put: { key: Buffer.from('a'), value: Buffer.from('1'), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false }, request: 'request_put' },
          { request_txn: { compare: [], success: [{ request_delete_range: { key: Buffer.from('b'), range_end: Buffer.alloc(0), prev_kv: false }, request: 'request_delete_range' }], failure: [] }, request: 'request_txn' },
        ],
        failure: [],
      },
    } as unknown as InternalRaftRequest
    const decoded = decodeRaftRequest(encodeRaftRequest(request)) as Extract<InternalRaftRequest, { request: 'txn' }>
    expect(decoded.txn.compare[0].mod_revision).toBe('5')
    expect(decoded.txn.success[0].request).toBe('request_put')
    expect(decoded.txn.success[1].request_txn?.success[0].request_delete_range?.key.toString()).toBe('b')
  })

  it('keeps only the body that was set', () => {
    const decoded = decodeRaftRequest(encodeRaftRequest({ header, request: 'lease_revoke', lease_revoke: { ID: '42' } }))
    expect(Object.keys(decoded).sort()).toEqual(['header', 'lease_revoke', 'request'])
  })

  it('refuses payloads that are not raft requests', () => {
    expect(() => decodeRaftRequest(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(RaftRequestDecodeError)
    expect(() => decodeRaftRequest(new Uint8Array())).toThrow('raft request without a body')
  })
})
