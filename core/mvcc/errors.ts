// Expected MVCC outcomes as error classes with a `code`. Messages are etcd's exact texts (etcd compat:
// mvcc/kvstore.go, lease/lessor.go, etcdserver/errors.go); the gRPC layer prefixes "etcdserver: " where etcd does.

/** A read or compaction at a revision at or below the compacted revision (etcd ErrCompacted). */
export class CompactedError extends Error {
  readonly code = 'MVCC_COMPACTED'
  constructor(readonly compactRevision: number) {
    super('mvcc: required revision has been compacted')
  }
}

/** A read or compaction at a revision above the current revision (etcd ErrFutureRev). */
export class FutureRevisionError extends Error {
  readonly code = 'MVCC_FUTURE_REV'
  constructor(readonly currentRevision: number) {
    super('mvcc: required revision is a future revision')
  }
}

/** Put with ignore_value/ignore_lease on a key that does not exist (etcd ErrKeyNotFound). */
export class KeyNotFoundError extends Error {
  readonly code = 'KEY_NOT_FOUND'
  constructor() {
    super('etcdserver: key not found')
  }
}

/** The lease does not exist (etcd lease.ErrLeaseNotFound). */
export class LeaseNotFoundError extends Error {
  readonly code = 'LEASE_NOT_FOUND'
  constructor(readonly leaseId: bigint) {
    super('lease not found')
  }
}

/** Grant with an ID that is already in use (etcd lease.ErrLeaseExists). */
export class LeaseExistsError extends Error {
  readonly code = 'LEASE_EXISTS'
  constructor(readonly leaseId: bigint) {
    super('lease already exists')
  }
}

/** Grant with a TTL above MAX_LEASE_TTL_SECONDS (etcd lease.ErrLeaseTTLTooLarge). */
export class LeaseTtlTooLargeError extends Error {
  readonly code = 'LEASE_TTL_TOO_LARGE'
  constructor() {
    super('too large lease TTL')
  }
}

/** Keep-alive or time-to-live on a member that is not the leader's lessor (etcd lease.ErrNotPrimary). */
export class NotPrimaryError extends Error {
  readonly code = 'LEASE_NOT_PRIMARY'
  constructor() {
    super('not a primary lessor')
  }
}

/** A write while the NOSPACE alarm is active or that would exceed the quota (etcd ErrGRPCNoSpace). */
export class NoSpaceError extends Error {
  readonly code = 'NO_SPACE'
  constructor() {
    super('etcdserver: mvcc: database space exceeded')
  }
}

/** Rejections of a malformed request before it is proposed (etcd v3rpc/key.go checks). */
export class InvalidRequestError extends Error {
  constructor(
    readonly code:
      | 'EMPTY_KEY'
      | 'TOO_MANY_OPS'
      | 'DUPLICATE_KEY'
      | 'VALUE_PROVIDED'
      | 'LEASE_PROVIDED'
      | 'EMPTY_WATCHER_RANGE'
      | 'WATCHER_DUPLICATE_ID',
    message: string,
  ) {
    super(message)
  }
}
