import { prefixRangeEnd, type EtcdClient, type Permission } from '../../core/client'
import { unreachable } from '../../core/util/assert'
import type { AuthAction, AuthOverview, RolePermission } from '../api/keys-api'
import { decodeKey, keyRef } from './keys'
import { ServiceError } from './result'

// The Users and roles page over etcd's Auth API. Guards refuse the changes that would lock the connection
// itself out (enable without being root, deleting or demoting oneself); etcd refuses the rest with its own
// errors (e.g. enabling auth without a root user).

/** What the auth functions need from a client. */
export type UsersClient = Pick<EtcdClient, 'auth'>

/** etcd compat: the root role is built in and grants everything (auth/store.go rootRole). */
export const ROOT_ROLE = 'root'

const FROM_KEY_END = Buffer.from([0])

/** How `[key, rangeEnd)` reads; see RolePermission.shape. */
export function permissionShape(key: Buffer, rangeEnd: Buffer): RolePermission['shape'] {
  if (rangeEnd.length === 0) return 'key'
  if (rangeEnd.equals(FROM_KEY_END)) return 'fromKey'
  if (key.length > 0 && rangeEnd.equals(prefixRangeEnd(key))) return 'prefix'
  return 'range'
}

function toRolePermission(permission: Permission): RolePermission {
  return { kind: permission.kind, key: keyRef(permission.key), rangeEnd: keyRef(permission.rangeEnd), shape: permissionShape(permission.key, permission.rangeEnd) }
}

/** Auth on/off, every user with roles and every role with permissions; `connectedAs` is the profile's user. */
export async function authOverview(client: UsersClient, connectedAs: string): Promise<AuthOverview> {
  const status = await client.auth.status()
  const users = []
  for (const name of await client.auth.userList()) users.push({ name, roles: (await client.auth.userGet(name)).roles })
  const roles = []
  for (const name of await client.auth.roleList()) roles.push({ name, permissions: (await client.auth.roleGet(name)).permissions.map(toRolePermission) })
  return { enabled: status.enabled, users, roles, connectedAs }
}

function lockedOut(why: string): never {
  throw new ServiceError('invalid_argument', `refused: ${why} would lock this connection out`)
}

/**
 * Applies one auth change after the lock-out guards: enabling auth needs this connection to sign in as a user
 * holding the root role; while auth is on, the connection's own user can be neither deleted, stripped of the
 * root role, nor given a new password here (the profile would keep the old one). After `enable` the client
 * signs in on its next call (it connected without a token; core/client refreshes on "user name is empty").
 */
export async function authAction(client: UsersClient, connectedAs: string, action: AuthAction): Promise<AuthOverview> {
  const before = await authOverview(client, connectedAs)
  const self = before.users.find((user) => user.name === connectedAs)
  const isSelf = (name: string) => connectedAs !== '' && name === connectedAs
  switch (action.kind) {
    case 'enable':
      if (!self?.roles.includes(ROOT_ROLE)) lockedOut(`enabling auth while this connection does not sign in as a user with the ${ROOT_ROLE} role`)
      await client.auth.enable()
      break
    case 'disable':
      await client.auth.disable()
      break
    case 'addUser':
      await client.auth.userAdd(action.name, action.password)
      break
    case 'deleteUser':
      if (before.enabled && isSelf(action.name)) lockedOut(`deleting the user "${action.name}" this connection signs in as`)
      await client.auth.userDelete(action.name)
      break
    case 'changePassword':
      if (before.enabled && isSelf(action.name)) lockedOut(`changing the password of "${action.name}" here (edit the connection profile too)`)
      await client.auth.userChangePassword(action.name, action.password)
      break
    case 'grantRole':
      await client.auth.userGrantRole(action.user, action.role)
      break
    case 'revokeRole':
      if (before.enabled && isSelf(action.user) && action.role === ROOT_ROLE) lockedOut(`revoking the ${ROOT_ROLE} role from "${action.user}"`)
      await client.auth.userRevokeRole(action.user, action.role)
      break
    case 'addRole':
      await client.auth.roleAdd(action.name)
      break
    case 'deleteRole':
      await client.auth.roleDelete(action.name)
      break
    case 'grantPermission': {
      const key = decodeKey(action.key)
      const range = action.shape === 'prefix' ? { prefix: true } : action.shape === 'fromKey' ? { fromKey: true } : {}
      if (action.shape === 'prefix' && key.length === 0) throw new ServiceError('invalid_argument', 'an empty prefix: grant "from key" on the empty key for every key')
      await client.auth.roleGrantPermission(action.role, action.permission, key, range)
      break
    }
    case 'revokePermission': {
      const rangeEnd = decodeKey(action.rangeEnd)
      await client.auth.roleRevokePermission(action.role, decodeKey(action.key), rangeEnd.length === 0 ? {} : { rangeEnd })
      break
    }
    default:
      unreachable(action, 'auth action')
  }
  return authOverview(client, connectedAs)
}
