import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LinkProxyServer, planLinkProxies, writeLinkProxyConfig, type LinkProxyConfig } from '../../core/cluster/link-proxy'
import { tempDir } from '../support/temp-dir'

// The link proxies alone, in this process, over real sockets: member "a" dials member "b" through proxy a→b.
// "b" is an echo server, so each round trip crosses a→b (fault "a>b") and comes back b→a (fault "b>a").

async function listenEcho(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.pipe(socket))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port }
}

/** Connects, sends one byte and resolves with the round trip in ms (rejects if the socket closes first). */
async function roundTrip(port: number): Promise<number> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true })
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const started = performance.now()
    socket.write('x')
    await new Promise<void>((resolve, reject) => {
      socket.once('data', () => resolve())
      socket.once('close', () => reject(new Error('closed by the proxy')))
    })
    return performance.now() - started
  } finally {
    socket.destroy()
  }
}

describe('link proxy faults on one directed pair', () => {
  const dir = tempDir('quorum-link-proxy-')
  let echo: { server: Server; port: number }
  let proxy: LinkProxyServer
  let config: LinkProxyConfig
  const port = (from: string, to: string) => config.links.find((link) => link.from === from && link.to === to)!.port

  beforeAll(async () => {
    echo = await listenEcho()
    config = await planLinkProxies([
      { name: 'a', peerURL: 'http://127.0.0.1:1' },
      { name: 'b', peerURL: `http://127.0.0.1:${echo.port}` },
    ])
    writeLinkProxyConfig(dir.path, config)
    proxy = new LinkProxyServer(dir.path)
    await proxy.start()
  })

  afterAll(async () => {
    await proxy?.stop()
    echo?.server.close()
    dir.remove()
  })

  it('without faults bytes pass straight through', async () => {
    expect(await roundTrip(port('a', 'b'))).toBeLessThan(150)
  })

  it('delay applies per direction of travel: "a>b" on the request, "b>a" on the reply', async () => {
    proxy.setFaults({ 'a>b': { delayMs: 120 } }, true)
    expect(await roundTrip(port('a', 'b'))).toBeGreaterThanOrEqual(115)
    proxy.setFaults({ 'a>b': null, 'b>a': { delayMs: 120 } }, true)
    expect(await roundTrip(port('a', 'b'))).toBeGreaterThanOrEqual(115)
    proxy.setFaults({}, true)
    expect(proxy.state().faults).toEqual({})
  })

  it('a lost chunk arrives after the retransmission timeout (at least 200 ms), in order', async () => {
    proxy.setFaults({ 'a>b': { lossRate: 1 } }, true)
    expect(await roundTrip(port('a', 'b'))).toBeGreaterThanOrEqual(195)
    proxy.setFaults({}, true)
  })

  it('blocking "a>b" cuts the open connection and refuses new ones; heal lets them through again', async () => {
    const open: Socket = connect({ host: '127.0.0.1', port: port('a', 'b') })
    await new Promise((resolve) => open.once('connect', resolve))
    await expect.poll(() => proxy.state().links.find((link) => link.from === 'a')?.connections).toBe(1)
    const closed = new Promise((resolve) => open.once('close', resolve))
    proxy.setFaults({ 'a>b': { blocked: true } }, true)
    await closed
    await expect(roundTrip(port('a', 'b'))).rejects.toThrow()
    proxy.setFaults({ 'a>b': null }, false)
    expect(await roundTrip(port('a', 'b'))).toBeLessThan(150)
  })

  it('rejects unknown links and out-of-range numbers', () => {
    expect(() => proxy.setFaults({ 'a>c': { blocked: true } }, false)).toThrow('no link a>c')
    expect(() => proxy.setFaults({ 'a>b': { lossRate: 1.5 } }, false)).toThrow('loss rate must be between 0 and 1')
  })
})
