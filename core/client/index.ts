// The etcd v3 client (see client.ts). Import from here.
export { EtcdClient } from './client'
export type { EtcdClientOptions, CallOptions, TlsOptions } from './transport'
export { ClientClosedError, EtcdError, ETCD_ERRORS, GrpcError, type EtcdErrorCode, type GrpcCodeName } from './errors'
export { prefixRangeEnd, type Bytes, type KeyRange, type KeyValue, type ResponseHeader } from './convert'
export type {
  CompactResult,
  DeleteOptions,
  DeleteResult,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  TxnCompare,
  TxnOp,
  TxnOpResult,
  TxnResult,
  TxnSpec,
} from './kv'
export type { Member, MemberAddResult, MembersResult } from './cluster'
export type { Alarm, AlarmName, MemberStatus, ServingState } from './maintenance'
export { Watcher, WatchCompactedError, type WatchBatch, type WatchEvent, type WatcherEvents, type WatchOptions } from './watch'
export { LeaseKeeper, type LeaseGrant, type LeaseKeepAliveResult, type LeaseKeeperEvents, type LeaseTimeToLive } from './lease'
export type { AuthStatus, Permission, PermissionKind } from './auth'
