import { beforeEach, describe, expect, it } from 'vitest'
import { AuthStore, PermissionType, ROOT, type AuthBackend, type AuthInfo, type AuthState, type KeyPermission } from '../../core/auth/auth-store'
import { checkApply, checkProposal, checkRequest, isRangeCovered, proposalAuthHeader, type CheckedRequest } from '../../core/auth/permissions'
import type * as pb from '../../core/proto/types'
import { codeOf } from '../support/error-code'

const b = (s: string) => Buffer.from(s)
const perm = (type: PermissionType, key: string, rangeEnd = ''): KeyPermission => ({ type, key: b(key), rangeEnd: b(rangeEnd) })

class MemoryBackend implements AuthBackend<null> {
  state: AuthState | undefined
  load() {
    return this.state && structuredClone(this.state)
  }
  save(_tx: null, state: AuthState) {
    this.state = structuredClone(state)
  }
}

describe('isRangeCovered (etcd range_perm_cache)', () => {
  it('a single-key grant covers only that key', () => {
    const perms = [perm(PermissionType.READ, 'a')]
    expect(isRangeCovered(perms, 'read', b('a'), b(''))).toBe(true)
    expect(isRangeCovered(perms, 'read', b('ab'), b(''))).toBe(false)
    expect(isRangeCovered(perms, 'read', b('a'), b('b'))).toBe(false)
    expect(isRangeCovered(perms, 'write', b('a'), b(''))).toBe(false)
  })

  it('adjacent and overlapping grants merge; a gap denies', () => {
    const perms = [perm(PermissionType.READ, 'a', 'c'), perm(PermissionType.READWRITE, 'c', 'e'), perm(PermissionType.READ, 'd', 'f')]
    expect(isRangeCovered(perms, 'read', b('b'), b('f'))).toBe(true)
    expect(isRangeCovered(perms, 'read', b('a'), b('g'))).toBe(false)
    expect(isRangeCovered(perms, 'write', b('c'), b('e'))).toBe(true)
    expect(isRangeCovered(perms, 'write', b('b'), b('d'))).toBe(false)
  })

  it('range_end "\\0" means every key from key, in grants and in requests', () => {
    const perms = [perm(PermissionType.READ, 'p', '\0')]
    expect(isRangeCovered(perms, 'read', b('p'), b('\0'))).toBe(true)
    expect(isRangeCovered(perms, 'read', b('zzz'), b(''))).toBe(true)
    expect(isRangeCovered(perms, 'read', b('o'), b('\0'))).toBe(false)
    expect(isRangeCovered([perm(PermissionType.READ, 'p', 'q')], 'read', b('p'), b('\0'))).toBe(false)
  })

  it('a reversed or empty range needs nothing (etcd answers it with no keys)', () => {
    expect(isRangeCovered([], 'read', b('b'), b('a'))).toBe(true)
  })
})

