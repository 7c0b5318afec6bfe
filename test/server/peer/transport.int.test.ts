import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { PeerTransport, type PeerTransportOptions } from '../../../core/server/peer/transport'
import { MessageType, type Message, type NodeId } from '../../../core/raft/types'
import { freePorts } from '../../support/ports'

const CLUSTER = 0xc1n

function heartbeat(from: NodeId, to: NodeId, term: number): Message {
  return { type: MessageType.MsgHeartbeat, from, to, term, logTerm: 0, index: 0, entries: [], commit: term, reject: false, rejectHint: 0, context: new Uint8Array() }
}

async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('peer transport over HTTP/2', () => {
  const started: PeerTransport[] = []
  afterEach(async () => {
    await Promise.all(started.splice(0).map((transport) => transport.stop()))
  })

  async function member(id: NodeId, port: number, overrides: Partial<PeerTransportOptions> = {}) {
    const received: Message[] = []
    const unreachable: NodeId[] = []
    const transport = new PeerTransport({
      memberId: id,
      clusterId: CLUSTER,
      listenUrls: [new URL(`http://127.0.0.1:${port}`)],
      onMessage: (message) => received.push(message),
      onUnreachable: (peer) => unreachable.push(peer),
      ...overrides,
    })
    await transport.start()
    started.push(transport)
    return { transport, received, unreachable, url: `http://127.0.0.1:${port}` }
  }

  it('delivers messages in order between two members', async () => {
    const [portA, portB] = await freePorts(2)
    const a = await member(1n, portA)
    const b = await member(2n, portB)
    a.transport.addPeer(2n, [b.url])
    b.transport.addPeer(1n, [a.url])
    for (let term = 1; term <= 200; term++) a.transport.send([heartbeat(1n, 2n, term)])
    await waitFor(() => b.received.length === 200)
    expect(b.received.map((m) => m.term)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
    b.transport.send([heartbeat(2n, 1n, 5)])
    await waitFor(() => a.received.length === 1)
    expect(a.received[0]).toMatchObject({ from: 2n, to: 1n, term: 5 })
  })

  it('refuses members of another cluster, so two clusters never talk', async () => {
    const [portA, portB] = await freePorts(2)
    const a = await member(1n, portA, { clusterId: 0xaaaan })
    const b = await member(2n, portB)
    a.transport.addPeer(2n, [b.url])
    for (let i = 0; i < 20; i++) {
      a.transport.send([heartbeat(1n, 2n, 1)])
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(b.received).toHaveLength(0)
    expect(a.transport.stats(2n)?.active).toBe(false)
  })

  it('tells a removed member it was removed (HTTP 410)', async () => {
    const [portA, portB] = await freePorts(2)
    let removed = false
    const a = await member(1n, portA, { onRemovedSelf: () => (removed = true) })
    const b = await member(2n, portB, { isRemoved: (id) => id === 1n })
    a.transport.addPeer(2n, [b.url])
    a.transport.send([heartbeat(1n, 2n, 1)])
    await waitFor(() => removed)
    expect(b.received).toHaveLength(0)
  })

  it('keeps serving after garbage bytes and HTTP/1.1 on the peer port', async () => {
    const [portA, portB] = await freePorts(2)
    const a = await member(1n, portA)
    const b = await member(2n, portB)
    for (const junk of [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), Buffer.alloc(4096, 0xff), Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])]) {
      await new Promise<void>((resolve) => {
        const socket = connect(portB, '127.0.0.1', () => socket.end(junk))
        socket.on('error', () => resolve())
        socket.on('close', () => resolve())
        socket.resume()
      })
    }
    a.transport.addPeer(2n, [b.url])
    a.transport.send([heartbeat(1n, 2n, 3)])
    await waitFor(() => b.received.length === 1)
  })

  it('reconnects after the peer restarts and reports drops while it is down', async () => {
    const [portA, portB] = await freePorts(2)
    const a = await member(1n, portA)
    let b = await member(2n, portB)
    a.transport.addPeer(2n, [b.url])
    a.transport.send([heartbeat(1n, 2n, 1)])
    await waitFor(() => b.received.length === 1)
    await b.transport.stop()
    started.splice(started.indexOf(b.transport), 1)
    for (let i = 0; i < 30 && a.unreachable.length === 0; i++) {
      a.transport.send([heartbeat(1n, 2n, 2)])
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(a.unreachable).toContain(2n)
    b = await member(2n, portB)
    await waitFor(() => {
      a.transport.send([heartbeat(1n, 2n, 9)])
      return b.received.some((m) => m.term === 9)
    })
  })

  it('reconnects at once when the peer is heard from again, instead of dropping messages for a whole backoff', async () => {
    // A healed partition: A's reconnects to B have backed off to 1 s; B comes back and its first message
    // reaches A. A's next message to B (a forwarded proposal, say) must go out now, not be dropped until the
    // backoff timer runs out.
    const [portA, portB] = await freePorts(2)
    const a = await member(1n, portA)
    a.transport.addPeer(2n, [`http://127.0.0.1:${portB}`])
    let sending = true
    const failures = async () => {
      while (sending) {
        a.transport.send([heartbeat(1n, 2n, 1)])
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    const loop = failures()
    await new Promise((resolve) => setTimeout(resolve, 1800)) // backoff 50 -> 100 -> ... -> 1000 ms
    const b = await member(2n, portB)
    b.transport.addPeer(1n, [a.url])
    b.transport.send([heartbeat(2n, 1n, 4)])
    await waitFor(() => a.received.some((m) => m.term === 4))
    sending = false
    await loop
    a.transport.send([heartbeat(1n, 2n, 7)])
    const sentAt = Date.now()
    await waitFor(() => b.received.some((m) => m.term === 7), 3000)
    expect(Date.now() - sentAt).toBeLessThan(500)
  })

  it('applies injected link faults: a blocked link drops, healing restores delivery', async () => {
    const [portA, portB] = await freePorts(2)
    const a = await member(1n, portA)
    const b = await member(2n, portB)
    a.transport.addPeer(2n, [b.url])
    a.transport.setLinkFault(2n, 'outbound', { blocked: true })
    for (let i = 0; i < 10; i++) a.transport.send([heartbeat(1n, 2n, 1)])
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(b.received).toHaveLength(0)
    a.transport.setLinkFault(2n, 'outbound', null)
    a.transport.send([heartbeat(1n, 2n, 2)])
    await waitFor(() => b.received.length === 1)
    expect(b.received[0].term).toBe(2)
  })
})
