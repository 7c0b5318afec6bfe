import { Metadata, status, type ServiceError } from '@grpc/grpc-js'

// The single table from an error code to etcd's gRPC status code and EXACT message text. Clients (etcdctl,
// clientv3, the npm etcd3 package, our own core/client) recognise errors by the message, so the text is
// protocol. Ported from etcd's api/v3rpc/rpctypes/error.go (Apache-2.0, Copyright 2015 The etcd Authors);
// codes and texts are those of etcd 3.4, plus the few 3.5 added (marked). Answers measured against a real
// etcd 3.4.23 are checked in test/server/grpc/errors.int.test.ts.

/** One row of the table: the gRPC status code and the message etcd sends. */
export interface EtcdErrorSpec {
  readonly grpcCode: status
  readonly message: string
}

const row = (grpcCode: status, message: string): EtcdErrorSpec => ({ grpcCode, message })

/** Every error etcd's v3 API answers with, by a stable code. Keys are the contract; never rename them. */
export const ETCD_ERRORS = {
  // KV
  EMPTY_KEY: row(status.INVALID_ARGUMENT, 'etcdserver: key is not provided'),
  KEY_NOT_FOUND: row(status.INVALID_ARGUMENT, 'etcdserver: key not found'),
  VALUE_PROVIDED: row(status.INVALID_ARGUMENT, 'etcdserver: value is provided'),
  LEASE_PROVIDED: row(status.INVALID_ARGUMENT, 'etcdserver: lease is provided'),
  TOO_MANY_OPS: row(status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'),
  DUPLICATE_KEY: row(status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'),
  // etcd 3.5+: 3.4 accepts any sort enum number.
  INVALID_SORT_OPTION: row(status.INVALID_ARGUMENT, 'etcdserver: invalid sort option'),
  COMPACTED: row(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'),
  FUTURE_REV: row(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'),
  NO_SPACE: row(status.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'),

  // Lease
  LEASE_NOT_FOUND: row(status.NOT_FOUND, 'etcdserver: requested lease not found'),
  LEASE_EXIST: row(status.FAILED_PRECONDITION, 'etcdserver: lease already exists'),
  LEASE_TTL_TOO_LARGE: row(status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'),

  // Cluster membership
  MEMBER_EXIST: row(status.FAILED_PRECONDITION, 'etcdserver: member ID already exist'),
  PEER_URL_EXIST: row(status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'),
  MEMBER_NOT_ENOUGH_STARTED: row(
    status.FAILED_PRECONDITION,
    'etcdserver: re-configuration failed due to not enough started members',
  ),
  MEMBER_BAD_URLS: row(status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'),
  MEMBER_NOT_FOUND: row(status.NOT_FOUND, 'etcdserver: member not found'),
  MEMBER_NOT_LEARNER: row(status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'),
  LEARNER_NOT_READY: row(
    status.FAILED_PRECONDITION,
    'etcdserver: can only promote a learner member which is in sync with leader',
  ),
  TOO_MANY_LEARNERS: row(status.FAILED_PRECONDITION, 'etcdserver: too many learner members in cluster'),

  // Request limits
  REQUEST_TOO_LARGE: row(status.INVALID_ARGUMENT, 'etcdserver: request is too large'),
  TOO_MANY_REQUESTS: row(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'),

  // Auth
  ROOT_USER_NOT_EXIST: row(status.FAILED_PRECONDITION, 'etcdserver: root user does not exist'),
  ROOT_ROLE_NOT_EXIST: row(status.FAILED_PRECONDITION, 'etcdserver: root user does not have root role'),
  USER_ALREADY_EXIST: row(status.FAILED_PRECONDITION, 'etcdserver: user name already exists'),
  USER_EMPTY: row(status.INVALID_ARGUMENT, 'etcdserver: user name is empty'),
  USER_NOT_FOUND: row(status.FAILED_PRECONDITION, 'etcdserver: user name not found'),
  ROLE_ALREADY_EXIST: row(status.FAILED_PRECONDITION, 'etcdserver: role name already exists'),
  ROLE_NOT_FOUND: row(status.FAILED_PRECONDITION, 'etcdserver: role name not found'),
  ROLE_EMPTY: row(status.INVALID_ARGUMENT, 'etcdserver: role name is empty'),
  AUTH_FAILED: row(status.INVALID_ARGUMENT, 'etcdserver: authentication failed, invalid user ID or password'),
  PERMISSION_DENIED: row(status.PERMISSION_DENIED, 'etcdserver: permission denied'),
  ROLE_NOT_GRANTED: row(status.FAILED_PRECONDITION, 'etcdserver: role is not granted to the user'),
  PERMISSION_NOT_GRANTED: row(status.FAILED_PRECONDITION, 'etcdserver: permission is not granted to the role'),
  AUTH_NOT_ENABLED: row(status.FAILED_PRECONDITION, 'etcdserver: authentication is not enabled'),
  INVALID_AUTH_TOKEN: row(status.UNAUTHENTICATED, 'etcdserver: invalid auth token'),
  INVALID_AUTH_MGMT: row(status.INVALID_ARGUMENT, 'etcdserver: invalid auth management'),
  // etcd 3.5+ (3.4 answers UNKNOWN "auth: revision in header is old").
  AUTH_OLD_REVISION: row(status.INVALID_ARGUMENT, 'etcdserver: revision of auth store is old'),

  // Leadership, timeouts and server health
  NO_LEADER: row(status.UNAVAILABLE, 'etcdserver: no leader'),
  NOT_LEADER: row(status.FAILED_PRECONDITION, 'etcdserver: not leader'),
  LEADER_CHANGED: row(status.UNAVAILABLE, 'etcdserver: leader changed'),
  NOT_CAPABLE: row(status.UNAVAILABLE, 'etcdserver: not capable'),
  STOPPED: row(status.UNAVAILABLE, 'etcdserver: server stopped'),
  TIMEOUT: row(status.UNAVAILABLE, 'etcdserver: request timed out'),
  TIMEOUT_DUE_TO_LEADER_FAIL: row(
    status.UNAVAILABLE,
    'etcdserver: request timed out, possibly due to previous leader failure',
  ),
  TIMEOUT_DUE_TO_CONNECTION_LOST: row(
    status.UNAVAILABLE,
    'etcdserver: request timed out, possibly due to connection lost',
  ),
  UNHEALTHY: row(status.UNAVAILABLE, 'etcdserver: unhealthy cluster'),
  CORRUPT: row(status.DATA_LOSS, 'etcdserver: corrupt cluster'),
  NOT_SUPPORTED_FOR_LEARNER: row(status.UNAVAILABLE, 'etcdserver: rpc not supported for learner'),
  BAD_LEADER_TRANSFEREE: row(status.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'),

  // Downgrade (etcd 3.5+)
  CLUSTER_VERSION_UNAVAILABLE: row(status.UNAVAILABLE, 'etcdserver: cluster version not found during downgrade'),
  WRONG_DOWNGRADE_VERSION_FORMAT: row(status.INVALID_ARGUMENT, 'etcdserver: wrong downgrade target version format'),
  INVALID_DOWNGRADE_TARGET_VERSION: row(status.INVALID_ARGUMENT, 'etcdserver: invalid downgrade target version'),
  DOWNGRADE_IN_PROCESS: row(status.FAILED_PRECONDITION, 'etcdserver: cluster has a downgrade job in progress'),
  NO_INFLIGHT_DOWNGRADE: row(status.FAILED_PRECONDITION, 'etcdserver: no inflight downgrade job'),
} as const satisfies Record<string, EtcdErrorSpec>

/** A code of {@link ETCD_ERRORS}, e.g. `'COMPACTED'`. Error classes anywhere in core carry one as `code`. */
export type EtcdErrorCode = keyof typeof ETCD_ERRORS

const codeByMessage: ReadonlyMap<string, EtcdErrorCode> = new Map(
  (Object.entries(ETCD_ERRORS) as Array<[EtcdErrorCode, EtcdErrorSpec]>).map(([code, spec]) => [spec.message, code]),
)

/** Whether `value` is a code of {@link ETCD_ERRORS}. */
export function isEtcdErrorCode(value: unknown): value is EtcdErrorCode {
  return typeof value === 'string' && Object.hasOwn(ETCD_ERRORS, value)
}

/**
 * The code whose message is exactly `message` (the gRPC status details), or undefined. This is how etcd's own
 * clients recognise server errors (`rpctypes.Error` looks the message up), so it is how ours do too.
 */
export function etcdErrorCodeForMessage(message: string): EtcdErrorCode | undefined {
  return codeByMessage.get(message)
}

/**
 * An error etcd defines, by its code. The message is etcd's exact text. Thrown by server code (any error whose
 * `code` is an {@link EtcdErrorCode} works the same, so modules may define their own classes) and by
 * core/client when a server answers with one of these messages.
 */
export class EtcdError extends Error {
  override name = 'EtcdError'
  /** The gRPC status code etcd sends with this error. */
  readonly grpcCode: status

  constructor(
    readonly code: EtcdErrorCode,
    options?: ErrorOptions,
  ) {
    super(ETCD_ERRORS[code].message, options)
    this.grpcCode = ETCD_ERRORS[code].grpcCode
  }
}

/**
 * A gRPC status to send: what a handler passes to its callback or `call.destroy`/`emit('error')`. It is an
 * Error (grpc-js requires one for `destroy`) whose `code`/`details` grpc-js puts on the wire.
 */
export type GrpcStatusError = ServiceError

function statusError(grpcCode: status, details: string): GrpcStatusError {
  return Object.assign(new Error(details), { code: grpcCode, details, metadata: new Metadata() })
}

/** The gRPC status for etcd error `code`, with etcd's exact message. */
export function etcdStatusError(code: EtcdErrorCode): GrpcStatusError {
  const spec = ETCD_ERRORS[code]
  return statusError(spec.grpcCode, spec.message)
}

/**
 * Converts anything a handler caught into the gRPC status to answer with:
 * - an error whose `code` is an {@link EtcdErrorCode} → etcd's status code and exact message;
 * - an error that already is a gRPC status (numeric `code`, e.g. from a forwarded call) → passed through;
 * - anything else → UNKNOWN with the error's message (etcd's `togRPCError` does the same), never a stack.
 */
export function toGrpcStatusError(error: unknown): GrpcStatusError {
  if (typeof error === 'object' && error !== null) {
    const { code, details, message } = error as { code?: unknown; details?: unknown; message?: unknown }
    if (isEtcdErrorCode(code)) return etcdStatusError(code)
    if (typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 16) {
      return statusError(code, typeof details === 'string' ? details : String(message ?? ''))
    }
    if (typeof message === 'string') return statusError(status.UNKNOWN, message)
  }
  return statusError(status.UNKNOWN, String(error))
}
