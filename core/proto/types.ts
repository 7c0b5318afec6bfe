// TypeScript shapes of etcd's v3 API messages as they are decoded with PROTO_OPTIONS (core/proto/loader.ts):
// field names exactly as on the wire (keepCase), int64/uint64 as decimal strings, enums as numbers, bytes as
// Buffer, absent scalars as zero values, repeated fields as arrays, absent sub-messages as null, and oneof
// members optional next to a field naming the member that is set. Written by hand from the protos in this
// directory (rpc-proto.ts, kv-proto.ts, auth-proto.ts, health-proto.ts), which hold the field documentation;
// keep both in step. To build a message to send, use Encodable<T>.

/**
 * A 64-bit protobuf integer as decoded: a decimal string (`'0'`, `'18446744073709551615'`). Revisions and
 * counts fit a JS number (convert with `Number` and assert it is safe); member, lease and cluster IDs do not
 * (convert with `BigInt`).
 */
export type Int64 = string

/**
 * The shape accepted when encoding message `T`: every field optional, strings (and so 64-bit integers) also
 * accepted as numbers, bytes as any Uint8Array, and sub-messages recursively Encodable. NB: a 64-bit value
 * above 2^53 must be passed as a string; protobufjs does not accept bigint.
 */
export type Encodable<T> = T extends Buffer
  ? Uint8Array
  : T extends string
    ? string | number
    : T extends ReadonlyArray<infer Item>
      ? ReadonlyArray<Encodable<Item>>
      : T extends object
        ? { [K in keyof T]?: Encodable<Exclude<T[K], null>> | null }
        : T

// ---- mvccpb (kv.proto)

/** `mvccpb.KeyValue` */
export interface KeyValue {
  key: Buffer
  create_revision: Int64
  mod_revision: Int64
  version: Int64
  value: Buffer
  lease: Int64
}

/** `mvccpb.Event` */
export interface Event {
  type: number // EventType
  kv: KeyValue | null
  prev_kv: KeyValue | null
}

/** `mvccpb.Event.EventType`. */
export const EventType = { PUT: 0, DELETE: 1 } as const

// ---- authpb (auth.proto)

/** `authpb.UserAddOptions` */
export interface UserAddOptions {
  no_password: boolean
}

/** `authpb.User` */
export interface User {
  name: Buffer
  password: Buffer
  roles: string[]
  options: UserAddOptions | null
}

/** `authpb.Permission` */
export interface Permission {
  permType: number // PermissionType
  key: Buffer
  range_end: Buffer
}

/** `authpb.Permission.Type`: what a permission allows. */
export const PermissionType = { READ: 0, WRITE: 1, READWRITE: 2 } as const

/** `authpb.Role` */
export interface Role {
  name: Buffer
  keyPermission: Permission[]
}

// ---- etcdserverpb (rpc.proto)

/** `etcdserverpb.ResponseHeader` */
export interface ResponseHeader {
  cluster_id: Int64
  member_id: Int64
  revision: Int64
  raft_term: Int64
}

/** `etcdserverpb.RangeRequest` */
export interface RangeRequest {
  key: Buffer
  range_end: Buffer
  limit: Int64
  revision: Int64
  sort_order: number // SortOrder
  sort_target: number // SortTarget
  serializable: boolean
  keys_only: boolean
  count_only: boolean
  min_mod_revision: Int64
  max_mod_revision: Int64
  min_create_revision: Int64
  max_create_revision: Int64
}

/** `etcdserverpb.RangeRequest.SortOrder` values. */
export const SortOrder = { NONE: 0, ASCEND: 1, DESCEND: 2 } as const

/** `etcdserverpb.RangeRequest.SortTarget` values. */
export const SortTarget = { KEY: 0, VERSION: 1, CREATE: 2, MOD: 3, VALUE: 4 } as const

/** `etcdserverpb.RangeResponse` */
export interface RangeResponse {
  header: ResponseHeader | null
  kvs: KeyValue[]
  more: boolean
  count: Int64
}

/** `etcdserverpb.PutRequest` */
export interface PutRequest {
  key: Buffer
  value: Buffer
  lease: Int64
  prev_kv: boolean
  ignore_value: boolean
  ignore_lease: boolean
}

/** `etcdserverpb.PutResponse` */
export interface PutResponse {
  header: ResponseHeader | null
  prev_kv: KeyValue | null
}

/** `etcdserverpb.DeleteRangeRequest` */
export interface DeleteRangeRequest {
  key: Buffer
  range_end: Buffer
  prev_kv: boolean
}

/** `etcdserverpb.DeleteRangeResponse` */
export interface DeleteRangeResponse {
  header: ResponseHeader | null
  deleted: Int64
  prev_kvs: KeyValue[]
}