describe('request permission checks (etcd apply_auth.go / isOpPermitted)', () => {
  let store: AuthStore<null>
  let alice: AuthInfo
  let rootInfo: AuthInfo
  const leases = new Map<bigint, Buffer[]>([
    [7n, [b('p/1'), b('p/2')]],
    [8n, [b('p/1'), b('secret')]],
  ])
  const leaseKeys = (id: bigint) => leases.get(id) ?? []

  beforeEach(() => {
    store = new AuthStore(new MemoryBackend())
    store.userAdd(null, ROOT, 'h', false)
    store.userGrantRole(null, ROOT, ROOT)
    store.userAdd(null, 'alice', 'h', false)
    store.roleAdd(null, 'ro')
    store.roleAdd(null, 'rw')
    store.roleGrantPermission(null, 'ro', perm(PermissionType.READ, 'p', 'q'))
    store.roleGrantPermission(null, 'rw', perm(PermissionType.READWRITE, 'p/', 'p0'))
    store.userGrantRole(null, 'alice', 'ro')
    store.userGrantRole(null, 'alice', 'rw')
    store.enable(null)
    alice = { username: 'alice', revision: store.revision() }
    rootInfo = { username: ROOT, revision: store.revision() }
  })

  const put = (key: string, extra: Partial<pb.PutRequest> = {}) => ({ key: b(key), value: b('v'), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false, ...extra }) as pb.PutRequest
  const range = (key: string, rangeEnd = '') => ({ key: b(key), range_end: b(rangeEnd) }) as pb.RangeRequest
  const del = (key: string, rangeEnd = '', prevKv = false) => ({ key: b(key), range_end: b(rangeEnd), prev_kv: prevKv }) as pb.DeleteRangeRequest
  const txn = (parts: Partial<pb.TxnRequest>) => ({ compare: [], success: [], failure: [], ...parts }) as pb.TxnRequest
  const check = (info: AuthInfo | undefined, request: CheckedRequest) => codeOf(() => checkRequest(store, info, request, leaseKeys))

  it('with auth off everything passes, even with no credential', () => {
    store.disable(null)
    expect(check(undefined, { kind: 'admin' })).toBeUndefined()
    expect(check(undefined, { kind: 'put', body: put('x') })).toBeUndefined()
  })

  it('no credential → USER_EMPTY; a stale auth revision → AUTH_OLD_REVISION; an unknown user → PERMISSION_DENIED', () => {
    expect(check(undefined, { kind: 'range', body: range('p') })).toBe('USER_EMPTY')
    expect(check({ username: 'alice', revision: alice.revision - 1 }, { kind: 'range', body: range('p') })).toBe('AUTH_OLD_REVISION')
    expect(check({ username: 'mallory', revision: alice.revision }, { kind: 'range', body: range('p') })).toBe('PERMISSION_DENIED')
    expect(check({ username: '', revision: alice.revision }, { kind: 'range', body: range('p') })).toBe('USER_EMPTY')
  })

  it('Range needs read on all of [key, range_end)', () => {
    expect(check(alice, { kind: 'range', body: range('p', 'q') })).toBeUndefined()
    expect(check(alice, { kind: 'range', body: range('p', 'r') })).toBe('PERMISSION_DENIED')
    expect(check(alice, { kind: 'watch', body: range('o', 'p0') })).toBe('PERMISSION_DENIED')
  })

  it('Put/Delete need write; with prev_kv also read; a put onto a lease needs write on its keys', () => {
    expect(check(alice, { kind: 'put', body: put('p/a') })).toBeUndefined()
    expect(check(alice, { kind: 'put', body: put('p') })).toBe('PERMISSION_DENIED')
    expect(check(alice, { kind: 'delete_range', body: del('p/', 'p0', true) })).toBeUndefined()
    expect(check(alice, { kind: 'delete_range', body: del('p/', 'p1') })).toBe('PERMISSION_DENIED')
    expect(check(alice, { kind: 'put', body: put('p/x', { lease: '7' }) })).toBeUndefined()
    expect(check(alice, { kind: 'put', body: put('p/x', { lease: '8' }) })).toBe('PERMISSION_DENIED')
  })

  it('Txn: every compare and every op of both branches, nested, even a branch that would not run', () => {
    const ok = txn({ compare: [{ key: b('pa'), range_end: b('') } as pb.Compare], success: [{ request_put: put('p/1') } as pb.RequestOp] })
    expect(check(alice, { kind: 'txn', body: ok })).toBeUndefined()
    const badCompare = txn({ compare: [{ key: b('z'), range_end: b('') } as pb.Compare] })
    expect(check(alice, { kind: 'txn', body: badCompare })).toBe('PERMISSION_DENIED')
    const badFailure = txn({ failure: [{ request_put: put('pa') } as pb.RequestOp] })
    expect(check(alice, { kind: 'txn', body: badFailure })).toBe('PERMISSION_DENIED')
    const nested = txn({ success: [{ request_txn: txn({ failure: [{ request_range: range('a') } as pb.RequestOp] }) } as pb.RequestOp] })
    expect(check(alice, { kind: 'txn', body: nested })).toBe('PERMISSION_DENIED')
    expect(check(rootInfo, { kind: 'txn', body: nested })).toBeUndefined()
  })

  it('LeaseRevoke needs write on every attached key; root passes', () => {
    expect(check(alice, { kind: 'lease_revoke', body: { ID: '7' } })).toBeUndefined()
    expect(check(alice, { kind: 'lease_revoke', body: { ID: '8' } })).toBe('PERMISSION_DENIED')
    expect(check(rootInfo, { kind: 'lease_revoke', body: { ID: '8' } })).toBeUndefined()
  })

  it('admin-only calls need the root role; Compact is not admin-gated (etcd 3.4.23 measured)', () => {
    expect(check(alice, { kind: 'admin' })).toBe('PERMISSION_DENIED')
    expect(check(rootInfo, { kind: 'admin' })).toBeUndefined()
    for (const kind of ['alarm', 'auth_enable', 'auth_disable', 'auth_user_add', 'auth_user_list', 'auth_role_add', 'auth_role_grant_permission', 'auth_user_grant_role', 'unknown_kind']) {
      expect(codeOf(() => checkProposal(store, alice, kind, {})), kind).toBe('PERMISSION_DENIED')
    }
    for (const kind of ['compaction', 'lease_grant', 'authenticate']) expect(codeOf(() => checkProposal(store, alice, kind, {})), kind).toBeUndefined()
  })

  it('a user may read their own user and roles, not others; only root changes passwords (etcd needAdminPermission)', () => {
    expect(codeOf(() => checkProposal(store, alice, 'auth_user_change_password', { name: 'alice' }))).toBe('PERMISSION_DENIED')
    expect(codeOf(() => checkProposal(store, alice, 'auth_user_change_password', { name: ROOT }))).toBe('PERMISSION_DENIED')
    expect(codeOf(() => checkProposal(store, rootInfo, 'auth_user_change_password', { name: 'alice' }))).toBeUndefined()
    expect(codeOf(() => checkProposal(store, { username: 'ghost', revision: store.revision() }, 'auth_user_list', {}))).toBe('USER_NOT_FOUND')
    expect(codeOf(() => checkProposal(store, undefined, 'auth_user_list', {}))).toBe('USER_EMPTY')
    expect(codeOf(() => checkProposal(store, alice, 'auth_user_get', { name: 'alice' }))).toBeUndefined()
    expect(codeOf(() => checkProposal(store, alice, 'auth_role_get', { role: 'ro' }))).toBeUndefined()
    expect(codeOf(() => checkProposal(store, alice, 'auth_role_get', { role: ROOT }))).toBe('PERMISSION_DENIED')
  })

  it('apply: revision 0 is the member itself (trusted); a credential-less client proposal made before enable fails with AUTH_OLD_REVISION', () => {
    expect(codeOf(() => checkApply(store, { username: '', auth_revision: '0' }, 'lease_revoke', { ID: '8' }, leaseKeys))).toBeUndefined()
    store.disable(null)
    const header = proposalAuthHeader(store, undefined)
    store.enable(null)
    expect(codeOf(() => checkApply(store, header, 'put', put('p/1')))).toBe('AUTH_OLD_REVISION')
    expect(codeOf(() => checkApply(store, proposalAuthHeader(store, undefined), 'put', put('p/1')))).toBe('USER_EMPTY')
    const aliceNow = { username: 'alice', revision: store.revision() }
    expect(codeOf(() => checkApply(store, proposalAuthHeader(store, aliceNow), 'put', put('p/1')))).toBeUndefined()
    expect(codeOf(() => checkApply(store, proposalAuthHeader(store, aliceNow), 'put', put('x')))).toBe('PERMISSION_DENIED')
  })
})
