/** go-grpc-prometheus' `grpc_type` label values (`grpc_prometheus.grpcType`). */
export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream'

/** One gRPC method as go-grpc-prometheus labels it. */
export interface GrpcMethod {
  /** Fully qualified service name, e.g. `etcdserverpb.KV`. */
  service: string
  /** Method name, e.g. `Range`. */
  method: string
  type: GrpcType
}

/**
 * Every gRPC method real etcd 3.4.23 pre-registers in its `grpc_server_*` series (41 methods, read from its
 * `/metrics` with `grpc_prometheus.Register(grpcServer)`). The server passes this list (or its own, if it
 * serves fewer) to `QuorumMetrics.preregisterGrpcMethods` so rate() over `grpc_server_handled_total` has a
 * zero baseline from the first scrape, as on etcd.
 */
export const ETCD_GRPC_METHODS: readonly GrpcMethod[] = (
  [
    ['etcdserverpb.Auth', 'AuthDisable', 'unary'],
    ['etcdserverpb.Auth', 'AuthEnable', 'unary'],
    ['etcdserverpb.Auth', 'Authenticate', 'unary'],
    ['etcdserverpb.Auth', 'RoleAdd', 'unary'],
    ['etcdserverpb.Auth', 'RoleDelete', 'unary'],
    ['etcdserverpb.Auth', 'RoleGet', 'unary'],
    ['etcdserverpb.Auth', 'RoleGrantPermission', 'unary'],
    ['etcdserverpb.Auth', 'RoleList', 'unary'],
    ['etcdserverpb.Auth', 'RoleRevokePermission', 'unary'],
    ['etcdserverpb.Auth', 'UserAdd', 'unary'],
    ['etcdserverpb.Auth', 'UserChangePassword', 'unary'],
    ['etcdserverpb.Auth', 'UserDelete', 'unary'],
    ['etcdserverpb.Auth', 'UserGet', 'unary'],
    ['etcdserverpb.Auth', 'UserGrantRole', 'unary'],
    ['etcdserverpb.Auth', 'UserList', 'unary'],
    ['etcdserverpb.Auth', 'UserRevokeRole', 'unary'],
    ['etcdserverpb.Cluster', 'MemberAdd', 'unary'],
    ['etcdserverpb.Cluster', 'MemberList', 'unary'],
    ['etcdserverpb.Cluster', 'MemberPromote', 'unary'],
    ['etcdserverpb.Cluster', 'MemberRemove', 'unary'],
    ['etcdserverpb.Cluster', 'MemberUpdate', 'unary'],
    ['etcdserverpb.KV', 'Compact', 'unary'],
    ['etcdserverpb.KV', 'DeleteRange', 'unary'],
    ['etcdserverpb.KV', 'Put', 'unary'],
    ['etcdserverpb.KV', 'Range', 'unary'],
    ['etcdserverpb.KV', 'Txn', 'unary'],
    ['etcdserverpb.Lease', 'LeaseGrant', 'unary'],
    ['etcdserverpb.Lease', 'LeaseKeepAlive', 'bidi_stream'],
    ['etcdserverpb.Lease', 'LeaseLeases', 'unary'],
    ['etcdserverpb.Lease', 'LeaseRevoke', 'unary'],
    ['etcdserverpb.Lease', 'LeaseTimeToLive', 'unary'],
    ['etcdserverpb.Maintenance', 'Alarm', 'unary'],
    ['etcdserverpb.Maintenance', 'Defragment', 'unary'],
    ['etcdserverpb.Maintenance', 'Hash', 'unary'],
    ['etcdserverpb.Maintenance', 'HashKV', 'unary'],
    ['etcdserverpb.Maintenance', 'MoveLeader', 'unary'],
    ['etcdserverpb.Maintenance', 'Snapshot', 'server_stream'],
    ['etcdserverpb.Maintenance', 'Status', 'unary'],
    ['etcdserverpb.Watch', 'Watch', 'bidi_stream'],
    ['grpc.health.v1.Health', 'Check', 'unary'],
    ['grpc.health.v1.Health', 'Watch', 'server_stream'],
  ] as const
).map(([service, method, type]) => ({ service, method, type }))

/**
 * gRPC status code names in code order (0..16), exactly as Go's `codes.Code.String()` prints them; these are the
 * `grpc_code` label values of `grpc_server_handled_total`.
 */
export const GRPC_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
] as const

/** A `grpc_code` label value. */
export type GrpcCodeName = (typeof GRPC_CODE_NAMES)[number]

/**
 * Maps a numeric gRPC status (grpc-js `status.*`, 0..16) to its label value; any other number becomes
 * `Code(n)`, as Go prints an unknown code.
 */
export function grpcCodeName(code: number): string {
  return GRPC_CODE_NAMES[code] ?? `Code(${code})`
}