/** `etcdserverpb.RequestOp` */
export interface RequestOp {
  request_range?: RangeRequest
  request_put?: PutRequest
  request_delete_range?: DeleteRangeRequest
  request_txn?: TxnRequest
  request?: 'request_range' | 'request_put' | 'request_delete_range' | 'request_txn'
}

/** `etcdserverpb.ResponseOp` */
export interface ResponseOp {
  response_range?: RangeResponse
  response_put?: PutResponse
  response_delete_range?: DeleteRangeResponse
  response_txn?: TxnResponse
  response?: 'response_range' | 'response_put' | 'response_delete_range' | 'response_txn'
}

/** `etcdserverpb.Compare` */
export interface Compare {
  result: number // CompareResult
  target: number // CompareTarget
  key: Buffer
  version?: Int64
  create_revision?: Int64
  mod_revision?: Int64
  value?: Buffer
  lease?: Int64
  range_end: Buffer
  target_union?: 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease'
}

/** `etcdserverpb.Compare.CompareResult` values. */
export const CompareResult = { EQUAL: 0, GREATER: 1, LESS: 2, NOT_EQUAL: 3 } as const

/** `etcdserverpb.Compare.CompareTarget` values. */
export const CompareTarget = { VERSION: 0, CREATE: 1, MOD: 2, VALUE: 3, LEASE: 4 } as const

/** `etcdserverpb.TxnRequest` */
export interface TxnRequest {
  compare: Compare[]
  success: RequestOp[]
  failure: RequestOp[]
}

/** `etcdserverpb.TxnResponse` */
export interface TxnResponse {
  header: ResponseHeader | null
  succeeded: boolean
  responses: ResponseOp[]
}

/** `etcdserverpb.CompactionRequest` */
export interface CompactionRequest {
  revision: Int64
  physical: boolean
}

/** `etcdserverpb.CompactionResponse` */
export interface CompactionResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.HashRequest` */
export type HashRequest = Record<string, never>

/** `etcdserverpb.HashKVRequest` */
export interface HashKVRequest {
  revision: Int64
}

/** `etcdserverpb.HashKVResponse` */
export interface HashKVResponse {
  header: ResponseHeader | null
  hash: number
  compact_revision: Int64
}

/** `etcdserverpb.HashResponse` */
export interface HashResponse {
  header: ResponseHeader | null
  hash: number
}

/** `etcdserverpb.SnapshotRequest` */
export type SnapshotRequest = Record<string, never>

/** `etcdserverpb.SnapshotResponse` */
export interface SnapshotResponse {
  header: ResponseHeader | null
  remaining_bytes: Int64
  blob: Buffer
}

/** `etcdserverpb.WatchRequest` */
export interface WatchRequest {
  create_request?: WatchCreateRequest
  cancel_request?: WatchCancelRequest
  progress_request?: WatchProgressRequest
  request_union?: 'create_request' | 'cancel_request' | 'progress_request'
}

/** `etcdserverpb.WatchCreateRequest` */
export interface WatchCreateRequest {
  key: Buffer
  range_end: Buffer
  start_revision: Int64
  progress_notify: boolean
  filters: number[] // WatchFilterType
  prev_kv: boolean
  watch_id: Int64
  fragment: boolean
}

/** `etcdserverpb.WatchCreateRequest.FilterType` values. */
export const WatchFilterType = { NOPUT: 0, NODELETE: 1 } as const

/** `etcdserverpb.WatchCancelRequest` */
export interface WatchCancelRequest {
  watch_id: Int64
}

/** `etcdserverpb.WatchProgressRequest` */
export type WatchProgressRequest = Record<string, never>

/** `etcdserverpb.WatchResponse` */
export interface WatchResponse {
  header: ResponseHeader | null
  watch_id: Int64
  created: boolean
  canceled: boolean
  compact_revision: Int64
  cancel_reason: string
  fragment: boolean
  events: Event[]
}

/** `etcdserverpb.LeaseGrantRequest` */
export interface LeaseGrantRequest {
  TTL: Int64
  ID: Int64
}

/** `etcdserverpb.LeaseGrantResponse` */
export interface LeaseGrantResponse {
  header: ResponseHeader | null
  ID: Int64
  TTL: Int64
  error: string
}

/** `etcdserverpb.LeaseRevokeRequest` */
export interface LeaseRevokeRequest {
  ID: Int64
}

/** `etcdserverpb.LeaseRevokeResponse` */
export interface LeaseRevokeResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.LeaseCheckpoint` */
export interface LeaseCheckpoint {
  ID: Int64
  remaining_TTL: Int64
}

/** `etcdserverpb.LeaseCheckpointRequest` */
export interface LeaseCheckpointRequest {
  checkpoints: LeaseCheckpoint[]
}

