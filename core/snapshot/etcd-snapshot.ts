// Reading real etcd snapshots (`etcdctl snapshot save` output, or a member's member/snap/db file).
//
//   +------------------------------+----------------------+
//   | bbolt database (pgid × page) | sha256 of the db (32) |   size % 512 == 32  <=>  trailer present
//   +------------------------------+----------------------+
//
// Ports etcd's rules (Apache-2.0): the trailer check from clientv3/snapshot/v3_snapshot.go `saveDB` (3.4; the
// same code moved to etcdutl/snapshot/v3_snapshot.go in 3.5), and `Status` from the same file.

import { createHash } from 'node:crypto'
import { statSync } from 'node:fs'
import { Crc32c } from '@aws-crypto/crc32c'
import { BoltDb, type BoltBucket } from './bbolt/db'
import { BoltError } from './bbolt/errors'
import { bufferByteSource, fileByteSource, limitByteSource, type ByteSource } from './bbolt/page-reader'
import { SnapshotError, type SnapshotErrorCode } from './errors'
import {
  decodeAuthRole,
  decodeAuthUser,
  decodeKeyValue,
  decodeKeyValueKey,
  decodeLease,
  decodeMember,
  decodeRevisionKey,
  decodeUint64BE,
  parseHexId,
  type AuthRoleRecord,
  type AuthUserRecord,
  type LeaseRecord,
  type MemberRecord,
  type MvccKeyValue,
  type RevisionKey,
} from './etcd-records'

/** The `format` reported for these files by `quorum snapshot status`. */
export const ETCD_SNAPSHOT_FORMAT = 'etcd-bbolt'

/** Bytes of the sha256 trailer `etcdctl snapshot save` appends (the server's Maintenance.Snapshot sends it). */
export const SHA256_TRAILER_BYTES = 32

/** What `etcdctl snapshot status` reports (snapshot.Status in etcd 3.4, same JSON names). */
export interface EtcdSnapshotStatus {
  /** crc32 (Castagnoli) over every bucket name, then each of its keys and values, in order. */
  hash: number
  /** Main revision of the last key in the `key` bucket: the store's current revision. */
  revision: number
  /** Entries across all buckets (the `key` bucket counts every revision, not just live keys). */
  totalKey: number
  /** pgid × page size: the database size without free tail or trailer. */
  totalSize: number
}

/**
 * How to treat the sha256 trailer. `verify` (default): check it when present and accept a raw database
 * without one (what `status` needs). `require`: a missing trailer is an error, as etcd's restore without
 * --skip-hash-check. `skip`: never hash (etcd's --skip-hash-check).
 */
export type HashCheck = 'verify' | 'require' | 'skip'

/** Options for openEtcdSnapshot. */
export interface OpenEtcdSnapshotOptions {
  hashCheck?: HashCheck
  /** Page cache bound in bytes (default 4 MiB). */
  maxCacheBytes?: number
}

/** One entry of the `key` bucket, in revision order. Buffers in `kv` are views: copy what you keep. */
export interface MvccRevisionEntry {
  revision: RevisionKey
  kv: MvccKeyValue
}

/** A live key at the snapshot's revision, with its own copies of key and value. */
export type LiveKeyValue = MvccKeyValue

/** The `meta` bucket. Fields are null when the key is absent (term and confState only exist from etcd 3.5). */
export interface EtcdMetaRecord {
  consistentIndex: bigint | null
  term: bigint | null
  /** Revision of the last compaction that was scheduled, and of the last one that finished. */
  scheduledCompactRevision: number | null
  finishedCompactRevision: number | null
  /** raftpb.ConfState JSON as etcd 3.5 stores it, unparsed. */
  confState: string | null
}

/** The `members` and `members_removed` buckets. */
export interface EtcdMembership {
  members: MemberRecord[]
  removedIds: bigint[]
}

/** The `auth`, `authUsers` and `authRoles` buckets. */
export interface EtcdAuthState {
  enabled: boolean
  /** authRevision, null when never written. */
  revision: bigint | null
  users: AuthUserRecord[]
  roles: AuthRoleRecord[]
}

const KEY_BUCKET = 'key'
const HASH_CHUNK_BYTES = 1 << 20

/**
 * Opens an etcd snapshot file and checks it: not empty, a bbolt file with etcd's `key` and `meta` buckets, as
 * long as its meta page says, and with a matching sha256 trailer when one is present. Throws SnapshotError.
 * The file stays open (one descriptor) until `close()`.
 */
