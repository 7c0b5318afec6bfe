import type { sendUnaryData, Server, ServerUnaryCall } from '@grpc/grpc-js'
import type { AuthApplyResults, AuthRequestBodies, AuthRequestKind } from '../../auth/apply'
import { hashPassword, type AuthInfo, type AuthStore, type KeyPermission } from '../../auth/auth-store'
import { checkProposal, proposalAuthHeader } from '../../auth/permissions'
import { authInfoFromToken, type TokenProvider } from '../../auth/tokens'
import { addService } from '../../proto/services'
import type * as pb from '../../proto/types'
import { verifiedClientCertificate } from '../client-listener'
import { toGrpcStatusError } from './errors'

const SERVICE = 'etcdserverpb.Auth'

/** The parts of a grpc-js call (unary or stream) that identify its caller. */
export type CallerCall = Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'getAuthContext'>

/** etcd compat: clientv3 sends the token under this metadata key (rpctypes.TokenFieldNameGRPC). */
export const TOKEN_METADATA_KEY = 'token'

/** The header auth fields of a client's proposal (see permissions.ts proposalAuthHeader). */
export interface ProposalAuth {
  username: string
  auth_revision: string
}

/**
 * What the Auth service needs from its member; the member passes itself (or a thin adapter).
 * - `propose` puts `{ header: { id, ...auth }, [kind]: body }` through Raft and resolves with the apply result
 *   of core/auth/apply.ts applyAuthRequest (or rejects with the apply error).
 * - `readBarrier` waits for a linearizable read point (etcd's Authenticate does one first); optional.
 * - `clientCertAuth` is --client-cert-auth: a verified client certificate's CN names the user when no token came.
 */
export interface AuthServiceDeps {
  authStore: AuthStore<unknown>
  tokens: TokenProvider
  bcryptCost: number
  clientCertAuth: boolean
  propose(kind: AuthRequestKind, body: AuthRequestBodies[AuthRequestKind], auth: ProposalAuth): Promise<unknown>
  header(): pb.ResponseHeader
  readBarrier?(): Promise<void>
  /** Wraps a unary implementation (metrics, error mapping); defaults to error mapping only. */
  unary?<Request, Response>(
    method: string,
    implementation: (request: Request, call: ServerUnaryCall<Request, Response>) => Promise<Response>,
  ): (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => void
}

/**
 * The caller of a gRPC call (etcd EtcdServer.AuthInfoFromCtx): the `token` metadata first; else, with
 * --client-cert-auth, the verified client certificate's CN at the current auth revision (an empty CN is no
 * user: it gets USER_EMPTY, never root). Undefined while auth is off or when no credential came.
 * Throws AuthError INVALID_AUTH_TOKEN for a bad, expired, oversized or repeated token.
 */
export async function callerAuthInfo(
  call: CallerCall,
  store: AuthStore<unknown>,
  tokens: TokenProvider,
  clientCertAuth: boolean,
): Promise<AuthInfo | undefined> {
  const fromToken = await authInfoFromToken(tokens, store, call.metadata.get(TOKEN_METADATA_KEY))
  if (fromToken || !store.isEnabled() || !clientCertAuth) return fromToken
  const fromContext = call.getAuthContext().sslPeerCertificate
  // grpc-js sees the TLS socket only on natively served connections; rewritten ones are found by their Duplex.
  const certificate = fromContext && Object.keys(fromContext).length > 0 ? fromContext : verifiedClientCertificate(injectedConnection(call))
  if (!certificate) return undefined
  const cn = certificate.subject?.CN
  return { username: typeof cn === 'string' ? cn : '', revision: store.revision() }
}

/**
 * The connection grpc-js was handed for this call's HTTP/2 session (client-listener.ts injectH2), or undefined.
 * NB: reads grpc-js 1.14 internals (call → [nextCall…] → stream.session.socket, node's socket proxy, whose
 * `stream` is the Duplex node wrapped in a JSStreamSocket); if they change, this finds nothing and the caller
 * gets no certificate identity (fails closed; test/auth/tls-cert-auth.int.test.ts catches it).
 */
function injectedConnection(call: CallerCall): unknown {
  let inner: unknown = (call as { call?: unknown }).call
  for (let depth = 0; depth < 8 && typeof inner === 'object' && inner !== null; depth++) {
    const stream = (inner as { stream?: { session?: { socket?: { stream?: unknown } } } }).stream
    if (stream) return stream.session?.socket?.stream
    inner = (inner as { nextCall?: unknown }).nextCall
  }
  return undefined
}

function defaultUnary<Request, Response>(
  _method: string,
  implementation: (request: Request, call: ServerUnaryCall<Request, Response>) => Promise<Response>,
) {
  return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>): void => {
    implementation(call.request, call).then(
      (response) => callback(null, response),
      (error: unknown) => callback(toGrpcStatusError(error)),
    )
  }
}

const permissionToWire = (p: KeyPermission): pb.Permission => ({ permType: p.type, key: p.key, range_end: p.rangeEnd })

