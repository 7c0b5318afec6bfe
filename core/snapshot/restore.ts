// `snapshot restore`: makes a new member data dir from a snapshot, with etcdutl's semantics (etcd
// etcdutl/snapshot/v3_snapshot.go Restore and 3.4 clientv3/snapshot, Apache-2.0): the keyspace, its history
// and leases come from the snapshot; the cluster is new: member and cluster IDs derive from --initial-cluster
// and --initial-cluster-token, and the Raft state starts at index = number of members, term 1, with every
// member a voter (etcd writes the same as a snapshot plus a WAL). Accepts a Quorum snapshot (SQLite) and a
// real etcd snapshot (bbolt). Refuses a non-empty data dir; writes to a sibling temp dir, then renames.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, rmdirSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { openMvcc } from '../mvcc/mvcc'
import type { ConfState } from '../raft/types'
import { parseInitialCluster } from '../server/config'
import { computeClusterId, computeMemberId, formatId } from '../server/ids'
import { Membership } from '../server/membership'
import { DB_FILE, MemberDb, type MemberTx } from '../storage/member-db'
import { setAppliedIndex, setConfState, setIdentity } from '../storage/metadata'
import { encodeConfState } from '../storage/raft-storage'
import { installSnapshotFile } from '../storage/snapshot-file'
import { systemClock } from '../util/clock'
import { PermissionType, type AuthState } from '../auth/auth-store'
import { AUTH_META_KEY, encodeAuthState } from '../auth/member-meta-backend'
import { openEtcdSnapshot, type EtcdAuthState } from './etcd-snapshot'
import { QuorumSnapshot, isQuorumSnapshotFile } from './quorum-snapshot'

/** Flags of `snapshot restore` (etcdutl's names). */
export interface RestoreOptions {
  file: string
  name: string
  /** `name=url[,name=url...]` */
  initialCluster: string
  initialClusterToken: string
  initialAdvertisePeerUrls: string[]
  dataDir: string
  /** Accept a file without (or with a wrong) sha256 trailer, e.g. a member's raw database file. */
  skipHashCheck?: boolean
  /** Raise the revision by this much (with markCompacted), so clients' watches cannot miss a change. */
  bumpRevision?: number
  markCompacted?: boolean
}

/** What a restore produced. IDs are hex as etcdctl prints them. */
export interface RestoreResult {
  format: 'quorum-sqlite' | 'etcd-bbolt'
  clusterId: string
  memberId: string
  revision: number
  liveKeys: number
  dataDir: string
}

/** A restore refused before anything was written. */
export class RestoreError extends Error {
  constructor(
    readonly code: 'RESTORE_BAD_FLAGS' | 'RESTORE_DATA_DIR_NOT_EMPTY',
    message: string,
  ) {
    super(message)
  }
}

function sameUrls(a: readonly string[], b: readonly string[]): boolean {
  const norm = (urls: readonly string[]) => urls.map((u) => new URL(u).toString()).sort().join(',')
  return norm(a) === norm(b)
}

function checkFlags(options: RestoreOptions): Map<string, string[]> {
  let cluster: Map<string, string[]>
  try {
    cluster = parseInitialCluster(options.initialCluster)
  } catch (error) {
    throw new RestoreError('RESTORE_BAD_FLAGS', `bad --initial-cluster: ${(error as Error).message}`)
  }
  const own = cluster.get(options.name)
  if (!own) throw new RestoreError('RESTORE_BAD_FLAGS', `--initial-cluster has no member named ${JSON.stringify(options.name)} (--name)`)
  if (!sameUrls(own, options.initialAdvertisePeerUrls)) {
    // etcd compat: "--initial-cluster has <urls> but missing from --initial-advertise-peer-urls=<urls>"
    throw new RestoreError('RESTORE_BAD_FLAGS', `--initial-cluster has ${own.join(',')} but missing from --initial-advertise-peer-urls=${options.initialAdvertisePeerUrls.join(',')}`)
  }
  if (options.bumpRevision !== undefined && (!Number.isSafeInteger(options.bumpRevision) || options.bumpRevision < 0)) {
    throw new RestoreError('RESTORE_BAD_FLAGS', `--bump-revision must be a non-negative integer, got ${options.bumpRevision}`)
  }
  if ((options.bumpRevision ?? 0) > 0 && !options.markCompacted) {
    throw new RestoreError('RESTORE_BAD_FLAGS', '--bump-revision needs --mark-compacted (a bumped revision must not be watchable from before it)')
  }
  if (existsSync(options.dataDir) && readdirSync(options.dataDir).length > 0) {
    throw new RestoreError('RESTORE_DATA_DIR_NOT_EMPTY', `data-dir ${JSON.stringify(options.dataDir)} exists and is not empty`)
  }
  return cluster
}

// Copies an etcd snapshot's keyspace history, leases and compaction marks into a fresh member database.
function importEtcd(file: string, workDir: string, skipHashCheck: boolean): void {
  const snapshot = openEtcdSnapshot(file, { hashCheck: skipHashCheck ? 'skip' : 'require' })
  try {
    const db = MemberDb.open({ dataDir: workDir })
    try {
      db.transaction((tx) => {
        for (const { revision, kv } of snapshot.revisions()) {
          tx.putRecord({
            main: revision.main,
            sub: revision.sub,
            tombstone: revision.tombstone,
            kv: { ...kv, key: Buffer.from(kv.key), value: Buffer.from(kv.value) },
          })
        }
        for (const lease of snapshot.leases()) tx.putLease(lease)
        const auth = authStateFromEtcd(snapshot.auth())
        if (auth) tx.statements.memberMetaSet.run(AUTH_META_KEY, encodeAuthState(auth))
        const meta = snapshot.meta()
        if (meta.scheduledCompactRevision !== null) tx.putMeta('scheduledCompactRev', meta.scheduledCompactRevision)
        if (meta.finishedCompactRevision !== null) tx.putMeta('finishedCompactRev', meta.finishedCompactRevision)
      })
    } finally {
      db.close()
    }
  } finally {
    snapshot.close()
  }
}

