// Leases (etcd lease/lessor.go behaviour) with a FakeClock: grant rules, revoke in one revision, expiry
// reported by the primary only, keep-alive, checkpoints surviving a leader change, restore after restart.
import { describe, expect, it } from 'vitest'
import { KvStore } from '../../core/mvcc/kv-store'
import { LeaseIdGenerator, Lessor, MAX_LEASE_TTL_SECONDS, minLeaseTtlSeconds } from '../../core/mvcc/lessor'
import { MemoryBackend } from '../../core/mvcc/memory-backend'
import { WatchableStore } from '../../core/mvcc/watchable-store'
import { FakeClock } from '../../core/util/clock'
import { codeOf } from '../support/error-code'

const b = (s: string) => Buffer.from(s)

function member(clock = new FakeClock(), backend = new MemoryBackend()) {
  const kv = new KvStore(backend)
  const lessor = new Lessor(kv, { clock, minTtlSeconds: 2, checkpointIntervalMs: 5 * 60_000 })
  return { clock, backend, kv, lessor, tx: backend.writer() }
}

describe('lease grant', () => {
  it('grants with the given ID, raises a TTL below the minimum, rejects duplicates, ID 0 and huge TTLs', () => {
    const m = member()
    expect(m.lessor.grant(m.tx, 1n, 60)).toEqual({ id: 1n, ttlSeconds: 60 })
    expect(m.lessor.grant(m.tx, 2n, 0)).toEqual({ id: 2n, ttlSeconds: 2 })
    expect(m.lessor.grant(m.tx, 3n, -10).ttlSeconds).toBe(2)
    expect(codeOf(() => m.lessor.grant(m.tx, 1n, 60))).toBe('LEASE_EXISTS')
    expect(codeOf(() => m.lessor.grant(m.tx, 0n, 60))).toBe('LEASE_NOT_FOUND')
    expect(codeOf(() => m.lessor.grant(m.tx, 4n, MAX_LEASE_TTL_SECONDS + 1))).toBe('LEASE_TTL_TOO_LARGE')
    expect(m.lessor.leases()).toEqual([1n, 2n, 3n])
    expect(minLeaseTtlSeconds(1000)).toBe(2)
    expect(minLeaseTtlSeconds(5000)).toBe(8)
  })

  it('auto IDs carry the member ID bits and never repeat', () => {
    const gen = new LeaseIdGenerator(0xabcd_0000_0000_1234n, new FakeClock())
    const ids = new Set<bigint>()
    for (let i = 0; i < 1000; i++) ids.add(gen.next())
    expect(ids.size).toBe(1000)
    for (const id of ids) {
      expect(id >> 48n).toBe(0x1234n)
      expect(id > 0n && id < 1n << 63n).toBe(true)
    }
  })
})

describe('lease revoke', () => {
  it('deletes every attached key in one revision, with one watch response', () => {
    const m = member()
    const watch = new WatchableStore(m.kv).newWatchStream()
    m.lessor.grant(m.tx, 7n, 60)
    for (const k of ['a', 'b', 'c']) m.kv.put(m.tx, { key: b(k), value: b('v'), lease: 7n })
    m.kv.put(m.tx, { key: b('free'), value: b('v') })
    watch.watch({ key: b('\x00'), rangeEnd: b('\x00') })
    const before = m.kv.rev()
    expect(m.lessor.revoke(m.tx, 7n)).toBe(before + 1)
    expect(m.kv.range({ key: b('\x00'), rangeEnd: b('\x00') }).kvs.map((kv) => kv.key.toString())).toEqual(['free'])
    const responses = watch.poll()
    expect(responses).toHaveLength(1)
    expect(responses[0].events.map((e) => [e.type, e.kv.key.toString(), e.kv.modRevision])).toEqual([
      ['DELETE', 'a', before + 1],
      ['DELETE', 'b', before + 1],
      ['DELETE', 'c', before + 1],
    ])
    expect(codeOf(() => m.lessor.revoke(m.tx, 7n))).toBe('LEASE_NOT_FOUND')
    expect(m.backend.listLeases()).toEqual([])
  })

  it('a put without the lease detaches the key; ignore_lease keeps it', () => {
    const m = member()
    m.lessor.grant(m.tx, 1n, 60)
    m.kv.put(m.tx, { key: b('keep'), value: b('1'), lease: 1n })
    m.kv.put(m.tx, { key: b('keep'), value: b('2'), ignoreLease: true })
    m.kv.put(m.tx, { key: b('moved'), value: b('1'), lease: 1n })
    m.kv.put(m.tx, { key: b('moved'), value: b('2') })
    m.lessor.promote(0)
    expect(m.lessor.timeToLive(1n, true).keys.map((k) => k.toString())).toEqual(['keep'])
    m.lessor.revoke(m.tx, 1n)
    expect(m.kv.range({ key: b('keep') }).count).toBe(0)
    expect(m.kv.range({ key: b('moved') }).count).toBe(1)
  })
})

