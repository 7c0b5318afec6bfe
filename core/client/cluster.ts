import { serviceMethods } from '../proto/services'
import type * as pb from '../proto/types'
import { fromHeader, idToWire, toBigInt, type ResponseHeader } from './convert'
import type { CallOptions, Transport } from './transport'

/** A cluster member as the Cluster service reports it. */
export interface Member {
  id: bigint
  /** Empty until the member has started and published its name. */
  name: string
  peerUrls: string[]
  /** Empty until the member has started. */
  clientUrls: string[]
  isLearner: boolean
}

/** A membership answer: the header and the members after the change. */
export interface MembersResult {
  header: ResponseHeader
  members: Member[]
}

/** The result of MemberAdd: the new member too. */
export interface MemberAddResult extends MembersResult {
  member: Member
}

/** A member from the wire. */
export function fromMember(member: pb.Member): Member {
  return {
    id: toBigInt(member.ID),
    name: member.name,
    peerUrls: member.peerURLs,
    clientUrls: member.clientURLs,
    isLearner: member.isLearner,
  }
}

function fromMembers(response: { header: pb.ResponseHeader | null; members: pb.Member[] }): MembersResult {
  return { header: fromHeader(response.header), members: response.members.map(fromMember) }
}

/** The Cluster service: list, add (voter or learner), remove, update and promote members. */
export class ClusterClient {
  private readonly methods = serviceMethods('etcdserverpb.Cluster')

  constructor(private readonly transport: Transport) {}

  /** The members. `linearizable` (etcd 3.5+, ignored by 3.4) reads them through Raft instead of locally. */
  async memberList(options: { linearizable?: boolean } = {}, call: CallOptions = {}): Promise<MembersResult> {
    const response = await this.transport.unary(
      this.methods.MemberList,
      { linearizable: options.linearizable ?? false },
      call,
      { idempotent: true },
    )
    return fromMembers(response)
  }

  /** Adds a member with these peer URLs, as a non-voting learner if `isLearner`. */
  async memberAdd(peerUrls: string[], options: { isLearner?: boolean } = {}, call: CallOptions = {}): Promise<MemberAddResult> {
    const response = await this.transport.unary(
      this.methods.MemberAdd,
      { peerURLs: peerUrls, isLearner: options.isLearner ?? false },
      call,
      { idempotent: false },
    )
    if (!response.member) throw new Error('etcd client: MemberAdd answered without the new member')
    return { ...fromMembers(response), member: fromMember(response.member) }
  }

  /** Removes member `id`. */
  async memberRemove(id: bigint, call: CallOptions = {}): Promise<MembersResult> {
    const response = await this.transport.unary(this.methods.MemberRemove, { ID: idToWire(id) }, call, {
      idempotent: false,
    })
    return fromMembers(response)
  }

  /** Replaces member `id`'s peer URLs. */
  async memberUpdate(id: bigint, peerUrls: string[], call: CallOptions = {}): Promise<MembersResult> {
    const response = await this.transport.unary(
      this.methods.MemberUpdate,
      { ID: idToWire(id), peerURLs: peerUrls },
      call,
      { idempotent: true },
    )
    return fromMembers(response)
  }

  /** Promotes learner `id` to a voting member (it must be in sync with the leader). */
  async memberPromote(id: bigint, call: CallOptions = {}): Promise<MembersResult> {
    const response = await this.transport.unary(this.methods.MemberPromote, { ID: idToWire(id) }, call, {
      idempotent: false,
    })
    return fromMembers(response)
  }
}
