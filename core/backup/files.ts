// Backup files in a destination directory and how they are written.
//
//   DEST/<cluster>-<YYYYMMDDTHHMMSS.mmmZ>.db        the snapshot exactly as etcd streamed it (db + sha256 trailer)
//   DEST/<cluster>-<YYYYMMDDTHHMMSS.mmmZ>.db.json   its sidecar (BackupMetadata), written last
//
// Writes go to a hidden temp file in DEST, are fsynced, renamed into place, and the directory is fsynced, so a
// crash leaves either no backup or a complete one; a backup without its sidecar is incomplete and ignored.

import { createHash } from 'node:crypto'
import { closeSync, createReadStream, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { BackupError } from './errors'

/** Format tag of the sidecar JSON; bump when fields change meaning. */
export const BACKUP_METADATA_VERSION = 1

/** The JSON sidecar of one backup. Times in ms since the epoch and ISO strings; sizes in bytes. */
export interface BackupMetadata {
  metadataVersion: number
  cluster: string
  endpoints: string[]
  /** Hex member id of the member that streamed the snapshot, as etcdctl prints it; null when unknown. */
  memberId: string | null
  clusterId: string | null
  /** The member's revision just before the snapshot started (a lower bound of the snapshot's own revision). */
  sourceRevision: number | null
  /** What the snapshot file itself says (read back after saving): revision and MVCC record count. */
  revision: number | null
  totalKey: number | null
  /** Live keys and HashKV the source member reported at `revision` right after the save; null when unknown. */
  liveKeys: number | null
  hashKV: number | null
  /** `etcd-bbolt` or `quorum-sqlite` (see core/snapshot). */
  format: string
  file: string
  sizeBytes: number
  /** sha256 of the whole file (hex), trailer included. */
  sha256: string
  durationMs: number
  startedAt: string
  finishedAt: string
}

const NAME_PATTERN = /^(.+)-(\d{8}T\d{6}\.\d{3}Z)\.db$/

/** Replaces characters that do not belong in a file name; an empty name becomes `cluster`. */
export function safeClusterName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '_')
  return cleaned.length === 0 ? 'cluster' : cleaned
}

/** `<cluster>-<UTC timestamp>.db` for a backup taken at `takenMs`. */
export function backupFileName(cluster: string, takenMs: number): string {
  const stamp = new Date(takenMs).toISOString().replace(/[-:]/g, '')
  return `${safeClusterName(cluster)}-${stamp}.db`
}

