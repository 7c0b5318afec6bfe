import { describe, expect, it } from 'vitest'
import type { MembershipRow } from '../../../src-main/api/admin-api'
import { faultTolerance, planMembershipChange } from '../../../src-main/services/membership-wizard'

// The membership wizard's quorum maths (Raft thesis §4: a majority of voters commits; etcd runtime
// reconfiguration guide: learners first, one learner at a time, never remove into a lost quorum).

const row = (name: string, role: MembershipRow['role'], healthy = role !== 'stopped'): MembershipRow => ({ name, id: name, role, healthy, appliedIndex: healthy ? 10 : null })
const three = [row('m1', 'leader'), row('m2', 'follower'), row('m3', 'follower')]

describe('membership plans', () => {
  it('fault tolerance: 3 voters tolerate 1 failure, 4 still tolerate 1, 5 tolerate 2', () => {
    expect(faultTolerance(3, 3, 0)).toMatchObject({ quorumSize: 2, tolerates: 1, hasQuorum: true })
    expect(faultTolerance(4, 4, 0)).toMatchObject({ quorumSize: 3, tolerates: 1 })
    expect(faultTolerance(5, 3, 0)).toMatchObject({ quorumSize: 3, tolerates: 2, hasQuorum: true })
    expect(faultTolerance(3, 1, 0).hasQuorum).toBe(false)
  })

  it('adding a learner keeps the quorum; a second learner is refused (--max-learners=1)', () => {
    const add = planMembershipChange('c', three, 'addLearner', '')
    expect(add).toMatchObject({ allowed: true, before: { voters: 3, learners: 0 }, after: { voters: 3, learners: 1, quorumSize: 2 } })
    const second = planMembershipChange('c', [...three, row('m4', 'learner')], 'addLearner', '')
    expect(second.allowed).toBe(false)
    expect(second.refusal).toContain('one learner at a time')
  })

  it('promoting a running learner makes 4 voters (tolerating 1, with an even-count warning); a stopped learner is refused', () => {
    const promote = planMembershipChange('c', [...three, row('m4', 'learner')], 'promote', 'm4')
    expect(promote).toMatchObject({ allowed: true, after: { voters: 4, healthyVoters: 4, quorumSize: 3, tolerates: 1 } })
    expect(promote.warnings.join(' ')).toContain('4 voters tolerate 1 failure')
    const stopped = planMembershipChange('c', [...three, { ...row('m4', 'learner'), healthy: false }], 'promote', 'm4')
    expect(stopped.allowed).toBe(false)
    expect(planMembershipChange('c', three, 'promote', 'm2').refusal).toContain('only learners can be promoted')
  })

  it('removing a healthy voter while another is stopped is refused: it would lose quorum', () => {
    const degraded = [row('m1', 'leader'), row('m2', 'follower'), row('m3', 'stopped')]
    const plan = planMembershipChange('c', degraded, 'remove', 'm2')
    expect(plan.allowed).toBe(false)
    expect(plan.after).toMatchObject({ voters: 2, healthyVoters: 1, quorumSize: 2, hasQuorum: false })
    expect(plan.refusal).toMatch(/^Removing m2 would lose quorum: 2 voters would remain and only 1 of them are healthy, but 2 are needed/)
    // Removing the stopped one instead is safe: 2 voters, both healthy.
    expect(planMembershipChange('c', degraded, 'remove', 'm3')).toMatchObject({ allowed: true, after: { voters: 2, healthyVoters: 2, hasQuorum: true } })
  })

  it('no change is allowed without a quorum, and the only voter cannot be removed', () => {
    const lost = [row('m1', 'follower'), row('m2', 'stopped'), row('m3', 'stopped')]
    expect(planMembershipChange('c', lost, 'addLearner', '').refusal).toContain('has no quorum now: 1 of 3 voters are healthy and 2 are needed')
    expect(planMembershipChange('c', [row('m1', 'leader')], 'remove', 'm1').refusal).toContain('only voter')
    expect(planMembershipChange('c', three, 'remove', 'm1').warnings.join(' ')).toContain('leadership moves')
  })
})
