// The narrow view of an etcd v3 client that the services need. The project's gRPC client (core/client,
// EtcdClient on grpc-js with etcd's protos) satisfies it through a small adapter; services never talk gRPC
// themselves. IDs are bigint here (STYLE §3) and become hex strings in the DTOs.

/** How to reach a cluster: the resolved settings of a connection profile, secrets included. */
export interface ClusterClientOptions {
  endpoints: string[]
  username?: string
  password?: string
  tls?: { caCert?: string; clientCert?: string; clientKey?: string; serverName?: string }
  /** Deadline of each call in ms. */
  callTimeoutMs: number
}

/** One member as Cluster.MemberList returns it. */
export interface ClusterMember {
  id: bigint
  /** Empty for a member that was added but has not started yet. */
  name: string
  peerUrls: string[]
  clientUrls: string[]
  isLearner: boolean
}

/** Maintenance.Status of one endpoint. */
export interface EndpointStatus {
  memberId: bigint
  clusterId: bigint
  leaderId: bigint
  version: string
  raftTerm: number
  raftIndex: number
  raftAppliedIndex: number
  dbSizeBytes: number
  dbSizeInUseBytes: number
  isLearner: boolean
  errors: string[]
}

/** An alarm from Maintenance.Alarm(GET). */
export interface ClusterAlarm {
  memberId: bigint
  alarm: 'NOSPACE' | 'CORRUPT' | string
}

/**
 * Why a call failed, normalised from gRPC status codes and etcd's error strings:
 * `unavailable` (14, connection trouble), `deadline` (4), `invalid_auth` ("authentication failed, invalid
 * user ID or password"), `auth_required` ("user name is empty" / "invalid auth token"), `permission_denied`
 * (7), `unimplemented` (12, the server does not have the service: not etcd), `protocol` (the peer does not
 * speak gRPC), `other`.
 */
export type ClusterCallFailure =
  | 'unavailable'
  | 'deadline'
  | 'invalid_auth'
  | 'auth_required'
  | 'permission_denied'
  | 'unimplemented'
  | 'protocol'
  | 'other'

/** The error every ClusterClient call rejects with. */
export class ClusterCallError extends Error {
  constructor(
    readonly code: ClusterCallFailure,
    message: string,
  ) {
    super(message)
  }
}

/** The operations the overview, monitoring and connection test need. Every call honours `callTimeoutMs`. */
export interface ClusterClient {
  memberList(): Promise<ClusterMember[]>
  /** Status of one endpoint (a client URL), not of whichever endpoint the client picked. */
  status(endpoint: string): Promise<EndpointStatus>
  alarms(): Promise<ClusterAlarm[]>
  /**
   * A serializable Range of the key `health` (what `etcdctl endpoint health` does). It proves the KV API and
   * authentication work; `permission_denied` from it still means the cluster is healthy.
   */
  healthCheck(): Promise<void>
  close(): Promise<void>
}

/** Makes a client for a profile; web mode and Electron pass the EtcdClient adapter, tests may pass others. */
export type ClusterClientFactory = (options: ClusterClientOptions) => ClusterClient

/** Hex ID as etcdctl prints member and cluster IDs (`%x`: `8e9e05c52164694d`). */
export function hexId(id: bigint): string {
  return id.toString(16)
}

/**
 * A lease ID as etcdctl prints it everywhere (`lease %016x granted`, `lease list`, `lease timetolive`): 16 hex
 * digits, zero-padded, so an ID copied from etcdctl's output finds its row (IDs below 2^60 start with 0).
 */
export function leaseHex(id: bigint): string {
  return id.toString(16).padStart(16, '0')
}

// etcd compat: error strings from etcd's api/v3rpc/rpctypes/error.go, which clients match on.
const AUTH_FAILED_TEXT = 'authentication failed, invalid user ID or password'
const AUTH_REQUIRED_TEXTS = ['etcdserver: user name is empty', 'etcdserver: invalid auth token']

/**
 * Maps a gRPC status code and message to a ClusterCallFailure. Shared by every adapter so the connection
 * test explains failures the same way whichever client produced them.
 */
export function classifyCallFailure(grpcCode: number | undefined, message: string): ClusterCallFailure {
  if (message.includes(AUTH_FAILED_TEXT)) return 'invalid_auth'
  if (AUTH_REQUIRED_TEXTS.some((text) => message.includes(text))) return 'auth_required'
  if (message.includes('etcdserver: permission denied') || grpcCode === 7) return 'permission_denied'
  if (grpcCode === 16) return 'auth_required'
  if (grpcCode === 12) return 'unimplemented'
  if (grpcCode === 4) return 'deadline'
  if (/protocol error|received http status code|unexpected content-type|http\/1/i.test(message)) return 'protocol'
  if (grpcCode === 14) return 'unavailable'
  return 'other'
}