export function openEtcdSnapshot(path: string, options: OpenEtcdSnapshotOptions = {}): EtcdSnapshot {
  const stats = statSync(path)
  // etcd compat: etcdctl reports a directory as bbolt's open fails on it.
  if (stats.isDirectory()) throw new SnapshotError('SNAPSHOT_NOT_ETCD', `open ${path}: is a directory`)
  if (!stats.isFile()) throw new SnapshotError('SNAPSHOT_NOT_ETCD', `${path} is not a regular file`)
  return openEtcdSnapshotSource(fileByteSource(path), options)
}

/** openEtcdSnapshot over any ByteSource (bytes in memory, for tests and streams already buffered). */
export function openEtcdSnapshotSource(source: ByteSource, options: OpenEtcdSnapshotOptions = {}): EtcdSnapshot {
  try {
    return openChecked(source, options.hashCheck ?? 'verify', options.maxCacheBytes)
  } catch (error) {
    source.close()
    throw toSnapshotError(error)
  }
}

/** openEtcdSnapshotSource over a Buffer. */
export function openEtcdSnapshotBuffer(bytes: Buffer, options: OpenEtcdSnapshotOptions = {}): EtcdSnapshot {
  return openEtcdSnapshotSource(bufferByteSource(bytes), options)
}

function openChecked(source: ByteSource, hashCheck: HashCheck, maxCacheBytes: number | undefined): EtcdSnapshot {
  if (source.size === 0) throw new SnapshotError('SNAPSHOT_EMPTY', 'snapshot file is empty')
  const hasTrailer = source.size % 512 === SHA256_TRAILER_BYTES
  const dbBytes = hasTrailer ? source.size - SHA256_TRAILER_BYTES : source.size
  rejectSqlite(source)
  const db = BoltDb.open(limitByteSource(source, dbBytes), { maxCacheBytes })
  if (!hasTrailer && source.size > db.size && source.size < db.size + SHA256_TRAILER_BYTES) {
    throw new SnapshotError(
      'SNAPSHOT_TRUNCATED',
      `snapshot truncated: ${source.size - db.size} of the ${SHA256_TRAILER_BYTES} sha256 trailer bytes after the ${db.size}-byte database`,
    )
  }
  let sha256: Buffer | null = null
  if (hasTrailer) {
    sha256 = Buffer.alloc(SHA256_TRAILER_BYTES)
    source.read(sha256, dbBytes)
    if (hashCheck !== 'skip') {
      const actual = sha256Of(source, dbBytes)
      // etcd compat: the message of v3_snapshot.go saveDB, with Go's %v rendering of a []byte.
      if (!actual.equals(sha256)) {
        throw new SnapshotError('SNAPSHOT_HASH_MISMATCH', `expected sha256 ${goBytes(sha256)}, got ${goBytes(actual)}`)
      }
    }
  } else if (hashCheck === 'require') {
    throw new SnapshotError('SNAPSHOT_MISSING_HASH', 'snapshot missing hash but --skip-hash-check=false')
  }
  const missing = ['key', 'meta'].filter((name) => !db.bucket(name))
  if (missing.length > 0) {
    throw new SnapshotError('SNAPSHOT_NOT_ETCD', `not an etcd snapshot: the bbolt file has no ${missing.join(' or ')} bucket`)
  }
  return new EtcdSnapshot(db, source.size, sha256, hasTrailer && hashCheck !== 'skip')
}

/**
 * An open etcd snapshot. Every method reads pages on demand; `status()` and `revisions()` run in memory
 * bounded by the page cache, `latestState()` additionally keeps one small index entry per distinct key.
 */
export class EtcdSnapshot {
  readonly format = ETCD_SNAPSHOT_FORMAT

  /** @internal use openEtcdSnapshot */
  constructor(
    readonly db: BoltDb,
    /** Size of the file, trailer included. */
    readonly fileSize: number,
    /** The sha256 trailer, or null for a raw database file. */
    readonly sha256: Buffer | null,
    /** Whether the trailer was checked against the database bytes. */
    readonly hashVerified: boolean,
  ) {}

  /** Names of the top-level buckets, in order (etcd 3.4: alarm, auth, authRoles, authUsers, cluster, key, ...). */
  bucketNames(): string[] {
    return guard(() => this.db.root().bucketNames().map((name) => name.toString('utf8')))
  }

