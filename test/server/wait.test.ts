import { describe, expect, it } from 'vitest'
import { RequestIdGenerator, WaitRegistry } from '../../core/server/wait'

describe('proposal wait registry', () => {
  it('settles a registered wait once with the applied result and forgets it', async () => {
    const waits = new WaitRegistry<string>()
    const pending = waits.register(7n)
    expect(waits.isPending(7n)).toBe(true)
    expect(waits.trigger(7n, 'applied')).toBe(true)
    await expect(pending).resolves.toBe('applied')
    expect(waits.trigger(7n, 'again')).toBe(false)
    expect(waits.size).toBe(0)
  })

  it('ignores results for proposals made by other members', () => {
    expect(new WaitRegistry<string>().trigger(1n, 'x')).toBe(false)
  })

  it('rejects every pending wait on shutdown so no caller hangs', async () => {
    const waits = new WaitRegistry<string>()
    const first = waits.register(1n)
    const second = waits.register(2n)
    waits.failAll(new Error('etcdserver: server stopped'))
    await expect(first).rejects.toThrow('server stopped')
    await expect(second).rejects.toThrow('server stopped')
  })

  it('refuses a duplicate id', () => {
    const waits = new WaitRegistry<string>()
    void waits.register(1n)
    expect(() => waits.register(1n)).toThrow('duplicate request id 1')
  })
})

describe('request ids', () => {
  it('carry the member id in the top 16 bits and increase', () => {
    const ids = new RequestIdGenerator(0xdf9e12470f1e5568n, 1_700_000_000_000)
    const first = ids.next()
    const second = ids.next()
    expect(first >> 48n).toBe(0x5568n)
    expect(second).toBe(first + 1n)
  })

  it('do not repeat after a restart a millisecond later', () => {
    const before = new RequestIdGenerator(1n, 1_000)
    const issued = new Set(Array.from({ length: 200 }, () => before.next()))
    const after = new RequestIdGenerator(1n, 1_001)
    expect(issued.has(after.next())).toBe(false)
  })
})
