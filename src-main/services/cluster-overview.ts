import type { ClusterOverview, MemberOverview, QuorumStatus } from '../api/admin-api'
import { hexId, type ClusterClient, type EndpointStatus } from './cluster-client'

/**
 * Quorum arithmetic for `voters` voting members of which `healthyVoters` answer. Raft thesis §4.1: a change
 * (and any write) needs a majority, floor(n/2)+1, so n voters tolerate n - (floor(n/2)+1) failures.
 */
export function quorumStatus(voters: number, healthyVoters: number): QuorumStatus {
  const quorumSize = Math.floor(voters / 2) + 1
  return {
    voters,
    healthyVoters,
    quorumSize,
    faultTolerance: voters - quorumSize,
    remainingTolerance: healthyVoters - quorumSize,
    hasQuorum: voters > 0 && healthyVoters >= quorumSize,
  }
}

function mostCommon(values: bigint[]): bigint {
  const counts = new Map<bigint, number>()
  let best = 0n
  let bestCount = 0
  for (const value of values) {
    const count = (counts.get(value) ?? 0) + 1
    counts.set(value, count)
    if (count > bestCount) [best, bestCount] = [value, count]
  }
  return best
}

/**
 * Reads members, each member's Status (from its own first client URL) and the alarms, and combines them
 * into the overview. A member whose Status fails is shown unhealthy with the error; the call itself fails
 * only when the member list cannot be read.
 */
export async function readClusterOverview(client: ClusterClient, connectionId: string, now: () => number): Promise<ClusterOverview> {
  // Sorted by name (then ID) so the table keeps its order whatever order the server lists members in.
  const members = (await client.memberList()).sort((a, b) => a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1))
  const statuses = await Promise.allSettled(
    members.map((member) =>
      member.clientUrls.length > 0 ? client.status(member.clientUrls[0]) : Promise.reject(new Error('member has not started (no client URL)')),
    ),
  )
  const alarms = await client.alarms().catch(() => [])
  const answered = statuses.flatMap((status) => (status.status === 'fulfilled' ? [status.value] : []))
  const leader = mostCommon(answered.map((status) => status.leaderId).filter((id) => id !== 0n))
  const clusterId = answered[0]?.clusterId ?? 0n

  const rows: MemberOverview[] = members.map((member, i) => {
    const settled = statuses[i]
    const status: EndpointStatus | null = settled.status === 'fulfilled' ? settled.value : null
    const error = settled.status === 'rejected' ? String((settled.reason as Error)?.message ?? settled.reason) : ''
    const memberAlarms = alarms.filter((alarm) => alarm.memberId === member.id).map((alarm) => alarm.alarm)
    const role = member.isLearner ? 'learner' : status === null ? 'unknown' : member.id === leader && leader !== 0n ? 'leader' : 'follower'
    return {
      id: hexId(member.id),
      name: member.name,
      peerUrls: member.peerUrls,
      clientUrls: member.clientUrls,
      role,
      isLearner: member.isLearner,
      healthy: status !== null && status.leaderId !== 0n && status.errors.length === 0 && memberAlarms.length === 0,
      error: error || (status?.errors.join('; ') ?? ''),
      version: status?.version ?? null,
      raftTerm: status?.raftTerm ?? null,
      raftIndex: status?.raftIndex ?? null,
      raftAppliedIndex: status?.raftAppliedIndex ?? null,
      dbSizeBytes: status?.dbSizeBytes ?? null,
      dbSizeInUseBytes: status?.dbSizeInUseBytes ?? null,
      alarms: memberAlarms,
    }
  })
  const voters = rows.filter((row) => !row.isLearner)
  return {
    connectionId,
    clusterId: hexId(clusterId),
    leaderId: leader === 0n ? '' : hexId(leader),
    members: rows,
    quorum: quorumStatus(voters.length, voters.filter((row) => row.healthy).length),
    alarms: alarms.map((alarm) => ({ memberId: hexId(alarm.memberId), alarm: alarm.alarm })),
    takenAt: now(),
  }
}
