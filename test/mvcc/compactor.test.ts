// Auto-compaction decisions (etcd v3compactor periodic and revision modes) with a FakeClock.
import { describe, expect, it } from 'vitest'
import { AutoCompactor } from '../../core/mvcc/compactor'
import { FakeClock } from '../../core/util/clock'

const MIN = 60_000

describe('auto-compaction', () => {
  it('revision mode: every 5 minutes, compacts at current - retention when it moved', () => {
    const clock = new FakeClock()
    let rev = 5
    const c = new AutoCompactor({ mode: 'revision', retention: 10, clock, currentRevision: () => rev })
    c.resume()
    expect(c.poll()).toBeUndefined()
    clock.advance(5 * MIN)
    expect(c.poll()).toBeUndefined() // 5 - 10 <= 0
    rev = 100
    clock.advance(4 * MIN)
    expect(c.poll()).toBeUndefined() // not yet 5 minutes since the last check
    clock.advance(MIN)
    expect(c.poll()).toBe(90)
    clock.advance(5 * MIN)
    expect(c.poll()).toBeUndefined() // unchanged revision
    rev = 150
    c.pause()
    clock.advance(5 * MIN)
    expect(c.poll()).toBeUndefined() // paused (not leader)
    c.resume()
    clock.advance(5 * MIN)
    expect(c.poll()).toBe(140)
  })

  it('periodic mode: first compaction after the retention period at the revision seen then, then every period', () => {
    const clock = new FakeClock()
    let rev = 1
    const c = new AutoCompactor({ mode: 'periodic', retention: 60 * MIN, clock, currentRevision: () => rev })
    c.resume()
    const decisions: [number, number][] = []
    for (let minute = 0; minute <= 180; minute++) {
      const due = c.poll()
      if (due !== undefined) decisions.push([minute, due])
      clock.advance(MIN)
      rev += 10 // 10 revisions per minute
    }
    // samples every 6 minutes; at minute 60 the sample from minute 0 (rev 1); then hourly with the revision
    // sampled one hour earlier (etcd 3.4 keeps 11 samples, so revs[0] is 66 minutes old at that point)
    expect(decisions).toEqual([
      [60, 1],
      [120, 541],
      [180, 1141],
    ])
  })

  it('periodic mode with a short retention compacts every retention', () => {
    const clock = new FakeClock()
    let rev = 1
    const c = new AutoCompactor({ mode: 'periodic', retention: 10 * MIN, clock, currentRevision: () => rev })
    c.resume()
    const minutes: number[] = []
    for (let minute = 0; minute <= 40; minute++) {
      if (c.poll() !== undefined) minutes.push(minute)
      clock.advance(MIN)
      rev++
    }
    expect(minutes).toEqual([10, 20, 30, 40])
  })
})