/** `etcdserverpb.LeaseCheckpointResponse` */
export interface LeaseCheckpointResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.LeaseKeepAliveRequest` */
export interface LeaseKeepAliveRequest {
  ID: Int64
}

/** `etcdserverpb.LeaseKeepAliveResponse` */
export interface LeaseKeepAliveResponse {
  header: ResponseHeader | null
  ID: Int64
  TTL: Int64
}

/** `etcdserverpb.LeaseTimeToLiveRequest` */
export interface LeaseTimeToLiveRequest {
  ID: Int64
  keys: boolean
}

/** `etcdserverpb.LeaseTimeToLiveResponse` */
export interface LeaseTimeToLiveResponse {
  header: ResponseHeader | null
  ID: Int64
  TTL: Int64
  grantedTTL: Int64
  keys: Buffer[]
}

/** `etcdserverpb.LeaseLeasesRequest` */
export type LeaseLeasesRequest = Record<string, never>

/** `etcdserverpb.LeaseStatus` */
export interface LeaseStatus {
  ID: Int64
}

/** `etcdserverpb.LeaseLeasesResponse` */
export interface LeaseLeasesResponse {
  header: ResponseHeader | null
  leases: LeaseStatus[]
}

/** `etcdserverpb.Member` */
export interface Member {
  ID: Int64
  name: string
  peerURLs: string[]
  clientURLs: string[]
  isLearner: boolean
}

/** `etcdserverpb.MemberAddRequest` */
export interface MemberAddRequest {
  peerURLs: string[]
  isLearner: boolean
}

/** `etcdserverpb.MemberAddResponse` */
export interface MemberAddResponse {
  header: ResponseHeader | null
  member: Member | null
  members: Member[]
}

/** `etcdserverpb.MemberRemoveRequest` */
export interface MemberRemoveRequest {
  ID: Int64
}

/** `etcdserverpb.MemberRemoveResponse` */
export interface MemberRemoveResponse {
  header: ResponseHeader | null
  members: Member[]
}

/** `etcdserverpb.MemberUpdateRequest` */
export interface MemberUpdateRequest {
  ID: Int64
  peerURLs: string[]
}

/** `etcdserverpb.MemberUpdateResponse` */
export interface MemberUpdateResponse {
  header: ResponseHeader | null
  members: Member[]
}

/** `etcdserverpb.MemberListRequest` */
export interface MemberListRequest {
  linearizable: boolean
}

/** `etcdserverpb.MemberListResponse` */
export interface MemberListResponse {
  header: ResponseHeader | null
  members: Member[]
}

/** `etcdserverpb.MemberPromoteRequest` */
export interface MemberPromoteRequest {
  ID: Int64
}

/** `etcdserverpb.MemberPromoteResponse` */
export interface MemberPromoteResponse {
  header: ResponseHeader | null
  members: Member[]
}

/** `etcdserverpb.DefragmentRequest` */
export type DefragmentRequest = Record<string, never>

/** `etcdserverpb.DefragmentResponse` */
export interface DefragmentResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.MoveLeaderRequest` */
export interface MoveLeaderRequest {
  targetID: Int64
}

