// Leases, ported from etcd lease/lessor.go (Apache-2.0).
//
// Who does what: grant, revoke and checkpoint are Raft-applied on every member (they take the backend
// transaction). Only the leader's lessor is "primary": it keeps real expiry times from the injected Clock,
// answers keep-alives and time-to-live, and tells the host which leases expired and which remaining TTLs to
// checkpoint; the host proposes those as LeaseRevoke / LeaseCheckpoint entries. Applied state never reads
// the clock. Followers keep every lease "forever" until they are promoted.
import type { Clock } from '../util/clock'
import { assert } from '../util/assert'
import type { BackendReader, BackendWriter } from './backend'
import { LeaseExistsError, LeaseNotFoundError, LeaseTtlTooLargeError, NotPrimaryError } from './errors'
import type { KvStore, LeaseAttachments } from './kv-store'

/** etcd compat: lease.MaxLeaseTTL, 9,000,000,000 seconds. */
export const MAX_LEASE_TTL_SECONDS = 9_000_000_000

/** etcd compat: default lease checkpoint interval (5 minutes). */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5 * 60_000

/** etcd compat: expiredLeaseRetryInterval; an expired lease is reported again if still not revoked. */
export const EXPIRED_LEASE_RETRY_MS = 3_000

/**
 * etcd's minimum TTL: ceil(1.5 x election timeout) seconds (etcdserver: minTTL =
 * (3*electionTicks)/2 * heartbeat). 2 s for the default 1000 ms election timeout.
 */
export function minLeaseTtlSeconds(electionTimeoutMs: number): number {
  return Math.ceil((3 * electionTimeoutMs) / 2 / 1000)
}

export interface LessorOptions {
  clock: Clock
  /** TTLs below this are raised to it (etcd minLeaseTTL). Default 2 s. */
  minTtlSeconds?: number
  /** How often the primary checkpoints a lease's remaining TTL. 0 disables checkpointing. Default 5 min. */
  checkpointIntervalMs?: number
}

interface Lease {
  id: bigint
  ttlSeconds: number
  /** Remaining TTL from the last checkpoint; 0 when not checkpointed. */
  remainingTtlSeconds: number
  /** Wall-clock expiry in ms; Infinity while not primary ("forever"). */
  expiryMs: number
  keys: Map<string, Buffer>
  /** Earliest time the primary reports this (expired) lease again. */
  nextExpiryReportMs: number
  /** When the primary next checkpoints this lease; Infinity when not scheduled. */
  nextCheckpointMs: number
}

/** Result of LeaseTimeToLive. `ttlSeconds` is the remaining time, truncated as etcd does. */
export interface LeaseTimeToLive {
  id: bigint
  ttlSeconds: number
  grantedTtlSeconds: number
  keys: Buffer[]
}

/** A checkpoint the primary wants proposed through Raft (etcd pb.LeaseCheckpoint). */
export interface LeaseCheckpoint {
  id: bigint
  remainingTtlSeconds: number
}

function keyId(key: Buffer): string {
  return key.toString('latin1')
}

/** The lessor. Construct it after the KvStore; it attaches itself to the store and restores leases. */
export class Lessor implements LeaseAttachments {
  private readonly leaseMap = new Map<bigint, Lease>()
  private readonly itemMap = new Map<string, bigint>()
  private primary = false
  private readonly clock: Clock
  readonly minTtlSeconds: number
  private readonly checkpointIntervalMs: number

  constructor(
    private readonly kv: KvStore,
    options: LessorOptions,
  ) {
    this.clock = options.clock
    this.minTtlSeconds = options.minTtlSeconds ?? 2
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS
    this.restore(kv.backend.reader())
    kv.setLeaseAttachments(this)
  }

  /**
   * Reloads every lease from the backend and re-attaches the keys the store restored (call after
   * KvStore.reload; etcd lessor.Recover). Restored leases do not expire until the next promote().
   */
  reload(): void {
    this.leaseMap.clear()
    this.itemMap.clear()
    this.restore(this.kv.backend.reader())
    this.kv.setLeaseAttachments(this)
  }

  /** Whether this member's lessor is primary (the member is leader). */
  isPrimary(): boolean {
    return this.primary
  }

