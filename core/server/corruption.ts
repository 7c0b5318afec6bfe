import http2 from 'node:http2'
import { CompactedError, FutureRevisionError } from '../mvcc/errors'
import type { KvStore } from '../mvcc/kv-store'
import type { AlarmStore } from '../mvcc/quota'
import { ConfigError } from './config'
import { formatId } from './ids'
import type { ClusterMember } from './membership'
import type { MemberLogger } from './member'
import type { InternalRequestKind } from './raft-request'
import { EtcdError } from './grpc/errors'

// Corruption checks between members, ported from etcd 3.4 etcdserver/corrupt.go (Apache-2.0).
//
//   leader (every --experimental-corrupt-check-time)           each peer
//   h, rev, crev = HashKV(0)
//   GET <peerURL>/members/hashkv {"revision":rev}  ─────────▶  HashKV(rev) -> {"header":{revision},hash,compact_revision}
//   ReadIndex barrier, h2, rev2, crev2 = HashKV(0)
//   own hash changed at the same rev/crev          -> CORRUPT for itself
//   peer revision or compact revision ahead of us  -> CORRUPT for that peer
//   peer compact revision == crev but hash != h    -> CORRUPT for that peer
//   (one alarm per pass, proposed through Raft: every member applies it)
//
// With --experimental-initial-corrupt-check a starting member compares its own HashKV with its peers'
// before it serves and refuses to start on a mismatch at the same compact revision.
// While a CORRUPT alarm is active the applier rejects writes with `etcdserver: corrupt cluster`
// (etcd applierV3Corrupt); serializable and linearizable ranges are served outside the applier and still work.

/** etcd compat: PeerHashKVPath. */
export const PEER_HASHKV_PATH = '/members/hashkv'
/** The header carrying the cluster ID on peer requests (the peer transport checks it, 412 on mismatch). */
export const PEER_CLUSTER_HEADER = 'x-quorum-cluster-id'
/** etcd compat: AlarmType CORRUPT and AlarmRequest ACTIVATE on the wire. */
const ALARM_CORRUPT = 2
const ALARM_ACTIVATE = 1

/** A starting member's data differs from a peer's at the same revision (--experimental-initial-corrupt-check). */
export class DataInconsistencyError extends ConfigError {
  override name = 'DataInconsistencyError'
}

/** etcd's HashKVResponse as JSON on the peer URL (Go json field names, as etcd's hashKVHandler writes it). */
export interface PeerHashKv {
  header: { member_id?: string; revision: number }
  hash: number
  compact_revision: number
}

/** The result of asking one peer: its answer, or why there is none. */
export interface PeerHashKvResult {
  member: ClusterMember
  response: PeerHashKv | null
  /** 'compacted' / 'future-revision' for etcd's ErrCompacted / ErrFutureRev, otherwise the error text. */
  error: string | null
}

/** The request kinds etcd's applierV3Corrupt refuses while a CORRUPT alarm is active. */
const REFUSED_WHEN_CORRUPT: ReadonlySet<InternalRequestKind> = new Set(['put', 'delete_range', 'txn', 'compaction', 'lease_grant', 'lease_revoke'])

/**
 * Throws `etcdserver: corrupt cluster` for a request the applier must refuse while a CORRUPT alarm is active
 * (etcd applierV3Corrupt: Put, Range, DeleteRange, Txn, Compaction, LeaseGrant, LeaseRevoke).
 */
export function checkCorrupt(alarms: AlarmStore, kind: InternalRequestKind): void {
  if (REFUSED_WHEN_CORRUPT.has(kind) && alarms.list('CORRUPT').length > 0) throw new EtcdError('CORRUPT')
}

/**
 * Answers a peer's `GET /members/hashkv` (body `{"revision":N}`) from `kv`. etcd compat (hashKVHandler):
 * 400 with the mvcc error text for a compacted or future revision or a bad body, 200 with the JSON otherwise.
 */
