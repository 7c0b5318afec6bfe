import { status } from '@grpc/grpc-js'
import { describe, expect, test } from 'vitest'
import {
  ETCD_ERRORS,
  EtcdError,
  etcdErrorCodeForMessage,
  etcdStatusError,
  isEtcdErrorCode,
  toGrpcStatusError,
  type EtcdErrorCode,
} from '../../../core/server/grpc/errors'

class CompactedError extends Error {
  readonly code = 'COMPACTED'
}

describe('etcd error table', () => {
  test('every message carries the etcdserver prefix and is unique, so clients can map by message', () => {
    const messages = Object.values(ETCD_ERRORS).map((spec) => spec.message)
    expect(messages.every((message) => message.startsWith('etcdserver: '))).toBe(true)
    expect(new Set(messages).size).toBe(messages.length)
    for (const code of Object.keys(ETCD_ERRORS) as EtcdErrorCode[]) {
      expect(etcdErrorCodeForMessage(ETCD_ERRORS[code].message)).toBe(code)
    }
    expect(etcdErrorCodeForMessage('etcdserver: something else')).toBeUndefined()
  })

  test('codes and texts of the errors every etcd client matches on are etcd 3.4 rpctypes verbatim', () => {
    expect(ETCD_ERRORS.COMPACTED).toEqual({
      grpcCode: status.OUT_OF_RANGE,
      message: 'etcdserver: mvcc: required revision has been compacted',
    })
    expect(ETCD_ERRORS.INVALID_AUTH_TOKEN).toEqual({
      grpcCode: status.UNAUTHENTICATED,
      message: 'etcdserver: invalid auth token',
    })
    expect(ETCD_ERRORS.NO_LEADER).toEqual({ grpcCode: status.UNAVAILABLE, message: 'etcdserver: no leader' })
    expect(ETCD_ERRORS.NOT_LEADER.grpcCode).toBe(status.FAILED_PRECONDITION)
    expect(ETCD_ERRORS.LEASE_NOT_FOUND.grpcCode).toBe(status.NOT_FOUND)
    expect(ETCD_ERRORS.PEER_URL_EXIST.message).toBe('etcdserver: Peer URLs already exists')
    expect(ETCD_ERRORS.CORRUPT.grpcCode).toBe(status.DATA_LOSS)
  })

  test('EtcdError carries the code, the gRPC code and the exact message', () => {
    const error = new EtcdError('FUTURE_REV')
    expect(error).toBeInstanceOf(Error)
    expect(error.code).toBe('FUTURE_REV')
    expect(error.grpcCode).toBe(status.OUT_OF_RANGE)
    expect(error.message).toBe('etcdserver: mvcc: required revision is a future revision')
    expect(isEtcdErrorCode('FUTURE_REV')).toBe(true)
    expect(isEtcdErrorCode('toString')).toBe(false)
  })
})

describe('toGrpcStatusError', () => {
  test('an error class with an etcd code becomes etcd status and message', () => {
    const converted = toGrpcStatusError(new CompactedError('compacted at 5'))
    expect(converted.code).toBe(status.OUT_OF_RANGE)
    expect(converted.details).toBe('etcdserver: mvcc: required revision has been compacted')
    expect(etcdStatusError('EMPTY_KEY')).toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'etcdserver: key is not provided',
    })
  })

  test('a gRPC status passes through unchanged', () => {
    const converted = toGrpcStatusError({ code: status.DEADLINE_EXCEEDED, details: 'deadline exceeded' })
    expect(converted).toMatchObject({ code: status.DEADLINE_EXCEEDED, details: 'deadline exceeded' })
  })

  test('unknown errors become UNKNOWN with the message and never a stack trace', () => {
    const error = new TypeError('cannot read properties of undefined')
    const converted = toGrpcStatusError(error)
    expect(converted.code).toBe(status.UNKNOWN)
    expect(converted.details).toBe('cannot read properties of undefined')
    expect(converted.details).not.toContain('at ')
    expect(toGrpcStatusError({ code: 'ENOENT', message: 'no such file' })).toMatchObject({
      code: status.UNKNOWN,
      details: 'no such file',
    })
    expect(toGrpcStatusError('boom')).toMatchObject({ code: status.UNKNOWN, details: 'boom' })
    expect(toGrpcStatusError({ code: 99, details: 'x' })).toMatchObject({ code: status.UNKNOWN })
  })
})
