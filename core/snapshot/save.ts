// `snapshot save`: fetches Maintenance.Snapshot from ONE member (Quorum or real etcd) into a file, the way
// etcdctl 3.4 does (clientv3/snapshot/v3_snapshot.go Save, Apache-2.0): write to FILE.part, fsync, rename.
// In addition the sha256 trailer the server sends last is checked against the bytes before it, so a
// damaged transfer never becomes a snapshot file.
import { createHash } from 'node:crypto'
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { EtcdClient } from '../client/client'
import type { TlsOptions } from '../client/transport'
import { ETCD_SNAPSHOT_FORMAT, SHA256_TRAILER_BYTES } from './etcd-snapshot'
import { SnapshotError } from './errors'
import { QUORUM_SNAPSHOT_FORMAT } from './quorum-snapshot'

/** Options of saveSnapshot. */
export interface SaveSnapshotOptions {
  /** Exactly one client URL: a snapshot describes one member (etcdctl refuses several too). */
  endpoint: string
  tls?: TlsOptions
  auth?: { username: string; password: string }
  /** Deadline of the whole transfer (default 30 minutes). */
  timeoutMs?: number
  /** Called at most every `progressIntervalMs` (default 500) and once at the end. */
  onProgress?: (progress: { bytes: number; elapsedMs: number }) => void
  progressIntervalMs?: number
}

/** A saved snapshot file. */
export interface SavedSnapshot {
  path: string
  /** Bytes in the file, trailer included. */
  sizeBytes: number
  /** sha256 of the database bytes (the trailer's value), hex. */
  sha256: string
  format: typeof QUORUM_SNAPSHOT_FORMAT | typeof ETCD_SNAPSHOT_FORMAT
  elapsedMs: number
}

/** Thrown when the save target exists (etcdctl overwrites; Quorum never does). */
export class SnapshotSaveError extends Error {
  readonly code: 'SNAPSHOT_TARGET_EXISTS' | 'SNAPSHOT_TRANSFER_INVALID'
  constructor(code: SnapshotSaveError['code'], message: string) {
    super(message)
    this.code = code
  }
}

function fsyncPath(path: string, flags: string): void {
  const fd = openSync(path, flags)
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Streams a snapshot from `options.endpoint` into `path` (which must not exist): chunks go to `path.part`
 * as they arrive (memory stays flat), the trailer is verified, then the file is fsynced and renamed.
 * On any failure the partial file is removed.
 */
export async function saveSnapshot(path: string, options: SaveSnapshotOptions): Promise<SavedSnapshot> {
  if (existsSync(path)) throw new SnapshotSaveError('SNAPSHOT_TARGET_EXISTS', `${path} already exists; refusing to overwrite it`)
  const part = `${path}.part`
  const started = performance.now()
  const client = new EtcdClient({ endpoints: [options.endpoint], tls: options.tls, auth: options.auth })
  const fd = openSync(part, 'w', 0o600)
  let closed = false
  try {
    const hash = createHash('sha256')
    let pending: Buffer | undefined
    let bytes = 0
    let header: Buffer | undefined
    let lastProgress = 0
    const interval = options.progressIntervalMs ?? 500
    for await (const chunk of client.maintenance.snapshot({ timeoutMs: options.timeoutMs ?? 30 * 60_000 })) {
      // the last message is the trailer: hash every chunk except the final one
      if (pending) hash.update(pending)
      pending = chunk
      header ??= Buffer.from(chunk.subarray(0, 16))
      writeSync(fd, chunk)
      bytes += chunk.length
      const now = performance.now()
      if (options.onProgress && now - lastProgress >= interval) {
        lastProgress = now
        options.onProgress({ bytes, elapsedMs: now - started })
      }
    }
    if (!pending || pending.length !== SHA256_TRAILER_BYTES || bytes <= SHA256_TRAILER_BYTES) {
      throw new SnapshotSaveError('SNAPSHOT_TRANSFER_INVALID', `the server's snapshot stream ended without a sha256 trailer (${bytes} bytes)`)
    }
    const digest = hash.digest()
    if (!digest.equals(pending)) throw new SnapshotError('SNAPSHOT_HASH_MISMATCH', 'the snapshot received does not match the sha256 the server sent')
    fsyncSync(fd)
    closeSync(fd)
    closed = true
    renameSync(part, path)
    fsyncPath(dirname(path), 'r')
    const elapsedMs = performance.now() - started
    options.onProgress?.({ bytes, elapsedMs })
    const format = header?.toString('latin1') === 'SQLite format 3\0' ? QUORUM_SNAPSHOT_FORMAT : ETCD_SNAPSHOT_FORMAT
    return { path, sizeBytes: bytes, sha256: digest.toString('hex'), format, elapsedMs }
  } catch (error) {
    if (!closed) closeSync(fd)
    rmSync(part, { force: true })
    throw error
  } finally {
    client.close()
  }
}
