/** Why a snapshot file was refused; callers (CLI, restore, backup drills) branch on `code`. */
export type SnapshotErrorCode =
  | 'SNAPSHOT_EMPTY' // zero-byte file
  | 'SNAPSHOT_NOT_ETCD' // not a bbolt file, or a bbolt file without etcd's buckets
  | 'SNAPSHOT_TRUNCATED' // shorter than its own meta page (or sha256 trailer) says
  | 'SNAPSHOT_HASH_MISMATCH' // the sha256 trailer does not match the database bytes
  | 'SNAPSHOT_MISSING_HASH' // no sha256 trailer while the caller requires one (etcd's --skip-hash-check=false)
  | 'SNAPSHOT_UNSUPPORTED_VERSION' // a bbolt format version this reader does not know (newer than 2)
  | 'SNAPSHOT_CORRUPT' // broken page structure or MVCC record

/** An expected failure reading a snapshot; the message is meant for the user as is. */
export class SnapshotError extends Error {
  override name = 'SnapshotError'
  constructor(
    readonly code: SnapshotErrorCode,
    message: string,
  ) {
    super(message)
  }
}
