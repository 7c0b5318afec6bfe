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
