// Backend quota and alarms, ported from etcd etcdserver/quota.go and alarm/alarms.go (Apache-2.0).
//
// Flow (the server wires it): before proposing a write, `quota.available(cost)`; when false, propose an
// Alarm ACTIVATE NOSPACE and answer NoSpaceError. While a NOSPACE alarm is active, the applier rejects Put,
// Txn with puts and LeaseGrant with NoSpaceError (etcd applierV3Capped); deletes, compaction and reads still
// work. After compaction + defragment frees space, Alarm DEACTIVATE lifts it.
import type { AlarmRecord, AlarmType, Backend, BackendReader, BackendWriter } from './backend'
import { NoSpaceError } from './errors'
import type { PutRequest, TxnRequest } from './types'

/** etcd compat: DefaultQuotaBytes, 2 GiB. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024
/** etcd compat: MaxQuotaBytes, 8 GiB (a warning threshold in etcd). */
export const MAX_QUOTA_BYTES = 8 * 1024 * 1024 * 1024
/** etcd compat: kvOverhead and leaseOverhead in quota cost. */
const KV_OVERHEAD = 256
const LEASE_OVERHEAD = 64

/** A request the quota prices (etcd backendQuota.Cost). */
export type QuotaRequest = { put: PutRequest } | { txn: TxnRequest } | { leaseGrant: true }

/** Cost in bytes of a write, as etcd estimates it. */
export function quotaCost(req: QuotaRequest): number {
  if ('put' in req) return KV_OVERHEAD + req.put.key.length + (req.put.value?.length ?? 0)
  if ('leaseGrant' in req) return LEASE_OVERHEAD
  return txnCost(req.txn)
}

function txnCost(txn: TxnRequest): number {
  const branch = (ops: TxnRequest['success']) => {
    let n = 0
    for (const op of ops) {
      if ('requestPut' in op) n += quotaCost({ put: op.requestPut })
      else if ('requestTxn' in op) n += txnCost(op.requestTxn)
    }
    return n
  }
  return Math.max(branch(txn.success), branch(txn.failure))
}

/** The backend quota. quotaBytes <= 0 means the default (2 GiB), as in etcd. */
export class BackendQuota {
  readonly quotaBytes: number

  constructor(
    private readonly backend: Backend,
    quotaBytes = 0,
  ) {
    this.quotaBytes = quotaBytes > 0 ? quotaBytes : DEFAULT_QUOTA_BYTES
  }

  /** True when the write of `costBytes` still fits (etcd: size + cost < quota). */
  available(costBytes: number): boolean {
    return this.backend.sizeBytes() + costBytes < this.quotaBytes
  }
}

/** Active alarms, persisted in the backend (etcd AlarmStore). Activate/deactivate are Raft-applied. */
export class AlarmStore {
  private readonly active = new Map<string, AlarmRecord>()

  constructor(reader: BackendReader) {
    this.reload(reader)
  }

  /** Replaces the in-memory alarms with the ones stored in `reader` (after a snapshot was installed). */
  reload(reader: BackendReader): void {
    this.active.clear()
    for (const a of reader.listAlarms()) this.active.set(`${a.memberId}/${a.alarm}`, a)
  }

  /** Activates an alarm; returns it (etcd returns the existing one when already active). */
  activate(tx: BackendWriter, memberId: bigint, alarm: AlarmType): AlarmRecord {
    const record = { memberId, alarm }
    const id = `${memberId}/${alarm}`
    const existing = this.active.get(id)
    if (existing !== undefined) return existing
    this.active.set(id, record)
    tx.putAlarm(record)
    return record
  }

  /** Deactivates; returns the removed alarm or undefined when it was not active. */
  deactivate(tx: BackendWriter, memberId: bigint, alarm: AlarmType): AlarmRecord | undefined {
    const id = `${memberId}/${alarm}`
    const existing = this.active.get(id)
    if (existing === undefined) return undefined
    this.active.delete(id)
    tx.deleteAlarm(existing)
    return existing
  }

  /** Active alarms, optionally of one type. */
  list(alarm?: AlarmType): AlarmRecord[] {
    return [...this.active.values()].filter((a) => alarm === undefined || a.alarm === alarm)
  }

  /** True while a NOSPACE alarm is active on any member: writes that add data are rejected. */
  hasNoSpace(): boolean {
    return this.list('NOSPACE').length > 0
  }
}

/**
 * etcd applierV3Capped: while NOSPACE is active, a request that adds data (put, txn with a put on either
 * branch, lease grant) is rejected with NoSpaceError; deletes, ranges, compaction and revokes pass.
 */
export function checkNoSpace(alarms: AlarmStore, req: QuotaRequest): void {
  if (!alarms.hasNoSpace()) return
  if ('txn' in req && quotaCost(req) === 0) return
  throw new NoSpaceError()
}
