// Quorum snapshot files: what Maintenance.Snapshot streams from a Quorum member (a SQLite member database)
// followed, as with etcd, by the sha256 of the database bytes. Opening one verifies the trailer and the
// database (application id, schema version, integrity) in a private temporary copy, never in place.
import { createHash } from 'node:crypto'
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openMvcc } from '../mvcc/mvcc'
import { DataDirError } from '../storage/errors'
import { MemberDb } from '../storage/member-db'
import { getIdentity } from '../storage/metadata'
import { installSnapshotFile } from '../storage/snapshot-file'
import { systemClock } from '../util/clock'
import { SnapshotError } from './errors'
import { SHA256_TRAILER_BYTES, type EtcdSnapshotStatus, type HashCheck } from './etcd-snapshot'

/** The format name `snapshot status` prints for Quorum files. */
export const QUORUM_SNAPSHOT_FORMAT = 'quorum-sqlite'

const SQLITE_MAGIC = 'SQLite format 3\0'
const COPY_CHUNK = 1024 * 1024

/** Status of a Quorum snapshot: etcd's fields plus the identity of the member it was taken from. */
export interface QuorumSnapshotStatus extends EtcdSnapshotStatus {
  /** HashKV of the store at its revision (what `etcdctl endpoint hashkv` printed for the member). */
  hash: number
  /** Current revision of the store. */
  revision: number
  /** MVCC records (every revision of every key, like etcd's `key` bucket count). */
  totalKey: number
  /** Size of the database without the trailer. */
  totalSize: number
  compactRevision: number
  /** Keys alive at `revision`. */
  liveKeys: number
  /** Hex, as etcdctl prints IDs. */
  clusterId: string
  memberId: string
}

/** Whether `path` starts like a SQLite database (a Quorum snapshot) rather than a bbolt one. */
export function isQuorumSnapshotFile(path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const header = Buffer.alloc(16)
    return readSync(fd, header, 0, 16, 0) === 16 && header.toString('latin1') === SQLITE_MAGIC
  } finally {
    closeSync(fd)
  }
}

// Copies [0, length) of `path` to `target` in 1 MiB chunks, hashing it; memory stays flat.
function copyPrefix(path: string, target: string, length: number): Buffer {
  const hash = createHash('sha256')
  const input = openSync(path, 'r')
  const output = openSync(target, 'wx', 0o600)
  try {
    const buffer = Buffer.alloc(COPY_CHUNK)
    for (let offset = 0; offset < length; ) {
      const read = readSync(input, buffer, 0, Math.min(COPY_CHUNK, length - offset), offset)
      if (read === 0) break
      hash.update(buffer.subarray(0, read))
      writeSync(output, buffer, 0, read)
      offset += read
    }
  } finally {
    closeSync(input)
    closeSync(output)
  }
  return hash.digest()
}

function readTail(path: string, size: number): Buffer {
  const tail = Buffer.alloc(SHA256_TRAILER_BYTES)
  const fd = openSync(path, 'r')
  try {
    readSync(fd, tail, 0, SHA256_TRAILER_BYTES, size - SHA256_TRAILER_BYTES)
  } finally {
    closeSync(fd)
  }
  return tail
}

function toSnapshotError(error: unknown, path: string): unknown {
  if (!(error instanceof DataDirError)) return error
  const detail = error.message.replace(error.path, path)
  switch (error.code) {
    case 'DB_SCHEMA_TOO_NEW':
      return new SnapshotError('SNAPSHOT_UNSUPPORTED_VERSION', detail)
    case 'DB_FOREIGN':
      return new SnapshotError('SNAPSHOT_NOT_ETCD', `${path} is a SQLite database but not a Quorum snapshot`)
    default:
      return new SnapshotError(error.message.includes('truncated') ? 'SNAPSHOT_TRUNCATED' : 'SNAPSHOT_CORRUPT', `${path}: ${detail}`)
  }
}

/** An opened Quorum snapshot: a verified private copy as a member data dir. Call `close()`. */
export class QuorumSnapshot {
  private constructor(
    private readonly workDir: string,
    /** The verified copy, installed as a member data dir (member.db), for restore to adopt. */
    readonly dataDir: string,
    readonly sha256: string | undefined,
  ) {}

  /**
   * Verifies and opens `path`. hashCheck as for etcd files: `verify` checks a trailer when present,
   * `require` refuses a file without one, `skip` ignores it. Throws SnapshotError for bad input.
   */
  static open(path: string, options: { hashCheck?: HashCheck } = {}): QuorumSnapshot {
    const hashCheck = options.hashCheck ?? 'verify'
    const size = statSync(path).size
    if (size === 0) throw new SnapshotError('SNAPSHOT_EMPTY', `${path} is empty`)
    if (!isQuorumSnapshotFile(path)) throw new SnapshotError('SNAPSHOT_NOT_ETCD', `${path} is not a Quorum snapshot (no SQLite header)`)
    const hasTrailer = size % 512 === SHA256_TRAILER_BYTES
    if (!hasTrailer && hashCheck === 'require') throw new SnapshotError('SNAPSHOT_MISSING_HASH', `${path} has no sha256 trailer (use --skip-hash-check for a raw database file)`)
    const bodyLength = hasTrailer ? size - SHA256_TRAILER_BYTES : size
    const workDir = mkdtempSync(join(tmpdir(), 'quorum-snapshot-open-'))
    try {
      const body = join(workDir, 'body.db')
      const digest = copyPrefix(path, body, bodyLength)
      if (hasTrailer && hashCheck !== 'skip' && !digest.equals(readTail(path, size))) {
        throw new SnapshotError('SNAPSHOT_HASH_MISMATCH', `${path}: sha256 mismatch, the file is damaged`)
      }
      const dataDir = join(workDir, 'data')
      try {
        installSnapshotFile(dataDir, body)
      } catch (error) {
        throw toSnapshotError(error, path)
      }
      rmSync(body)
      return new QuorumSnapshot(workDir, dataDir, hasTrailer ? digest.toString('hex') : undefined)
    } catch (error) {
      rmSync(workDir, { recursive: true, force: true })
      throw error
    }
  }

  /** The status `quorum snapshot status` prints. */
  status(): QuorumSnapshotStatus {
    const db = MemberDb.open({ dataDir: this.dataDir, create: 'never', integrityCheck: 'none' })
    try {
      const { kv } = openMvcc(db, { clock: systemClock })
      const hashKv = kv.hashKv(0)
      let totalKey = 0
      db.reader().forEachIndexRecord(() => totalKey++)
      const identity = getIdentity(db)
      return {
        hash: hashKv.hash,
        revision: kv.rev(),
        totalKey,
        totalSize: db.sizeBytes(),
        compactRevision: kv.compactRevision(),
        liveKeys: kv.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), countOnly: true }).count,
        clusterId: identity ? identity.clusterId.toString(16) : '0',
        memberId: identity ? identity.memberId.toString(16) : '0',
      }
    } finally {
      db.close()
    }
  }

  /** Removes the private copy (unless restore adopted it). Idempotent. */
  close(): void {
    rmSync(this.workDir, { recursive: true, force: true })
  }
}