const PERMISSION_TYPES = { READ: PermissionType.READ, WRITE: PermissionType.WRITE, READWRITE: PermissionType.READWRITE } as const
const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

/**
 * etcd's auth buckets (authUsers with their bcrypt hashes, authRoles, enabled flag, auth revision) as Quorum's
 * auth state; undefined when the snapshot never used auth.
 */
export function authStateFromEtcd(auth: EtcdAuthState): AuthState | undefined {
  if (!auth.enabled && auth.users.length === 0 && auth.roles.length === 0) return undefined
  return {
    enabled: auth.enabled,
    revision: Math.max(1, Number(auth.revision ?? 1n)),
    users: auth.users.map((u) => ({ name: u.name, passwordHash: u.password, roles: [...new Set(u.roles)].sort(), noPassword: u.noPassword })).sort(byName),
    roles: auth.roles
      .map((r) => ({
        name: r.name,
        permissions: r.keyPermissions.map((p) => ({ type: PERMISSION_TYPES[p.permType], key: Buffer.from(p.key), rangeEnd: Buffer.from(p.rangeEnd) })).sort((a, b) => Buffer.compare(a.key, b.key)),
      }))
      .sort(byName),
  }
}

// Gives the database the new cluster's identity, membership and initial Raft state.
function rewriteIdentity(tx: MemberTx, options: RestoreOptions, cluster: Map<string, string[]>): { memberId: bigint; clusterId: bigint } {
  const membership = new Membership()
  for (const [name, peerURLs] of cluster) {
    membership.add({ id: computeMemberId(peerURLs, options.initialClusterToken), name, peerURLs, clientURLs: [], isLearner: false })
  }
  const ids = membership.list().map((m) => m.id)
  const identity = { memberId: computeMemberId(cluster.get(options.name) ?? [], options.initialClusterToken), clusterId: computeClusterId(ids) }
  const confState: ConfState = { voters: ids, learners: [] }
  // etcd compat: the restored Raft log starts at index len(members), term 1, all members voters
  const index = ids.length
  const connection = tx.statements.memberMetaGet.database
  // etcd compat: the restored member keeps the snapshot's users, roles and auth flag (etcd's auth buckets).
  connection.prepare('DELETE FROM member_meta WHERE name <> ?').run(AUTH_META_KEY)
  for (const table of ['member', 'member_removed']) connection.prepare(`DELETE FROM ${table}`).run()
  tx.raftStorage.invalidate()
  tx.statements.entryDeleteAll.run()
  tx.statements.entryInsert.run(index, 1, 0, Buffer.alloc(0))
  tx.statements.hardStateSet.run(1, '0', index)
  tx.statements.snapshotSet.run(index, 1, encodeConfState(confState), Buffer.alloc(0))
  setIdentity(tx, identity)
  membership.save(tx)
  setConfState(tx, confState)
  setAppliedIndex(tx, index)
  return identity
}

function fsyncDir(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * Restores `options.file` into `options.dataDir` (see the file comment). Throws RestoreError for bad flags
 * or a non-empty data dir and SnapshotError for a bad file; on any failure nothing is left at dataDir.
 */
export function restoreSnapshot(options: RestoreOptions): RestoreResult {
  const cluster = checkFlags(options)
  const dataDir = resolve(options.dataDir)
  mkdirSync(dirname(dataDir), { recursive: true })
  const workDir = join(dirname(dataDir), `.${basename(dataDir)}.restoring-${process.pid}`)
  rmSync(workDir, { recursive: true, force: true })
  try {
    const quorumFile = isQuorumSnapshotFile(options.file)
    if (quorumFile) {
      const snapshot = QuorumSnapshot.open(options.file, { hashCheck: options.skipHashCheck ? 'skip' : 'require' })
      try {
        installSnapshotFile(workDir, join(snapshot.dataDir, DB_FILE))
      } finally {
        snapshot.close()
      }
    } else {
      importEtcd(options.file, workDir, options.skipHashCheck ?? false)
    }
    const db = MemberDb.open({ dataDir: workDir, create: 'never', integrityCheck: 'none' })
    let result: RestoreResult
    try {
      const identity = db.transaction((tx) => rewriteIdentity(tx, options, cluster))
      const { kv } = openMvcc(db, { clock: systemClock })
      const bump = options.bumpRevision ?? 0
      if (options.markCompacted) {
        const latest = kv.rev()
        db.transaction((tx) => {
          if (latest > kv.compactRevision()) kv.compact(tx, latest)
          // etcd compat: unsafeBumpRevision + unsafeMarkRevisionCompacted: the store resumes at latest + bump
          tx.putMeta('scheduledCompactRev', latest + bump)
          tx.putMeta('finishedCompactRev', latest + bump)
        })
      }
      result = {
        format: quorumFile ? 'quorum-sqlite' : 'etcd-bbolt',
        clusterId: formatId(identity.clusterId),
        memberId: formatId(identity.memberId),
        revision: kv.rev() + (options.markCompacted ? bump : 0),
        liveKeys: kv.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]), countOnly: true }).count,
        dataDir,
      }
    } finally {
      db.close()
    }
    fsyncDir(workDir)
    if (existsSync(dataDir)) rmdirSync(dataDir) // empty (checked above)
    renameSync(workDir, dataDir)
    fsyncDir(dirname(dataDir))
    return result
  } catch (error) {
    rmSync(workDir, { recursive: true, force: true })
    throw error
  }
}
