// Restore drills: prove a backup can be read back and is the state it claims to be.
//
//   1. the file's sha256 equals the sidecar's (nothing changed on disk since the backup),
//   2. the snapshot opens with its own sha256 trailer required (etcd's restore without --skip-hash-check),
//   3. its revision and MVCC record count equal what the sidecar recorded at save time, and the revision is
//      not older than the member's revision when the save started.

import { SnapshotError } from '../snapshot/errors'
import { ETCD_SNAPSHOT_FORMAT, openEtcdSnapshot } from '../snapshot/etcd-snapshot'
import { isQuorumSnapshotFile, QUORUM_SNAPSHOT_FORMAT, QuorumSnapshot } from '../snapshot/quorum-snapshot'
import { describeError } from './errors'
import { sha256File, type BackupMetadata } from './files'

/** What a snapshot file says about itself. */
export interface SnapshotFacts {
  format: string
  revision: number
  totalKey: number
  hash: number
}

/**
 * Reads format, revision, record count and hash of a snapshot file (real etcd bbolt or Quorum SQLite), with
 * the sha256 trailer required. Throws SnapshotError for a file that is not a valid snapshot.
 */
export function inspectSnapshot(path: string): SnapshotFacts {
  if (isQuorumSnapshotFile(path)) {
    const snapshot = QuorumSnapshot.open(path, { hashCheck: 'require' })
    try {
      const status = snapshot.status()
      return { format: QUORUM_SNAPSHOT_FORMAT, revision: status.revision, totalKey: status.totalKey, hash: status.hash }
    } finally {
      snapshot.close()
    }
  }
  const snapshot = openEtcdSnapshot(path, { hashCheck: 'require' })
  try {
    const status = snapshot.status()
    return { format: ETCD_SNAPSHOT_FORMAT, revision: status.revision, totalKey: status.totalKey, hash: status.hash }
  } finally {
    snapshot.close()
  }
}

/** A drill's verdict; `reason` says what differed or why the file could not be read. */
export interface DrillOutcome {
  passed: boolean
  reason: string | null
  facts: SnapshotFacts | null
}

/** Runs the drill on the backup at `path` against its sidecar. Never throws for a bad backup: it fails. */
export async function drillBackup(path: string, metadata: BackupMetadata): Promise<DrillOutcome> {
  let actualSha: string
  try {
    actualSha = await sha256File(path)
  } catch (error) {
    return { passed: false, reason: `cannot read ${path}: ${describeError(error)}`, facts: null }
  }
  if (actualSha !== metadata.sha256) {
    return { passed: false, reason: `file sha256 ${actualSha} != ${metadata.sha256} recorded at backup time`, facts: null }
  }
  let facts: SnapshotFacts
  try {
    facts = inspectSnapshot(path)
  } catch (error) {
    if (error instanceof SnapshotError) return { passed: false, reason: describeError(error), facts: null }
    throw error
  }
  const problems: string[] = []
  if (facts.format !== metadata.format) problems.push(`format ${facts.format} != ${metadata.format}`)
  if (metadata.revision !== null && facts.revision !== metadata.revision) problems.push(`revision ${facts.revision} != ${metadata.revision}`)
  if (metadata.totalKey !== null && facts.totalKey !== metadata.totalKey) problems.push(`total keys ${facts.totalKey} != ${metadata.totalKey}`)
  // etcd compat: a store that never wrote a key is at revision 1 on the server, but its snapshot has no
  // revision key, so etcdctl snapshot status (and the reader) say 0. That pair is the same empty state.
  const neverWritten = facts.revision === 0 && metadata.sourceRevision === 1
  if (metadata.sourceRevision !== null && facts.revision < metadata.sourceRevision && !neverWritten) {
    problems.push(`revision ${facts.revision} is older than the member's ${metadata.sourceRevision} when the backup started`)
  }
  return { passed: problems.length === 0, reason: problems.length === 0 ? null : problems.join('; '), facts }
}
