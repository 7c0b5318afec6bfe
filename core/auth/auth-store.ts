import bcrypt from 'bcryptjs'
import { assert } from '../util/assert'
import { AuthError } from './errors'
import { sharedPasswordChecker, type PasswordChecker } from './password-checker'

// etcd's auth store (server/auth/store.go, Apache-2.0, Copyright 2016 The etcd Authors), ported: users, roles,
// key permissions, the root rules and the auth revision. Every mutation runs inside the member's apply
// transaction (`tx` first) and is deterministic; password hashing happens before proposing (etcd 3.5
// UserAdd/UserChangePassword carry HashedPassword), so the log never holds a clear-text password.

/** The user and role with every permission. etcd compat: auth/store.go rootUser / rootRole. */
export const ROOT = 'root'

/** What a permission allows; etcd's authpb.Permission_Type numbers. */
export enum PermissionType {
  READ = 0,
  WRITE = 1,
  READWRITE = 2,
}

/** A role's permission on `[key, rangeEnd)`; an empty `rangeEnd` is the single key, `\0` means "to the end". */
export interface KeyPermission {
  type: PermissionType
  key: Buffer
  rangeEnd: Buffer
}

/** A user as stored. `passwordHash` is a bcrypt hash, '' for a no-password user (client-certificate login only). */
export interface AuthUser {
  name: string
  passwordHash: string
  /** Sorted, without duplicates. */
  roles: string[]
  noPassword: boolean
}

/** A role as stored. Invariant: permissions sorted by key (etcd permSlice), no two with the same key and rangeEnd. */
export interface AuthRole {
  name: string
  permissions: KeyPermission[]
}

/** The whole replicated auth state: what {@link AuthBackend} persists. */
export interface AuthState {
  enabled: boolean
  /** Bumped by every change. Invariant: a safe integer ≥ 1 (etcd starts at 1 so that 0 means "no user"). */
  revision: number
  users: AuthUser[]
  roles: AuthRole[]
}

/** Who is calling and at which auth revision their credential was issued (etcd AuthInfo). */
export interface AuthInfo {
  username: string
  revision: number
}

/**
 * Where the auth state lives. `load` reads the committed state (undefined for a fresh member); `save` writes the
 * whole state inside the caller's open transaction `tx`, so it commits atomically with the applied index.
 */
export interface AuthBackend<Tx> {
  load(): AuthState | undefined
  save(tx: Tx, state: AuthState): void
}

/** bcrypt cost when --bcrypt-cost is not given. etcd compat: bcrypt.DefaultCost = 10. */
export const DEFAULT_BCRYPT_COST = 10

/**
 * Hashes a password for a UserAdd/UserChangePassword proposal; runs on the proposing member, off the apply
 * path, with bcryptjs's async (chunked) implementation so other requests keep being served meanwhile.
 */
export function hashPassword(password: string, cost = DEFAULT_BCRYPT_COST): Promise<string> {
  assert(Number.isInteger(cost) && cost >= 4 && cost <= 31, `bcrypt cost ${cost} out of range [4, 31]`)
  return bcrypt.hash(password, cost)
}

const compareKeys = (a: Buffer, b: Buffer) => Buffer.compare(a, b)

function copyRole(role: AuthRole): AuthRole {
  return { name: role.name, permissions: role.permissions.map((p) => ({ ...p, key: Buffer.from(p.key), rangeEnd: Buffer.from(p.rangeEnd) })) }
}

/**
 * The auth store of one member: the state machine for the auth_* requests plus the read side used by
 * permission checks. Mutate only through the methods that take `tx` (inside the apply transaction); each
 * successful change bumps the revision and saves the whole state through the backend.
 */
export class AuthStore<Tx = unknown> {
  private state: AuthState
  /** Called with a user name whose tokens must die (password changed, user deleted), and with '' on disable. */
  onInvalidateUser: (name: string) => void = () => undefined

  constructor(
    private readonly backend: AuthBackend<Tx>,
    private readonly passwords: Pick<PasswordChecker, 'compare'> = sharedPasswordChecker,
  ) {
    this.state = AuthStore.normalize(backend.load())
  }

  private static normalize(state: AuthState | undefined): AuthState {
    return state ?? { enabled: false, revision: 1, users: [], roles: [] }
  }

  /** Re-reads the state from the backend (after a Raft snapshot was installed). */
  reload(): void {
    this.state = AuthStore.normalize(this.backend.load())
    this.onInvalidateUser('')
  }

  /** Whether auth is on. */
  isEnabled(): boolean {
    return this.state.enabled
  }

