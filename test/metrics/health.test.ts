import { describe, expect, it } from 'vitest'
import {
  evaluateHealth,
  healthNeeds,
  healthReply,
  healthRoute,
  probeReply,
  type HealthRoute,
  type HealthSnapshot,
} from '../../core/metrics/health'

const healthy: HealthSnapshot = {
  alarms: [],
  hasLeader: true,
  isLearner: false,
  serializableReadError: null,
  linearizableReadError: null,
}
const q = (text = '') => new URLSearchParams(text)
const TEXT = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }

function probe(path: string, snapshot: HealthSnapshot, query = '') {
  const route = healthRoute(path) as Extract<HealthRoute, { kind: 'probe' }>
  return probeReply(route, snapshot, q(query))
}

describe('/health (etcd 3.6 health.go)', () => {
  it('healthy member: 200 and the JSON with an empty reason, no trailing newline', () => {
    expect(healthReply(healthy, q())).toEqual({
      status: 200,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      body: '{"health":"true","reason":""}',
    })
  })

  it('no leader: 503 with reason RAFT NO LEADER and http.Error framing', () => {
    expect(healthReply({ ...healthy, hasLeader: false, linearizableReadError: 'etcdserver: no leader' }, q())).toEqual({
      status: 503,
      headers: TEXT,
      body: '{"health":"false","reason":"RAFT NO LEADER"}\n',
    })
  })

  it('serializable=true skips the leader check and reads locally', () => {
    const noLeader = { ...healthy, hasLeader: false, linearizableReadError: undefined }
    expect(evaluateHealth(noLeader, q('serializable=true'))).toEqual({ health: 'true', reason: '' })
    expect(healthNeeds({ kind: 'health' }, q('serializable=true'))).toEqual({ serializableRead: true, linearizableRead: false })
    expect(healthNeeds({ kind: 'health' }, q())).toEqual({ serializableRead: false, linearizableRead: true })
  })

  it('alarms come first, by name, and ?exclude= skips them (repeatable)', () => {
    const both = { ...healthy, hasLeader: false, alarms: ['NOSPACE', 'CORRUPT'] }
    expect(evaluateHealth(both, q())).toEqual({ health: 'false', reason: 'ALARM NOSPACE' })
    expect(evaluateHealth(both, q('exclude=NOSPACE'))).toEqual({ health: 'false', reason: 'ALARM CORRUPT' })
    expect(evaluateHealth(both, q('exclude=NOSPACE&exclude=CORRUPT'))).toEqual({ health: 'false', reason: 'RAFT NO LEADER' })
    expect(evaluateHealth({ ...healthy, alarms: ['SOMETHING'] }, q())).toEqual({ health: 'false', reason: 'ALARM UNKNOWN' })
  })

  it('a failed Range reports RANGE ERROR:<err>', () => {
    const snapshot = { ...healthy, linearizableReadError: 'etcdserver: request timed out' }
    expect(healthReply(snapshot, q()).body).toBe('{"health":"false","reason":"RANGE ERROR:etcdserver: request timed out"}\n')
  })

  it('a snapshot without the read the request needs is a programming error', () => {
    expect(() => evaluateHealth({ ...healthy, linearizableReadError: undefined }, q())).toThrow(/lacks the linearizable read/)
  })
})

describe('/livez and /readyz (etcd 3.6 CheckRegistry)', () => {
  it('success answers ok, and ?verbose lists each check first', () => {
    expect(probe('/readyz', healthy).reply).toEqual({ status: 200, headers: TEXT, body: 'ok\n' })
    expect(probe('/readyz', healthy, 'verbose').reply.body).toBe(
      '[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\n[+]non_learner ok\nok\n',
    )
    expect(probe('/livez', healthy, 'verbose').reply.body).toBe('[+]serializable_read ok\nok\n')
  })

  it('failure is 503 with every check listed, failed ones with their error, then an empty line', () => {
    const noQuorum = { ...healthy, hasLeader: false, linearizableReadError: 'etcdserver: request timed out' }
    const { reply, outcomes } = probe('/readyz', noQuorum)
    expect(reply).toEqual({
      status: 503,
      headers: TEXT,
      body:
        '[+]data_corruption ok\n[+]serializable_read ok\n' +
        '[-]linearizable_read failed: etcdserver: request timed out\n[+]non_learner ok\n\n',
    })
    expect(outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.name)).toEqual(['linearizable_read'])
    // A member without quorum is still alive.
    expect(probe('/livez', { ...noQuorum, linearizableReadError: undefined }).reply.status).toBe(200)
  })

  it('?exclude= drops checks, unknown names are ignored, and needs follow the remaining checks', () => {
    const learner = { ...healthy, isLearner: true }
    expect(probe('/readyz', learner).reply.body).toContain('[-]non_learner failed: not supported for learner\n')
    expect(probe('/readyz', learner, 'exclude=non_learner&exclude=bogus&verbose').reply.body).toBe(
      '[+]data_corruption ok\n[+]serializable_read ok\n[+]linearizable_read ok\nok\n',
    )
    const route = healthRoute('/readyz') as HealthRoute
    expect(healthNeeds(route, q('exclude=linearizable_read'))).toEqual({ serializableRead: true, linearizableRead: false })
  })

  it('data_corruption fails only on a CORRUPT alarm, with etcd\'s text', () => {
    expect(probe('/readyz', { ...healthy, alarms: ['NOSPACE'] }).reply.status).toBe(200)
    expect(probe('/readyz/data_corruption', { ...healthy, alarms: ['CORRUPT'] }).reply).toEqual({
      status: 503,
      headers: TEXT,
      body: '[-]data_corruption failed: alarm activated: CORRUPT\n\n',
    })
  })

  it('each check has its own sub path; other paths are not health routes', () => {
    expect(probe('/readyz/linearizable_read', healthy, 'verbose').reply.body).toBe('[+]linearizable_read ok\nok\n')
    expect(healthRoute('/livez/linearizable_read')).toBeNull()
    expect(healthRoute('/readyz/')).toBeNull()
    expect(healthRoute('/healthz')).toBeNull()
  })
})
