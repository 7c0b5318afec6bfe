// authpb/auth.proto of the etcd v3 API (package `authpb`), at the etcd 3.5 API level.
//
// Copyright The etcd Authors. Licensed under the Apache License, Version 2.0
// (http://www.apache.org/licenses/LICENSE-2.0); Quorum is Apache-2.0 as well.
//
// Source: etcd-io/etcd `api/authpb/auth.proto` as shipped (gogoproto options already stripped) in the npm package
// etcd3@1.1.2, `proto/auth.proto`. Changes: the grpc-gateway `(google.api.http)` options are removed,
// enum value names are restored to etcd's spelling (NONE, ASCEND, PUT, READWRITE, ...; the wire numbers are
// unchanged) and imports use etcd's paths. Kept as a TS module (not a .proto file) so the loader needs no file
// path at run time: the same code runs in vitest, under tsx/plain Node and in the electron-vite bundle.

/** The text of etcd's auth.proto (package `authpb`). */
export const authProto = `syntax = "proto3";
package authpb;

message UserAddOptions {
  bool no_password = 1;
};
// User is a single entry in the bucket authUsers
message User {
  bytes name = 1;
  bytes password = 2;
  repeated string roles = 3;
  UserAddOptions options = 4;
}
// Permission is a single entity
message Permission {
  enum Type {
    READ = 0;
    WRITE = 1;
    READWRITE = 2;
  }
  Type permType = 1;
  bytes key = 2;
  bytes range_end = 3;
}
// Role is a single entry in the bucket authRoles
message Role {
  bytes name = 1;
  repeated Permission keyPermission = 2;
}
`