  /** The auth revision (etcd AuthStatus.authRevision). */
  revision(): number {
    return this.state.revision
  }

  private commit(tx: Tx): void {
    this.state.revision += 1
    assert(Number.isSafeInteger(this.state.revision), `auth revision ${this.state.revision} is not a safe integer`)
    this.backend.save(tx, this.state)
  }

  private findUser(name: string): AuthUser | undefined {
    return this.state.users.find((u) => u.name === name)
  }

  private findRole(name: string): AuthRole | undefined {
    return this.state.roles.find((r) => r.name === name)
  }

  /** A copy of user `name`, or undefined. */
  getUser(name: string): AuthUser | undefined {
    const user = this.findUser(name)
    return user && { ...user, roles: [...user.roles] }
  }

  /** A copy of role `name`, or undefined. */
  getRole(name: string): AuthRole | undefined {
    const role = this.findRole(name)
    return role && copyRole(role)
  }

  /** Whether user `name` exists and holds the root role. */
  hasRootRole(name: string): boolean {
    return this.findUser(name)?.roles.includes(ROOT) ?? false
  }

  /** etcd AuthEnable: needs user root with role root; enabling twice is a no-op. */
  enable(tx: Tx): void {
    if (this.state.enabled) return
    const root = this.findUser(ROOT)
    if (!root) throw new AuthError('ROOT_USER_NOT_EXIST')
    if (!root.roles.includes(ROOT)) throw new AuthError('ROOT_ROLE_NOT_EXIST')
    this.state.enabled = true
    this.onInvalidateUser('')
    this.commit(tx)
  }

  /** etcd AuthDisable: drops every token; disabling twice is a no-op. */
  disable(tx: Tx): void {
    if (!this.state.enabled) return
    this.state.enabled = false
    this.onInvalidateUser('')
    this.commit(tx)
  }

  /**
   * etcd Authenticate (apply side; the password was checked by {@link checkPassword} before proposing):
   * the user must still exist and have a password. Returns who logged in at which revision.
   */
  authenticate(name: string): AuthInfo {
    if (!this.state.enabled) throw new AuthError('AUTH_NOT_ENABLED')
    const user = this.findUser(name)
    if (!user || user.noPassword) throw new AuthError('AUTH_FAILED')
    return { username: name, revision: this.state.revision }
  }

  /**
   * etcd CheckPassword: the bcrypt comparison, off the apply path and off the event loop (PasswordChecker). Resolves the caller's AuthInfo or
   * rejects with AUTH_NOT_ENABLED / AUTH_FAILED (the same answer for an unknown user and a wrong password).
   */
  async checkPassword(name: string, password: string): Promise<AuthInfo> {
    if (!this.state.enabled) throw new AuthError('AUTH_NOT_ENABLED')
    const user = this.findUser(name)
    if (!user || user.noPassword) throw new AuthError('AUTH_FAILED')
    const revision = this.state.revision
    if (!(await this.passwords.compare(password, user.passwordHash))) throw new AuthError('AUTH_FAILED')
    return { username: name, revision }
  }

  /** etcd UserAdd. `passwordHash` comes from {@link hashPassword} ('' with `noPassword`). */
  userAdd(tx: Tx, name: string, passwordHash: string, noPassword: boolean): void {
    if (name === '') throw new AuthError('USER_EMPTY')
    if (this.findUser(name)) throw new AuthError('USER_ALREADY_EXIST')
    this.state.users.push({ name, passwordHash: noPassword ? '' : passwordHash, roles: [], noPassword })
    this.state.users.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    this.commit(tx)
  }

  /** etcd UserDelete: root cannot be deleted while auth is on; the user's tokens die. */
  userDelete(tx: Tx, name: string): void {
    if (this.state.enabled && name === ROOT) throw new AuthError('INVALID_AUTH_MGMT')
    if (!this.findUser(name)) throw new AuthError('USER_NOT_FOUND')
    this.state.users = this.state.users.filter((u) => u.name !== name)
    this.onInvalidateUser(name)
    this.commit(tx)
  }

  /** etcd UserChangePassword: the user's tokens die. */
  userChangePassword(tx: Tx, name: string, passwordHash: string): void {
    const user = this.findUser(name)
    if (!user) throw new AuthError('USER_NOT_FOUND')
    // etcd 3.5 compat: a no-password user stays one (ErrNoPasswordUser is not in 3.4's table; refuse as 3.5 does).
    if (user.noPassword) throw new AuthError('AUTH_FAILED')
    user.passwordHash = passwordHash
    this.onInvalidateUser(name)
    this.commit(tx)
  }

