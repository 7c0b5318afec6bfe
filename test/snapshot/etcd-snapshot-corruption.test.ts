import { describe, expect, it } from 'vitest'
import { seededRand } from '../../core/util/rand'
import { SnapshotError } from '../../core/snapshot/errors'
import { openEtcdSnapshotBuffer } from '../../core/snapshot/etcd-snapshot'
import { tinyDatabase } from './fixtures/tiny'

const PAGE = 4096

// Reads everything a restore would read from a database with random bit flips, with the sha256 check
// skipped so the damage reaches the page reader and the record decoders.
function readEverything(bytes: Buffer): void {
  const snapshot = openEtcdSnapshotBuffer(bytes, { hashCheck: 'skip' })
  try {
    snapshot.status()
    for (const entry of snapshot.revisions()) void entry
    for (const kv of snapshot.latestState()) void kv
    snapshot.meta()
    snapshot.leases()
    snapshot.membership()
    snapshot.auth()
  } finally {
    snapshot.close()
  }
}

describe('corrupt snapshot files (hash check skipped)', () => {
  it('random bit flips end in a result or a SnapshotError, never an internal error or a hang', () => {
    const seed = Number(process.env.SNAPSHOT_FUZZ_SEED ?? 20261125)
    const rand = seededRand(seed)
    const pristine = tinyDatabase()
    let refused = 0
    // Half the flips hit page headers and the first element headers, where the structure lives.
    const offset = () => (rand.int(2) === 0 ? rand.int(pristine.length) : rand.int(pristine.length / PAGE) * PAGE + rand.int(96))
    for (let round = 0; round < 150; round++) {
      const bytes = Buffer.from(pristine)
      const flips = Array.from({ length: 1 + rand.int(3) }, () => [offset(), 1 << rand.int(8)])
      for (const [offset, bit] of flips) bytes[offset] ^= bit
      try {
        readEverything(bytes)
      } catch (error) {
        if (!(error instanceof SnapshotError)) {
          throw new Error(`seed ${seed} round ${round} flips ${JSON.stringify(flips)}: ${String(error)}`)
        }
        refused++
      }
    }
    expect(refused).toBeGreaterThan(0)
  })
})