export function answerPeerHashKv(kv: Pick<KvStore, 'hashKv'>, memberId: bigint, body: string): { status: number; body: string } {
  let revision: number
  try {
    const parsed = (body.trim() === '' ? {} : JSON.parse(body)) as { revision?: unknown }
    revision = parsed.revision === undefined ? 0 : Number(parsed.revision)
    if (!Number.isSafeInteger(revision) || revision < 0) throw new Error(`bad revision ${String(parsed.revision)}`)
  } catch (error) {
    return { status: 400, body: (error as Error).message }
  }
  try {
    const result = kv.hashKv(revision)
    const answer: PeerHashKv = { header: { member_id: String(memberId), revision: result.revision }, hash: result.hash, compact_revision: result.compactRevision }
    return { status: 200, body: JSON.stringify(answer) }
  } catch (error) {
    if (error instanceof CompactedError || error instanceof FutureRevisionError) return { status: 400, body: error.message }
    throw error
  }
}

/**
 * Asks the peer at `peerUrl` for its HashKV at `revision` over the peer listener. Resolves with the answer;
 * rejects with Error('compacted'), Error('future-revision') (etcd's ErrCompacted / ErrFutureRev, recognised by
 * the error text as etcd does) or the transport / HTTP error.
 */
export async function fetchPeerHashKv(peerUrl: string, clusterId: bigint, revision: number, connect: http2.SecureClientSessionOptions, timeoutMs: number): Promise<PeerHashKv> {
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const session = http2.connect(peerUrl, connect)
    const timer = setTimeout(() => {
      session.destroy()
      reject(new Error(`timed out asking ${peerUrl} for its hash`))
    }, timeoutMs)
    const fail = (error: Error) => {
      clearTimeout(timer)
      session.destroy()
      reject(error)
    }
    session.on('error', fail)
    // etcd compat: a GET with a JSON body (etcdserver getPeerHashKVHTTP).
    const stream = session.request({ ':method': 'GET', ':path': PEER_HASHKV_PATH, [PEER_CLUSTER_HEADER]: formatId(clusterId), 'content-type': 'application/json' }, { endStream: false })
    const chunks: Buffer[] = []
    let answerStatus = 0
    stream.on('response', (headers) => (answerStatus = Number(headers[':status'])))
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => {
      clearTimeout(timer)
      session.close()
      resolve({ status: answerStatus, text: Buffer.concat(chunks).toString('utf8') })
    })
    stream.on('error', fail)
    stream.end(JSON.stringify({ revision }))
  })
  if (status === 400 && text.includes('required revision has been compacted')) throw new Error('compacted')
  if (status === 400 && text.includes('required revision is a future revision')) throw new Error('future-revision')
  if (status !== 200) throw new Error(`unknown error: HTTP ${status} ${text}`)
  return JSON.parse(text) as PeerHashKv
}

/** What the checker needs from its member (Member satisfies it). */
export interface CorruptionCheckHost {
  readonly memberId: bigint
  readonly clusterId: bigint
  readonly kv: Pick<KvStore, 'hashKv'>
  /** Whether this member leads now (only the leader runs the periodic check). */
  readonly isLeader: boolean
  readonly requestTimeoutMs: number
  members(): ClusterMember[]
  /** Resolves once everything committed before the call is applied here (ReadIndex). */
  linearizableBarrier(): Promise<void>
  propose(kind: 'alarm', body: { action: number; memberID: string; alarm: number }): Promise<unknown>
  log: MemberLogger
}

/** Runs etcd's initial and periodic corruption checks for one member. */
export class CorruptionChecker {
  private timer: NodeJS.Timeout | null = null
  private running = false
  private stopped = false

  /** `connect` gives the HTTP/2 session options for a peer URL (TLS for https peers). */
  constructor(
    private readonly host: CorruptionCheckHost,
    private readonly connect: (url: string) => http2.SecureClientSessionOptions,
  ) {}

