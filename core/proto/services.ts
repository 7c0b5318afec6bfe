import type {
  handleBidiStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  MethodDefinition,
  Server,
  ServiceDefinition,
  UntypedServiceImplementation,
} from '@grpc/grpc-js'
import { loadServices } from './loader'
import type * as pb from './types'

/** Marks a unary method in {@link EtcdServices} (type-level only). */
export interface Unary<Request, Response> {
  kind: 'unary'
  request: Request
  response: Response
}
/** Marks a server-streaming method in {@link EtcdServices} (type-level only). */
export interface ServerStream<Request, Response> {
  kind: 'serverStream'
  request: Request
  response: Response
}
/** Marks a bidirectional-streaming method in {@link EtcdServices} (type-level only). */
export interface Bidi<Request, Response> {
  kind: 'bidi'
  request: Request
  response: Response
}

type AnyRpc = Unary<unknown, unknown> | ServerStream<unknown, unknown> | Bidi<unknown, unknown>

/**
 * Every gRPC service Quorum speaks, by its wire name, with each method's kind and decoded message types. The
 * single source for the typed views below; it must list exactly the methods of the embedded protos (a test in
 * test/proto checks that).
 */
export interface EtcdServices {
  'etcdserverpb.KV': {
    Range: Unary<pb.RangeRequest, pb.RangeResponse>
    Put: Unary<pb.PutRequest, pb.PutResponse>
    DeleteRange: Unary<pb.DeleteRangeRequest, pb.DeleteRangeResponse>
    Txn: Unary<pb.TxnRequest, pb.TxnResponse>
    Compact: Unary<pb.CompactionRequest, pb.CompactionResponse>
  }
  'etcdserverpb.Watch': {
    Watch: Bidi<pb.WatchRequest, pb.WatchResponse>
  }
  'etcdserverpb.Lease': {
    LeaseGrant: Unary<pb.LeaseGrantRequest, pb.LeaseGrantResponse>
    LeaseRevoke: Unary<pb.LeaseRevokeRequest, pb.LeaseRevokeResponse>
    LeaseKeepAlive: Bidi<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>
    LeaseTimeToLive: Unary<pb.LeaseTimeToLiveRequest, pb.LeaseTimeToLiveResponse>
    LeaseLeases: Unary<pb.LeaseLeasesRequest, pb.LeaseLeasesResponse>
  }
  'etcdserverpb.Cluster': {
    MemberAdd: Unary<pb.MemberAddRequest, pb.MemberAddResponse>
    MemberRemove: Unary<pb.MemberRemoveRequest, pb.MemberRemoveResponse>
    MemberUpdate: Unary<pb.MemberUpdateRequest, pb.MemberUpdateResponse>
    MemberList: Unary<pb.MemberListRequest, pb.MemberListResponse>
    MemberPromote: Unary<pb.MemberPromoteRequest, pb.MemberPromoteResponse>
  }
  'etcdserverpb.Maintenance': {
    Alarm: Unary<pb.AlarmRequest, pb.AlarmResponse>
    Status: Unary<pb.StatusRequest, pb.StatusResponse>
    Defragment: Unary<pb.DefragmentRequest, pb.DefragmentResponse>
    Hash: Unary<pb.HashRequest, pb.HashResponse>
    HashKV: Unary<pb.HashKVRequest, pb.HashKVResponse>
    Snapshot: ServerStream<pb.SnapshotRequest, pb.SnapshotResponse>
    MoveLeader: Unary<pb.MoveLeaderRequest, pb.MoveLeaderResponse>
    Downgrade: Unary<pb.DowngradeRequest, pb.DowngradeResponse>
  }
  'etcdserverpb.Auth': {
    AuthEnable: Unary<pb.AuthEnableRequest, pb.AuthEnableResponse>
    AuthDisable: Unary<pb.AuthDisableRequest, pb.AuthDisableResponse>
    AuthStatus: Unary<pb.AuthStatusRequest, pb.AuthStatusResponse>
    Authenticate: Unary<pb.AuthenticateRequest, pb.AuthenticateResponse>
    UserAdd: Unary<pb.AuthUserAddRequest, pb.AuthUserAddResponse>
    UserGet: Unary<pb.AuthUserGetRequest, pb.AuthUserGetResponse>
    UserList: Unary<pb.AuthUserListRequest, pb.AuthUserListResponse>
    UserDelete: Unary<pb.AuthUserDeleteRequest, pb.AuthUserDeleteResponse>
    UserChangePassword: Unary<pb.AuthUserChangePasswordRequest, pb.AuthUserChangePasswordResponse>
    UserGrantRole: Unary<pb.AuthUserGrantRoleRequest, pb.AuthUserGrantRoleResponse>
    UserRevokeRole: Unary<pb.AuthUserRevokeRoleRequest, pb.AuthUserRevokeRoleResponse>
    RoleAdd: Unary<pb.AuthRoleAddRequest, pb.AuthRoleAddResponse>
    RoleGet: Unary<pb.AuthRoleGetRequest, pb.AuthRoleGetResponse>
    RoleList: Unary<pb.AuthRoleListRequest, pb.AuthRoleListResponse>
    RoleDelete: Unary<pb.AuthRoleDeleteRequest, pb.AuthRoleDeleteResponse>
    RoleGrantPermission: Unary<pb.AuthRoleGrantPermissionRequest, pb.AuthRoleGrantPermissionResponse>
    RoleRevokePermission: Unary<pb.AuthRoleRevokePermissionRequest, pb.AuthRoleRevokePermissionResponse>
  }
  'grpc.health.v1.Health': {
    Check: Unary<pb.HealthCheckRequest, pb.HealthCheckResponse>
    Watch: ServerStream<pb.HealthCheckRequest, pb.HealthCheckResponse>
  }
}

