import type * as pb from '../proto/types'
import { PermissionType, type AuthInfo, type AuthStore, type KeyPermission } from './auth-store'
import { AuthError } from './errors'

// Permission checks, ported from etcd (Apache-2.0): auth/store.go isOpPermitted / IsAdminPermitted,
// auth/range_perm_cache.go (a user's permissions as merged intervals), etcdserver/apply_auth.go (which
// request needs what: checkTxnReqsPermission, checkLeasePuts, needAdminPermission).

/** Whether a check needs read or write access. */
export type Access = 'read' | 'write'

const grants = (type: PermissionType, access: Access) =>
  type === PermissionType.READWRITE || (access === 'read' ? type === PermissionType.READ : type === PermissionType.WRITE)

const OPEN_END = Buffer.from([0])
/** `[begin, end)` with end null meaning "to the end of the key space". */
type Interval = { begin: Buffer; end: Buffer | null }

function toInterval(key: Buffer, rangeEnd: Buffer): Interval {
  // etcd compat: an empty range_end is the single key (key + "\0" is its successor); "\0" means every key ≥ key.
  if (rangeEnd.length === 0) return { begin: key, end: Buffer.concat([key, OPEN_END]) }
  if (rangeEnd.equals(OPEN_END)) return { begin: key, end: null }
  return { begin: key, end: rangeEnd }
}

/**
 * Whether the union of `permissions` that grant `access` covers all of `[key, rangeEnd)` (etcd
 * range_perm_cache: adjacent and overlapping grants merge, so `[a,c)` + `[c,e)` allows `[b,d)`). A reversed or
 * empty range (end ≤ key) is covered trivially, as etcd answers it with no keys.
 */
export function isRangeCovered(permissions: readonly KeyPermission[], access: Access, key: Buffer, rangeEnd: Buffer): boolean {
  const wanted = toInterval(key, rangeEnd)
  if (wanted.end !== null && Buffer.compare(wanted.end, wanted.begin) <= 0) return true
  const intervals = permissions
    .filter((p) => grants(p.type, access))
    .map((p) => toInterval(p.key, p.rangeEnd))
    .sort((a, b) => Buffer.compare(a.begin, b.begin))
  let covered = wanted.begin
  for (const interval of intervals) {
    if (Buffer.compare(interval.begin, covered) > 0) break
    if (interval.end === null) return true
    if (Buffer.compare(interval.end, covered) > 0) covered = interval.end
    if (wanted.end !== null && Buffer.compare(covered, wanted.end) >= 0) return true
  }
  return false
}

/**
 * The gate every check starts with (etcd isOpPermitted's prologue). Returns true when the caller may do
 * anything (auth off, or a root-role user); false when per-key checks must follow. Throws USER_EMPTY when no
 * credential came with the request, AUTH_OLD_REVISION when it predates the last auth change, PERMISSION_DENIED
 * for an unknown user.
 */
function isUnrestricted(store: AuthStore<unknown>, info: AuthInfo | undefined): boolean {
  if (!store.isEnabled()) return true
  // etcd compat: a request without a token has revision 0 → "user name is empty".
  if (!info || info.revision === 0) throw new AuthError('USER_EMPTY')
  if (info.revision < store.revision()) throw new AuthError('AUTH_OLD_REVISION')
  if (info.username === '') throw new AuthError('USER_EMPTY')
  if (!store.getUser(info.username)) throw new AuthError('PERMISSION_DENIED')
  return store.hasRootRole(info.username)
}

/** etcd isOpPermitted: `access` on `[key, rangeEnd)` (rangeEnd empty = the single key); throws AuthError if not. */
export function checkKeyAccess(store: AuthStore<unknown>, info: AuthInfo | undefined, access: Access, key: Buffer, rangeEnd: Buffer): void {
  if (isUnrestricted(store, info)) return
  if (!isRangeCovered(store.userPermissions(info!.username), access, key, rangeEnd)) throw new AuthError('PERMISSION_DENIED')
}

/**
 * etcd IsAdminPermitted: the caller must hold the root role (when auth is on); throws AuthError if not. NB: as
 * in etcd, no auth revision check here, and an unknown user is USER_NOT_FOUND (not PERMISSION_DENIED).
 */
export function checkAdmin(store: AuthStore<unknown>, info: AuthInfo | undefined): void {
  if (!store.isEnabled()) return
  if (!info || info.username === '') throw new AuthError('USER_EMPTY')
  if (!store.getUser(info.username)) throw new AuthError('USER_NOT_FOUND')
  if (!store.hasRootRole(info.username)) throw new AuthError('PERMISSION_DENIED')
}

