// Maintenance.Snapshot: streams a consistent point-in-time copy of the member database, then its SHA-256.
// etcd compat (server/etcdserver/api/v3rpc/maintenance.go, Snapshot, Apache-2.0): 32 KiB blobs with
// remaining_bytes counting down, then one last message whose blob is the sha256 of every byte sent before;
// `etcdctl snapshot save` writes all blobs to the file and `snapshot restore` checks the 32-byte trailer.
import { createHash } from 'node:crypto'
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Server, ServerWritableStream } from '@grpc/grpc-js'
import { serviceDefinition } from '../../proto/services'
import type * as pb from '../../proto/types'
import type { Member } from '../member'
import { toGrpcStatusError } from './errors'

const SERVICE = 'etcdserverpb.Maintenance'
/** etcd compat: snapshotSendBufferSize, 32 KiB per message. */
export const SNAPSHOT_CHUNK_BYTES = 32 * 1024

type SnapshotCall = ServerWritableStream<pb.SnapshotRequest, pb.SnapshotResponse>

function write(call: SnapshotCall, message: pb.SnapshotResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    if (call.cancelled) return reject(new Error('snapshot stream cancelled by the client'))
    // grpc-js calls back once the message is handed to HTTP/2 (flow control): memory stays flat
    call.write(message, (error?: Error | null) => (error ? reject(error) : resolve()))
  })
}

/**
 * Streams the snapshot: the database is first copied to a temporary file (one consistent read transaction),
 * then read back in 32 KiB chunks, so memory does not grow with the database.
 */
export async function streamSnapshot(member: Member, call: SnapshotCall): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'quorum-snapshot-'))
  try {
    const path = join(dir, 'snapshot.db')
    const revision = member.snapshotDatabase(path)
    const total = statSync(path).size
    const hash = createHash('sha256')
    let sent = 0
    let first = true
    for await (const chunk of createReadStream(path, { highWaterMark: SNAPSHOT_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
      hash.update(chunk)
      sent += chunk.length
      // etcd 3.5+ puts the header (revision of the copy) in the first message; 3.4 clients ignore it
      await write(call, { header: first ? member.header(revision) : null, remaining_bytes: String(total - sent), blob: chunk })
      first = false
    }
    await write(call, { header: first ? member.header(revision) : null, remaining_bytes: '0', blob: hash.digest() })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * Serves Maintenance.Snapshot on `server`, replacing the UNIMPLEMENTED default that registerMaintenanceService
 * leaves for it (call after it).
 */
export function registerSnapshotService(server: Server, member: Member): void {
  const method = serviceDefinition(SERVICE).Snapshot
  server.unregister(method.path)
  const handler = (call: SnapshotCall): void => {
    const started = performance.now()
    member.metrics.grpcStarted(SERVICE, 'Snapshot', 'server_stream')
    // etcd compat (authMaintenanceServer.Snapshot): the root role is needed to copy the database.
    member.auth
      .checkMaintenanceAdmin(call)
      .then(() => streamSnapshot(member, call))
      .then(
      () => {
        member.metrics.grpcHandled(SERVICE, 'Snapshot', 'server_stream', 0, (performance.now() - started) / 1000)
        call.end()
      },
      (error: unknown) => {
        const status = toGrpcStatusError(error)
        member.metrics.grpcHandled(SERVICE, 'Snapshot', 'server_stream', status.code, (performance.now() - started) / 1000)
        if (!call.cancelled) call.emit('error', status)
      },
    )
  }
  server.register(method.path, handler, method.responseSerialize, method.requestDeserialize, 'serverStream')
}
