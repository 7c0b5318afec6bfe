// Differential lease test against real etcd 3.4: grant rules (minimum TTL, duplicate ID, too large TTL),
// attaching keys, time-to-live with keys, revoke deleting every attached key in one revision.
import { Etcd3 } from 'etcd3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openMvcc, type Mvcc } from '../../core/mvcc/mvcc'
import { MemoryBackend } from '../../core/mvcc/memory-backend'
import { FakeClock } from '../../core/util/clock'
import { type EtcdCluster, startEtcd } from '../support/etcd'

/** The part of an error both sides agree on. */
function errorKind(error: unknown): string {
  const message = String((error as Error).message)
  for (const kind of ['lease not found', 'lease already exists', 'too large lease TTL']) if (message.includes(kind)) return kind
  return `unexpected: ${message}`
}

async function outcome<T>(fn: () => Promise<T> | T): Promise<T | { error: string }> {
  try {
    return await fn()
  } catch (error) {
    return { error: errorKind(error) }
  }
}

describe('differential: leases against real etcd 3.4', () => {
  let etcd: EtcdCluster
  let client: Etcd3
  let ours: Mvcc
  let backend: MemoryBackend

  beforeAll(async () => {
    etcd = await startEtcd()
    client = new Etcd3({ hosts: etcd.members[0].clientUrl })
    backend = new MemoryBackend()
    ours = openMvcc(backend, { clock: new FakeClock() })
    ours.lessor.promote(0)
  }, 60_000)

  afterAll(async () => {
    client?.close()
    await etcd?.stop()
  })

  it('grant, attach, time-to-live and revoke behave the same', async () => {
    const tx = backend.writer()
    const grant = async (id: bigint, ttl: number) => [
      await outcome(async () => Number((await client.leaseClient.leaseGrant({ ID: String(id), TTL: ttl })).TTL)),
      await outcome(() => ours.lessor.grant(tx, id, ttl).ttlSeconds),
    ]
    const [theirMin, ourMin] = await grant(0x10n, 0)
    expect(ourMin).toEqual(theirMin)
    expect(theirMin).toBe(2)
    const [theirNeg, ourNeg] = await grant(0x11n, -5)
    expect(ourNeg).toEqual(theirNeg)
    const [theirDup, ourDup] = await grant(0x10n, 30)
    expect(ourDup).toEqual(theirDup)
    expect(ourDup).toEqual({ error: 'lease already exists' })
    const [theirBig, ourBig] = await grant(0x12n, 9_000_000_001)
    expect(ourBig).toEqual(theirBig)
    await grant(0x20n, 600)

    // put with an unknown lease
    const theirPut = await outcome(() => client.kv.put({ key: Buffer.from('x'), value: Buffer.from('1'), lease: '999' }))
    const ourPut = await outcome(() => ours.kv.put(tx, { key: Buffer.from('x'), value: Buffer.from('1'), lease: 999n }))
    expect(ourPut).toEqual(theirPut)

    for (const key of ['k1', 'k2', 'k3']) {
      await client.kv.put({ key: Buffer.from(key), value: Buffer.from('v'), lease: String(0x20n) })
      ours.kv.put(tx, { key: Buffer.from(key), value: Buffer.from('v'), lease: 0x20n })
    }
    await client.kv.put({ key: Buffer.from('k2'), value: Buffer.from('unleased') })
    ours.kv.put(tx, { key: Buffer.from('k2'), value: Buffer.from('unleased') })

    const theirTtl = await client.leaseClient.leaseTimeToLive({ ID: String(0x20n), keys: true })
    const ourTtl = ours.lessor.timeToLive(0x20n, true)
    expect(ourTtl.keys.map(String)).toEqual(theirTtl.keys.map(String).sort())
    expect(ourTtl.grantedTtlSeconds).toBe(Number(theirTtl.grantedTTL))

    const theirRevoke = await client.leaseClient.leaseRevoke({ ID: String(0x20n) })
    const ourRevision = ours.lessor.revoke(tx, 0x20n)
    expect(ourRevision).toBe(Number(theirRevoke.header.revision))
    const theirKeys = await client.kv.range({ key: Buffer.from('k'), range_end: Buffer.from('l') })
    const ourKeys = ours.kv.range({ key: Buffer.from('k'), rangeEnd: Buffer.from('l') })
    expect(ourKeys.kvs.map((kv) => [kv.key.toString(), kv.modRevision])).toEqual(theirKeys.kvs.map((kv) => [kv.key.toString(), Number(kv.mod_revision)]))
    expect(ourKeys.revision).toBe(Number(theirKeys.header.revision))

    const theirAgain = await outcome(() => client.leaseClient.leaseRevoke({ ID: String(0x20n) }))
    const ourAgain = await outcome(() => ours.lessor.revoke(tx, 0x20n))
    expect(ourAgain).toEqual(theirAgain)
    const theirList = await client.leaseClient.leaseLeases({})
    expect(ours.lessor.leases()).toEqual(theirList.leases.map((l) => BigInt(l.ID)).sort((a, b) => (a < b ? -1 : 1)))
  }, 60_000)
})
