import type { MemberDb, MemberTx } from '../storage/member-db'
import { formatId } from './ids'

// The cluster's membership as the replicated state machine knows it: who the members are, their names and
// URLs, learner flags, and the IDs that were removed (a removed ID may never come back; etcd compat).
// Stored as JSON in member_meta, written in the same transaction as the conf change that caused it.

/** One member (etcd's membership.Member). */
export interface ClusterMember {
  id: bigint
  /** Empty until the member published its attributes after starting (etcd shows it as unstarted). */
  name: string
  peerURLs: string[]
  clientURLs: string[]
  isLearner: boolean
}

/** What a ConfChange entry's context carries for add/update (JSON). */
export interface ConfChangeContext {
  name: string
  peerURLs: string[]
  isLearner: boolean
}

interface StoredMembership {
  members: Array<{ id: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }>
  removed: string[]
}

const META_KEY = 'membership'

/** Encodes a ConfChange context. */
export function encodeConfChangeContext(context: ConfChangeContext): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(context))
}

/** Decodes a ConfChange context (empty context: no attributes). */
export function decodeConfChangeContext(data: Uint8Array): ConfChangeContext {
  if (data.length === 0) return { name: '', peerURLs: [], isLearner: false }
  return JSON.parse(new TextDecoder().decode(data)) as ConfChangeContext
}

/** The membership view; mutate through the methods, inside a transaction, then `save(tx)`. */
export class Membership {
  private readonly members = new Map<bigint, ClusterMember>()
  private readonly removedIds = new Set<bigint>()

  /** Loads the membership stored in `db` (empty for a fresh member). */
  static load(db: MemberDb): Membership {
    const membership = new Membership()
    const text = db.getMemberMeta(META_KEY)
    if (text) membership.restore(JSON.parse(text) as StoredMembership)
    return membership
  }

  /** Replaces this view with the membership stored in `db` (after a Raft snapshot was installed). */
  reload(db: MemberDb): void {
    const text = db.getMemberMeta(META_KEY)
    this.restore(text ? (JSON.parse(text) as StoredMembership) : { members: [], removed: [] })
  }

  private restore(stored: StoredMembership): void {
    this.members.clear()
    this.removedIds.clear()
    for (const m of stored.members) this.members.set(BigInt(`0x${m.id}`), { ...m, id: BigInt(`0x${m.id}`) })
    for (const id of stored.removed) this.removedIds.add(BigInt(`0x${id}`))
  }

  /** Writes the membership in the caller's transaction. */
  save(tx: MemberTx): void {
    const stored: StoredMembership = {
      members: this.list().map((m) => ({ ...m, id: formatId(m.id) })),
      removed: [...this.removedIds].map(formatId),
    }
    tx.statements.memberMetaSet.run(META_KEY, JSON.stringify(stored))
  }

  /** Members ordered by ID. The returned objects are copies. */
  list(): ClusterMember[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((m) => ({ ...m, peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs] }))
  }

  get(id: bigint): ClusterMember | undefined {
    const member = this.members.get(id)
    return member ? { ...member } : undefined
  }

  has(id: bigint): boolean {
    return this.members.has(id)
  }

  isRemoved(id: bigint): boolean {
    return this.removedIds.has(id)
  }

  /** Adds a member (bootstrap or an applied AddNode/AddLearnerNode). */
  add(member: ClusterMember): void {
    this.members.set(member.id, { ...member })
  }

  /** Removes a member for good. */
  remove(id: bigint): void {
    this.members.delete(id)
    this.removedIds.add(id)
  }

  /** Replaces a member's peer URLs (applied UpdateNode). */
  updatePeerURLs(id: bigint, peerURLs: string[]): void {
    const member = this.members.get(id)
    if (member) member.peerURLs = [...peerURLs]
  }

  /** Promotes a learner to voter. */
  promote(id: bigint): void {
    const member = this.members.get(id)
    if (member) member.isLearner = false
  }

  /** Records a member's published name and client URLs. */
  setAttributes(id: bigint, name: string, clientURLs: string[]): void {
    const member = this.members.get(id)
    if (member) {
      member.name = name
      member.clientURLs = [...clientURLs]
    }
  }
}
