import protobuf from 'protobufjs'
import { fromJSON, type Options as ProtoLoaderOptions } from '@grpc/proto-loader'
import type { ServiceDefinition } from '@grpc/grpc-js'
import { authProto } from './auth-proto'
import { healthProto } from './health-proto'
import { kvProto } from './kv-proto'
import { rpcProto } from './rpc-proto'

/**
 * How every Quorum gRPC peer (our client and our server) converts messages, so both sides see the same shapes:
 * - `keepCase`: fields keep etcd's wire names (`range_end`, `prev_kv`, `peerURLs`); see toolchain.md §3 pitfall 8.
 * - `longs: String`: int64/uint64 decode to decimal strings (member and lease IDs exceed 2^53).
 * - `enums: Number`: enums decode to their numbers (etcd 3.4 accepts unknown enum numbers, e.g. sort_order 7).
 * - `defaults`: absent scalars decode to their zero value, repeated fields to `[]`, messages to `null`.
 * - `oneofs`: a oneof also decodes to a virtual field naming the member that is set (`request: 'request_put'`).
 * Bytes decode to `Buffer` (binary-safe). Encoding accepts the same shapes, with any field left out.
 */
export const PROTO_OPTIONS: ProtoLoaderOptions = {
  keepCase: true,
  longs: String,
  enums: Number,
  defaults: true,
  oneofs: true,
}

/** The proto sources in dependency order (imports first); names are etcd's import paths. */
const PROTO_SOURCES: ReadonlyArray<readonly [string, string]> = [
  ['etcd/api/mvccpb/kv.proto', kvProto],
  ['etcd/api/authpb/auth.proto', authProto],
  ['etcd/api/etcdserverpb/rpc.proto', rpcProto],
  ['grpc/health/v1/health.proto', healthProto],
]

/**
 * Parses the embedded proto texts into one protobufjs root. NB: the parse must use `keepCase: true`; a root
 * parsed without it has camel-cased field names that `fromJSON(..., { keepCase })` cannot undo.
 */
export function parseProtoRoot(): protobuf.Root {
  const root = new protobuf.Root()
  for (const [name, text] of PROTO_SOURCES) {
    const result = protobuf.parse(text, root, { keepCase: true })
    root.files.push(name)
    for (const imported of result.imports ?? []) {
      if (!root.files.includes(imported)) throw new Error(`${name} imports ${imported}, which is not loaded before it`)
    }
  }
  root.resolveAll()
  return root
}

/** Service name (as on the wire, `etcdserverpb.KV`) to its method definitions, for `server.addService` and clients. */
export type PackageServices = Record<string, ServiceDefinition>

let cached: PackageServices | undefined

/**
 * The gRPC service definitions of etcd's v3 API (`etcdserverpb.KV`, `.Watch`, `.Lease`, `.Cluster`,
 * `.Maintenance`, `.Auth`) and `grpc.health.v1.Health`, built once from the embedded protos with
 * {@link PROTO_OPTIONS}. The result is shared; callers must not mutate it.
 */
export function loadServices(): PackageServices {
  if (cached) return cached
  const definition = fromJSON(parseProtoRoot().toJSON(), PROTO_OPTIONS)
  const services: PackageServices = {}
  for (const [name, value] of Object.entries(definition)) {
    // Message and enum entries carry `format`; services are plain maps of method definitions.
    if (!('format' in value)) services[name] = value as ServiceDefinition
  }
  cached = services
  return services
}