  /** etcd compat (monitorKVHash): every `intervalMs` the leader checks its peers; 0 disables. */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer) return
    this.host.log('info', 'enabled corruption checking', { 'local-member-id': formatId(this.host.memberId), interval: `${intervalMs}ms` })
    this.timer = setInterval(() => {
      if (!this.host.isLeader || this.running || this.stopped) return
      this.running = true
      this.checkHashKv()
        .catch((error: Error) => this.host.log('warn', 'failed to check hash KV', { error: error.message }))
        .finally(() => (this.running = false))
    }, intervalMs)
    this.timer.unref()
  }

  /** Stops the periodic check (an answer in flight is ignored). */
  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** etcd compat (getPeerHashKVs): every other member with peer URLs, each URL in turn until one answers. */
  async peerHashKvs(revision: number): Promise<PeerHashKvResult[]> {
    const peers = this.host.members().filter((m) => m.id !== this.host.memberId && m.peerURLs.length > 0)
    return Promise.all(
      peers.map(async (member) => {
        let lastError = 'no peer URL'
        for (const url of member.peerURLs) {
          try {
            return { member, response: await fetchPeerHashKv(url, this.host.clusterId, revision, this.connect(url), this.host.requestTimeoutMs), error: null }
          } catch (error) {
            lastError = (error as Error).message
            this.host.log('warn', 'failed hash kv request', { 'remote-peer-id': formatId(member.id), 'remote-peer-endpoint': url, error: lastError })
          }
        }
        return { member, response: null, error: lastError }
      }),
    )
  }

  /**
   * etcd compat (CheckInitialHashKV): compares this member's HashKV with every peer's at this member's
   * revision; throws DataInconsistencyError when a peer at the same compact revision has another hash.
   * Peers that are behind, compacted past us or unreachable are logged and skipped.
   */
  async checkInitial(): Promise<void> {
    const id = formatId(this.host.memberId)
    this.host.log('info', 'starting initial corruption check', { 'local-member-id': id })
    const own = this.host.kv.hashKv(0)
    let mismatches = 0
    for (const peer of await this.peerHashKvs(own.revision)) {
      const fields = { 'local-member-id': id, 'local-member-hash': own.hash, 'local-member-compact-revision': own.compactRevision, 'remote-peer-id': formatId(peer.member.id) }
      if (peer.response) {
        if (peer.response.hash === own.hash) continue
        if (peer.response.compact_revision === own.compactRevision) {
          this.host.log('warn', 'found different hash values from remote peer', { ...fields, 'remote-peer-hash': peer.response.hash })
          mismatches++
        } else {
          this.host.log('warn', 'found different compact revision values from remote peer', { ...fields, 'remote-peer-compact-revision': peer.response.compact_revision })
        }
      } else if (peer.error === 'future-revision') {
        this.host.log('warn', 'cannot fetch hash from slow remote peer', fields)
      } else if (peer.error === 'compacted') {
        this.host.log('warn', 'cannot fetch hash from remote peer; local member is behind', fields)
      }
    }
    if (mismatches > 0) throw new DataInconsistencyError(`${id} found data inconsistency with peers`)
    this.host.log('info', 'initial corruption checking passed; no corruption', { 'local-member-id': id })
  }

  /**
   * etcd compat (checkHashKV): one leader pass. Returns the member whose CORRUPT alarm was proposed (at most
   * one per pass, as etcd), or null when everything matched.
   */
  async checkHashKv(): Promise<bigint | null> {
    const first = this.host.kv.hashKv(0)
    const peers = await this.peerHashKvs(first.revision)
    await this.host.linearizableBarrier()
    const second = this.host.kv.hashKv(0)
    let alarmed: bigint | null = null
    const mismatch = (memberId: bigint, message: string, fields: Record<string, unknown>) => {
      this.host.log('warn', message, { 'leader-member-id': formatId(this.host.memberId), 'follower-member-id': formatId(memberId), ...fields })
      alarmed ??= memberId
    }
    if (second.hash !== first.hash && second.revision === first.revision && second.compactRevision === first.compactRevision) {
      mismatch(this.host.memberId, 'found hash mismatch', { revision: first.revision, 'hash-1': first.hash, 'hash-2': second.hash })
    }
    for (const peer of peers) {
      const answer = peer.response
      if (!answer) continue
      if (answer.header.revision > second.revision) {
        mismatch(peer.member.id, 'revision from follower must be less than or equal to leader\'s', { 'leader-revision': second.revision, 'follower-revision': answer.header.revision })
      }
      if (answer.compact_revision > second.compactRevision) {
        mismatch(peer.member.id, 'compact revision from follower must be less than or equal to leader\'s', { 'leader-compact-revision': second.compactRevision, 'follower-compact-revision': answer.compact_revision })
      }
      if (answer.compact_revision === first.compactRevision && answer.hash !== first.hash) {
        mismatch(peer.member.id, 'same compact revision then hashes must match', { 'leader-hash': first.hash, 'follower-hash': answer.hash, 'compact-revision': first.compactRevision })
      }
    }
    if (alarmed !== null && !this.stopped) {
      await this.host.propose('alarm', { action: ALARM_ACTIVATE, memberID: String(alarmed), alarm: ALARM_CORRUPT })
    }
    return alarmed
  }
}