/** A service's wire name, e.g. `'etcdserverpb.KV'`. */
export type ServiceName = keyof EtcdServices

/**
 * Client view of a service: each method's definition (path, serializers). Requests are {@link pb.Encodable},
 * responses the decoded types.
 */
export type ServiceMethods<Name extends ServiceName> = {
  [Method in keyof EtcdServices[Name]]: EtcdServices[Name][Method] extends AnyRpc
    ? MethodDefinition<pb.Encodable<EtcdServices[Name][Method]['request']>, EtcdServices[Name][Method]['response']>
    : never
}

type Handler<Rpc> =
  Rpc extends Unary<infer Request, infer Response>
    ? handleUnaryCall<Request, pb.Encodable<Response>>
    : Rpc extends ServerStream<infer Request, infer Response>
      ? handleServerStreamingCall<Request, pb.Encodable<Response>>
      : Rpc extends Bidi<infer Request, infer Response>
        ? handleBidiStreamingCall<Request, pb.Encodable<Response>>
        : never

/**
 * Server view of a service: one handler per method, for {@link addService}. Handlers receive decoded requests
 * and may answer with any {@link pb.Encodable} response.
 */
export type ServiceHandlers<Name extends ServiceName> = {
  [Method in keyof EtcdServices[Name]]: Handler<EtcdServices[Name][Method]>
}

/**
 * Registers service `name` on a grpc-js server with typed handlers. Methods left out answer UNIMPLEMENTED
 * (grpc-js's default), as etcd 3.4 does for methods it lacks (e.g. AuthStatus, Downgrade).
 */
export function addService<Name extends ServiceName>(
  server: Server,
  name: Name,
  handlers: Partial<ServiceHandlers<Name>>,
): void {
  server.addService(serviceDefinition(name), handlers as UntypedServiceImplementation)
}

/**
 * The gRPC service definition of `name` (from the embedded protos, built once and shared): pass it to
 * `server.addService`, or take its method definitions for a client. Throws if the name is unknown.
 */
export function serviceDefinition<Name extends ServiceName>(name: Name): ServiceDefinition<ServiceHandlers<Name>> {
  const definition = loadServices()[name]
  if (!definition) throw new Error(`unknown gRPC service ${name}`)
  return definition as ServiceDefinition<ServiceHandlers<Name>>
}

/** The typed client-side method definitions of service `name`. */
export function serviceMethods<Name extends ServiceName>(name: Name): ServiceMethods<Name> {
  return serviceDefinition(name) as unknown as ServiceMethods<Name>
}
