import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EtcdClient } from '../../core/client'
import { startTestCluster, type TestCluster } from '../e2e/etcdctl/clusters'

// Issue 10 bad input against a real `quorum node` process: wrong passwords in a row must neither crash the member
// nor slow other clients down noticeably; malformed and expired tokens get etcd's errors. bcrypt comparisons run
// on a worker thread (core/auth/password-checker.ts), so the event loop keeps serving others.
// QUORUM_AUTH_BRUTE_N sets the number of attempts (default 300 to keep CI short; the report ran 10,000).

const ATTEMPTS = Number(process.env.QUORUM_AUTH_BRUTE_N ?? 300)
const PARALLEL = 8
const TOKEN_TTL_SECONDS = 2

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]
}

describe('password guessing and bad tokens against quorum node', () => {
  let cluster: TestCluster
  let admin: EtcdClient
  let url: string

  beforeAll(async () => {
    // --bcrypt-cost 4, etcd's minimum: the cheapest hash, i.e. the fastest guessing an attacker can get.
    cluster = await startTestCluster('quorum', { size: 1, extraArgs: ['--bcrypt-cost', '4', '--auth-token-ttl', String(TOKEN_TTL_SECONDS)] })
    url = cluster.endpoints
    admin = new EtcdClient({ endpoints: [url], callTimeoutMs: 10_000 })
    await admin.auth.userAdd('root', 'rootpw')
    await admin.auth.userGrantRole('root', 'root')
    await admin.auth.userAdd('alice', 'alicepw')
    await admin.auth.enable()
  }, 60_000)

  afterAll(async () => {
    admin?.close()
    await cluster?.stop()
  })

  it(`${ATTEMPTS} wrong passwords all fail with AUTH_FAILED, the member survives, another client keeps being served`, async () => {
    const { token } = await admin.auth.authenticate('root', 'rootpw')
    const call = { metadata: { token } }
    const probe = async (count: number) => {
      const latencies: number[] = []
      for (let i = 0; i < count; i++) {
        const started = performance.now()
        await admin.kv.range('k', {}, call)
        latencies.push(performance.now() - started)
      }
      return latencies.sort((a, b) => a - b)
    }
    const baseline = await probe(50)

    const attacker = new EtcdClient({ endpoints: [url], callTimeoutMs: 10_000, retry: { maxAttempts: 1 } })
    const codes = new Map<string, number>()
    let next = 0
    let done = false
    const started = performance.now()
    const workers = Array.from({ length: PARALLEL }, async () => {
      while (next < ATTEMPTS) {
        next += 1
        const code = await attacker.auth.authenticate('alice', `guess-${next}`).then(
          () => 'OK',
          (error: { code?: string }) => error.code ?? 'unknown',
        )
        codes.set(code, (codes.get(code) ?? 0) + 1)
      }
    })
    const during: number[] = []
    const prober = (async () => {
      while (!done) during.push(...(await probe(5)))
    })()
    await Promise.all(workers)
    const elapsedMs = performance.now() - started
    done = true
    await prober
    attacker.close()
    during.sort((a, b) => a - b)

    const figure = {
      attempts: ATTEMPTS,
      elapsedMs: Math.round(elapsedMs),
      perSecond: Math.round((ATTEMPTS / elapsedMs) * 1000),
      otherClientBaselineP50Ms: +percentile(baseline, 50).toFixed(2),
      otherClientBaselineP99Ms: +percentile(baseline, 99).toFixed(2),
      otherClientP50Ms: +percentile(during, 50).toFixed(2),
      otherClientP99Ms: +percentile(during, 99).toFixed(2),
      otherClientMaxMs: +during.at(-1)!.toFixed(2),
      otherClientCalls: during.length,
    }
    console.log('brute force figure (quorum node)', JSON.stringify(figure))
    expect(Object.fromEntries(codes)).toEqual({ AUTH_FAILED: ATTEMPTS })
    expect(during.length).toBeGreaterThan(10)
    // Generous: the notes' bar for a member under abuse is answering within 1 s.
    expect(figure.otherClientP99Ms).toBeLessThan(1000)
    // The member is still up and the right password still works (no lockout, no crash).
    expect((await cluster.cluster.health()).every((member) => member.running)).toBe(true)
    await expect(admin.auth.authenticate('alice', 'alicepw')).resolves.toMatchObject({ token: expect.any(String) })
  }, Math.max(120_000, ATTEMPTS * 60))

  it("malformed, forged and expired tokens are answered with etcd's `invalid auth token`", async () => {
    const errorOf = (token: string) =>
      admin.kv.range('k', {}, { metadata: { token } }).then(
        () => 'OK',
        (error: { code?: string; message?: string }) => `${error.code}: ${error.message}`,
      )
    const invalid = 'INVALID_AUTH_TOKEN: etcdserver: invalid auth token'
    for (const token of ['', 'garbage', 'abc.1', 'x'.repeat(1000), 'eyJhbGciOiJub25lIn0.eyJ1c2VybmFtZSI6InJvb3QifQ.']) {
      expect(await errorOf(token), JSON.stringify(token.slice(0, 20))).toBe(invalid)
    }
    const { token } = await admin.auth.authenticate('alice', 'alicepw')
    expect(await errorOf(token)).toBe('PERMISSION_DENIED: etcdserver: permission denied')
    // --auth-token-ttl: an unused simple token dies after the TTL (etcd simpleTokenTTLKeeper).
    await new Promise((resolve) => setTimeout(resolve, (TOKEN_TTL_SECONDS + 1) * 1000))
    expect(await errorOf(token)).toBe(invalid)
  }, 30_000)
})
