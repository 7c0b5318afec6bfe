import { LocalCluster } from '../../core/cluster/launcher'
import { clusterStatus, type MemberStatusRow } from '../../core/cluster/status'
import type { LocalClusterInfo, Result } from '../api/admin-api'
import type { FaultTolerance, MembershipApi, MembershipChangeKind, MembershipPlan, MembershipRow } from '../api/wizards-api'
import { ServiceError, toResult } from './result'

// Quorum-safe membership changes on local clusters: each change is planned first (the members table and the
// fault tolerance before and after) and refused, with the reason in plain words, when it would leave the
// cluster without a quorum. The rules follow etcd's runtime-reconfiguration guide and FAQ:
//   - a change needs a quorum to commit (Raft thesis §4.1: one server at a time, committed by a majority),
//   - add members as learners first; etcd allows one learner at a time (--max-learners=1, etcd 3.4+),
//   - promote only a learner that runs and has caught up (etcd refuses one below 90% of the leader's log),
//   - remove a voter only if the remaining healthy voters still form a majority of the new voter set,
//   - odd member counts: an even count tolerates no more failures than the odd count below it.

/** Quorum arithmetic of `voters` voters of which `healthyVoters` are healthy. */
export function faultTolerance(voters: number, healthyVoters: number, learners: number): FaultTolerance {
  const quorumSize = Math.floor(voters / 2) + 1
  return { voters, healthyVoters, learners, quorumSize, tolerates: Math.max(0, voters - quorumSize), hasQuorum: voters > 0 && healthyVoters >= quorumSize }
}

function failures(count: number): string {
  return `${count} failure${count === 1 ? '' : 's'}`
}

/** The wizard's table rows from a cluster status. */
export function membershipRows(members: readonly MemberStatusRow[]): MembershipRow[] {
  return members.map((member) => ({
    name: member.name,
    id: member.id,
    role: member.role === 'leader' || member.role === 'follower' || member.role === 'learner' || member.role === 'stopped' ? member.role : 'unhealthy',
    healthy: member.healthy,
    appliedIndex: member.appliedIndex,
  }))
}

/**
 * Plans `kind` on `member` over the current rows (pure). Stopped members count as voters: a stopped
 * learner cannot be told apart, and counting it as a voter only makes the check stricter.
 */
export function planMembershipChange(cluster: string, rows: readonly MembershipRow[], kind: MembershipChangeKind, member: string): MembershipPlan {
  const learners = rows.filter((row) => row.role === 'learner')
  const voters = rows.filter((row) => row.role !== 'learner')
  const healthyVoters = voters.filter((row) => row.healthy).length
  const before = faultTolerance(voters.length, healthyVoters, learners.length)
  const target = rows.find((row) => row.name === member)
  const plan = (after: FaultTolerance, refusal = '', warnings: string[] = []): MembershipPlan => {
    if (!refusal && after.voters > 1 && after.voters % 2 === 0) {
      warnings.push(`${after.voters} voters tolerate ${failures(after.tolerates)}, no more than ${after.voters - 1} would; prefer an odd number of voters.`)
    }
    return { cluster, kind, member, members: [...rows], before, after, allowed: refusal === '', refusal, warnings }
  }
  const noQuorum = `The cluster has no quorum now: ${before.healthyVoters} of ${before.voters} voters are healthy and ${before.quorumSize} are needed, so no membership change can be committed. Start the stopped members first.`

  switch (kind) {
    case 'addLearner': {
      const after = faultTolerance(before.voters, before.healthyVoters, before.learners + 1)
      if (!before.hasQuorum) return plan(after, noQuorum)
      if (learners.length > 0) return plan(after, `etcd allows one learner at a time (--max-learners=1); promote or remove ${learners[0].name} first.`)
      return plan(after, '', ['A learner receives the log but does not vote, so adding it never changes the quorum. Promote it once it has caught up.'])
    }
    case 'promote': {
      if (!target) return plan(before, `There is no member named "${member}".`)
      if (target.role !== 'learner') return plan(before, `${member} is already a voting member; only learners can be promoted.`)
      const after = faultTolerance(before.voters + 1, before.healthyVoters + (target.healthy ? 1 : 0), before.learners - 1)
      if (!before.hasQuorum) return plan(after, noQuorum)
      if (!target.healthy) {
        return plan(after, `${member} is not running. Promoting it would make the quorum ${after.quorumSize} of ${after.voters} voters while only ${after.healthyVoters} are healthy; start it and let it catch up first.`)
      }
      return plan(after)
    }
    case 'remove': {
      if (!target) return plan(before, `There is no member named "${member}".`)
      if (target.role === 'learner') return plan(faultTolerance(before.voters, before.healthyVoters, before.learners - 1))
      const after = faultTolerance(before.voters - 1, before.healthyVoters - (target.healthy ? 1 : 0), before.learners)
      if (before.voters === 1) return plan(after, `${member} is the only voter; removing it would leave no cluster. Delete the cluster instead.`)
      if (!before.hasQuorum) return plan(after, noQuorum)
      if (!after.hasQuorum) {
        return plan(
          after,
          `Removing ${member} would lose quorum: ${after.voters} voters would remain and only ${after.healthyVoters} of them are healthy, but ${after.quorumSize} are needed to accept writes. Start the stopped members first, or remove a stopped member instead.`,
        )
      }
      const warnings = target.role === 'leader' ? [`${member} leads the cluster; leadership moves to another voter first.`] : []
      return plan(after, '', warnings)
    }
  }
}

/** What the wizard service needs: where local clusters live and how changes are made (AdminService's own calls). */
export interface MembershipWizardDeps {
  clusterDir(name: string): string
  exists(name: string): boolean
  /** Makes the change and keeps the app's monitors and profiles in step (AdminService.addLocalMember / localMemberAction). */
  execute(cluster: string, kind: MembershipChangeKind, member: string): Promise<Result<LocalClusterInfo>>
}

/** The MembershipApi over local clusters. */
export class MembershipWizardService implements MembershipApi {
  constructor(private readonly deps: MembershipWizardDeps) {}

  planMembershipChange(cluster: string, kind: MembershipChangeKind, member: string) {
    return toResult(() => this.plan(cluster, kind, member))
  }

  applyMembershipChange(cluster: string, kind: MembershipChangeKind, member: string) {
    return toResult(async () => {
      const plan = await this.plan(cluster, kind, member)
      if (!plan.allowed) throw new ServiceError('invalid_argument', plan.refusal)
      const done = await this.deps.execute(cluster, kind, member)
      if (!done.ok) throw new ServiceError(done.error.code, done.error.message)
      // The new state: `member` names the added learner after addLearner; before and after are both "now".
      const added = kind === 'addLearner' ? (done.value.members.at(-1)?.name ?? '') : member
      const rows = await this.rows(cluster)
      const now = planMembershipChange(cluster, rows, 'addLearner', '').before
      return { cluster, kind, member: added, members: rows, before: now, after: now, allowed: true, refusal: '', warnings: [] }
    })
  }

  private async rows(cluster: string): Promise<MembershipRow[]> {
    if (!this.deps.exists(cluster)) throw new ServiceError('not_found', `no local cluster named "${cluster}"`)
    return membershipRows((await clusterStatus(LocalCluster.open(this.deps.clusterDir(cluster)), 1500)).members)
  }

  private async plan(cluster: string, kind: MembershipChangeKind, member: string): Promise<MembershipPlan> {
    return planMembershipChange(cluster, await this.rows(cluster), kind, member)
  }
}
