// grpc/health/v1/health.proto: gRPC's standard health checking protocol, as etcd serves it.
//
// Copyright 2015 The gRPC Authors. Licensed under the Apache License, Version 2.0
// (http://www.apache.org/licenses/LICENSE-2.0).
//
// Source: grpc/grpc-proto `grpc/health/v1/health.proto`, with the `option` lines (java/csharp/go package
// names) removed. Kept as a TS module for the same reason as the etcd protos (no file paths at run time).

/** The text of grpc.health.v1 health.proto. */
export const healthProto = `syntax = "proto3";
package grpc.health.v1;

message HealthCheckRequest {
  string service = 1;
}

message HealthCheckResponse {
  enum ServingStatus {
    UNKNOWN = 0;
    SERVING = 1;
    NOT_SERVING = 2;
    SERVICE_UNKNOWN = 3;  // Used only by the Watch method.
  }
  ServingStatus status = 1;
}

// Health is gRPC's standard health checking service; etcd registers it on the client port and reports
// SERVING for the empty service name while the member has a leader.
service Health {
  // If the requested service is unknown, the call will fail with status NOT_FOUND.
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);

  // Performs a watch for the serving status of the requested service. The server immediately sends back a
  // message indicating the current serving status, then a new message whenever the status changes.
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}
`