/** `etcdserverpb.MoveLeaderResponse` */
export interface MoveLeaderResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.AlarmType` values. */
export const AlarmType = { NONE: 0, NOSPACE: 1, CORRUPT: 2 } as const

/** `etcdserverpb.AlarmRequest` */
export interface AlarmRequest {
  action: number // AlarmAction
  memberID: Int64
  alarm: number // AlarmType
}

/** `etcdserverpb.AlarmRequest.AlarmAction` values. */
export const AlarmAction = { GET: 0, ACTIVATE: 1, DEACTIVATE: 2 } as const

/** `etcdserverpb.AlarmMember` */
export interface AlarmMember {
  memberID: Int64
  alarm: number // AlarmType
}

/** `etcdserverpb.AlarmResponse` */
export interface AlarmResponse {
  header: ResponseHeader | null
  alarms: AlarmMember[]
}

/** `etcdserverpb.DowngradeRequest` */
export interface DowngradeRequest {
  action: number // DowngradeAction
  version: string
}

/** `etcdserverpb.DowngradeRequest.DowngradeAction` values. */
export const DowngradeAction = { VALIDATE: 0, ENABLE: 1, CANCEL: 2 } as const

/** `etcdserverpb.DowngradeResponse` */
export interface DowngradeResponse {
  header: ResponseHeader | null
  version: string
}

/** `etcdserverpb.StatusRequest` */
export type StatusRequest = Record<string, never>

/** `etcdserverpb.StatusResponse` */
export interface StatusResponse {
  header: ResponseHeader | null
  version: string
  dbSize: Int64
  leader: Int64
  raftIndex: Int64
  raftTerm: Int64
  raftAppliedIndex: Int64
  errors: string[]
  dbSizeInUse: Int64
  isLearner: boolean
}

/** `etcdserverpb.AuthEnableRequest` */
export type AuthEnableRequest = Record<string, never>

/** `etcdserverpb.AuthDisableRequest` */
export type AuthDisableRequest = Record<string, never>

/** `etcdserverpb.AuthStatusRequest` */
export type AuthStatusRequest = Record<string, never>

/** `etcdserverpb.AuthenticateRequest` */
export interface AuthenticateRequest {
  name: string
  password: string
}

/** `etcdserverpb.AuthUserAddRequest` */
export interface AuthUserAddRequest {
  name: string
  password: string
  options: UserAddOptions | null
}

/** `etcdserverpb.AuthUserGetRequest` */
export interface AuthUserGetRequest {
  name: string
}

/** `etcdserverpb.AuthUserDeleteRequest` */
export interface AuthUserDeleteRequest {
  name: string
}

/** `etcdserverpb.AuthUserChangePasswordRequest` */
export interface AuthUserChangePasswordRequest {
  name: string
  password: string
}

/** `etcdserverpb.AuthUserGrantRoleRequest` */
export interface AuthUserGrantRoleRequest {
  user: string
  role: string
}

/** `etcdserverpb.AuthUserRevokeRoleRequest` */
export interface AuthUserRevokeRoleRequest {
  name: string
  role: string
}

/** `etcdserverpb.AuthRoleAddRequest` */
export interface AuthRoleAddRequest {
  name: string
}

/** `etcdserverpb.AuthRoleGetRequest` */
export interface AuthRoleGetRequest {
  role: string
}

/** `etcdserverpb.AuthUserListRequest` */
export type AuthUserListRequest = Record<string, never>

/** `etcdserverpb.AuthRoleListRequest` */
export type AuthRoleListRequest = Record<string, never>

/** `etcdserverpb.AuthRoleDeleteRequest` */
export interface AuthRoleDeleteRequest {
  role: string
}

/** `etcdserverpb.AuthRoleGrantPermissionRequest` */
export interface AuthRoleGrantPermissionRequest {
  name: string
  perm: Permission | null
}

/** `etcdserverpb.AuthRoleRevokePermissionRequest` */
export interface AuthRoleRevokePermissionRequest {
  role: string
  key: Buffer
  range_end: Buffer
}

/** `etcdserverpb.AuthEnableResponse` */
export interface AuthEnableResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.AuthDisableResponse` */
export interface AuthDisableResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.AuthStatusResponse` */
export interface AuthStatusResponse {
  header: ResponseHeader | null
  enabled: boolean
  authRevision: Int64
}

/** `etcdserverpb.AuthenticateResponse` */
export interface AuthenticateResponse {
  header: ResponseHeader | null
  token: string
}

/** `etcdserverpb.AuthUserAddResponse` */
export interface AuthUserAddResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.AuthUserGetResponse` */
export interface AuthUserGetResponse {
  header: ResponseHeader | null
  roles: string[]
}

/** `etcdserverpb.AuthUserDeleteResponse` */
export interface AuthUserDeleteResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.AuthUserChangePasswordResponse` */
export interface AuthUserChangePasswordResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.AuthUserGrantRoleResponse` */
export interface AuthUserGrantRoleResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.AuthUserRevokeRoleResponse` */
export interface AuthUserRevokeRoleResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.AuthRoleAddResponse` */
export interface AuthRoleAddResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.AuthRoleGetResponse` */
export interface AuthRoleGetResponse {
  header: ResponseHeader | null
  perm: Permission[]
}

/** `etcdserverpb.AuthRoleListResponse` */
export interface AuthRoleListResponse {
  header: ResponseHeader | null
  roles: string[]
}

/** `etcdserverpb.AuthUserListResponse` */
export interface AuthUserListResponse {
  header: ResponseHeader | null
  users: string[]
}

/** `etcdserverpb.AuthRoleDeleteResponse` */
export interface AuthRoleDeleteResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.AuthRoleGrantPermissionResponse` */
export interface AuthRoleGrantPermissionResponse {
  header: ResponseHeader | null
}

/** `etcdserverpb.AuthRoleRevokePermissionResponse` */
export interface AuthRoleRevokePermissionResponse {
  header: ResponseHeader | null
}

// ---- grpc.health.v1 (health.proto)

/** `grpc.health.v1.HealthCheckRequest` */
export interface HealthCheckRequest {
  service: string
}

/** `grpc.health.v1.HealthCheckResponse` */
export interface HealthCheckResponse {
  status: number // ServingStatus
}

/** `grpc.health.v1.HealthCheckResponse.ServingStatus` values. */
export const ServingStatus = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const
