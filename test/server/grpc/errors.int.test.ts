import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { EtcdClient, GrpcError } from '../../../core/client'
import { addService, serviceMethods } from '../../../core/proto/services'
import { AlarmAction, AlarmType } from '../../../core/proto/types'
import { toGrpcStatusError } from '../../../core/server/grpc/errors'
import { expectEtcdError } from '../../client/expect-etcd-error'
import { useEtcd } from '../../client/etcd-fixture'

// The error table against what a real etcd 3.4.23 answers: each case provokes the error and checks etcd's
// gRPC status code and message equal the table's (expectEtcdError compares the raw status).
const fixture = useEtcd({ size: 1 })

describe('etcd 3.4 answers match the error table', () => {
  test('KV request validation: empty key, ignore_value/ignore_lease misuse', async () => {
    await expectEtcdError(fixture.client.kv.range(''), 'EMPTY_KEY')
    await expectEtcdError(fixture.client.kv.put('', 'v'), 'EMPTY_KEY')
    await expectEtcdError(fixture.client.kv.delete(''), 'EMPTY_KEY')
    await expectEtcdError(fixture.client.kv.put('e/missing', '', { ignoreValue: true }), 'KEY_NOT_FOUND')
    await expectEtcdError(fixture.client.kv.put('e/k', 'v', { ignoreValue: true }), 'VALUE_PROVIDED')
    await expectEtcdError(fixture.client.kv.put('e/k', 'v', { ignoreLease: true, lease: 5n }), 'LEASE_PROVIDED')
  })

  test('txn limits: more than 128 ops, and the same key put twice', async () => {
    const ops = Array.from({ length: 129 }, (_, i) => ({ type: 'put' as const, key: `e/t${i}`, value: 'v' }))
    await expectEtcdError(fixture.client.kv.txn({ success: ops }), 'TOO_MANY_OPS')
    await expectEtcdError(
      fixture.client.kv.txn({ success: [{ type: 'put', key: 'e/d', value: '1' }, { type: 'put', key: 'e/d', value: '2' }] }),
      'DUPLICATE_KEY',
    )
  })

  test('revisions: compacted and future, for Range and Compact', async () => {
    const old = await fixture.client.kv.put('e/r', '1')
    const latest = await fixture.client.kv.put('e/r', '2')
    await fixture.client.kv.compact(latest.header.revision)
    await expectEtcdError(fixture.client.kv.range('e/r', { revision: old.header.revision }), 'COMPACTED')
    await expectEtcdError(fixture.client.kv.compact(old.header.revision), 'COMPACTED')
    await expectEtcdError(fixture.client.kv.range('e/r', { revision: 1_000_000 }), 'FUTURE_REV')
    await expectEtcdError(fixture.client.kv.compact(1_000_000), 'FUTURE_REV')
  })

  test('leases: unknown lease on put and revoke, TTL too large, duplicate ID', async () => {
    await expectEtcdError(fixture.client.kv.put('e/l', 'v', { lease: 0x1234n }), 'LEASE_NOT_FOUND')
    await expectEtcdError(fixture.client.lease.revoke(0x1234n), 'LEASE_NOT_FOUND')
    await expectEtcdError(fixture.client.lease.grant(9_000_000_001), 'LEASE_TTL_TOO_LARGE')
    await fixture.client.lease.grant(60, { id: 77n })
    await expectEtcdError(fixture.client.lease.grant(60, { id: 77n }), 'LEASE_EXIST')
  })

  test('size limits: over --max-request-bytes is etcd REQUEST_TOO_LARGE, over the gRPC limit RESOURCE_EXHAUSTED', async () => {
    await fixture.client.kv.put('e/big', Buffer.alloc(1.4 * 1024 * 1024, 1))
    await expectEtcdError(fixture.client.kv.put('e/big', Buffer.alloc(1.6 * 1024 * 1024, 1)), 'REQUEST_TOO_LARGE')
    const tooBig = await fixture.client.kv.put('e/big', Buffer.alloc(2.1 * 1024 * 1024, 1)).catch((error: unknown) => error)
    expect(tooBig).toBeInstanceOf(GrpcError)
    expect(tooBig).toMatchObject({ code: 'RESOURCE_EXHAUSTED' })
    expect((tooBig as GrpcError).details).toMatch(/^grpc: received message larger than max/)
  })

  test('a NOSPACE alarm refuses writes with NO_SPACE until it is deactivated', async () => {
    const { header } = await fixture.client.kv.put('e/a', 'v')
    const alarm = serviceMethods('etcdserverpb.Maintenance').Alarm
    const activate = { action: AlarmAction.ACTIVATE, memberID: header.memberId.toString(), alarm: AlarmType.NOSPACE }
    await fixture.client.transport.unary(alarm, activate, {}, { idempotent: true })
    expect(await fixture.client.maintenance.alarms()).toEqual([{ memberId: header.memberId, alarm: 'nospace' }])
    await expectEtcdError(fixture.client.kv.put('e/a', 'v2'), 'NO_SPACE')
    expect((await fixture.client.kv.get('e/a'))?.toString()).toBe('v')
    await fixture.client.maintenance.alarmDeactivate(header.memberId, 'nospace')
    expect(await fixture.client.maintenance.alarms()).toEqual([])
    await fixture.client.kv.put('e/a', 'v3')
  })

  test('auth management without auth: empty names, unknown users and roles, authenticate while disabled', async () => {
    await expectEtcdError(fixture.client.auth.userAdd('', 'x'), 'USER_EMPTY')
    await expectEtcdError(fixture.client.auth.roleAdd(''), 'ROLE_EMPTY')
    await expectEtcdError(fixture.client.auth.userGet('ghost'), 'USER_NOT_FOUND')
    await expectEtcdError(fixture.client.auth.roleGet('ghost'), 'ROLE_NOT_FOUND')
    await expectEtcdError(fixture.client.auth.authenticate('root', 'x'), 'AUTH_NOT_ENABLED')
  })
})

describe('toGrpcStatusError on a grpc-js server, read back by EtcdClient', () => {
  let server: grpc.Server
  let fake: EtcdClient

  beforeAll(async () => {
    class CompactedError extends Error {
      readonly code = 'COMPACTED'
    }
    server = new grpc.Server()
    addService(server, 'etcdserverpb.KV', {
      Range: (call, callback) => {
        const key = call.request.key.toString()
        if (key === 'compacted') return callback(toGrpcStatusError(new CompactedError('compacted at 7')))
        if (key === 'crash') return callback(toGrpcStatusError(new TypeError('x is not a function')))
        callback(null, { kvs: [{ key: call.request.key, value: Buffer.from([0xff]), mod_revision: 3 }], count: 1 })
      },
    })
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    )
    fake = new EtcdClient({ endpoints: [`127.0.0.1:${port}`] })
  })

  afterAll(async () => {
    fake?.close()
    await new Promise<void>((resolve) => server?.tryShutdown(() => resolve()))
  })

  test('an error class with an etcd code reaches the client as that etcd error', async () => {
    await expectEtcdError(fake.kv.range('compacted'), 'COMPACTED')
    const ok = await fake.kv.range('fine')
    expect(ok.kvs[0]).toMatchObject({ modRevision: 3, value: Buffer.from([0xff]) })
  })

  test('an unexpected error reaches the client as UNKNOWN with its message and no stack', async () => {
    const error = await fake.kv.range('crash').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GrpcError)
    expect(error).toMatchObject({ code: 'UNKNOWN', details: 'x is not a function' })
  })
})