  /**
   * Computes what `etcdctl snapshot status` prints. etcd compat: Status in clientv3/snapshot/v3_snapshot.go;
   * a top-level entry that is not a bucket fails as there. Also checks that keys increase inside every
   * bucket, which catches most page corruption (etcd runs bbolt's tx.Check first).
   */
  status(): EtcdSnapshotStatus {
    return guard(() => {
      const hash = new Crc32c()
      let revision = 0
      let totalKey = 0
      const root = this.db.root()
      for (const top of root.entries()) {
        const name = top.key
        const bucket = top.value === null ? root.bucket(name) : undefined
        if (!bucket) throw new SnapshotError('SNAPSHOT_CORRUPT', `cannot get hash of bucket ${name.toString('utf8')}`)
        hash.update(name)
        const isKeyBucket = name.toString('latin1') === KEY_BUCKET
        let previous: Buffer | null = null
        for (const entry of bucket.entries()) {
          if (previous !== null && previous.compare(entry.key) >= 0) {
            throw new SnapshotError(
              'SNAPSHOT_CORRUPT',
              `snapshot file integrity check failed: keys out of order in bucket ${name.toString('utf8')}`,
            )
          }
          hash.update(entry.key)
          if (entry.value !== null) hash.update(entry.value)
          if (isKeyBucket) revision = decodeRevisionKey(entry.key).main
          totalKey++
          previous = entry.key
        }
      }
      return { hash: hash.digest() >>> 0, revision, totalKey, totalSize: this.db.size }
    })
  }

  /** Every entry of the `key` bucket in revision order: puts and tombstones that survived compaction. */
  *revisions(): Generator<MvccRevisionEntry> {
    yield* guarded(this.revisionsUnguarded())
  }

  /**
   * The live keys at the snapshot's revision, what `etcdctl get "" --from-key` lists: for each key its newest
   * revision, unless that is a tombstone. NB: yielded in revision order (ascending modRevision), not key
   * order; sort if you need etcd's order. Two sequential passes over the `key` bucket: the first keeps only
   * key -> newest revision (memory grows with the number of distinct keys, not with values), the second
   * yields the entries that are newest. Key and value are copies the caller owns.
   */
  *latestState(): Generator<LiveKeyValue> {
    yield* guarded(this.latestStateUnguarded())
  }

  /** Number of live keys (one pass over the `key` bucket, building only the key -> newest revision index). */
  liveKeyCount(): number {
    return guard(() => {
      let count = 0
      for (const newest of this.newestRevisions().values()) if (newest > 0) count++
      return count
    })
  }

  /** The `meta` bucket. */
  meta(): EtcdMetaRecord {
    return guard(() => {
      const bucket = this.requiredBucket('meta')
      const uint64 = (name: string) => {
        const value = bucket.get(name)
        return value === undefined ? null : decodeUint64BE(value, name)
      }
      const revision = (name: string) => {
        const value = bucket.get(name)
        return value === undefined ? null : decodeRevisionKey(value).main
      }
      const confState = bucket.get('confState')
      return {
        consistentIndex: uint64('consistent_index'),
        term: uint64('term'),
        scheduledCompactRevision: revision('scheduledCompactRev'),
        finishedCompactRevision: revision('finishedCompactRev'),
        confState: confState === undefined ? null : confState.toString('utf8'),
      }
    })
  }

  /** Leases from the `lease` bucket, in id order (keys attach to them through MvccKeyValue.lease). */
  leases(): LeaseRecord[] {
    return guard(() => {
      const leases: LeaseRecord[] = []
      for (const entry of this.optionalBucket('lease')?.entries() ?? []) {
        if (entry.value === null) continue
        const lease = decodeLease(entry.value)
        if (entry.key.length !== 8 || entry.key.readBigInt64BE(0) !== lease.id) {
          throw new SnapshotError('SNAPSHOT_CORRUPT', `lease bucket key ${entry.key.toString('hex')} does not match lease ${lease.id}`)
        }
        leases.push(lease)
      }
      return leases
    })
  }

  /** Cluster membership as it was when the snapshot was taken (restore replaces it with the new cluster's). */
  membership(): EtcdMembership {
    return guard(() => {
      const members: MemberRecord[] = []
      for (const entry of this.optionalBucket('members')?.entries() ?? []) {
        if (entry.value !== null) members.push(decodeMember(entry.key, entry.value))
      }
      const removedIds: bigint[] = []
      for (const entry of this.optionalBucket('members_removed')?.entries() ?? []) {
        removedIds.push(parseHexId(entry.key, 'removed member'))
      }
      return { members, removedIds }
    })
  }

  /** Authentication state: enabled flag, auth revision, users (with bcrypt hashes) and roles. */
  auth(): EtcdAuthState {
    return guard(() => {
      const auth = this.optionalBucket('auth')
      const enabled = auth?.get('authEnabled')
      const revision = auth?.get('authRevision')
      const users: AuthUserRecord[] = []
      for (const entry of this.optionalBucket('authUsers')?.entries() ?? []) {
        if (entry.value !== null) users.push(decodeAuthUser(entry.value))
      }
      const roles: AuthRoleRecord[] = []
      for (const entry of this.optionalBucket('authRoles')?.entries() ?? []) {
        if (entry.value !== null) roles.push(decodeAuthRole(entry.value))
      }
      return {
        enabled: enabled !== undefined && enabled.length === 1 && enabled[0] === 1,
        revision: revision === undefined ? null : decodeUint64BE(revision, 'authRevision'),
        users,
        roles,
      }
    })
  }