/**
 * Runs an admin check; when it fails, lets the request through if `isOwn` (the caller's own user or role), or
 * if `fallback` passes (it throws its own error), else rethrows the admin check's error.
 */
function orSelf(adminCheck: () => void, isOwn: boolean, fallback?: () => void): void {
  try {
    adminCheck()
  } catch (error) {
    if (isOwn) return
    if (!fallback) throw error
    fallback()
  }
}

type Check = (access: Access, key: Buffer, rangeEnd: Buffer) => void

const empty = Buffer.alloc(0)

function checkRange(check: Check, range: pb.RangeRequest): void {
  check('read', range.key, range.range_end)
}

function checkPut(check: Check, put: pb.PutRequest, leaseKeys: LeaseKeys): void {
  check('write', put.key, empty)
  if (put.prev_kv) check('read', put.key, empty)
  // etcd compat: apply_auth.go Put → checkLeasePuts: a put onto a lease needs write on every key already on it.
  if (put.lease !== undefined && BigInt(put.lease) !== 0n) for (const key of leaseKeys(BigInt(put.lease))) check('write', key, empty)
}

function checkDelete(check: Check, request: pb.DeleteRangeRequest): void {
  check('write', request.key, request.range_end)
  if (request.prev_kv) check('read', request.key, request.range_end)
}

/** etcd checkTxnReqsPermission: every compare (read) and every op of both branches, recursively. */
function checkTxn(check: Check, txn: pb.TxnRequest, leaseKeys: LeaseKeys): void {
  for (const compare of txn.compare) check('read', compare.key, compare.range_end)
  for (const op of [...txn.success, ...txn.failure]) {
    if (op.request_range) checkRange(check, op.request_range)
    else if (op.request_put) checkPut(check, op.request_put, leaseKeys)
    else if (op.request_delete_range) checkDelete(check, op.request_delete_range)
    else if (op.request_txn) checkTxn(check, op.request_txn, leaseKeys)
  }
}

/** The keys attached to a lease (for LeaseRevoke and puts onto a lease); empty for an unknown lease. */
export type LeaseKeys = (leaseId: bigint) => Iterable<Buffer>

/**
 * A request as the permission layer sees it: the auth_* Raft kinds, the KV/lease kinds, and `admin` for the
 * calls etcd gates on the root role without a Raft request of their own (Defragment, Snapshot, Hash, HashKV,
 * MoveLeader, MemberAdd/Remove/Update/Promote; Alarm goes through Raft as `alarm`).
 */
export type CheckedRequest =
  | { kind: 'range'; body: pb.RangeRequest }
  | { kind: 'put'; body: pb.PutRequest }
  | { kind: 'delete_range'; body: pb.DeleteRangeRequest }
  | { kind: 'txn'; body: pb.TxnRequest }
  | { kind: 'watch'; body: { key: Buffer; range_end: Buffer } }
  | { kind: 'lease_revoke'; body: { ID: pb.Int64 } }
  | { kind: 'auth_user_get'; body: { name: string } }
  | { kind: 'auth_role_get'; body: { role: string } }
  | { kind: 'open' | 'admin'; body?: undefined }

/**
 * Raft request kinds and what they need: `open` (no check: compaction as etcd 3.4 does it, lease grant and
 * checkpoint, member attributes, authenticate whose password was checked before proposing, auth_status) or
 * `admin`; the others are checked per key by {@link checkRequest}.
 */
export const KIND_POLICY: Readonly<Record<string, 'open' | 'admin' | 'keys'>> = {
  put: 'keys',
  delete_range: 'keys',
  txn: 'keys',
  lease_revoke: 'keys',
  // etcd compat: Compact is not admin-gated (a read-only user compacted on 3.4.23, see the notes §7.0).
  compaction: 'open',
  lease_grant: 'open',
  lease_checkpoint: 'open',
  member_attributes: 'open',
  authenticate: 'open',
  // etcd 3.5 compat: apply_auth.go needAdminPermission lists AuthStatus (3.4 has no AuthStatus RPC).
  auth_status: 'admin',
  alarm: 'admin',
  auth_enable: 'admin',
  auth_disable: 'admin',
  auth_user_add: 'admin',
  auth_user_delete: 'admin',
  auth_user_get: 'keys',
  // etcd compat: needAdminPermission lists AuthUserChangePassword: only root changes passwords, even one's own.
  auth_user_change_password: 'admin',
  auth_user_grant_role: 'admin',
  auth_user_revoke_role: 'admin',
  auth_user_list: 'admin',
  auth_role_list: 'admin',
  auth_role_add: 'admin',
  auth_role_delete: 'admin',
  auth_role_get: 'keys',
  auth_role_grant_permission: 'admin',
  auth_role_revoke_permission: 'admin',
}