  /**
   * Grant (Raft-applied). id must be non-zero (the server picks one for an auto-ID request before proposing,
   * see LeaseIdGenerator). TTLs below the minimum are raised; returns the granted TTL.
   */
  grant(tx: BackendWriter, id: bigint, ttlSeconds: number): { id: bigint; ttlSeconds: number } {
    if (id === 0n) throw new LeaseNotFoundError(id)
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) throw new LeaseTtlTooLargeError()
    if (this.leaseMap.has(id)) throw new LeaseExistsError(id)
    const ttl = Math.max(ttlSeconds, this.minTtlSeconds)
    const lease: Lease = {
      id,
      ttlSeconds: ttl,
      remainingTtlSeconds: 0,
      expiryMs: Infinity,
      keys: new Map(),
      nextExpiryReportMs: 0,
      nextCheckpointMs: Infinity,
    }
    if (this.primary) this.refresh(lease, 0)
    this.leaseMap.set(id, lease)
    tx.putLease({ id, ttlSeconds: ttl, remainingTtlSeconds: 0 })
    if (this.primary) this.scheduleCheckpoint(lease)
    return { id, ttlSeconds: ttl }
  }

  /**
   * Revoke (Raft-applied): deletes every attached key in ONE write transaction (one revision) and forgets the
   * lease. Returns the store revision after the revoke.
   */
  revoke(tx: BackendWriter, id: bigint): number {
    const lease = this.leaseMap.get(id)
    if (lease === undefined) throw new LeaseNotFoundError(id)
    const keys = [...lease.keys.values()].sort(Buffer.compare)
    const txn = this.kv.write(tx)
    try {
      for (const key of keys) txn.deleteRange(key, undefined)
      this.leaseMap.delete(id)
      tx.deleteLease(id)
    } finally {
      txn.end()
    }
    return this.kv.rev()
  }

  /** Checkpoint (Raft-applied): records the remaining TTL so a new leader continues from it. */
  checkpoint(tx: BackendWriter, id: bigint, remainingTtlSeconds: number): void {
    const lease = this.leaseMap.get(id)
    if (lease === undefined) return
    lease.remainingTtlSeconds = remainingTtlSeconds
    tx.putLease({ id, ttlSeconds: lease.ttlSeconds, remainingTtlSeconds })
    if (this.primary) this.scheduleCheckpoint(lease)
  }

  /**
   * Keep-alive on the primary (not Raft-applied): restarts the TTL and returns the granted TTL. When the lease
   * had a checkpointed remaining TTL, `clearCheckpoint` asks the host to propose a checkpoint of 0 so that a
   * future leader uses the full TTL (etcd lessor.Renew).
   */
  renew(id: bigint): { ttlSeconds: number; clearCheckpoint?: LeaseCheckpoint } {
    if (!this.primary) throw new NotPrimaryError()
    const lease = this.leaseMap.get(id)
    if (lease === undefined) throw new LeaseNotFoundError(id)
    // etcd compat: an expired lease is being revoked; renewing it answers "not found"
    if (lease.expiryMs <= this.clock.now()) throw new LeaseNotFoundError(id)
    const clear = this.checkpointIntervalMs > 0 && lease.remainingTtlSeconds > 0
    if (clear) lease.remainingTtlSeconds = 0
    this.refresh(lease, 0)
    this.scheduleCheckpoint(lease)
    return clear ? { ttlSeconds: lease.ttlSeconds, clearCheckpoint: { id, remainingTtlSeconds: 0 } } : { ttlSeconds: lease.ttlSeconds }
  }

  /** LeaseTimeToLive on the primary (followers forward to the leader). */
  timeToLive(id: bigint, withKeys: boolean): LeaseTimeToLive {
    if (!this.primary) throw new NotPrimaryError()
    const lease = this.leaseMap.get(id)
    if (lease === undefined) throw new LeaseNotFoundError(id)
    const remainingMs = lease.expiryMs - this.clock.now()
    return {
      id,
      ttlSeconds: Math.trunc(remainingMs / 1000),
      grantedTtlSeconds: lease.ttlSeconds,
      keys: withKeys ? [...lease.keys.values()].sort(Buffer.compare) : [],
    }
  }

  /** LeaseLeases: all lease IDs in ascending order. */
  leases(): bigint[] {
    return [...this.leaseMap.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  /**
   * The keys attached to lease `id`, sorted; empty for an unknown lease. Works on every member, primary or not
   * (etcd Lookup(id).Keys(), used by the auth checks of LeaseRevoke, puts onto a lease and LeaseTimeToLive).
   */
  attachedKeys(id: bigint): Buffer[] {
    const lease = this.leaseMap.get(id)
    return lease ? [...lease.keys.values()].sort(Buffer.compare) : []
  }

  /** Whether lease `id` exists (etcd Lookup != nil). */
  exists(id: bigint): boolean {
    return this.leaseMap.has(id)
  }

  /** Becomes primary (the member became leader): every lease gets its remaining TTL plus `extendMs`. */
  promote(extendMs: number): void {
    this.primary = true
    for (const lease of this.leaseMap.values()) {
      this.refresh(lease, extendMs)
      lease.nextExpiryReportMs = 0
      this.scheduleCheckpoint(lease)
    }
  }

  /** Stops being primary: leases live forever here until the next promotion. */
  demote(): void {
    this.primary = false
    for (const lease of this.leaseMap.values()) {
      lease.expiryMs = Infinity
      lease.nextCheckpointMs = Infinity
    }
  }

  /**
   * Leases whose expiry has passed, for the host to propose as revokes (primary only; at most `limit`).
   * A reported lease is reported again after EXPIRED_LEASE_RETRY_MS if it is still there.
   */
  expiredLeases(limit = 1000): bigint[] {
    if (!this.primary) return []
    const now = this.clock.now()
    const out: bigint[] = []
    for (const lease of this.leaseMap.values()) {
      if (out.length >= limit) break
      if (lease.expiryMs <= now && lease.nextExpiryReportMs <= now) {
        lease.nextExpiryReportMs = now + EXPIRED_LEASE_RETRY_MS
        out.push(lease.id)
      }
    }
    return out
  }

  /**
   * Checkpoints that are due, for the host to propose (primary only; etcd checkpointScheduledLeases).
   * Remaining TTL is rounded up to whole seconds.
   */
  dueCheckpoints(limit = 1000): LeaseCheckpoint[] {
    if (!this.primary) return []
    const now = this.clock.now()
    const out: LeaseCheckpoint[] = []
    for (const lease of this.leaseMap.values()) {
      if (out.length >= limit) break
      if (lease.nextCheckpointMs <= now) {
        lease.nextCheckpointMs = Infinity
        if (lease.expiryMs <= now) continue
        out.push({ id: lease.id, remainingTtlSeconds: Math.ceil((lease.expiryMs - now) / 1000) })
      }
    }
    return out
  }

  /** The lease `key` is attached to, or 0n. */
  leaseOf(key: Buffer): bigint {
    return this.itemMap.get(keyId(key)) ?? 0n
  }

  /** @internal Called by the store on put. */
  attach(id: bigint, key: Buffer): void {
    const lease = this.leaseMap.get(id)
    assert(lease !== undefined, () => `attach to missing lease ${id}`)
    lease.keys.set(keyId(key), Buffer.from(key))
    this.itemMap.set(keyId(key), id)
  }

  /** @internal Called by the store on put (old lease) and delete. */
  detach(id: bigint, key: Buffer): void {
    this.leaseMap.get(id)?.keys.delete(keyId(key))
    this.itemMap.delete(keyId(key))
  }

  private refresh(lease: Lease, extendMs: number): void {
    const ttl = lease.remainingTtlSeconds > 0 ? lease.remainingTtlSeconds : lease.ttlSeconds
    lease.expiryMs = this.clock.now() + extendMs + ttl * 1000
  }

  private scheduleCheckpoint(lease: Lease): void {
    if (this.checkpointIntervalMs <= 0) return
    const remaining = lease.remainingTtlSeconds > 0 ? lease.remainingTtlSeconds : lease.ttlSeconds
    if (remaining * 1000 > this.checkpointIntervalMs) lease.nextCheckpointMs = this.clock.now() + this.checkpointIntervalMs
  }

  private restore(reader: BackendReader): void {
    for (const record of reader.listLeases()) {
      this.leaseMap.set(record.id, {
        id: record.id,
        ttlSeconds: Math.max(record.ttlSeconds, this.minTtlSeconds),
        remainingTtlSeconds: record.remainingTtlSeconds,
        expiryMs: Infinity,
        keys: new Map(),
        nextExpiryReportMs: 0,
        nextCheckpointMs: Infinity,
      })
    }
  }
}

/**
 * Auto lease IDs for LeaseGrant with ID 0 (etcd idutil.Generator, ported): the low 16 bits of the member ID,
 * then 40 bits of the start time in ms, then an 8-bit counter; the counter overflows into the time bits.
 * The leader picks the ID before proposing, so every member applies the same ID. IDs are positive int64.
 */
export class LeaseIdGenerator {
  private readonly prefix: bigint
  private suffix: bigint

  constructor(memberId: bigint, clock: Clock) {
    this.prefix = (memberId & 0xffffn) << 48n
    this.suffix = (BigInt(clock.now()) & ((1n << 40n) - 1n)) << 8n
  }

  /** The next ID (never 0, always < 2^63). */
  next(): bigint {
    for (;;) {
      this.suffix = (this.suffix + 1n) & ((1n << 48n) - 1n)
      const id = (this.prefix | this.suffix) & ((1n << 63n) - 1n)
      if (id !== 0n) return id
    }
  }
}
