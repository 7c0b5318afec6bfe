import { describe, expect, it } from 'vitest'
import { analyzeQuorum, drillLinks, planDrill, quantile } from '../../core/cluster/drills'
import { NO_FAULT } from '../../core/cluster/link-proxy'
import { parseDialMap } from '../../core/server/peer/transport'

const three = ['member1', 'member2', 'member3']

describe('drill planning', () => {
  it('partition cuts both directions between the chosen members and the rest, nothing else', () => {
    expect(drillLinks(three, { kind: 'partition', members: ['member2'] }).map(([a, b]) => `${a}>${b}`).sort()).toEqual([
      'member1>member2', 'member2>member1', 'member2>member3', 'member3>member2',
    ])
    expect(drillLinks(three, { kind: 'partition', members: ['member2'], direction: 'out' }).map(([a, b]) => `${a}>${b}`)).toEqual(['member2>member1', 'member2>member3'])
    expect(drillLinks(three, { kind: 'partition', members: ['member2'], direction: 'in' }).map(([a, b]) => `${a}>${b}`)).toEqual(['member1>member2', 'member3>member2'])
  })

  it('a partition needs members on both sides and known names', () => {
    expect(() => drillLinks(three, { kind: 'split', members: three })).toThrow('needs members on both sides')
    expect(() => drillLinks(three, { kind: 'partition', members: ['member9'] })).toThrow('no member named "member9"')
  })

  it('latency between two chosen members slows only their links, half the round trip each way, keeping other faults', () => {
    const current = { 'member1>member2': { ...NO_FAULT, lossRate: 0.1 } }
    const faults = planDrill(three, current, { kind: 'latency', members: ['member1', 'member2'], ms: 200, jitterMs: 20 })
    expect(faults).toEqual({
      'member1>member2': { blocked: false, delayMs: 100, jitterMs: 10, lossRate: 0.1 },
      'member2>member1': { blocked: false, delayMs: 100, jitterMs: 10, lossRate: 0 },
    })
    expect(Object.keys(planDrill(three, {}, { kind: 'loss', rate: 0.05 }))).toHaveLength(6)
    expect(planDrill(three, faults, { kind: 'heal' })).toEqual({})
    expect(() => planDrill(three, {}, { kind: 'loss', rate: 2 })).toThrow('loss rate must be between 0 and 1')
  })
})

describe('quorum maths of a partition (Raft thesis §3.6: a majority must answer)', () => {
  it('a leader cut off from 3 members: the other 2 keep quorum 2, the lone member cannot write', () => {
    const analysis = analyzeQuorum(three, planDrill(three, {}, { kind: 'partition', members: ['member1'] }))
    expect(analysis).toMatchObject({ quorumSize: 2, sides: [['member2', 'member3'], ['member1']], majoritySide: ['member2', 'member3'] })
    expect(analysis.explanation).toBe(
      'member2 and member3 can talk: 2 of 3 ≥ quorum 2, so quorum is held on their side: they keep (or elect) a leader and accept writes. ' +
        'member1 is cut off: 1 of 3 < 2, so it cannot elect a leader or commit writes (writes there time out) until the partition heals.',
    )
  })

  it('a one-way cut counts as a cut; a 2|2 split of 4 members leaves no side with quorum', () => {
    expect(analyzeQuorum(three, planDrill(three, {}, { kind: 'partition', members: ['member3'], direction: 'in' })).majoritySide).toEqual(['member1', 'member2'])
    const four = [...three, 'member4']
    const split = analyzeQuorum(four, planDrill(four, {}, { kind: 'split', members: ['member1', 'member2'] }))
    expect(split.majoritySide).toBeNull()
    expect(split.explanation).toBe('No side has a quorum (largest side 2 of 4 < 3): no leader can be elected and no write can commit anywhere until the partition heals.')
  })

  it('latency and loss do not cut links but are explained', () => {
    const analysis = analyzeQuorum(three, planDrill(three, planDrill(three, {}, { kind: 'latency', ms: 200 }), { kind: 'loss', rate: 0.01, members: ['member1'] }))
    expect(analysis.majoritySide).toEqual(three)
    expect(analysis.explanation).toContain('6 link direction(s) are slowed (up to 200 ms added round trip)')
    expect(analysis.explanation).toContain('4 link direction(s) lose chunks')
  })
})

describe('helpers', () => {
  it('the dial map routes a peer URL origin to a proxy address and rejects malformed entries', () => {
    expect([...parseDialMap('http://127.0.0.1:2380=127.0.0.1:40001, https://localhost:2381/x=127.0.0.1:40002')]).toEqual([
      ['http://127.0.0.1:2380', '127.0.0.1:40001'],
      ['https://localhost:2381', '127.0.0.1:40002'],
    ])
    expect(parseDialMap(undefined).size).toBe(0)
    expect(() => parseDialMap('http://127.0.0.1:2380=nowhere')).toThrow('want URL=host:port')
  })

  it('quantile is nearest-rank', () => {
    expect(quantile([5, 1, 4, 2, 3], 0.5)).toBe(3)
    expect(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.99)).toBe(99)
  })
})
