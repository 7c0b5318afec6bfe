// Member metadata in table member_meta: cluster and member IDs, the applied index and the conf state.
// Writes take the open transaction; the applied index is written in the same transaction as the changes
// the applied entry made, so replay after a crash starts exactly after it.
import type { ConfState } from '../raft/types'
import { assert, safeIndex } from '../util/assert'
import type { MemberDb, MemberTx } from './member-db'
import { encodeConfState } from './raft-storage'

/** Who this member is. IDs are uint64 (bigint). */
export interface MemberIdentity {
  clusterId: bigint
  memberId: bigint
}

function setMeta(tx: MemberTx, name: string, value: string): void {
  tx.statements.memberMetaSet.run(name, value)
}

/** Records the cluster and member IDs (once, at bootstrap; a different value later is a bug). */
export function setIdentity(tx: MemberTx, identity: MemberIdentity): void {
  const existing = tx.statements.memberMetaGet.get('member_id') as string | undefined
  assert(existing === undefined || BigInt(existing) === identity.memberId, () => `member id ${existing} cannot change to ${identity.memberId}`)
  setMeta(tx, 'cluster_id', identity.clusterId.toString())
  setMeta(tx, 'member_id', identity.memberId.toString())
}

/** The recorded identity, or undefined for a fresh database. */
export function getIdentity(db: MemberDb): MemberIdentity | undefined {
  const clusterId = db.getMemberMeta('cluster_id')
  const memberId = db.getMemberMeta('member_id')
  if (clusterId === undefined || memberId === undefined) return undefined
  return { clusterId: BigInt(clusterId), memberId: BigInt(memberId) }
}

/** Records the applied index. It never goes backwards. */
export function setAppliedIndex(tx: MemberTx, index: number): void {
  safeIndex(index, 'applied index')
  const current = Number(tx.statements.memberMetaGet.get('applied_index') ?? '0')
  assert(index >= current, () => `applied index ${index} < stored ${current}`)
  setMeta(tx, 'applied_index', String(index))
}

/** The applied index (0 for a fresh database). */
export function getAppliedIndex(db: MemberDb): number {
  return Number(db.getMemberMeta('applied_index') ?? '0')
}

/** Records the conf state after applying a conf change; RaftStorage.initialState returns it. */
export function setConfState(tx: MemberTx, confState: ConfState): void {
  setMeta(tx, 'conf_state', encodeConfState(confState))
}

/** A cluster member as the Cluster API reports it (etcd membership.Member). IDs are uint64. */
export interface MemberRecord {
  id: bigint
  name: string
  peerUrls: string[]
  clientUrls: string[]
  isLearner: boolean
}

/** Adds or updates a member (applied with the conf change or attribute update that caused it). */
export function putMember(tx: MemberTx, member: MemberRecord): void {
  tx.statements.memberPut.run(
    member.id.toString(),
    member.name,
    JSON.stringify(member.peerUrls),
    JSON.stringify(member.clientUrls),
    member.isLearner ? 1 : 0,
  )
}

/** Removes a member and remembers its ID: a removed ID may never rejoin (etcd ErrIDRemoved). */
export function removeMember(tx: MemberTx, id: bigint): void {
  tx.statements.memberDelete.run(id.toString())
  tx.statements.memberRemovedPut.run(id.toString())
}

/** All current members, ordered by ID. */
export function listMembers(db: MemberDb): MemberRecord[] {
  const rows = db.memberStatements.memberAll.all() as { id: string; name: string; peer_urls: string; client_urls: string; is_learner: number }[]
  return rows
    .map((r) => ({
      id: BigInt(r.id),
      name: r.name,
      peerUrls: JSON.parse(r.peer_urls) as string[],
      clientUrls: JSON.parse(r.client_urls) as string[],
      isLearner: r.is_learner !== 0,
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** Whether `id` was removed from the cluster. */
export function isMemberRemoved(db: MemberDb, id: bigint): boolean {
  return db.memberStatements.memberRemovedGet.get(id.toString()) !== undefined
}
