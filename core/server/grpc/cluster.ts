import type { Server } from '@grpc/grpc-js'
import { addService } from '../../proto/services'
import type * as pb from '../../proto/types'
import { ConfChangeType } from '../../raft/types'
import type { ClusterMember } from '../membership'
import type { Member } from '../member'
import { computeMemberId } from '../ids'
import { id64 } from './convert'
import { EtcdError } from './errors'
import { forwardUnary } from './forward'
import { unary } from './handler'

const SERVICE = 'etcdserverpb.Cluster'
/** etcd compat: at most one learner at a time (etcd's maxLearners). */
const MAX_LEARNERS = 1
/** etcd compat: a learner is ready for promotion when its log reaches 90% of the leader's. */
const LEARNER_READY_PERCENT = 0.9

/** etcd compat (v3rpc clusterServer.header): cluster and member ID and raft term, no revision. */
function clusterHeader(member: Member): pb.ResponseHeader {
  return member.header(0)
}

function memberToWire(member: ClusterMember): pb.Member {
  return { ID: String(member.id), name: member.name, peerURLs: member.peerURLs, clientURLs: member.clientURLs, isLearner: member.isLearner }
}

function validPeerUrls(urls: string[]): boolean {
  return (
    urls.length > 0 &&
    urls.every((text) => {
      try {
        const url = new URL(text)
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.port !== '' && (url.pathname === '/' || url.pathname === '')
      } catch {
        return false
      }
    })
  )
}

/**
 * Voters that are up from the leader's point of view (recently active, plus the leader itself); etcd's
 * strict reconfiguration checks count these.
 */
function activeVoters(member: Member): number {
  let active = 0
  for (const [id, progress] of member.progress()) {
    if (!progress.isLearner && (progress.recentActive || id === member.memberId)) active++
  }
  return active
}

/** etcd compat (etcdserver HealthInterval): how long every peer connection must have been up for a change. */
const HEALTH_INTERVAL_MS = 5000

/**
 * Voting members this member has been connected to since `since` (itself included): etcd numConnectedSince,
 * which its strict reconfiguration checks use so that a change waits until connections have settled.
 */
function connectedSince(member: Member, since: number): { connected: number; voters: number } {
  const voters = member.members().filter((m) => !m.isLearner)
  let connected = 0
  for (const voter of voters) {
    const activeSince = voter.id === member.memberId ? 0 : member.peerActiveSince(voter.id)
    if (activeSince !== null && activeSince <= since) connected++
  }
  return { connected, voters: voters.length }
}

/**
 * etcd's Cluster service: membership changes through Raft conf changes, with etcd's safety checks. With auth
 * on, changes need the root role (etcd checkMembershipOperationPermission); MemberList is open to everyone.
 */
