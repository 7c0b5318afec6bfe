import protobuf from 'protobufjs'
import { parseProtoRoot } from '../proto'
import type * as pb from '../proto/types'
import type { AuthRequestBodies } from '../auth/apply'

// What a member proposes through Raft: one InternalRaftRequest per normal log entry, encoded with protobuf
// (the request bodies are etcd's own messages, so every field survives byte-exact). Modelled on etcd's
// server/etcdserver/api/etcdserverpb/raft_internal.proto; reads never go through the log (they use ReadIndex).

const INTERNAL_PROTO = `
syntax = "proto3";
package quorumpb;

message RequestHeader {
  uint64 id = 1;
  string username = 2;
  uint64 auth_revision = 3;
}

message MemberAttributes {
  uint64 member_id = 1;
  string name = 2;
  repeated string client_urls = 3;
}

message InternalRaftRequest {
  RequestHeader header = 1;
  oneof request {
    etcdserverpb.PutRequest put = 3;
    etcdserverpb.DeleteRangeRequest delete_range = 4;
    etcdserverpb.TxnRequest txn = 5;
    etcdserverpb.CompactionRequest compaction = 6;
    etcdserverpb.LeaseGrantRequest lease_grant = 7;
    etcdserverpb.LeaseRevokeRequest lease_revoke = 8;
    etcdserverpb.AlarmRequest alarm = 9;
    etcdserverpb.LeaseCheckpointRequest lease_checkpoint = 10;
    MemberAttributes member_attributes = 11;
    etcdserverpb.AuthEnableRequest auth_enable = 1000;
    etcdserverpb.AuthDisableRequest auth_disable = 1011;
    etcdserverpb.AuthStatusRequest auth_status = 1013;
    etcdserverpb.AuthenticateRequest authenticate = 1012;
    etcdserverpb.AuthUserAddRequest auth_user_add = 1100;
    etcdserverpb.AuthUserDeleteRequest auth_user_delete = 1101;
    etcdserverpb.AuthUserGetRequest auth_user_get = 1102;
    etcdserverpb.AuthUserChangePasswordRequest auth_user_change_password = 1103;
    etcdserverpb.AuthUserGrantRoleRequest auth_user_grant_role = 1104;
    etcdserverpb.AuthUserRevokeRoleRequest auth_user_revoke_role = 1105;
    etcdserverpb.AuthUserListRequest auth_user_list = 1106;
    etcdserverpb.AuthRoleListRequest auth_role_list = 1107;
    etcdserverpb.AuthRoleAddRequest auth_role_add = 1200;
    etcdserverpb.AuthRoleDeleteRequest auth_role_delete = 1201;
    etcdserverpb.AuthRoleGetRequest auth_role_get = 1202;
    etcdserverpb.AuthRoleGrantPermissionRequest auth_role_grant_permission = 1203;
    etcdserverpb.AuthRoleRevokePermissionRequest auth_role_revoke_permission = 1204;
  }
}
`

/** Header of every proposed request: its id (for the wait registry) and the caller's auth identity. */
export interface InternalHeader {
  id: pb.Int64
  username: string
  auth_revision: pb.Int64
}

/** A member's published attributes (name, client URLs), replicated so every member lists them. */
export interface MemberAttributes {
  member_id: pb.Int64
  name: string
  client_urls: string[]
}

/** The request kinds that go through Raft, each with etcd's request message (auth kinds from core/auth). */
export interface InternalRequestBodies extends AuthRequestBodies {
  put: pb.PutRequest
  delete_range: pb.DeleteRangeRequest
  txn: pb.TxnRequest
  compaction: pb.CompactionRequest
  lease_grant: pb.LeaseGrantRequest
  lease_revoke: pb.LeaseRevokeRequest
  alarm: pb.AlarmRequest
  lease_checkpoint: pb.LeaseCheckpointRequest
  member_attributes: MemberAttributes
}

/** The kind of a proposed request. */
export type InternalRequestKind = keyof InternalRequestBodies

/** A decoded proposal: its header and exactly one body, tagged by `request` (the oneof's name). */
export type InternalRaftRequest = {
  [K in InternalRequestKind]: { header: InternalHeader; request: K } & Pick<InternalRequestBodies, K>
}[InternalRequestKind]

/** Thrown for a log entry payload that is not an InternalRaftRequest (corruption or a foreign log). */
export class RaftRequestDecodeError extends Error {
  readonly code = 'RAFT_REQUEST_DECODE'
}

let cachedType: protobuf.Type | undefined

function requestType(): protobuf.Type {
  if (cachedType) return cachedType
  const root = parseProtoRoot()
  protobuf.parse(INTERNAL_PROTO, root, { keepCase: true })
  root.resolveAll()
  cachedType = root.lookupType('quorumpb.InternalRaftRequest')
  return cachedType
}

// The same conversion grpc-js uses for decoded requests (core/proto PROTO_OPTIONS), so a request decoded
// from the log has exactly the shape the gRPC handler saw.
const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: Number, defaults: true, oneofs: true, bytes: Buffer as unknown as StringConstructor }

/** Encodes a request for a Raft log entry. */
export function encodeRaftRequest(request: InternalRaftRequest): Uint8Array {
  const type = requestType()
  const { request: _kind, ...fields } = request as unknown as Record<string, unknown>
  return type.encode(type.fromObject(fields)).finish()
}

/** Decodes a Raft log entry payload made by encodeRaftRequest. */
export function decodeRaftRequest(data: Uint8Array): InternalRaftRequest {
  const type = requestType()
  let object: Record<string, unknown>
  try {
    object = type.toObject(type.decode(data), TO_OBJECT)
  } catch (error) {
    throw new RaftRequestDecodeError(`undecodable raft request: ${(error as Error).message}`)
  }
  if (typeof object.request !== 'string' || object[object.request] === undefined) {
    throw new RaftRequestDecodeError('raft request without a body')
  }
  // With `defaults`, the ~30 oneof members that are not set decode as null: keep the header and the body only, in a
  // new object (deleting the others would turn every decoded request into a slow dictionary-mode object).
  const kind = object.request
  const decoded: Record<string, unknown> = object.header === null ? { request: kind } : { header: object.header, request: kind }
  decoded[kind] = object[kind]
  return decoded as unknown as InternalRaftRequest
}
