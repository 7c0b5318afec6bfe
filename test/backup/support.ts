import { readFileSync } from 'node:fs'
import type { SnapshotSource } from '../../core/backup/source'

/** A real etcd 3.4 snapshot (db + sha256 trailer) with revision 16 and 293 MVCC records, from the snapshot helper's fixtures. */
export const FIXTURE_SNAPSHOT = readFileSync(new URL('../snapshot/fixtures/tiny.snapshot.db', import.meta.url))
export const FIXTURE_REVISION = 16
export const FIXTURE_TOTAL_KEY = 293

/**
 * Replays `bytes` as a member's snapshot stream in 4 KiB chunks. `failAfterBytes` breaks the stream there
 * (a member dying mid-transfer); `counter.calls` counts snapshots taken.
 */
export function replaySource(bytes: Buffer, options: { failAfterBytes?: number; revision?: number } = {}): SnapshotSource & { calls: number } {
  const source = {
    calls: 0,
    endpoints: ['http://127.0.0.1:1'],
    describe: async () => ({ memberId: '8e9e05c52164694d', clusterId: 'cdf818194e3a8c32', revision: options.revision ?? FIXTURE_REVISION }),
    async *snapshot() {
      source.calls++
      for (let offset = 0; offset < bytes.length; offset += 4096) {
        if (options.failAfterBytes !== undefined && offset >= options.failAfterBytes) throw new Error('connection reset by peer')
        yield bytes.subarray(offset, Math.min(bytes.length, offset + 4096))
      }
    },
  }
  return source
}