export function registerClusterService(server: Server, member: Member): void {
  const list = () => member.members().map(memberToWire)
  addService(server, SERVICE, {
    MemberList: unary(member, SERVICE, 'MemberList', async (request: pb.MemberListRequest) => {
      if (request.linearizable) await member.linearizableBarrier()
      return { header: clusterHeader(member), members: list() }
    }),
    MemberAdd: unary(member, SERVICE, 'MemberAdd', async (request: pb.MemberAddRequest, call) => {
      await member.auth.checkAdminCall(call)
      if (!member.isLeader) return forwardUnary<pb.MemberAddResponse>(member, SERVICE, 'MemberAdd', request, call)
      if (!validPeerUrls(request.peerURLs)) throw new EtcdError('MEMBER_BAD_URLS')
      const members = member.members()
      const urls = request.peerURLs.map((url) => new URL(url).origin)
      if (members.some((m) => m.peerURLs.some((url) => urls.includes(url)))) throw new EtcdError('PEER_URL_EXIST')
      if (request.isLearner && members.filter((m) => m.isLearner).length >= MAX_LEARNERS) throw new EtcdError('TOO_MANY_LEARNERS')
      if (member.config.strictReconfigCheck) {
        // etcd mayAddMember: a voter needs a quorum of started members, and any add needs every voter connected
        // for the last 5 s (isConnectedFullySince)
        const voters = members.filter((m) => !m.isLearner).length + 1
        if (!request.isLearner && activeVoters(member) < Math.floor(voters / 2) + 1) throw new EtcdError('MEMBER_NOT_ENOUGH_STARTED')
        const { connected, voters: current } = connectedSince(member, Date.now() - HEALTH_INTERVAL_MS)
        if (connected < current) throw new EtcdError('UNHEALTHY')
      }
      const id = computeMemberId(urls, member.config.initialClusterToken, Math.floor(member.clock.now() / 1000))
      if (member.membership.has(id) || member.membership.isRemoved(id)) throw new EtcdError('MEMBER_EXIST')
      await member.proposeConfChange({
        type: request.isLearner ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode,
        nodeId: id,
        context: member.confChangeContext({ name: '', peerURLs: urls, isLearner: request.isLearner }),
      })
      const added = member.membership.get(id)
      return { header: clusterHeader(member), member: added ? memberToWire(added) : null, members: list() }
    }),
    MemberRemove: unary(member, SERVICE, 'MemberRemove', async (request: pb.MemberRemoveRequest, call) => {
      await member.auth.checkAdminCall(call)
      if (!member.isLeader) return forwardUnary<pb.MemberRemoveResponse>(member, SERVICE, 'MemberRemove', request, call)
      const id = id64(request.ID)
      const target = member.membership.get(id)
      if (!target) throw new EtcdError('MEMBER_NOT_FOUND')
      if (!target.isLearner && member.config.strictReconfigCheck) {
        const voters = member.members().filter((m) => !m.isLearner).length - 1
        const progress = member.progress().get(id)
        const activeAfter = activeVoters(member) - (progress?.recentActive || id === member.memberId ? 1 : 0)
        if (activeAfter < Math.floor(voters / 2) + 1) throw new EtcdError('MEMBER_NOT_ENOUGH_STARTED')
        // etcd mayRemoveMember: a member that is down is safe to remove; otherwise the members connected for the
        // last 5 s, less the one removed, must still be a quorum of the current voters
        if (id === member.memberId || member.peerActiveSince(id) !== null) {
          const { connected, voters: current } = connectedSince(member, Date.now() - HEALTH_INTERVAL_MS)
          if (connected - 1 < 1 + Math.floor((current - 1) / 2)) throw new EtcdError('UNHEALTHY')
        }
      }
      await member.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: id, context: new Uint8Array() })
      return { header: clusterHeader(member), members: list() }
    }),
    MemberUpdate: unary(member, SERVICE, 'MemberUpdate', async (request: pb.MemberUpdateRequest, call) => {
      await member.auth.checkAdminCall(call)
      if (!member.isLeader) return forwardUnary<pb.MemberUpdateResponse>(member, SERVICE, 'MemberUpdate', request, call)
      const id = id64(request.ID)
      const target = member.membership.get(id)
      if (!target) throw new EtcdError('MEMBER_NOT_FOUND')
      if (!validPeerUrls(request.peerURLs)) throw new EtcdError('MEMBER_BAD_URLS')
      const urls = request.peerURLs.map((url) => new URL(url).origin)
      if (member.members().some((m) => m.id !== id && m.peerURLs.some((url) => urls.includes(url)))) throw new EtcdError('PEER_URL_EXIST')
      await member.proposeConfChange({
        type: ConfChangeType.UpdateNode,
        nodeId: id,
        context: member.confChangeContext({ name: target.name, peerURLs: urls, isLearner: target.isLearner }),
      })
      return { header: clusterHeader(member), members: list() }
    }),
    MemberPromote: unary(member, SERVICE, 'MemberPromote', async (request: pb.MemberPromoteRequest, call) => {
      await member.auth.checkAdminCall(call)
      if (!member.isLeader) return forwardUnary<pb.MemberPromoteResponse>(member, SERVICE, 'MemberPromote', request, call)
      const id = id64(request.ID)
      const target = member.membership.get(id)
      if (!target) throw new EtcdError('MEMBER_NOT_FOUND')
      if (!target.isLearner) throw new EtcdError('MEMBER_NOT_LEARNER')
      const progress = member.progress().get(id)
      const leaderMatch = member.progress().get(member.memberId)?.match ?? 0
      if (!progress || progress.match < leaderMatch * LEARNER_READY_PERCENT) throw new EtcdError('LEARNER_NOT_READY')
      await member.proposeConfChange({
        type: ConfChangeType.AddNode,
        nodeId: id,
        context: member.confChangeContext({ name: target.name, peerURLs: target.peerURLs, isLearner: false }),
      })
      return { header: clusterHeader(member), members: list() }
    }),
  })
}
