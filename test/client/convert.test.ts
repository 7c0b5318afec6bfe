import { Metadata, status } from '@grpc/grpc-js'
import { describe, expect, test } from 'vitest'
import { fromHeader, prefixRangeEnd, rangeEndFor, toBuffer, toNumber } from '../../core/client/convert'
import { EtcdError, GrpcError, toClientError } from '../../core/client/errors'
import { parseEndpoint, Transport } from '../../core/client/transport'
import { AssertionError } from '../../core/util/assert'

const hex = (buffer: Buffer) => buffer.toString('hex')

describe('key ranges', () => {
  test('a prefix range end increments the last byte below 0xff and drops the 0xff tail (clientv3 GetPrefixRangeEnd)', () => {
    expect(hex(prefixRangeEnd(Buffer.from('aa')))).toBe(hex(Buffer.from('ab')))
    expect(hex(prefixRangeEnd(Buffer.from([0x61, 0xff])))).toBe('62')
    expect(hex(prefixRangeEnd(Buffer.from([0x61, 0xfe, 0xff, 0xff])))).toBe('61ff')
    expect(hex(prefixRangeEnd(Buffer.from([0xff, 0xff])))).toBe('00')
    expect(hex(prefixRangeEnd(Buffer.alloc(0)))).toBe('00')
  })

  test('rangeEndFor: single key, prefix, from-key, explicit end; only one of them', () => {
    const key = Buffer.from('k')
    // A single key sends no range_end at all (etcd reads an empty one as "this key and after").
    expect(rangeEndFor(key, {})).toBeUndefined()
    expect(rangeEndFor(key, { prefix: true })?.toString()).toBe('l')
    expect(hex(rangeEndFor(key, { fromKey: true })!)).toBe('00')
    expect(rangeEndFor(key, { rangeEnd: 'z' })?.toString()).toBe('z')
    expect(() => rangeEndFor(key, { prefix: true, fromKey: true })).toThrow(/only one/)
  })

  test('strings are UTF-8 and Uint8Arrays are viewed, not copied', () => {
    expect(hex(toBuffer('é'))).toBe('c3a9')
    const bytes = new Uint8Array([1, 2, 3]).subarray(1)
    const buffer = toBuffer(bytes)
    expect(hex(buffer)).toBe('0203')
    bytes[0] = 9
    expect(buffer[0]).toBe(9)
  })
})

describe('numbers at the edge', () => {
  test('revisions become numbers, IDs bigints, and unsafe revisions are an assertion failure', () => {
    const header = fromHeader({ cluster_id: '18446744073709551615', member_id: '1', revision: '42', raft_term: '3' })
    expect(header).toEqual({ clusterId: 18446744073709551615n, memberId: 1n, revision: 42, raftTerm: 3 })
    expect(() => toNumber('9007199254740993', 'revision')).toThrow(AssertionError)
  })
})

describe('error mapping', () => {
  const serviceError = (code: number, details: string) =>
    Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() })

  test('etcd messages map to EtcdError by text; anything else to GrpcError with the status name', () => {
    const mapped = toClientError(serviceError(status.UNAUTHENTICATED, 'etcdserver: invalid auth token'))
    expect(mapped).toBeInstanceOf(EtcdError)
    expect(mapped).toMatchObject({ code: 'INVALID_AUTH_TOKEN', message: 'etcdserver: invalid auth token' })
    const other = toClientError(serviceError(status.DEADLINE_EXCEEDED, 'Deadline exceeded'))
    expect(other).toBeInstanceOf(GrpcError)
    expect(other).toMatchObject({ code: 'DEADLINE_EXCEEDED', grpcCode: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' })
    const plain = new RangeError('not grpc')
    expect(toClientError(plain)).toBe(plain)
  })
})

describe('endpoints', () => {
  test('URLs become grpc-js targets; https asks for TLS; http and https cannot be mixed', () => {
    expect(parseEndpoint('http://127.0.0.1:2379')).toEqual({ target: '127.0.0.1:2379', secure: false })
    expect(parseEndpoint('https://etcd-1:2379/')).toEqual({ target: 'etcd-1:2379', secure: true })
    expect(parseEndpoint('10.0.0.1:2379')).toEqual({ target: '10.0.0.1:2379', secure: false })
    expect(parseEndpoint('unix:///run/etcd.sock')).toEqual({ target: 'unix:/run/etcd.sock', secure: false })
    expect(() => new Transport({ endpoints: ['http://a:1', 'https://b:2'] })).toThrow(/mix/)
    expect(() => new Transport({ endpoints: [] })).toThrow(/no endpoints/)
  })

  test('failover walks the endpoints in order; backoff starts after one full pass and is capped', () => {
    const transport = new Transport({
      endpoints: ['a:1', 'b:2', 'c:3'],
      retry: { initialBackoffMs: 100, maxBackoffMs: 400 },
    })
    expect(transport.currentEndpoint).toBe('a:1')
    expect(transport.failover(0)).toBe(1)
    // A second failure report about the endpoint already left behind does not skip one.
    expect(transport.failover(0)).toBe(1)
    expect(transport.failover(1)).toBe(2)
    expect(transport.failover(2)).toBe(0)
    expect([0, 1, 2].map((attempt) => transport.backoffMs(attempt))).toEqual([0, 0, 0])
    const second = transport.backoffMs(3)
    expect(second).toBeGreaterThanOrEqual(80)
    expect(second).toBeLessThanOrEqual(120)
    expect(transport.backoffMs(30)).toBeLessThanOrEqual(480)
    transport.close()
  })
})
