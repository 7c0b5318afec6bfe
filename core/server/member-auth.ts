import { status } from '@grpc/grpc-js'
import { applyAuthRequest, isAuthRequestKind, type AuthRequestBodies } from '../auth/apply'
import { AuthStore, type AuthInfo } from '../auth/auth-store'
import { AuthError } from '../auth/errors'
import { MemberMetaAuthBackend } from '../auth/member-meta-backend'
import { checkAdmin, checkApply, checkKeyAccess, checkRequest, proposalAuthHeader, type CheckedRequest } from '../auth/permissions'
import { createTokenProvider, parseAuthTokenSpec, type TokenProvider } from '../auth/tokens'
import type { Lessor } from '../mvcc/lessor'
import type { MemberDb, MemberTx } from '../storage/member-db'
import type { Clock } from '../util/clock'
import { callerAuthInfo, type CallerCall, type ProposalAuth } from './grpc/auth'
import type { InternalRaftRequest } from './raft-request'

// The member's authentication and RBAC, wired as etcd 3.4 does it (etcdserver/v3_server.go, apply_auth.go,
// api/v3rpc/{key,watch,lease,maintenance}.go; Apache-2.0, with the later security fixes):
//   gRPC layer   caller = token metadata, else (--client-cert-auth) the verified client certificate's CN;
//                reads, watches, LeaseTimeToLive(keys) and admin calls are checked here (doSerialize);
//                writes are only stamped with the caller (header username + auth_revision) and proposed.
//   apply        every member checks the stamped caller against the auth store as of that log index, in the
//                apply transaction (authApplierV3): a permission revoked between proposal and apply, or a
//                token older than the last auth change, fails the request on every member alike.

const EMPTY = Buffer.alloc(0)

/** etcd's auth package errors (server/auth/store.go), as Maintenance answers them. */
const AUTH_PACKAGE_MESSAGES: Readonly<Record<string, string>> = {
  USER_EMPTY: 'auth: user name is empty',
  USER_NOT_FOUND: 'auth: user not found',
  PERMISSION_DENIED: 'auth: permission denied',
  INVALID_AUTH_TOKEN: 'auth: invalid auth token',
}

/** What core/server/member-store.ts needs from the auth layer at apply time. */
export interface AuthApplier {
  /**
   * etcd authApplierV3.Apply: refuses (throws AuthError) a committed request whose stamped caller may not run
   * it; then, for auth_* kinds and authenticate, applies it to the auth store inside `tx` and returns
   * `{ handled: true, value }`. Other kinds return `{ handled: false }` for the plain applier.
   */
  apply(tx: MemberTx, request: InternalRaftRequest): { handled: true; value: unknown } | { handled: false }
  /** Re-reads the auth state after a snapshot replaced the state machine (drops every token). */
  reload(): void
}

/** Options of {@link MemberAuth}: the member's flags that concern auth. */
export interface MemberAuthOptions {
  /** `--auth-token` (`simple` or `jwt,...`). */
  authToken: string
  /** `--auth-token-ttl`, seconds (simple tokens). */
  authTokenTtlSeconds: number
  /** `--bcrypt-cost`. */
  bcryptCost: number
  /** `--client-cert-auth`: a verified client certificate's CN names the caller when no token came. */
  clientCertAuth: boolean
  clock: Clock
}

/** The auth store, token provider and the checks of one member; see the file comment for where each runs. */
export class MemberAuth implements AuthApplier {
  readonly store: AuthStore<MemberTx>
  readonly tokens: TokenProvider
  readonly bcryptCost: number
  readonly clientCertAuth: boolean

  constructor(
    db: MemberDb,
    private readonly lessor: Lessor,
    options: MemberAuthOptions,
  ) {
    this.store = new AuthStore<MemberTx>(new MemberMetaAuthBackend(db))
    this.tokens = createTokenProvider(parseAuthTokenSpec(options.authToken), { simpleTtlSeconds: options.authTokenTtlSeconds, clock: options.clock })
    this.store.onInvalidateUser = (name) => this.tokens.invalidateUser(name)
    this.bcryptCost = options.bcryptCost
    this.clientCertAuth = options.clientCertAuth
  }

  /** The keys attached to a lease, for the lease checks (etcd lessor.Lookup(id).Keys()). */
  readonly leaseKeys = (leaseId: bigint): Buffer[] => this.lessor.attachedKeys(leaseId)