/**
 * Decides whether `info` may run `request`; throws AuthError (USER_EMPTY, AUTH_OLD_REVISION, PERMISSION_DENIED)
 * when not. Call it in the gRPC handler for reads, watches and admin calls, and at apply time for proposed
 * requests (with the header's username/auth_revision), as etcd's authApplierV3 does, so a permission revoked
 * between proposal and apply is honoured.
 */
export function checkRequest(store: AuthStore<unknown>, info: AuthInfo | undefined, request: CheckedRequest, leaseKeys: LeaseKeys = () => []): void {
  if (!store.isEnabled()) return
  const check: Check = (access, key, rangeEnd) => checkKeyAccess(store, info, access, key, rangeEnd)
  switch (request.kind) {
    case 'open':
      return
    case 'admin':
      return checkAdmin(store, info)
    case 'range':
      return checkRange(check, request.body)
    case 'watch':
      return check('read', request.body.key, request.body.range_end)
    case 'put':
      return checkPut(check, request.body, leaseKeys)
    case 'delete_range':
      return checkDelete(check, request.body)
    case 'txn':
      return checkTxn(check, request.body, leaseKeys)
    case 'lease_revoke': {
      // etcd compat: apply_auth.go LeaseRevoke → checkLeasePuts: a lease without keys may be revoked by anyone;
      // otherwise an admin, or a caller with write permission on every attached key (etcd 3.5.x fix).
      const keys = [...leaseKeys(BigInt(request.body.ID))]
      if (keys.length === 0) return
      return orSelf(() => checkAdmin(store, info), false, () => keys.forEach((key) => check('write', key, empty)))
    }
    // etcd compat (apply_auth.go UserGet/RoleGet): a non-root user may read their own user and their own roles;
    // otherwise IsAdminPermitted's error stands.
    case 'auth_user_get':
      return orSelf(() => checkAdmin(store, info), info?.username === request.body.name)
    case 'auth_role_get':
      return orSelf(() => checkAdmin(store, info), info !== undefined && (store.getUser(info.username)?.roles.includes(request.body.role) ?? false))
  }
}

/**
 * The check for a proposed Raft request of `kind` with `body`, at apply time: maps the kind through
 * {@link KIND_POLICY} and runs {@link checkRequest}. Unknown kinds are admin-only (fail closed).
 */
export function checkProposal(store: AuthStore<unknown>, info: AuthInfo | undefined, kind: string, body: unknown, leaseKeys?: LeaseKeys): void {
  const policy = KIND_POLICY[kind] ?? 'admin'
  if (policy !== 'keys') return checkRequest(store, info, { kind: policy }, leaseKeys)
  checkRequest(store, info, { kind, body } as CheckedRequest, leaseKeys)
}

/** The auth fields of a proposed request's header (core/server/raft-request.ts InternalHeader). */
export interface ProposalAuthHeader {
  username: string
  auth_revision: string | number
}

/**
 * The header a member puts on a client's proposal: the caller's identity, or (no credential) an empty user
 * name at the current auth revision, so that auth enabled in between fails the request at apply with
 * AUTH_OLD_REVISION instead of letting it through. Revision 0 is reserved for the member's own proposals.
 */
export function proposalAuthHeader(store: AuthStore<unknown>, info: AuthInfo | undefined): { username: string; auth_revision: string } {
  return info ? { username: info.username, auth_revision: String(info.revision) } : { username: '', auth_revision: String(store.revision()) }
}

/**
 * The apply-time check of a committed request (etcd authApplierV3.Apply). A header with auth_revision 0 is the
 * member's own proposal (lease expiry, checkpoints, attributes, quota alarms) and is trusted; the gRPC layer
 * never proposes a client request with it (see {@link proposalAuthHeader}). Throws AuthError when refused.
 */
export function checkApply(store: AuthStore<unknown>, header: ProposalAuthHeader, kind: string, body: unknown, leaseKeys?: LeaseKeys): void {
  const revision = Number(header.auth_revision)
  if (revision === 0 || !store.isEnabled()) return
  checkProposal(store, { username: header.username, revision }, kind, body, leaseKeys)
}