  /** Closes the file. */
  close(): void {
    this.db.close()
  }

  private *revisionsUnguarded(): Generator<MvccRevisionEntry> {
    for (const entry of this.requiredBucket(KEY_BUCKET).entries()) {
      if (entry.value === null) throw new SnapshotError('SNAPSHOT_CORRUPT', 'nested bucket inside the key bucket')
      yield { revision: decodeRevisionKey(entry.key), kv: decodeKeyValue(entry.value) }
    }
  }

  private *latestStateUnguarded(): Generator<LiveKeyValue> {
    const newest = this.newestRevisions()
    for (const { revision, kv } of this.revisionsUnguarded()) {
      if (revision.tombstone) continue
      const key = kv.key.toString('latin1')
      if (newest.get(key) !== revision.main) continue
      newest.delete(key)
      yield { ...kv, key: Buffer.from(kv.key), value: Buffer.from(kv.value) }
    }
  }

  // Key (latin1) -> main revision of its newest entry, negated when that entry is a tombstone. The main
  // revision alone identifies the entry: etcd rejects a transaction that touches one key twice
  // ("duplicate key given in txn request"), so a key appears at most once per main revision. Storing a
  // number instead of a {main, sub} object keeps the index at about 80 bytes per key.
  private newestRevisions(): Map<string, number> {
    const newest = new Map<string, number>()
    for (const entry of this.requiredBucket(KEY_BUCKET).entries()) {
      if (entry.value === null) throw new SnapshotError('SNAPSHOT_CORRUPT', 'nested bucket inside the key bucket')
      const revision = decodeRevisionKey(entry.key)
      newest.set(decodeKeyValueKey(entry.value).toString('latin1'), revision.tombstone ? -revision.main : revision.main)
    }
    return newest
  }

  private requiredBucket(name: string): BoltBucket {
    const bucket = this.db.bucket(name)
    if (!bucket) throw new SnapshotError('SNAPSHOT_NOT_ETCD', `not an etcd snapshot: no ${name} bucket`)
    return bucket
  }

  private optionalBucket(name: string): BoltBucket | undefined {
    return this.db.bucket(name)
  }
}

const BOLT_TO_SNAPSHOT: Record<BoltError['code'], SnapshotErrorCode> = {
  BOLT_INVALID: 'SNAPSHOT_NOT_ETCD',
  BOLT_VERSION_MISMATCH: 'SNAPSHOT_UNSUPPORTED_VERSION',
  BOLT_CHECKSUM: 'SNAPSHOT_CORRUPT',
  BOLT_TRUNCATED: 'SNAPSHOT_TRUNCATED',
  BOLT_CORRUPT: 'SNAPSHOT_CORRUPT',
}

/** Converts a BoltError into the SnapshotError users see; anything else passes through unchanged. */
export function toSnapshotError(error: unknown): unknown {
  if (!(error instanceof BoltError)) return error
  const prefix = error.code === 'BOLT_INVALID' ? 'not an etcd snapshot: ' : ''
  return new SnapshotError(BOLT_TO_SNAPSHOT[error.code], prefix + error.message)
}

function guard<T>(read: () => T): T {
  try {
    return read()
  } catch (error) {
    throw toSnapshotError(error)
  }
}

function* guarded<T>(inner: Generator<T>): Generator<T> {
  try {
    yield* inner
  } catch (error) {
    throw toSnapshotError(error)
  }
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1')

// A Quorum (SQLite) snapshot or any other SQLite file gets a precise message instead of "no meta page".
function rejectSqlite(source: ByteSource): void {
  const head = Buffer.alloc(SQLITE_HEADER.length)
  if (source.read(head, 0) === head.length && head.equals(SQLITE_HEADER)) {
    throw new SnapshotError('SNAPSHOT_NOT_ETCD', 'not an etcd snapshot: this is a SQLite database, not a bbolt file')
  }
}

function sha256Of(source: ByteSource, length: number): Buffer {
  const hash = createHash('sha256')
  const chunk = Buffer.allocUnsafe(Math.min(HASH_CHUNK_BYTES, length))
  for (let position = 0; position < length; position += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, length - position))
    if (source.read(part, position) !== part.length) {
      throw new SnapshotError('SNAPSHOT_TRUNCATED', `snapshot truncated while hashing at byte ${position}`)
    }
    hash.update(part)
  }
  return hash.digest()
}

// Go's fmt %v of a []byte: "[1 2 255]".
function goBytes(bytes: Buffer): string {
  return `[${[...bytes].join(' ')}]`
}
