import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, mkdirSync, rmSync } from 'node:fs'
import { open, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { Message } from '../../raft/types'
import { buildStateImageFile, stateImageFileRef } from '../../storage/state-snapshot'

// The body of a streamed Raft snapshot on POST /raft/snapshot, after the MsgSnap frame (whose snapshot carries
// only metadata): the state image file's bytes in chunks, then the 32-byte sha256 of those bytes.
//
//   u32 len | MsgSnap (data empty) | image bytes ............ | sha256(image bytes)
//
// Memory stays flat on both sides: the sender reads the file in chunks, the receiver writes them to a file
// as they arrive (HTTP/2 flow control provides the backpressure); there is no frame-size cap.

const DIGEST_BYTES = 32
const CHUNK_BYTES = 256 * 1024

/** Thrown when a received image is truncated or does not match its checksum. */
export class SnapshotStreamError extends Error {
  readonly code = 'SNAPSHOT_STREAM'
}

/** The stream body for the image file at `path`: its bytes in chunks, then their sha256. */
export function imageBody(path: string): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256')
    for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      hash.update(chunk)
      yield chunk
    }
    yield hash.digest()
  }
  return Readable.from(chunks(), { objectMode: false })
}

/**
 * Writes a received body (see the file comment) to the new file `path`, checks the checksum and fsyncs it.
 * Rejects with SnapshotStreamError (or the I/O error) and removes the file if the body is truncated, damaged
 * or breaks off; the caller then installs nothing. Resolves with the image size in bytes.
 */
export async function receiveImageBody(body: AsyncIterable<Buffer>, path: string): Promise<number> {
  const file = await open(path, 'wx', 0o600)
  const hash = createHash('sha256')
  let tail = Buffer.alloc(0)
  let size = 0
  try {
    for await (const chunk of body) {
      const joined = tail.length === 0 ? chunk : Buffer.concat([tail, chunk])
      const keep = Math.min(DIGEST_BYTES, joined.length)
      const data = joined.subarray(0, joined.length - keep)
      tail = Buffer.from(joined.subarray(joined.length - keep))
      if (data.length === 0) continue
      hash.update(data)
      size += data.length
      await file.write(data)
    }
    if (tail.length < DIGEST_BYTES) throw new SnapshotStreamError(`snapshot body truncated after ${size} bytes`)
    if (!hash.digest().equals(tail)) throw new SnapshotStreamError(`snapshot body of ${size} bytes fails its sha256 check`)
    await file.sync()
    await file.close()
    return size
  } catch (error) {
    await file.close().catch(() => undefined)
    await unlink(path).catch(() => undefined)
    throw error
  }
}

/** Where a member keeps snapshot images in transit: `<data-dir>/snap` (emptied at start). */
export function snapshotDir(dataDir: string): string {
  const dir = join(dataDir, 'snap')
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  return dir
}

/**
 * The leader's PeerTransport snapshotSource for the member database at `dbPath`: builds the state image as
 * applied now on a worker thread into `dir`, and sends its metadata (applied index, its term, the conf state
 * applied with it) with the image body. etcd compat: etcdserver createMergedSnapshotMessage, which sends the
 * current backend rather than the last recorded snapshot, likewise.
 */
export function createSnapshotSource(dbPath: string, dir: string): (message: Message) => Promise<{ message: Message; body: Readable; release: () => void }> {
  return async (message) => {
    const path = join(dir, `out-${randomBytes(6).toString('hex')}.img`)
    const release = () => rmSync(path, { force: true })
    try {
      const metadata = await buildStateImageFile(dbPath, path)
      return { message: { ...message, snapshot: { data: new Uint8Array(), metadata } }, body: imageBody(path), release }
    } catch (error) {
      release()
      throw error
    }
  }
}

/**
 * The follower's PeerTransport snapshotSink: stores the image under `dir` and returns the MsgSnap whose data
 * refers to it (installed in one transaction by MemberStore, which then removes the file).
 */
export function createSnapshotSink(dir: string): (message: Message, body: AsyncIterable<Buffer>) => Promise<Message> {
  return async (message, body) => {
    const snapshot = message.snapshot!
    const path = join(dir, `in-${snapshot.metadata.index}-${randomBytes(6).toString('hex')}.img`)
    await receiveImageBody(body, path)
    return { ...message, snapshot: { ...snapshot, data: stateImageFileRef(path) } }
  }
}
