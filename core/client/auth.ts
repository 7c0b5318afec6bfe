import { serviceMethods } from '../proto/services'
import { PermissionType } from '../proto/types'
import type * as pb from '../proto/types'
import { fromHeader, rangeEndFor, toBuffer, toNumber, type Bytes, type KeyRange, type ResponseHeader } from './convert'
import { etcdCodeOf, GrpcError } from './errors'
import type { CallOptions, Transport } from './transport'

/** What a permission allows. */
export type PermissionKind = 'read' | 'write' | 'readwrite'

/** A role's permission on the key range `[key, rangeEnd)` (a single key when `rangeEnd` is empty). */
export interface Permission {
  kind: PermissionKind
  key: Buffer
  rangeEnd: Buffer
}

/** Auth state of the cluster. */
export interface AuthStatus {
  header: ResponseHeader
  enabled: boolean
  /** Bumped by every auth change; null when the server cannot tell (etcd 3.4 has no AuthStatus). */
  authRevision: number | null
}

const KINDS: Record<number, PermissionKind> = {
  [PermissionType.READ]: 'read',
  [PermissionType.WRITE]: 'write',
  [PermissionType.READWRITE]: 'readwrite',
}
const TYPES: Record<PermissionKind, number> = {
  read: PermissionType.READ,
  write: PermissionType.WRITE,
  readwrite: PermissionType.READWRITE,
}

function fromPermission(permission: pb.Permission): Permission {
  return { kind: KINDS[permission.permType] ?? 'read', key: permission.key, rangeEnd: permission.range_end }
}

type Header = { header: ResponseHeader }

/**
 * The Auth service: enable/disable/status, Authenticate (the transport does this itself when the client has
 * `auth` options), users, roles and permissions. Management calls need the root role once auth is on.
 */
export class AuthClient {
  private readonly methods = serviceMethods('etcdserverpb.Auth')

  constructor(private readonly transport: Transport) {}

  private async call<Request, Response extends { header: pb.ResponseHeader | null }>(
    method: import('@grpc/grpc-js').MethodDefinition<Request, Response>,
    request: Request,
    call: CallOptions,
    idempotent = true,
  ): Promise<Response & Header> {
    const response = await this.transport.unary(method, request, call, { idempotent })
    return { ...response, header: fromHeader(response.header) }
  }

  /** Turns auth on; needs the root user with the root role (else ROOT_USER_NOT_EXIST / ROOT_ROLE_NOT_EXIST). */
  async enable(call: CallOptions = {}): Promise<Header> {
    const { header } = await this.call(this.methods.AuthEnable, {}, call)
    return { header }
  }

  /** Turns auth off. */
  async disable(call: CallOptions = {}): Promise<Header> {
    const { header } = await this.call(this.methods.AuthDisable, {}, call)
    return { header }
  }

  /**
   * Whether auth is on, and the auth revision. etcd 3.4 has no AuthStatus (UNIMPLEMENTED); there the answer
   * comes from an Authenticate with an empty user name, which 3.4 refuses with AUTH_NOT_ENABLED when auth is
   * off and AUTH_FAILED when it is on, and `authRevision` is null.
   */
  async status(call: CallOptions = {}): Promise<AuthStatus> {
    try {
      const response = await this.call(this.methods.AuthStatus, {}, call)
      return {
        header: response.header,
        enabled: response.enabled,
        authRevision: toNumber(response.authRevision, 'auth revision'),
      }
    } catch (error) {
      if (!(error instanceof GrpcError && error.code === 'UNIMPLEMENTED')) throw error
    }
    try {
      const { header } = await this.authenticate('', '', call)
      return { header, enabled: true, authRevision: null }
    } catch (error) {
      const code = etcdCodeOf(error)
      if (code === 'AUTH_NOT_ENABLED') return { header: fromHeader(null), enabled: false, authRevision: null }
      if (code === 'AUTH_FAILED') return { header: fromHeader(null), enabled: true, authRevision: null }
      throw error
    }
  }

