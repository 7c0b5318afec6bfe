import bcrypt from 'bcryptjs'
import { beforeEach, describe, expect, it } from 'vitest'
import { AuthStore, PermissionType, ROOT, type AuthBackend, type AuthState } from '../../core/auth/auth-store'
import { decodeAuthState, encodeAuthState } from '../../core/auth/member-meta-backend'
import { codeOf } from '../support/error-code'

/** A backend that keeps the last saved state as JSON text, counting saves, as the member_meta row would. */
class JsonBackend implements AuthBackend<'tx'> {
  text: string | undefined
  saves = 0
  load(): AuthState | undefined {
    return this.text === undefined ? undefined : decodeAuthState(this.text)
  }
  save(tx: 'tx', state: AuthState): void {
    expect(tx).toBe('tx')
    this.saves += 1
    this.text = encodeAuthState(state)
  }
}

const tx = 'tx' as const
const b = (s: string) => Buffer.from(s)
// bcrypt cost 4 keeps the unit tests fast; the cost is a parameter of hashPassword, not of the store.
const hash = (password: string) => bcrypt.hashSync(password, 4)

async function asyncCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('AuthStore (etcd auth/store.go semantics)', () => {
  let backend: JsonBackend
  let store: AuthStore<'tx'>

  beforeEach(() => {
    backend = new JsonBackend()
    store = new AuthStore(backend)
  })

  function setupRoot(): void {
    store.userAdd(tx, ROOT, hash('rootpw'), false)
    store.roleAdd(tx, ROOT)
    store.userGrantRole(tx, ROOT, ROOT)
  }

  it('a fresh store is disabled at revision 1 with no users or roles', () => {
    expect(store.isEnabled()).toBe(false)
    expect(store.revision()).toBe(1)
    expect(store.userList()).toEqual([])
    expect(store.roleList()).toEqual([])
  })

  it('auth enable needs user root ("root user does not exist") holding role root ("root user does not have root role")', () => {
    expect(codeOf(() => store.enable(tx))).toBe('ROOT_USER_NOT_EXIST')
    store.userAdd(tx, ROOT, hash('x'), false)
    expect(codeOf(() => store.enable(tx))).toBe('ROOT_ROLE_NOT_EXIST')
    store.roleAdd(tx, ROOT)
    store.userGrantRole(tx, ROOT, ROOT)
    store.enable(tx)
    expect(store.isEnabled()).toBe(true)
  })

  it('granting role root needs no role named root to exist (etcd UserGrantRole special case)', () => {
    store.userAdd(tx, ROOT, hash('x'), false)
    store.userGrantRole(tx, ROOT, ROOT)
    expect(store.userGet(ROOT)).toEqual([ROOT])
    expect(codeOf(() => store.userGrantRole(tx, ROOT, 'missing'))).toBe('ROLE_NOT_FOUND')
  })

  it('every change bumps the auth revision and is saved; failed and no-op changes are not', () => {
    setupRoot()
    expect(store.revision()).toBe(4)
    expect(backend.saves).toBe(3)
    store.userGrantRole(tx, ROOT, ROOT) // already granted: no-op
    store.disable(tx) // already off: no-op
    expect(codeOf(() => store.userAdd(tx, ROOT, hash('x'), false))).toBe('USER_ALREADY_EXIST')
    expect(store.revision()).toBe(4)
    store.enable(tx)
    store.enable(tx)
    expect(store.revision()).toBe(5)
    expect(new AuthStore(backend).revision()).toBe(5)
  })

  it('while enabled, root cannot be deleted, lose the root role, nor the root role be deleted (INVALID_AUTH_MGMT)', () => {
    setupRoot()
    store.enable(tx)
    expect(codeOf(() => store.userDelete(tx, ROOT))).toBe('INVALID_AUTH_MGMT')
    expect(codeOf(() => store.userRevokeRole(tx, ROOT, ROOT))).toBe('INVALID_AUTH_MGMT')
    expect(codeOf(() => store.roleDelete(tx, ROOT))).toBe('INVALID_AUTH_MGMT')
    store.disable(tx)
    store.userRevokeRole(tx, ROOT, ROOT)
    expect(store.userGet(ROOT)).toEqual([])
  })

  it('user and role errors: empty names, duplicates, missing names, revoking what was not granted', () => {
    expect(codeOf(() => store.userAdd(tx, '', hash('x'), false))).toBe('USER_EMPTY')
    expect(codeOf(() => store.roleAdd(tx, ''))).toBe('ROLE_EMPTY')
    store.userAdd(tx, 'alice', hash('x'), false)
    store.roleAdd(tx, 'r')
    expect(codeOf(() => store.roleAdd(tx, 'r'))).toBe('ROLE_ALREADY_EXIST')
    expect(codeOf(() => store.userGet('bob'))).toBe('USER_NOT_FOUND')
    expect(codeOf(() => store.userDelete(tx, 'bob'))).toBe('USER_NOT_FOUND')
    expect(codeOf(() => store.userChangePassword(tx, 'bob', hash('y')))).toBe('USER_NOT_FOUND')
    expect(codeOf(() => store.roleGet('q'))).toBe('ROLE_NOT_FOUND')
    expect(codeOf(() => store.roleDelete(tx, 'q'))).toBe('ROLE_NOT_FOUND')
    expect(codeOf(() => store.userRevokeRole(tx, 'alice', 'r'))).toBe('ROLE_NOT_GRANTED')
    expect(codeOf(() => store.roleRevokePermission(tx, 'r', b('k'), b('')))).toBe('PERMISSION_NOT_GRANTED')
  })

  it('lists are sorted; deleting a role revokes it from every user', () => {
    for (const name of ['carol', 'alice', 'bob']) store.userAdd(tx, name, hash('x'), false)
    for (const name of ['w', 'r']) store.roleAdd(tx, name)
    store.userGrantRole(tx, 'bob', 'w')
    store.userGrantRole(tx, 'bob', 'r')
    expect(store.userList()).toEqual(['alice', 'bob', 'carol'])
    expect(store.roleList()).toEqual(['r', 'w'])
    expect(store.userGet('bob')).toEqual(['r', 'w'])
    store.roleDelete(tx, 'w')
    expect(store.userGet('bob')).toEqual(['r'])
  })

  it('granting on the same key and range replaces the type; other grants are added sorted by key (etcd RoleGrantPermission)', () => {
    store.roleAdd(tx, 'r')
    store.roleGrantPermission(tx, 'r', { type: PermissionType.READ, key: b('m'), rangeEnd: b('n') })
    store.roleGrantPermission(tx, 'r', { type: PermissionType.WRITE, key: b('a'), rangeEnd: b('') })
    store.roleGrantPermission(tx, 'r', { type: PermissionType.READWRITE, key: b('m'), rangeEnd: b('n') })
    expect(store.roleGet('r')).toEqual([
      { type: PermissionType.WRITE, key: b('a'), rangeEnd: b('') },
      { type: PermissionType.READWRITE, key: b('m'), rangeEnd: b('n') },
    ])
    store.roleRevokePermission(tx, 'r', b('m'), b('n'))
    expect(store.roleGet('r')).toEqual([{ type: PermissionType.WRITE, key: b('a'), rangeEnd: b('') }])
  })

  it('role root lists no permissions, as etcd 3.4.23 answers (root is unrestricted by rule, not by grant)', () => {
    store.roleAdd(tx, ROOT)
    expect(store.roleGet(ROOT)).toEqual([])
  })

  it('password and token invalidation: change and delete notify the token layer with the user name', () => {
    const invalidated: string[] = []
    store.onInvalidateUser = (name) => invalidated.push(name)
    store.userAdd(tx, 'alice', hash('x'), false)
    store.userChangePassword(tx, 'alice', hash('y'))
    store.userDelete(tx, 'alice')
    expect(invalidated).toEqual(['alice', 'alice'])
  })

  it('checkPassword: right password gives the revision; wrong password and unknown user both AUTH_FAILED; auth off AUTH_NOT_ENABLED', async () => {
    setupRoot()
    store.userAdd(tx, 'alice', hash('secret'), false)
    expect(await asyncCodeOf(store.checkPassword('alice', 'secret'))).toBe('AUTH_NOT_ENABLED')
    store.enable(tx)
    await expect(store.checkPassword('alice', 'secret')).resolves.toEqual({ username: 'alice', revision: store.revision() })
    expect(await asyncCodeOf(store.checkPassword('alice', 'wrong'))).toBe('AUTH_FAILED')
    expect(await asyncCodeOf(store.checkPassword('nobody', 'secret'))).toBe('AUTH_FAILED')
  })

  it('a no-password user cannot log in by password nor get one (etcd 3.5 --no-password)', async () => {
    setupRoot()
    store.userAdd(tx, 'certonly', hash('ignored'), true)
    store.enable(tx)
    expect(store.getUser('certonly')?.passwordHash).toBe('')
    expect(await asyncCodeOf(store.checkPassword('certonly', ''))).toBe('AUTH_FAILED')
    expect(codeOf(() => store.authenticate('certonly'))).toBe('AUTH_FAILED')
    expect(codeOf(() => store.userChangePassword(tx, 'certonly', hash('x')))).toBe('AUTH_FAILED')
  })

  it('the saved state round-trips byte keys exactly and reload() adopts it', () => {
    store.roleAdd(tx, 'r')
    const key = Buffer.from([0xff, 0x00, 0x80])
    store.roleGrantPermission(tx, 'r', { type: PermissionType.READ, key, rangeEnd: Buffer.from([0]) })
    const other = new AuthStore(backend)
    expect(other.roleGet('r')).toEqual([{ type: PermissionType.READ, key, rangeEnd: Buffer.from([0]) }])
    store.roleAdd(tx, 's')
    other.reload()
    expect(other.roleList()).toEqual(['r', 's'])
  })
})
