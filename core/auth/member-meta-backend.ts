import type { MemberDb, MemberTx } from '../storage/member-db'
import { PermissionType, type AuthBackend, type AuthState } from './auth-store'

/** The member_meta row holding the auth state; replicated in Raft snapshots with the rest of member_meta. */
export const AUTH_META_KEY = 'auth'

interface StoredState {
  enabled: boolean
  revision: number
  users: { name: string; passwordHash: string; roles: string[]; noPassword: boolean }[]
  roles: { name: string; permissions: { type: number; key: string; rangeEnd: string }[] }[]
}

/** Serialises the auth state as JSON (keys base64, since they are arbitrary bytes). */
export function encodeAuthState(state: AuthState): string {
  const stored: StoredState = {
    ...state,
    roles: state.roles.map((r) => ({
      name: r.name,
      permissions: r.permissions.map((p) => ({ type: p.type, key: p.key.toString('base64'), rangeEnd: p.rangeEnd.toString('base64') })),
    })),
  }
  return JSON.stringify(stored)
}

/** Inverse of {@link encodeAuthState}. */
export function decodeAuthState(text: string): AuthState {
  const stored = JSON.parse(text) as StoredState
  return {
    ...stored,
    roles: stored.roles.map((r) => ({
      name: r.name,
      permissions: r.permissions.map((p) => ({
        type: p.type as PermissionType,
        key: Buffer.from(p.key, 'base64'),
        rangeEnd: Buffer.from(p.rangeEnd, 'base64'),
      })),
    })),
  }
}

/**
 * The auth state in the member's SQLite database (table member_meta, row {@link AUTH_META_KEY}), written only
 * inside the apply transaction, the same way core/server/membership.ts stores the membership.
 */
export class MemberMetaAuthBackend implements AuthBackend<MemberTx> {
  constructor(private readonly db: Pick<MemberDb, 'getMemberMeta'>) {}

  load(): AuthState | undefined {
    const text = this.db.getMemberMeta(AUTH_META_KEY)
    return text === undefined ? undefined : decodeAuthState(text)
  }

  save(tx: MemberTx, state: AuthState): void {
    tx.statements.memberMetaSet.run(AUTH_META_KEY, encodeAuthState(state))
  }
}