  /** The caller of a gRPC call (etcd AuthInfoFromCtx); undefined when auth is off or no credential came. */
  caller(call: CallerCall): Promise<AuthInfo | undefined> {
    return callerAuthInfo(call, this.store, this.tokens, this.clientCertAuth)
  }

  /** The header fields a client's proposal carries (etcd processInternalRaftRequestOnce). */
  async proposalAuth(call: CallerCall): Promise<ProposalAuth> {
    return proposalAuthHeader(this.store, await this.caller(call))
  }

  /**
   * etcd doSerialize: checks `request` for the caller of `call`, runs `read`, then refuses the answer if the
   * auth store changed meanwhile (a token older than the store: ErrAuthOldRevision), so a read never returns
   * data a concurrent revoke already forbade.
   */
  async serialized<T>(call: CallerCall, request: CheckedRequest, read: () => Promise<T> | T): Promise<T> {
    const info = await this.caller(call)
    checkRequest(this.store, info, request, this.leaseKeys)
    const result = await read()
    this.checkFresh(info)
    return result
  }

  /** etcd doSerialize's last step: the auth revision the caller's credential carries is still current. */
  checkFresh(info: AuthInfo | undefined): void {
    if (this.store.isEnabled() && info && info.revision !== 0 && info.revision !== this.store.revision()) throw new AuthError('AUTH_OLD_REVISION')
  }

  /** etcd IsAdminPermitted for the caller of `call` (Cluster admin calls); throws AuthError. */
  async checkAdminCall(call: CallerCall): Promise<void> {
    checkAdmin(this.store, await this.caller(call))
  }

  /**
   * etcd authMaintenanceServer.isAuthenticated (Defragment, Snapshot, Hash, HashKV; here also MoveLeader and
   * Alarm): the same check, but etcd 3.4/3.5 return the auth package's error unconverted, so clients see gRPC
   * UNKNOWN with `auth: permission denied` (measured on 3.4.23), not the `etcdserver:` text.
   */
  async checkMaintenanceAdmin(call: CallerCall): Promise<void> {
    try {
      await this.checkAdminCall(call)
    } catch (error) {
      const text = AUTH_PACKAGE_MESSAGES[(error as { code?: string }).code ?? '']
      if (text === undefined) throw error
      throw Object.assign(new Error(text), { code: status.UNKNOWN, details: text })
    }
  }

  /** Whether the caller of `call` may run `request` now; throws AuthError (USER_EMPTY, PERMISSION_DENIED, ...). */
  async check(call: CallerCall, request: CheckedRequest): Promise<AuthInfo | undefined> {
    const info = await this.caller(call)
    checkRequest(this.store, info, request, this.leaseKeys)
    return info
  }

  /**
   * etcd checkLeaseTimeToLive (v3_server.go, the fix of GHSA-3p4g-rcw5-8298 / CVE-2023-32082): a TimeToLive that
   * asks for the keys needs a caller with read permission on every key attached to the lease. Returns the auth
   * revision checked, for {@link checkLeaseTimeToLiveFresh}.
   */
  async checkLeaseTimeToLive(call: CallerCall, leaseId: bigint): Promise<number> {
    const revision = this.store.revision()
    if (!this.store.isEnabled()) return revision
    const info = await this.caller(call)
    if (!info) throw new AuthError('USER_EMPTY')
    for (const key of this.leaseKeys(leaseId)) checkKeyAccess(this.store, info, 'read', key, EMPTY)
    return revision
  }

  /** etcd LeaseTimeToLive's last step: the auth store did not change while the keys were collected. */
  checkLeaseTimeToLiveFresh(checkedRevision: number): void {
    if (this.store.isEnabled() && checkedRevision !== this.store.revision()) throw new AuthError('AUTH_OLD_REVISION')
  }

  apply(tx: MemberTx, request: InternalRaftRequest): { handled: true; value: unknown } | { handled: false } {
    const kind = request.request
    const body = (request as unknown as Record<string, unknown>)[kind]
    checkApply(this.store, request.header, kind, body, this.leaseKeys)
    if (!isAuthRequestKind(kind)) return { handled: false }
    return { handled: true, value: applyAuthRequest(tx, this.store, this.tokens, kind, body as AuthRequestBodies[typeof kind]) }
  }

  reload(): void {
    this.store.reload()
  }
}