/** How many times Authenticate retries when the auth revision moved between password check and apply. */
const AUTHENTICATE_ATTEMPTS = 3

/**
 * etcd's Auth service (etcdserverpb.Auth, api/v3rpc/auth.go + etcdserver/v3_server.go). Every call goes through
 * Raft, as in etcd; permission checks run here (cheap refusal before hashing a password) and again at apply
 * (permissions.ts checkApply, with the header this proposes). Passwords are hashed here, never logged or
 * proposed in clear; Authenticate compares with async bcrypt, so a password-guessing client does not block
 * the event loop for others. AuthStatus is etcd 3.5's (3.4 answers UNIMPLEMENTED).
 */
export function registerAuthService(server: Server, deps: AuthServiceDeps): void {
  const wrap = deps.unary?.bind(deps) ?? defaultUnary
  const header = () => deps.header()
  const { authStore: store, tokens } = deps

  /** Checks the caller may make this request, then proposes it with the caller's identity. */
  async function propose<K extends AuthRequestKind>(call: CallerCall, kind: K, body: AuthRequestBodies[K], prepare?: () => Promise<AuthRequestBodies[K]>) {
    const info = await callerAuthInfo(call, store, tokens, deps.clientCertAuth)
    checkProposal(store, info, kind, body)
    const proposed = prepare ? await prepare() : body
    return deps.propose(kind, proposed, proposalAuthHeader(store, info))
  }

  const ack = <K extends AuthRequestKind>(method: string, kind: K, prepare?: (request: AuthRequestBodies[K]) => Promise<AuthRequestBodies[K]>) =>
    wrap<AuthRequestBodies[K], { header: pb.ResponseHeader }>(method, async (request, call) => {
      await propose(call, kind, request, prepare && (() => prepare(request)))
      return { header: header() }
    })

  const hashed = async <R extends { password: string; options?: pb.UserAddOptions | null }>(request: R): Promise<R> => ({
    ...request,
    password: request.options?.no_password ? '' : await hashPassword(request.password, deps.bcryptCost),
  })

  addService(server, SERVICE, {
    AuthEnable: ack('AuthEnable', 'auth_enable'),
    AuthDisable: ack('AuthDisable', 'auth_disable'),
    AuthStatus: wrap('AuthStatus', async (request: pb.AuthStatusRequest, call) => {
      const status = (await propose(call, 'auth_status', request)) as AuthApplyResults['auth_status']
      return { header: header(), enabled: status.enabled, authRevision: String(status.authRevision) }
    }),
    Authenticate: wrap('Authenticate', async (request: pb.AuthenticateRequest) => {
      await deps.readBarrier?.()
      for (let attempt = 1; ; attempt++) {
        const checked = await store.checkPassword(request.name, request.password)
        const prepared = tokens.prepare()
        const info = (await deps.propose('authenticate', { name: request.name, password: prepared }, proposalAuthHeader(store, undefined))) as AuthApplyResults['authenticate']
        // etcd compat: v3_server.go Authenticate retries when the password check became stale meanwhile.
        if (info.revision === checked.revision || attempt === AUTHENTICATE_ATTEMPTS) {
          return { header: header(), token: await tokens.issue(info, prepared) }
        }
      }
    }),
    UserAdd: ack('UserAdd', 'auth_user_add', hashed),
    UserDelete: ack('UserDelete', 'auth_user_delete'),
    UserChangePassword: ack('UserChangePassword', 'auth_user_change_password', hashed),
    UserGrantRole: ack('UserGrantRole', 'auth_user_grant_role'),
    UserRevokeRole: ack('UserRevokeRole', 'auth_user_revoke_role'),
    RoleAdd: ack('RoleAdd', 'auth_role_add'),
    RoleDelete: ack('RoleDelete', 'auth_role_delete'),
    RoleGrantPermission: ack('RoleGrantPermission', 'auth_role_grant_permission'),
    RoleRevokePermission: ack('RoleRevokePermission', 'auth_role_revoke_permission'),
    UserGet: wrap('UserGet', async (request: pb.AuthUserGetRequest, call) => ({
      header: header(),
      roles: (await propose(call, 'auth_user_get', request)) as AuthApplyResults['auth_user_get'],
    })),
    UserList: wrap('UserList', async (request: pb.AuthUserListRequest, call) => ({
      header: header(),
      users: (await propose(call, 'auth_user_list', request)) as AuthApplyResults['auth_user_list'],
    })),
    RoleGet: wrap('RoleGet', async (request: pb.AuthRoleGetRequest, call) => ({
      header: header(),
      perm: ((await propose(call, 'auth_role_get', request)) as AuthApplyResults['auth_role_get']).map(permissionToWire),
    })),
    RoleList: wrap('RoleList', async (request: pb.AuthRoleListRequest, call) => ({
      header: header(),
      roles: (await propose(call, 'auth_role_list', request)) as AuthApplyResults['auth_role_list'],
    })),
  })
}
