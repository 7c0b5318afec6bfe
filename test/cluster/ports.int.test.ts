import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { freePorts, isPortFree } from '../../core/cluster/ports'

// Listening ports for members come from below the ephemeral range, where outgoing connections never take
// them, so a member that stops finds its ports free when it starts again.

const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])

describe('freePorts', () => {
  it('gives distinct, bindable ports below the ephemeral range, never the same one twice in a row', async () => {
    const first = await freePorts(60)
    const second = await freePorts(60)
    const all = [...first, ...second]
    expect(new Set(all).size).toBe(120)
    for (const port of all) {
      expect(port).toBeGreaterThanOrEqual(10_000)
      expect(port).toBeLessThan(ephemeralStart)
    }
    expect(await Promise.all(first.slice(0, 10).map(isPortFree))).toEqual(Array(10).fill(true))
  })
})
