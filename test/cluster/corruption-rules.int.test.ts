import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { CompactedError, FutureRevisionError } from '../../core/mvcc/errors'
import { answerPeerHashKv, CorruptionChecker, DataInconsistencyError, PEER_CLUSTER_HEADER, PEER_HASHKV_PATH, type CorruptionCheckHost } from '../../core/server/corruption'
import type { ClusterMember } from '../../core/server/membership'

// The decision rules of etcd 3.4 corrupt.go (checkHashKV, CheckInitialHashKV) over real HTTP/2 requests to
// peers that answer /members/hashkv with fixed figures; the 3-member process test is in cluster-ops.int.test.ts.

const CLUSTER_ID = 0xc1n
const LEADER = 1n

type HashKv = { hash: number; revision: number; compactRevision: number }

/** A peer listener answering `GET /members/hashkv` from `kv` (as the peer transport does). */
async function peer(kv: { hashKv(rev: number): HashKv }, id: bigint): Promise<{ url: string; requests: number[]; close(): Promise<void> }> {
  const requests: number[] = []
  const server = http2.createServer()
  server.on('stream', (stream, headers) => {
    if (headers[':path'] !== PEER_HASHKV_PATH || headers[PEER_CLUSTER_HEADER] !== CLUSTER_ID.toString(16)) {
      stream.respond({ ':status': headers[':path'] === PEER_HASHKV_PATH ? 412 : 404 }, { endStream: true })
      return
    }
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      requests.push((JSON.parse(body) as { revision: number }).revision)
      const reply = answerPeerHashKv(kv, id, body)
      stream.respond({ ':status': reply.status })
      stream.end(reply.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

function fixedKv(answer: HashKv | Error) {
  return {
    hashKv: () => {
      if (answer instanceof Error) throw answer
      return answer
    },
  }
}

describe('corruption check rules (etcd 3.4 corrupt.go)', () => {
  const closers: Array<() => Promise<void>> = []
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
  })

  /** A leader at `own` with one peer per answer (ids 2, 3, ...); returns the checker and the proposed alarms. */
  async function setup(own: HashKv | HashKv[], answers: Array<HashKv | Error | 'down'>) {
    const members: ClusterMember[] = [{ id: LEADER, name: 'leader', peerURLs: ['http://127.0.0.1:1'], clientURLs: [], isLearner: false }]
    const requests: number[][] = []
    for (const [i, answer] of answers.entries()) {
      const id = BigInt(i + 2)
      let url = 'http://127.0.0.1:1'
      if (answer !== 'down') {
        const server = await peer(fixedKv(answer), id)
        closers.push(server.close)
        requests.push(server.requests)
        url = server.url
      }
      members.push({ id, name: `peer${id}`, peerURLs: [url], clientURLs: [], isLearner: false })
    }
    const owns = Array.isArray(own) ? [...own] : [own]
    const proposed: Array<{ memberID: string; alarm: number; action: number }> = []
    const host: CorruptionCheckHost = {
      memberId: LEADER,
      clusterId: CLUSTER_ID,
      kv: { hashKv: () => (owns.length > 1 ? owns.shift()! : owns[0]) },
      isLeader: true,
      requestTimeoutMs: 2000,
      members: () => members,
      linearizableBarrier: async () => undefined,
      propose: async (_kind, body) => {
        proposed.push(body)
        return []
      },
      log: () => undefined,
    }
    return { checker: new CorruptionChecker(host, () => ({})), proposed, requests }
  }

  const base = { hash: 111, revision: 10, compactRevision: 4 }

  it('equal hashes at the same compact revision raise nothing', async () => {
    const { checker, proposed } = await setup(base, [base, base])
    expect(await checker.checkHashKv()).toBeNull()
    expect(proposed).toEqual([])
  })

  it('a peer with another hash at the same compact revision gets the CORRUPT alarm (one per pass)', async () => {
    const { checker, proposed } = await setup(base, [base, { ...base, hash: 222 }, { ...base, hash: 333 }])
    expect(await checker.checkHashKv()).toBe(3n)
    expect(proposed).toEqual([{ action: 1, memberID: '3', alarm: 2 }])
  })

  it('a different hash at a different compact revision is not corruption', async () => {
    const { checker, proposed } = await setup(base, [{ ...base, hash: 222, compactRevision: 2 }])
    expect(await checker.checkHashKv()).toBeNull()
    expect(proposed).toEqual([])
  })

  it("a peer whose revision is ahead of the leader's is corrupt", async () => {
    const { checker } = await setup(base, [{ ...base, revision: 11 }])
    expect(await checker.checkHashKv()).toBe(2n)
  })

  it("a peer whose compact revision is ahead of the leader's is corrupt", async () => {
    const { checker } = await setup(base, [{ ...base, hash: 222, compactRevision: 6 }])
    expect(await checker.checkHashKv()).toBe(2n)
  })

  it('the leader whose own hash changed at the same revision raises CORRUPT for itself', async () => {
    const { checker, proposed } = await setup([base, { ...base, hash: 999 }], [base])
    expect(await checker.checkHashKv()).toBe(LEADER)
    expect(proposed[0].memberID).toBe('1')
  })

  it('peers that are down, behind (future revision) or compacted past the revision are skipped', async () => {
    const { checker, proposed } = await setup(base, ['down', new FutureRevisionError(9), new CompactedError(12)])
    const answers = await checker.peerHashKvs(base.revision)
    expect(answers.map((a) => a.error)).toEqual([expect.stringContaining('ECONNREFUSED'), 'future-revision', 'compacted'])
    expect(await checker.checkHashKv()).toBeNull()
    expect(proposed).toEqual([])
  })

  it('asks every peer once per pass, at the leader revision', async () => {
    const { checker, requests } = await setup(base, [base, base])
    await checker.checkHashKv()
    expect(requests).toEqual([[base.revision], [base.revision]])
  })

  it('the initial check refuses to start on a mismatch at the same compact revision only', async () => {
    const mismatch = await setup(base, [{ ...base, hash: 222 }])
    await expect(mismatch.checker.checkInitial()).rejects.toThrow(new DataInconsistencyError('1 found data inconsistency with peers'))
    const otherCompaction = await setup(base, [{ ...base, hash: 222, compactRevision: 1 }, 'down'])
    await expect(otherCompaction.checker.checkInitial()).resolves.toBeUndefined()
  })

  it('a peer answers 400 with the mvcc error text for a compacted or future revision, as etcd hashKVHandler', () => {
    expect(answerPeerHashKv(fixedKv(new CompactedError(5)), 2n, '{"revision":3}')).toEqual({ status: 400, body: 'mvcc: required revision has been compacted' })
    expect(answerPeerHashKv(fixedKv(new FutureRevisionError(5)), 2n, '{"revision":30}')).toEqual({ status: 400, body: 'mvcc: required revision is a future revision' })
    expect(answerPeerHashKv(fixedKv(base), 2n, 'not json').status).toBe(400)
    expect(JSON.parse(answerPeerHashKv(fixedKv(base), 2n, '{"revision":10}').body)).toEqual({ header: { member_id: '2', revision: 10 }, hash: 111, compact_revision: 4 })
  })
})
