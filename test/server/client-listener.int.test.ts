import * as grpc from '@grpc/grpc-js'
import { connect } from 'node:http2'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listenClientUrl, type ClientListener, type H2Route } from '../../core/server/client-listener'
import { freePort } from '../support/ports'

// The client URL listener hands HTTP/2 connections to grpc-js either natively or through the :authority
// rewriting stream (h2-authority.ts), which re-encodes every header block with its own HPACK state. Header
// blocks whose fields fill the 4,096-byte dynamic table (a long auth token) must keep both HPACK tables in step
// with the peer's: a wrong eviction rule once made the request after a ~4,000-byte token fail with
// RST_STREAM 9 (COMPRESSION_ERROR) where etcd answers it.

const passthrough = (value: Buffer) => value
const ECHO = {
  echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: passthrough,
    requestDeserialize: passthrough,
    responseSerialize: passthrough,
    responseDeserialize: passthrough,
  },
}

describe('client URL listener: header blocks that fill the HPACK dynamic table', () => {
  let server: grpc.Server
  let listener: ClientListener
  let port: number
  const seen: { authority: string; token: number }[] = []
  const routes: H2Route[] = []

  beforeAll(async () => {
    server = new grpc.Server()
    server.addService(ECHO as never, {
      echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const token = String(call.metadata.get('token')[0] ?? '')
        seen.push({ authority: call.getHost(), token: token.length })
        callback(null, Buffer.from(`${token.length}:${token.replace(/x/g, '')}`))
      },
    })
    port = await freePort()
    listener = await listenClientUrl({ url: new URL(`http://127.0.0.1:${port}`), grpc: server, http: (_request, response) => response.end(), onH2Route: (route) => routes.push(route) })
  })

  afterAll(async () => {
    await listener?.close()
    server?.forceShutdown()
  })

  // Token lengths around the table size: 3,900 and 4,000 fit (and evict everything else), 4,040 evicts the
  // token itself once the next field is added, 9,000 never fits.
  const lengths = [4000, 10, 4000, 10, 3900, 4040, 10, 9000, 10, 4000, 4000, 10]

  async function callAll(client: grpc.Client): Promise<string[]> {
    const answers: string[] = []
    for (const length of lengths) {
      const metadata = new grpc.Metadata()
      metadata.set('token', 'x'.repeat(length))
      answers.push(
        await new Promise<string>((resolve) =>
          client.makeUnaryRequest(ECHO.echo.path, passthrough, passthrough, Buffer.alloc(0), metadata, (error, response) =>
            resolve(error ? `error ${error.code} ${error.details}` : String(response)),
          ),
        ),
      )
    }
    return answers
  }

  it('a client with a plain :authority goes to node:http2 natively; every call on one connection is answered with its exact token', async () => {
    routes.length = 0
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
    try {
      expect(await callAll(client)).toEqual(lengths.map((length) => `${length}:`))
      // grpc-js waits for the server's SETTINGS before its first request; the listener's early SETTINGS get it.
      expect(routes).toEqual(['native'])
    } finally {
      client.close()
    }
  })

  it('a client whose :authority carries a scheme (etcdctl 3.4 maintenance dials) goes through the rewriter: same answers', async () => {
    seen.length = 0
    routes.length = 0
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': `http://127.0.0.1:${port}` })
    try {
      expect(await callAll(client)).toEqual(lengths.map((length) => `${length}:`))
      // the rewriter strips the scheme, and the tokens arrive intact
      expect(seen.map((call) => call.authority)).toEqual(lengths.map(() => `127.0.0.1:${port}`))
      expect(seen.map((call) => call.token)).toEqual(lengths)
      expect(routes).toEqual(['rewrite'])
    } finally {
      client.close()
    }
  })

  it('a client that connects long before its first call, pinging meanwhile, gets its PINGs answered and still goes native', async () => {
    routes.length = 0
    const session = connect(`http://127.0.0.1:${port}`)
    try {
      await new Promise((resolve) => session.once('remoteSettings', resolve))
      // grpc-go clients with keepalive (etcdctl's --keepalive-time) ping an idle connection: nobody but the
      // listener can answer while it waits for the first header block.
      for (let i = 0; i < 3; i++) {
        await new Promise<void>((resolve, reject) => session.ping((error) => (error ? reject(error) : resolve())))
        await sleep(100)
      }
      expect(routes).toEqual([])
      const stream = session.request({ ':method': 'POST', ':path': ECHO.echo.path, 'content-type': 'application/grpc', te: 'trailers', token: 'xxyz' })
      stream.end(Buffer.from([0, 0, 0, 0, 0]))
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      await new Promise((resolve) => stream.on('end', resolve))
      expect(Buffer.concat(chunks).subarray(5).toString()).toBe('4:yz')
      expect(routes).toEqual(['native'])
    } finally {
      session.close()
    }
  })
})