  /** etcd UserGrantRole: the role must exist unless it is root; granting a held role is a no-op. */
  userGrantRole(tx: Tx, name: string, role: string): void {
    const user = this.findUser(name)
    if (!user) throw new AuthError('USER_NOT_FOUND')
    if (role !== ROOT && !this.findRole(role)) throw new AuthError('ROLE_NOT_FOUND')
    if (user.roles.includes(role)) return
    user.roles = [...user.roles, role].sort()
    this.commit(tx)
  }

  /** etcd UserRevokeRole: root keeps the root role while auth is on. */
  userRevokeRole(tx: Tx, name: string, role: string): void {
    if (this.state.enabled && name === ROOT && role === ROOT) throw new AuthError('INVALID_AUTH_MGMT')
    const user = this.findUser(name)
    if (!user) throw new AuthError('USER_NOT_FOUND')
    if (!user.roles.includes(role)) throw new AuthError('ROLE_NOT_GRANTED')
    user.roles = user.roles.filter((r) => r !== role)
    this.commit(tx)
  }

  /** User names, sorted. */
  userList(): string[] {
    return this.state.users.map((u) => u.name)
  }

  /** etcd UserGet: the user's roles. */
  userGet(name: string): string[] {
    const user = this.findUser(name)
    if (!user) throw new AuthError('USER_NOT_FOUND')
    return [...user.roles]
  }

  /** etcd RoleAdd. */
  roleAdd(tx: Tx, name: string): void {
    if (name === '') throw new AuthError('ROLE_EMPTY')
    if (this.findRole(name)) throw new AuthError('ROLE_ALREADY_EXIST')
    this.state.roles.push({ name, permissions: [] })
    this.state.roles.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    this.commit(tx)
  }

  /** etcd RoleDelete: root cannot be deleted while auth is on; the role is revoked from every user. */
  roleDelete(tx: Tx, name: string): void {
    if (this.state.enabled && name === ROOT) throw new AuthError('INVALID_AUTH_MGMT')
    if (!this.findRole(name)) throw new AuthError('ROLE_NOT_FOUND')
    this.state.roles = this.state.roles.filter((r) => r.name !== name)
    for (const user of this.state.users) user.roles = user.roles.filter((r) => r !== name)
    this.commit(tx)
  }

  /** Role names, sorted. */
  roleList(): string[] {
    return this.state.roles.map((r) => r.name)
  }

  /**
   * etcd RoleGet: the role's permissions as granted. NB: etcd 3.4.23 lists none for root (measured by the
   * etcdctl differential test), although root may do everything; 3.5 answers readwrite on `["", "\0")`.
   */
  roleGet(name: string): KeyPermission[] {
    const role = this.findRole(name)
    if (!role) throw new AuthError('ROLE_NOT_FOUND')
    return copyRole(role).permissions
  }

  /**
   * etcd RoleGrantPermission: a permission on exactly the same key and rangeEnd is updated in place (its type
   * replaced, not merged), any other is added, keeping the list sorted by key.
   */
  roleGrantPermission(tx: Tx, name: string, permission: KeyPermission): void {
    const role = this.findRole(name)
    if (!role) throw new AuthError('ROLE_NOT_FOUND')
    const existing = role.permissions.find((p) => p.key.equals(permission.key) && p.rangeEnd.equals(permission.rangeEnd))
    if (existing) existing.type = permission.type
    else {
      role.permissions.push({ type: permission.type, key: Buffer.from(permission.key), rangeEnd: Buffer.from(permission.rangeEnd) })
      role.permissions.sort((a, b) => compareKeys(a.key, b.key))
    }
    this.commit(tx)
  }

  /** etcd RoleRevokePermission: removes the permission granted on exactly `[key, rangeEnd)`. */
  roleRevokePermission(tx: Tx, name: string, key: Buffer, rangeEnd: Buffer): void {
    const role = this.findRole(name)
    if (!role) throw new AuthError('ROLE_NOT_FOUND')
    const kept = role.permissions.filter((p) => !(p.key.equals(key) && p.rangeEnd.equals(rangeEnd)))
    if (kept.length === role.permissions.length) throw new AuthError('PERMISSION_NOT_GRANTED')
    role.permissions = kept
    this.commit(tx)
  }

  /** The permissions of every role user `name` holds (roles that no longer exist contribute nothing). */
  userPermissions(name: string): KeyPermission[] {
    const user = this.findUser(name)
    if (!user) return []
    return user.roles.flatMap((r) => this.findRole(r)?.permissions ?? [])
  }
}