describe('lease expiry and keep-alive', () => {
  it('only the primary reports expired leases, once per retry interval', () => {
    const m = member()
    m.lessor.grant(m.tx, 1n, 10)
    m.clock.advance(60_000)
    expect(m.lessor.expiredLeases()).toEqual([]) // follower: leases never expire here
    m.lessor.promote(1000)
    m.clock.advance(10_999)
    expect(m.lessor.expiredLeases()).toEqual([])
    m.clock.advance(1)
    expect(m.lessor.expiredLeases()).toEqual([1n])
    expect(m.lessor.expiredLeases()).toEqual([]) // revoke proposed; not reported again at once
    m.clock.advance(3000)
    expect(m.lessor.expiredLeases()).toEqual([1n])
    expect(codeOf(() => m.lessor.renew(1n))).toBe('LEASE_NOT_FOUND')
    m.lessor.revoke(m.tx, 1n)
    expect(m.lessor.expiredLeases()).toEqual([])
  })

  it('keep-alive restarts the TTL; time-to-live counts down; followers refuse both', () => {
    const m = member()
    m.lessor.grant(m.tx, 1n, 10)
    expect(codeOf(() => m.lessor.renew(1n))).toBe('LEASE_NOT_PRIMARY')
    expect(codeOf(() => m.lessor.timeToLive(1n, false))).toBe('LEASE_NOT_PRIMARY')
    m.lessor.promote(0)
    m.clock.advance(7_500)
    expect(m.lessor.timeToLive(1n, false)).toMatchObject({ ttlSeconds: 2, grantedTtlSeconds: 10 })
    expect(m.lessor.renew(1n)).toEqual({ ttlSeconds: 10 })
    m.clock.advance(9_999)
    expect(m.lessor.expiredLeases()).toEqual([])
    expect(codeOf(() => m.lessor.renew(99n))).toBe('LEASE_NOT_FOUND')
  })

  it('a checkpointed remaining TTL survives a leader change', () => {
    // two members apply the same entries; member A leads first
    const a = member()
    const bb = member(a.clock)
    for (const m of [a, bb]) m.lessor.grant(m.tx, 1n, 600)
    a.lessor.promote(0)
    a.clock.advance(5 * 60_000)
    const checkpoints = a.lessor.dueCheckpoints()
    expect(checkpoints).toEqual([{ id: 1n, remainingTtlSeconds: 300 }])
    for (const m of [a, bb]) m.lessor.checkpoint(m.tx, 1n, checkpoints[0].remainingTtlSeconds)
    // A fails; B becomes leader and continues from the checkpoint instead of the full 600 s
    a.lessor.demote()
    bb.lessor.promote(1000)
    expect(bb.lessor.timeToLive(1n, false).ttlSeconds).toBe(301)
    // a keep-alive on a checkpointed lease asks to clear the checkpoint through Raft
    expect(bb.lessor.renew(1n)).toEqual({ ttlSeconds: 600, clearCheckpoint: { id: 1n, remainingTtlSeconds: 0 } })
  })

  it('leases, their checkpoints and key attachments are restored from the backend', () => {
    const m = member()
    m.lessor.grant(m.tx, 5n, 120)
    m.kv.put(m.tx, { key: b('x'), value: b('1'), lease: 5n })
    m.lessor.checkpoint(m.tx, 5n, 30)
    const restarted = member(m.clock, m.backend)
    expect(restarted.lessor.leases()).toEqual([5n])
    restarted.lessor.promote(0)
    expect(restarted.lessor.timeToLive(5n, true)).toEqual({ id: 5n, ttlSeconds: 30, grantedTtlSeconds: 120, keys: [b('x')] })
    restarted.lessor.revoke(restarted.tx, 5n)
    expect(restarted.kv.range({ key: b('x') }).count).toBe(0)
  })
})