  /** Exchanges a user name and password for a token (AUTH_FAILED when wrong). Does not change the client's token. */
  async authenticate(name: string, password: string, call: CallOptions = {}): Promise<{ header: ResponseHeader; token: string }> {
    const response = await this.transport.unary(this.methods.Authenticate, { name, password }, call, {
      idempotent: true,
      anonymous: true,
    })
    return { header: fromHeader(response.header), token: response.token }
  }

  /** Adds a user; `noPassword` (etcd 3.5+) makes a user that can only log in by client certificate. */
  async userAdd(name: string, password: string, options: { noPassword?: boolean } = {}, call: CallOptions = {}): Promise<Header> {
    const { header } = await this.call(
      this.methods.UserAdd,
      { name, password, options: { no_password: options.noPassword ?? false } },
      call,
      false,
    )
    return { header }
  }

  /** The roles granted to user `name`. */
  async userGet(name: string, call: CallOptions = {}): Promise<{ header: ResponseHeader; roles: string[] }> {
    const { header, roles } = await this.call(this.methods.UserGet, { name }, call)
    return { header, roles }
  }

  /** Every user name. */
  async userList(call: CallOptions = {}): Promise<string[]> {
    return (await this.call(this.methods.UserList, {}, call)).users
  }

  /** Deletes user `name`. */
  async userDelete(name: string, call: CallOptions = {}): Promise<Header> {
    const { header } = await this.call(this.methods.UserDelete, { name }, call, false)
    return { header }
  }

  /** Sets user `name`'s password (tokens issued before stop working). */
  async userChangePassword(name: string, password: string, call: CallOptions = {}): Promise<Header> {
    const { header } = await this.call(this.methods.UserChangePassword, { name, password }, call)
    return { header }
  }

  /** Grants `role` to `user`. */
  async userGrantRole(user: string, role: string, call: CallOptions = {}): Promise<Header> {
    const { header } = await this.call(this.methods.UserGrantRole, { user, role }, call)
    return { header }
  }

  /** Revokes `role` from user `name`. */
  async userRevokeRole(name: string, role: string, call: CallOptions = {}): Promise<Header> {
    const { header } = await this.call(this.methods.UserRevokeRole, { name, role }, call, false)
    return { header }
  }

  /** Adds role `name`. */
  async roleAdd(name: string, call: CallOptions = {}): Promise<Header> {
    const { header } = await this.call(this.methods.RoleAdd, { name }, call, false)
    return { header }
  }

  /** The permissions of `role`. */
  async roleGet(role: string, call: CallOptions = {}): Promise<{ header: ResponseHeader; permissions: Permission[] }> {
    const { header, perm } = await this.call(this.methods.RoleGet, { role }, call)
    return { header, permissions: perm.map(fromPermission) }
  }

  /** Every role name. */
  async roleList(call: CallOptions = {}): Promise<string[]> {
    return (await this.call(this.methods.RoleList, {}, call)).roles
  }

  /** Deletes `role`. */
  async roleDelete(role: string, call: CallOptions = {}): Promise<Header> {
    const { header } = await this.call(this.methods.RoleDelete, { role }, call, false)
    return { header }
  }

  /** Grants role `name` `kind` access to `key` (or a range, see {@link KeyRange}). */
  async roleGrantPermission(
    name: string,
    kind: PermissionKind,
    key: Bytes,
    range: KeyRange = {},
    call: CallOptions = {},
  ): Promise<Header> {
    const keyBytes = toBuffer(key)
    const { header } = await this.call(
      this.methods.RoleGrantPermission,
      { name, perm: { permType: TYPES[kind], key: keyBytes, range_end: rangeEndFor(keyBytes, range) } },
      call,
    )
    return { header }
  }

  /** Revokes role `role`'s permission on exactly `key` / the range (as it was granted). */
  async roleRevokePermission(role: string, key: Bytes, range: KeyRange = {}, call: CallOptions = {}): Promise<Header> {
    const keyBytes = toBuffer(key)
    const { header } = await this.call(
      this.methods.RoleRevokePermission,
      { role, key: keyBytes, range_end: rangeEndFor(keyBytes, range) },
      call,
      false,
    )
    return { header }
  }
}