/** The cluster and time encoded in a backup file name, or null for other files. */
export function parseBackupFileName(name: string): { cluster: string; takenMs: number } | null {
  const match = NAME_PATTERN.exec(name)
  if (match === null) return null
  const stamp = match[2]!
  const iso = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13)}`
  const takenMs = Date.parse(iso)
  return Number.isNaN(takenMs) ? null : { cluster: match[1]!, takenMs }
}

/** A complete backup found in a destination (its sidecar exists and parses). */
export interface BackupEntry {
  file: string
  path: string
  takenMs: number
  metadata: BackupMetadata
}

/** Complete backups of `cluster` (all clusters when omitted) in `dest`, oldest first. */
export function listBackups(dest: string, cluster?: string): BackupEntry[] {
  const names = new Set(readdirSync(dest))
  const entries: BackupEntry[] = []
  for (const name of names) {
    const parsed = parseBackupFileName(name)
    if (parsed === null || !names.has(`${name}.json`)) continue
    if (cluster !== undefined && parsed.cluster !== safeClusterName(cluster)) continue
    try {
      const metadata = JSON.parse(readFileSync(join(dest, `${name}.json`), 'utf8')) as BackupMetadata
      entries.push({ file: name, path: join(dest, name), takenMs: parsed.takenMs, metadata })
    } catch (error) {
      // A sidecar that does not parse makes the backup incomplete: skip it, as if the sidecar were missing.
      if (!(error instanceof SyntaxError)) throw error
    }
  }
  return entries.sort((a, b) => a.takenMs - b.takenMs)
}

/** Fsyncs a directory so a rename inside it is durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function writeFailed(path: string, error: unknown): BackupError {
  const code = (error as { code?: string }).code ?? 'EIO'
  return new BackupError('BACKUP_WRITE_FAILED', `cannot write ${path}: ${code} (${(error as Error).message})`)
}

/** Writes `data` to `path` atomically (temp file in the same dir, fsync, rename, fsync dir). */
export function writeFileAtomic(dir: string, name: string, data: string | Buffer): void {
  const temp = join(dir, `.${name}.tmp`)
  try {
    const fd = openSync(temp, 'w', 0o600)
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, join(dir, name))
    fsyncDir(dir)
  } catch (error) {
    rmSync(temp, { force: true })
    throw writeFailed(join(dir, name), error)
  }
}

/** What saving a snapshot stream produced. */
export interface SavedStream {
  sizeBytes: number
  /** sha256 (hex) of the whole file. */
  sha256: string
}

/** Progress of a save: bytes so far and elapsed ms. */
export type SaveProgress = (bytes: number, elapsedMs: number) => void

/**
 * Streams `chunks` into DIR/NAME atomically and checks etcd's trailer: the last 32 bytes of the stream must be
 * the sha256 of everything before them. The file keeps the bytes as etcd sent them (trailer included), like
 * `etcdctl snapshot save`. On any failure the temp file is removed and nothing at DIR/NAME changes.
 */
// etcd compat: the trailer check ports clientv3/snapshot/v3_snapshot.go (3.4) `Save`/`saveDB` (Apache-2.0).
export async function saveSnapshotStream(
  chunks: AsyncIterable<Buffer>,
  dir: string,
  name: string,
  options: { nowMs: () => number; onProgress?: SaveProgress },
): Promise<SavedStream> {
  const temp = join(dir, `.${name}.tmp`)
  const startMs = options.nowMs()
  const dbHash = createHash('sha256')
  const fileHash = createHash('sha256')
  let held = Buffer.alloc(0) // the newest <= 32 bytes: the trailer candidate, not yet in dbHash
  let size = 0
  let handle
  try {
    handle = await open(temp, 'w', 0o600)
  } catch (error) {
    throw writeFailed(join(dir, name), error)
  }
  try {
    try {
      for await (const chunk of chunks) {
        const joined = Buffer.concat([held, chunk])
        const cut = Math.max(0, joined.length - 32)
        dbHash.update(joined.subarray(0, cut))
        held = Buffer.from(joined.subarray(cut))
        fileHash.update(chunk)
        try {
          await handle.write(chunk)
        } catch (error) {
          throw writeFailed(join(dir, name), error)
        }
        size += chunk.length
        options.onProgress?.(size, options.nowMs() - startMs)
      }
    } catch (error) {
      if (error instanceof BackupError) throw error
      throw new BackupError('BACKUP_SOURCE_FAILED', `snapshot stream failed after ${size} bytes: ${(error as Error).message}`)
    }
    if (size <= 32) throw new BackupError('BACKUP_TRUNCATED', `snapshot stream ended after ${size} bytes, before a database and its sha256`)
    const expected = dbHash.digest()
    if (!expected.equals(held)) {
      throw new BackupError('BACKUP_CHECKSUM_MISMATCH', `sha256 trailer ${held.toString('hex')} != sha256 of the database ${expected.toString('hex')}`)
    }
    try {
      await handle.sync()
      await handle.close()
      handle = undefined
      renameSync(temp, join(dir, name))
      fsyncDir(dir)
    } catch (error) {
      throw writeFailed(join(dir, name), error)
    }
    return { sizeBytes: size, sha256: fileHash.digest('hex') }
  } finally {
    if (handle !== undefined) {
      await handle.close().catch(() => undefined)
      rmSync(temp, { force: true })
    }
  }
}

/** sha256 (hex) of a file, read in chunks. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}
