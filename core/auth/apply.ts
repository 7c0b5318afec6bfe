import type * as pb from '../proto/types'
import type { AuthInfo, AuthStore, KeyPermission } from './auth-store'
import type { TokenProvider } from './tokens'

/**
 * The auth request bodies as they travel through Raft. They are etcd's gRPC request messages, with one
 * difference: the `password` field never holds a clear-text password in the log. In UserAdd and
 * UserChangePassword it holds the bcrypt hash the proposing member computed (etcd 3.5 HashedPassword); in
 * Authenticate it holds the simple token the proposing member prepared (etcd InternalAuthenticateRequest
 * simple_token; '' for jwt). Build them with {@link toProposal}.
 */
export interface AuthRequestBodies {
  auth_enable: pb.AuthEnableRequest
  auth_disable: pb.AuthDisableRequest
  auth_status: pb.AuthStatusRequest
  authenticate: pb.AuthenticateRequest
  auth_user_add: pb.AuthUserAddRequest
  auth_user_delete: pb.AuthUserDeleteRequest
  auth_user_get: pb.AuthUserGetRequest
  auth_user_change_password: pb.AuthUserChangePasswordRequest
  auth_user_grant_role: pb.AuthUserGrantRoleRequest
  auth_user_revoke_role: pb.AuthUserRevokeRoleRequest
  auth_user_list: pb.AuthUserListRequest
  auth_role_list: pb.AuthRoleListRequest
  auth_role_add: pb.AuthRoleAddRequest
  auth_role_delete: pb.AuthRoleDeleteRequest
  auth_role_get: pb.AuthRoleGetRequest
  auth_role_grant_permission: pb.AuthRoleGrantPermissionRequest
  auth_role_revoke_permission: pb.AuthRoleRevokePermissionRequest
}

/** An auth request kind (a subset of core/server/raft-request.ts InternalRequestKind). */
export type AuthRequestKind = keyof AuthRequestBodies

/** Whether a Raft request kind is one {@link applyAuthRequest} handles. */
export function isAuthRequestKind(kind: string): kind is AuthRequestKind {
  return kind === 'authenticate' || kind.startsWith('auth_')
}

/** What each kind's apply returns (undefined for plain acknowledgements). */
export interface AuthApplyResults {
  authenticate: AuthInfo
  auth_status: { enabled: boolean; authRevision: number }
  auth_user_get: string[]
  auth_user_list: string[]
  auth_role_list: string[]
  auth_role_get: KeyPermission[]
}

/**
 * Applies one committed auth request to `store` inside the apply transaction `tx` (every member, in log
 * order, deterministic). Throws AuthError for etcd's expected failures; the caller reports them to the
 * proposer. Run the permission check (permissions.ts checkApply) first.
 */
export function applyAuthRequest<Tx>(tx: Tx, store: AuthStore<Tx>, tokens: TokenProvider, kind: AuthRequestKind, body: AuthRequestBodies[AuthRequestKind]): unknown {
  const b = body as Partial<pb.AuthUserAddRequest & pb.AuthUserGrantRoleRequest & pb.AuthUserRevokeRoleRequest & pb.AuthRoleGetRequest & pb.AuthRoleRevokePermissionRequest & pb.AuthRoleGrantPermissionRequest>
  const name = b.name ?? ''
  switch (kind) {
    case 'auth_enable':
      return store.enable(tx)
    case 'auth_disable':
      return store.disable(tx)
    case 'auth_status':
      return { enabled: store.isEnabled(), authRevision: store.revision() }
    case 'authenticate': {
      const info = store.authenticate(name)
      tokens.register(b.password ?? '', info)
      return info
    }
    case 'auth_user_add':
      return store.userAdd(tx, name, b.password ?? '', b.options?.no_password ?? false)
    case 'auth_user_delete':
      return store.userDelete(tx, name)
    case 'auth_user_get':
      return store.userGet(name)
    case 'auth_user_change_password':
      return store.userChangePassword(tx, name, b.password ?? '')
    case 'auth_user_grant_role':
      return store.userGrantRole(tx, b.user ?? '', b.role ?? '')
    case 'auth_user_revoke_role':
      return store.userRevokeRole(tx, name, b.role ?? '')
    case 'auth_user_list':
      return store.userList()
    case 'auth_role_list':
      return store.roleList()
    case 'auth_role_add':
      return store.roleAdd(tx, name)
    case 'auth_role_delete':
      return store.roleDelete(tx, b.role ?? '')
    case 'auth_role_get':
      return store.roleGet(b.role ?? '')
    case 'auth_role_grant_permission': {
      const perm = b.perm
      return store.roleGrantPermission(tx, name, {
        type: perm?.permType ?? 0,
        key: Buffer.from(perm?.key ?? []),
        rangeEnd: Buffer.from(perm?.range_end ?? []),
      })
    }
    case 'auth_role_revoke_permission':
      return store.roleRevokePermission(tx, b.role ?? '', Buffer.from(b.key ?? []), Buffer.from(b.range_end ?? []))
  }
}
