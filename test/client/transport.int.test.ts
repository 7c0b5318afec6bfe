import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { EtcdClient, EtcdError, GrpcError } from '../../core/client'
import { addService } from '../../core/proto/services'
import { etcdStatusError } from '../../core/server/grpc/errors'

// Transport behaviour that real etcd cannot be made to show on demand (a member that never answers, or
// answers "no leader"), with two small grpc-js servers speaking etcd's KV service.
interface FakeMember {
  server: grpc.Server
  url: string
  /** Metadata of the last request. */
  lastMetadata: grpc.Metadata | null
  requests: number
}

async function startFake(behaviour: 'healthy' | 'no-leader'): Promise<FakeMember> {
  const server = new grpc.Server()
  const member: FakeMember = { server, url: '', lastMetadata: null, requests: 0 }
  const answer = (metadata: grpc.Metadata, key: string, callback: (error: grpc.ServiceError | null) => void) => {
    member.requests++
    member.lastMetadata = metadata
    if (behaviour === 'no-leader') return callback(etcdStatusError('NO_LEADER'))
    if (key === 'slow') return // never answers: the client's deadline must end the call
    callback(null)
  }
  addService(server, 'etcdserverpb.KV', {
    Range: (call, callback) =>
      answer(call.metadata, call.request.key.toString(), (error) =>
        error ? callback(error) : callback(null, { kvs: [{ key: call.request.key, value: Buffer.from('v') }], count: 1 }),
      ),
    Put: (call, callback) =>
      answer(call.metadata, call.request.key.toString(), (error) => (error ? callback(error) : callback(null, {}))),
  })
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  )
  member.url = `http://127.0.0.1:${port}`
  return member
}

let leaderless: FakeMember
let healthy: FakeMember

beforeAll(async () => {
  ;[leaderless, healthy] = await Promise.all([startFake('no-leader'), startFake('healthy')])
})

afterAll(() => {
  leaderless?.server.forceShutdown()
  healthy?.server.forceShutdown()
})

describe('transport', () => {
  test('a read answered "no leader" fails over to the next member; a write is not repeated', async () => {
    const client = new EtcdClient({ endpoints: [leaderless.url, healthy.url] })
    try {
      const result = await client.kv.range('k')
      expect(result.kvs[0].value.toString()).toBe('v')
      expect(client.transport.currentEndpoint).toBe(healthy.url)
      const writer = new EtcdClient({ endpoints: [leaderless.url, healthy.url] })
      const before = healthy.requests
      const error = await writer.kv.put('k', 'v').catch((e: unknown) => e)
      writer.close()
      expect(error).toBeInstanceOf(EtcdError)
      expect(error).toMatchObject({ code: 'NO_LEADER' })
      expect(healthy.requests).toBe(before)
    } finally {
      client.close()
    }
  })

  test('a per-call deadline ends a call the server never answers with DEADLINE_EXCEEDED', async () => {
    const client = new EtcdClient({ endpoints: [healthy.url], callTimeoutMs: 60_000 })
    try {
      const error = await client.kv.range('slow', {}, { timeoutMs: 300 }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(GrpcError)
      expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED' })
    } finally {
      client.close()
    }
  })

  test('an abort signal cancels the call', async () => {
    const client = new EtcdClient({ endpoints: [healthy.url] })
    try {
      const controller = new AbortController()
      const pending = client.kv.range('slow', {}, { signal: controller.signal }).catch((e: unknown) => e)
      setTimeout(() => controller.abort(), 100)
      expect(await pending).toMatchObject({ code: 'CANCELLED' })
    } finally {
      client.close()
    }
  })

  test('client metadata, call metadata and require-leader reach the server', async () => {
    const client = new EtcdClient({ endpoints: [healthy.url], metadata: { 'x-client': 'quorum' } })
    try {
      await client.kv.range('k', {}, { metadata: { 'x-call': 'one' }, requireLeader: true })
      expect(healthy.lastMetadata?.get('x-client')).toEqual(['quorum'])
      expect(healthy.lastMetadata?.get('x-call')).toEqual(['one'])
      expect(healthy.lastMetadata?.get('hasleader')).toEqual(['true'])
      expect(healthy.lastMetadata?.get('token')).toEqual([])
    } finally {
      client.close()
    }
  })
})
