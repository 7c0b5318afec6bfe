import { Server as GrpcServer, status } from '@grpc/grpc-js'
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { KvStore } from '../mvcc/kv-store'
import { Lessor, LeaseIdGenerator, minLeaseTtlSeconds } from '../mvcc/lessor'
import { AlarmStore, BackendQuota } from '../mvcc/quota'
import { WatchableStore } from '../mvcc/watchable-store'
import { ProposalDroppedError } from '../raft/errors'
import { RawNode } from '../raft/raw-node'
import { StateType, type ConfChange, type NodeId, type ReadState } from '../raft/types'
import { MemberDb } from '../storage/member-db'
import { getAppliedIndex, getIdentity, setIdentity } from '../storage/metadata'
import { createMetrics, type QuorumMetrics } from '../metrics/registry'
import { ETCD_GRPC_METHODS } from '../metrics/grpc-methods'
import { createMetricsHttpHandler, type HealthSnapshot } from '../metrics/health'
import { monotonicClock, systemClock, type Clock } from '../util/clock'
import { systemRand } from '../util/rand'
import type { MemberConfig } from './config'
import { ConfigError, urlText } from './config'
import { listenClientUrl, type ClientListener } from './client-listener'
import { resolveMemberTls, type MemberTls } from './tls'
import type { TlsFiles } from '../certs/tls-files'
import { EtcdError } from './grpc/errors'
import { computeMemberId, formatId } from './ids'
import { encodeConfChangeContext, Membership, type ClusterMember, type ConfChangeContext } from './membership'
import { MemberStore, type AppliedConfChange, type ApplyResult } from './member-store'
import { MemberAuth } from './member-auth'
import type { ProposalAuth } from './grpc/auth'
import { NodeHost } from './node-host'
import { answerPeerHashKv, CorruptionChecker } from './corruption'
import { fetchPeerMembers, parseDialMap, PEER_DIAL_MAP_ENV, PeerTransport } from './peer/transport'
import { createSnapshotSink, createSnapshotSource, snapshotDir } from './peer/snapshot-stream'
import { encodeRaftRequest, type InternalRequestBodies, type InternalRequestKind } from './raft-request'
import { RequestIdGenerator, WaitRegistry } from './wait'
import { registerServices } from './grpc/services'
import type { Encodable, ResponseHeader } from '../proto/types'
import type { BackendWriter } from '../mvcc/backend'
import type { TxnRequest, TxnResponse } from '../mvcc/types'

/** The server version Quorum reports (Status, /version, metrics): the etcd API level it implements. */
export const SERVER_VERSION = '3.4.23'
/** The cluster version (major.minor) reported by /version. */
export const CLUSTER_VERSION = '3.4.0'

/** etcd compat (embed/config.go grpcOverheadBytes): gRPC's receive limit is the request limit plus this. */
const GRPC_OVERHEAD_BYTES = 512 * 1024

/** etcd compat (etcdserver ErrTimeoutLeaderTransfer, mapped to DeadlineExceeded by v3rpc). */
export class LeaderTransferTimeoutError extends Error {
  readonly code = status.DEADLINE_EXCEEDED
  readonly details = 'etcdserver: request timed out, leader transfer took too long'
  constructor() {
    super('etcdserver: request timed out, leader transfer took too long')
  }
}

/** A structured log line sink (JSON lines, etcd's zap fields). */
export type MemberLogger = (level: 'debug' | 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void

export interface MemberOptions {
  clock?: Clock
  log?: MemberLogger
}

/** Joins the cluster described by peers' `GET /members`, as etcd does for --initial-cluster-state existing. */
interface PeerMembership {
  clusterId: string
  members: Array<{ id: string; name: string; peerURLs: string[]; clientURLs: string[]; isLearner: boolean }>
}

/**
 * One running member: the Raft node and its host loop, the SQLite-backed state machine, the peer transport,
 * the gRPC services on the client URLs and the metrics/health endpoints. Create with `Member.start`.
 */
export class Member {
  readonly memberId: bigint
  readonly clusterId: bigint
  readonly metrics: QuorumMetrics
  readonly kv: KvStore
  readonly lessor: Lessor
  readonly watchable: WatchableStore
  readonly alarms: AlarmStore
  readonly quota: BackendQuota
  readonly membership: Membership
  readonly leaseIds: LeaseIdGenerator
  /** Authentication and RBAC (auth store, tokens, the gRPC and apply checks); see member-auth.ts. */
  readonly auth: MemberAuth
  readonly log: MemberLogger
  readonly clock: Clock
  readonly stopped: Promise<void>

  private readonly db: MemberDb
  private readonly node: RawNode
  private readonly host: NodeHost
  private readonly transport: PeerTransport
  private readonly corruption: CorruptionChecker
  private readonly grpc: GrpcServer
  private readonly listeners: ClientListener[] = []
  private readonly metricsServers: Array<import('node:http').Server> = []
  private readonly waits = new WaitRegistry<ApplyResult>()
  /** Proposals made since the host last took Readies, fed to Raft in one batch by `flushProposals`. */
  private queuedProposals: { id: bigint; data: Uint8Array }[] = []
  private readonly requestIds: RequestIdGenerator
  private readonly readWaiters: Array<{ index: number; resolve: () => void }> = []
  private readonly pendingReads = new Map<string, Array<{ resolve: () => void; reject: (error: Error) => void }>>()
  private readonly confChangeWaiters = new Map<bigint, Array<(applied: AppliedConfChange) => void>>()
  private readonly timers: NodeJS.Timeout[] = []
  private queuedReads: Array<{ resolve: () => void; reject: (error: Error) => void }> = []
  /** Invariant: true while pendingReads holds the batch of the one ReadIndex round in flight. */
  private readIndexInFlight = false
  private readCounter = 0n
  private readonly peerTotals = new Map<bigint, { sent: number; received: number }>()
  private leaseMaintenanceRunning = false
  private resolveStopped!: () => void
  private stopping = false

  /**
   * The certificate files this member presents to, and the CA it trusts from, other members' client URLs
   * (the forwarding of leader-only calls); null when its client URLs are plain http.
   */
  get clientTlsFiles(): TlsFiles | null {
    return this.tls.client?.watcher.current ?? null
  }

  private constructor(
    readonly config: MemberConfig,
    db: MemberDb,
    identity: { memberId: bigint; clusterId: bigint },
    membership: Membership,
    bootstrapVoters: NodeId[] | null,
    options: MemberOptions,
    private readonly tls: MemberTls,
  ) {
    this.db = db
    // etcd compat (embed/serve.go, v3rpc/grpc.go): the gRPC receive limit is --max-request-bytes + 512 KiB, so a
    // request a little over the limit gets etcd's "request is too large" and a far larger one gRPC's
    // RESOURCE_EXHAUSTED before anything is allocated for it; sends are unlimited (math.MaxInt32 in etcd).
    // No channelz (etcd serves none): grpc-js would otherwise track every call and session for it.
    this.grpc = new GrpcServer({
      'grpc.max_receive_message_length': config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
      'grpc.max_send_message_length': -1,
      'grpc.enable_channelz': 0,
    })
    this.memberId = identity.memberId
    this.clusterId = identity.clusterId
    this.membership = membership
    this.clock = options.clock ?? systemClock
    this.log = options.log ?? (() => undefined)
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve))
    this.requestIds = new RequestIdGenerator(this.memberId, this.clock.now())
    this.metrics = createMetrics({ level: config.metrics, memberId: this.memberId, serverVersion: SERVER_VERSION, clusterVersion: '3.4', quotaBackendBytes: config.quotaBackendBytes })
    this.metrics.preregisterGrpcMethods(ETCD_GRPC_METHODS)

    this.kv = new KvStore(db)
    // Lease TTLs are durations: a wall-clock jump must not expire (or prolong) them (etcd compat, issue 14).
    this.lessor = new Lessor(this.kv, { clock: options.clock ?? monotonicClock, minTtlSeconds: minLeaseTtlSeconds(config.electionMs), checkpointIntervalMs: config.leaseCheckpoint ? undefined : 0 })
    this.watchable = new WatchableStore(this.kv)
    this.alarms = new AlarmStore(db.reader())
    this.quota = new BackendQuota(db, config.quotaBackendBytes)
    this.leaseIds = new LeaseIdGenerator(this.memberId, this.clock)
    this.auth = new MemberAuth(db, this.lessor, {
      authToken: config.authToken,
      authTokenTtlSeconds: config.authTokenTtlSeconds,
      bcryptCost: config.bcryptCost,
      clientCertAuth: config.clientTls.clientCertAuth,
      clock: this.clock,
    })

    this.node = new RawNode({
      id: this.memberId,
      storage: db.raftStorage,
      applied: getAppliedIndex(db),
      electionTick: Math.max(2, Math.round(config.electionMs / config.heartbeatMs)),
      heartbeatTick: 1,
      checkQuorum: true,
      preVote: config.preVote,
      readOnlyOption: 'safe',
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
      maxUncommittedEntriesSize: 1 << 30,
      rand: systemRand,
      logger: (level, message) => this.log(level, message),
    })
    if (bootstrapVoters) this.node.bootstrap(bootstrapVoters)

    const store = new MemberStore({
      db,
      kv: this.kv,
      watchable: this.watchable,
      lessor: this.lessor,
      alarms: this.alarms,
      membership,
      auth: this.auth,
      maxTxnOps: config.maxTxnOps,
      onResults: (results) => this.deliverResults(results),
      onConfChanges: (changes) => this.onConfChanges(changes),
    })
    const snapshots = snapshotDir(config.dataDir)
    this.transport = new PeerTransport({
      memberId: this.memberId,
      clusterId: this.clusterId,
      listenUrls: config.listenPeerUrls,
      tls: tls.peer?.transport,
      onMessage: (message) => this.host.step(message),
      onUnreachable: (peer) => {
        this.node.reportUnreachable(peer)
        this.metrics.peerSentFailures.inc({ To: formatId(peer) })
      },
      onSnapshotStatus: (peer, ok) => this.node.reportSnapshot(peer, ok),
      snapshotSource: createSnapshotSource(db.path, snapshots),
      snapshotSink: createSnapshotSink(snapshots),
      onRemovedSelf: () => {
        this.log('warn', 'the cluster removed this member; stopping')
        void this.stop({ transferLeadership: false })
      },
      isRemoved: (id) => membership.isRemoved(id),
      membersJson: () => JSON.stringify(this.peerMembership()),
      hashKv: (body) => answerPeerHashKv(this.kv, this.memberId, body),
      // Failure drills of local clusters (core/cluster/link-proxy.ts): dial peers through link proxies.
      dialMap: parseDialMap(process.env[PEER_DIAL_MAP_ENV]),
      log: (level, message, fields) => this.log(level, message, fields),
    })
    this.corruption = new CorruptionChecker(this, (url) => this.transport.clientConnectOptions(url))
    this.host = new NodeHost({
      node: this.node,
      store,
      transport: this.transport,
      tickMs: config.heartbeatMs,
      snapshotCount: config.snapshotCount,
      snapshotCatchUpEntries: config.snapshotCatchUpEntries,
      beforeReady: () => this.flushProposals(),
      onSoftState: (state) => this.onSoftState(state.lead, state.raftState),
      onReadStates: (states) => this.onReadStates(states),
      onApplied: (index) => this.onApplied(index),
      onFatal: (error) => {
        this.log('error', 'fatal storage or apply error; stopping the member', { error: error.message })
        void this.stop({ transferLeadership: false, exitCode: 1 })
      },
      onTimings: ({ commitMs, committed }) => {
        this.metrics.walFsync.observe(commitMs / 1000)
        this.metrics.backendCommit.observe(commitMs / 1000)
        if (committed > 0) this.metrics.proposalsApplied.set(this.host.applied)
      },
    })
  }

  /**
   * Opens (or creates) the member's data, joins or bootstraps the cluster, and starts serving. Throws
   * ConfigError for a data dir that belongs to another member, DataDirError for unusable data.
   */
  static async start(config: MemberConfig, options: MemberOptions = {}): Promise<Member> {
    const db = MemberDb.open({ dataDir: config.dataDir })
    try {
      const existing = getIdentity(db)
      let identity: { memberId: bigint; clusterId: bigint }
      let membership: Membership
      let bootstrapVoters: NodeId[] | null = null
      if (existing) {
        if (config.initialClusterState === 'new' && existing.memberId !== config.memberId && getAppliedIndex(db) === 0) {
          throw new ConfigError(`data dir ${config.dataDir} belongs to member ${formatId(existing.memberId)}, not ${formatId(config.memberId)}`)
        }
        identity = existing
        membership = Membership.load(db)
      } else if (config.initialClusterState === 'new') {
        identity = { memberId: config.memberId, clusterId: config.clusterId }
        membership = new Membership()
        // Names are published by each member once it runs (etcd lists unstarted members without a name).
        for (const peerURLs of config.initialCluster.values()) {
          membership.add({ id: computeMemberId(peerURLs, config.initialClusterToken), name: '', peerURLs, clientURLs: [], isLearner: false })
        }
        bootstrapVoters = membership.list().map((m) => m.id)
        db.transaction((tx) => {
          setIdentity(tx, identity)
          membership.save(tx)
        })
      } else {
        ;({ identity, membership } = await Member.joinExisting(config, db))
      }
      const tls = await resolveMemberTls(config, (message) => options.log?.('warn', message))
      const member = new Member(config, db, identity, membership, bootstrapVoters, options, tls)
      try {
        await member.serve()
      } catch (error) {
        // e.g. a client port taken: stop what already runs (peer listener, Ready loop) before the database closes
        await member.stop({ transferLeadership: false })
        throw error
      }
      return member
    } catch (error) {
      db.close()
      throw error
    }
  }

  private static async joinExisting(config: MemberConfig, db: MemberDb): Promise<{ identity: { memberId: bigint; clusterId: bigint }; membership: Membership }> {
    const own = new Set(config.initialAdvertisePeerUrls.map(urlText))
    const peers = [...config.initialCluster.entries()].filter(([name]) => name !== config.name).flatMap(([, urls]) => urls)
    let lastError = 'no other member in --initial-cluster'
    for (const peer of peers) {
      try {
        const answer = JSON.parse(await fetchPeerMembers(peer)) as PeerMembership
        const self = answer.members.find((m) => m.peerURLs.some((url) => own.has(url)))
        if (!self) {
          throw new ConfigError(`member ${config.name} (${[...own].join(',')}) has not been added to the cluster; run \`member add\` first`)
        }
        const membership = new Membership()
        for (const m of answer.members) membership.add({ ...m, id: BigInt(`0x${m.id}`) })
        const identity = { memberId: BigInt(`0x${self.id}`), clusterId: BigInt(`0x${answer.clusterId}`) }
        db.transaction((tx) => {
          setIdentity(tx, identity)
          membership.save(tx)
        })
        return { identity, membership }
      } catch (error) {
        if (error instanceof ConfigError) throw error
        lastError = (error as Error).message
      }
    }
    throw new ConfigError(`cannot fetch cluster info from peer urls: ${lastError}`)
  }

  private peerMembership(): PeerMembership {
    return {
      clusterId: formatId(this.clusterId),
      members: this.membership.list().map((m) => ({ ...m, id: formatId(m.id) })),
    }
  }

  private async serve(): Promise<void> {
    if (this.config.initialCorruptCheck) await this.corruption.checkInitial()
    registerServices(this.grpc, this)
    await this.transport.start()
    for (const member of this.membership.list()) {
      if (member.id !== this.memberId) this.transport.addPeer(member.id, member.peerURLs)
    }
    const metricsHandler = createMetricsHttpHandler({ metrics: this.metrics, status: (needs) => this.healthSnapshot(needs) })
    const http = (request: IncomingMessage, response: ServerResponse) => {
      if (request.url === '/version') {
        response.writeHead(200, { 'Content-Type': 'application/json' })
        response.end(JSON.stringify({ etcdserver: SERVER_VERSION, etcdcluster: CLUSTER_VERSION }))
        return
      }
      void metricsHandler(request, response)
    }
    for (const url of this.config.listenClientUrls) {
      const clientTls = url.protocol === 'https:' ? this.tls.client : null
      const listener = await listenClientUrl({ url, grpc: this.grpc, http, tls: clientTls?.options })
      if (clientTls) clientTls.watcher.onReload(() => listener.setSecureContext(clientTls.current()))
      this.listeners.push(listener)
    }
    for (const url of this.config.listenMetricsUrls) {
      const server = createHttpServer(http)
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        server.listen(Number(url.port), url.hostname, () => resolve())
      })
      this.metricsServers.push(server)
    }
    this.watchable.startBackgroundSync()
    this.host.start()
    this.timers.push(setInterval(() => this.leaseMaintenance(), 500))
    this.timers.push(setInterval(() => this.refreshGauges(), 1000))
    this.corruption.start(this.config.corruptCheckIntervalMs)
    for (const timer of this.timers) timer.unref()
    this.publishAttributes()
    this.log('info', 'serving client requests', {
      name: this.config.name,
      'member-id': formatId(this.memberId),
      'cluster-id': formatId(this.clusterId),
      'client-urls': this.config.listenClientUrls.map(urlText),
    })
  }

  /** Publishes this member's name and client URLs through Raft once a leader exists (etcd's publish). */
  private publishAttributes(): void {
    const attempt = () => {
      if (this.stopping) return
      const self = this.membership.get(this.memberId)
      const clientUrls = this.config.advertiseClientUrls.map(urlText)
      if (self && self.name === this.config.name && self.clientURLs.join(',') === clientUrls.join(',')) return
      this.propose('member_attributes', { member_id: String(this.memberId), name: this.config.name, client_urls: clientUrls }).then(
        () => undefined,
        () => setTimeout(attempt, 500).unref(),
      )
    }
    attempt()
  }

  // ---- Raft plumbing --------------------------------------------------------------------------------------

  /** The current leader's ID, or 0n. */
  get leaderId(): bigint {
    return this.host.leaderId
  }

  get isLeader(): boolean {
    return this.host.raftState === StateType.Leader
  }

  get raftTerm(): number {
    return this.host.currentTerm
  }

  get appliedIndex(): number {
    return this.host.applied
  }

  /** The Raft index of the last entry in this member's log. */
  get raftIndex(): number {
    return this.db.raftStorage.lastIndex()
  }

  /** Whether this member is a learner. */
  get isLearner(): boolean {
    return this.membership.get(this.memberId)?.isLearner ?? false
  }

  /** A response header as etcd fills it (cluster and member ID, revision, raft term). */
  header(revision = this.kv.rev()): ResponseHeader {
    return { cluster_id: String(this.clusterId), member_id: String(this.memberId), revision: String(revision), raft_term: String(this.host.currentTerm) }
  }

  /**
   * `header()` for a response that is only encoded: revision and term as numbers, which protobufjs encodes
   * without parsing a decimal string (see convert.ts wireInt); the IDs exceed 2^53 and stay strings.
   */
  wireHeader(revision = this.kv.rev()): Encodable<ResponseHeader> {
    return { cluster_id: String(this.clusterId), member_id: String(this.memberId), revision, raft_term: this.host.currentTerm }
  }

  /** etcd's request timeout: 5 s plus two election timeouts. */
  get requestTimeoutMs(): number {
    return 5000 + 2 * this.config.electionMs
  }

  /**
   * Proposes a request through Raft and resolves with the applied result. Rejects with etcd's errors:
   * request too large, timed out (no leader or no quorum within the request timeout), stopped. `auth` is the
   * client's identity (MemberAuth.proposalAuth), checked at apply; without it the request is the member's own
   * (auth revision 0: lease expiry, checkpoints, attributes, quota alarms), which apply trusts.
   */
  async propose<K extends InternalRequestKind>(kind: K, body: InternalRequestBodies[K], auth?: ProposalAuth): Promise<unknown> {
    if (this.stopping) throw new EtcdError('STOPPED')
    const id = this.requestIds.next()
    const header = { id: String(id), username: auth?.username ?? '', auth_revision: auth?.auth_revision ?? '0' }
    const data = encodeRaftRequest({ header, request: kind, [kind]: body } as never)
    if (data.length > this.config.maxRequestBytes) throw new EtcdError('REQUEST_TOO_LARGE')
    const result = this.waits.register(id)
    const timer = setTimeout(() => {
      this.metrics.proposalsFailed.inc()
      this.waits.fail(id, new EtcdError('TIMEOUT'))
    }, this.requestTimeoutMs)
    this.queuedProposals.push({ id, data })
    this.host.kick()
    this.metrics.proposalsPending.set(this.waits.size)
    try {
      const applied = await result
      if (applied.error !== undefined) throw applied.error
      return applied.value
    } finally {
      clearTimeout(timer)
      this.metrics.proposalsPending.set(this.waits.size)
    }
  }

  /**
   * Feeds the queued proposals to Raft as one batch: the requests of one turn of the event loop become one
   * MsgProp, appended at once, instead of one append and one round of MsgApps each. etcd compat: without a
   * leader, proposals wait (until their request timeout) for one to appear, retried every heartbeat.
   */
  private flushProposals(): void {
    if (this.queuedProposals.length === 0) return
    const batch = this.queuedProposals.filter((proposal) => this.waits.isPending(proposal.id))
    this.queuedProposals = []
    if (batch.length === 0) return
    try {
      this.node.proposeBatch(batch.map((proposal) => proposal.data))
    } catch (error) {
      if (!(error instanceof ProposalDroppedError)) throw error
      setTimeout(() => {
        this.queuedProposals.push(...batch)
        this.host.kick()
      }, Math.max(10, this.config.heartbeatMs)).unref()
    }
  }

  /** Proposes a membership change and resolves once it is applied. */
  async proposeConfChange(change: ConfChange): Promise<AppliedConfChange> {
    if (this.stopping) throw new EtcdError('STOPPED')
    return new Promise((resolve, reject) => {
      const waiters = this.confChangeWaiters.get(change.nodeId) ?? []
      const timer = setTimeout(() => reject(new EtcdError('TIMEOUT')), this.requestTimeoutMs)
      waiters.push((applied) => {
        clearTimeout(timer)
        resolve(applied)
      })
      this.confChangeWaiters.set(change.nodeId, waiters)
      try {
        this.node.proposeConfChange(change)
        this.host.kick()
      } catch (error) {
        clearTimeout(timer)
        reject(error instanceof ProposalDroppedError ? new EtcdError(error.reason === 'no-leader' ? 'NO_LEADER' : 'TIMEOUT') : error)
      }
    })
  }

  /** A confchange context for MemberAdd/Update. */
  confChangeContext(context: ConfChangeContext): Uint8Array {
    return encodeConfChangeContext(context)
  }

  /**
   * Waits until this member has applied everything committed before the call (Raft ReadIndex, §6.4), so a
   * following local read is linearizable. One ReadIndex round is in flight at a time; the calls that arrive
   * meanwhile share the next one (etcd compat: etcdserver linearizableReadLoop), so a read load costs one
   * heartbeat round per batch, not per turn of the event loop.
   */
  linearizableBarrier(): Promise<void> {
    if (this.stopping) return Promise.reject(new EtcdError('STOPPED'))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new EtcdError('TIMEOUT')), this.requestTimeoutMs)
      timer.unref()
      const waiter = {
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
        reject,
      }
      this.queuedReads.push(waiter)
      if (this.queuedReads.length === 1 && !this.readIndexInFlight) setImmediate(() => this.issueReadIndex())
    })
  }

  private issueReadIndex(): void {
    if (this.readIndexInFlight || this.stopping) return
    const batch = this.queuedReads
    this.queuedReads = []
    if (batch.length === 0) return
    this.readIndexInFlight = true
    const ctx = Buffer.alloc(8)
    ctx.writeBigUInt64BE(++this.readCounter)
    this.pendingReads.set(ctx.toString('hex'), batch)
    const retry = () => {
      // Re-issue while it is pending: a ReadIndex without a leader is dropped by Raft (etcd retries too).
      if (!this.pendingReads.has(ctx.toString('hex')) || this.stopping) return
      this.node.readIndex(ctx)
      this.host.kick()
      setTimeout(retry, Math.max(100, this.config.heartbeatMs * 5)).unref()
    }
    retry()
  }

  private onReadStates(states: ReadState[]): void {
    for (const state of states) {
      const key = Buffer.from(state.requestCtx).toString('hex')
      const batch = this.pendingReads.get(key)
      if (!batch) continue
      this.pendingReads.delete(key)
      this.readIndexInFlight = false
      if (this.queuedReads.length > 0) setImmediate(() => this.issueReadIndex())
      const done = () => batch.forEach((waiter) => waiter.resolve())
      if (this.host.applied >= state.index) done()
      else this.readWaiters.push({ index: state.index, resolve: done })
    }
  }

  private onApplied(index: number): void {
    // NB: etcd sets the commit index; the applied index trails it by at most one Ready here.
    this.metrics.proposalsCommitted.set(index)
    this.metrics.proposalsApplied.set(index)
    for (let i = this.readWaiters.length - 1; i >= 0; i--) {
      if (this.readWaiters[i].index <= index) {
        this.readWaiters[i].resolve()
        this.readWaiters.splice(i, 1)
      }
    }
  }

  private deliverResults(results: ApplyResult[]): void {
    for (const result of results) this.waits.trigger(result.id, result)
  }

  private onConfChanges(changes: AppliedConfChange[]): void {
    for (const applied of changes) {
      const { change } = applied
      const member = this.membership.get(change.nodeId)
      if (this.membership.isRemoved(change.nodeId)) {
        this.transport.removePeer(change.nodeId)
        if (change.nodeId === this.memberId) {
          this.log('warn', 'this member was removed from the cluster; stopping')
          setTimeout(() => void this.stop({ transferLeadership: false }), 200).unref()
        }
      } else if (member && change.nodeId !== this.memberId) {
        this.transport.addPeer(member.id, member.peerURLs)
      }
      const waiters = this.confChangeWaiters.get(change.nodeId) ?? []
      this.confChangeWaiters.delete(change.nodeId)
      for (const waiter of waiters) waiter(applied)
    }
  }

  private onSoftState(lead: bigint, state: StateType): void {
    const wasLeader = this.lessor.isPrimary()
    const isLeader = state === StateType.Leader
    this.metrics.observeLeader(lead)
    this.metrics.setLeader(lead !== 0n, isLeader)
    if (isLeader && !wasLeader) this.lessor.promote(this.config.electionMs)
    if (!isLeader && wasLeader) this.lessor.demote()
    this.log('info', 'raft state changed', { leader: formatId(lead), state: StateType[state], term: this.host.currentTerm })
  }

  /**
   * The leader revokes expired leases and checkpoints remaining TTLs, through Raft (etcd's lessor loop).
   * etcd compat (the fix of etcd-io/etcd#15247 in 3.4.31/3.5.13): a leader that was paused may still believe
   * it leads and revoke leases the new leader has just renewed, so leadership is confirmed with a ReadIndex
   * round (a quorum heartbeat in the current term) before anything is proposed.
   */
  private leaseMaintenance(): void {
    if (!this.lessor.isPrimary() || this.stopping || this.leaseMaintenanceRunning) return
    const expired = this.lessor.expiredLeases()
    const checkpoints = this.lessor.dueCheckpoints()
    if (expired.length === 0 && checkpoints.length === 0) return
    const term = this.host.currentTerm
    this.leaseMaintenanceRunning = true
    this.linearizableBarrier()
      .then(() => {
        if (!this.isLeader || this.host.currentTerm !== term || !this.lessor.isPrimary()) return
        for (const id of expired) {
          this.propose('lease_revoke', { ID: String(id) }).catch((error: Error) => this.log('debug', 'lease revoke failed', { lease: formatId(id), error: error.message }))
        }
        if (checkpoints.length > 0) {
          this.propose('lease_checkpoint', { checkpoints: checkpoints.map((c) => ({ ID: String(c.id), remaining_TTL: String(c.remainingTtlSeconds) })) }).catch(() => undefined)
        }
      })
      .catch(() => this.log('debug', 'leadership not confirmed; lease maintenance skipped'))
      .finally(() => {
        this.leaseMaintenanceRunning = false
      })
  }

  private refreshGauges(): void {
    this.refreshPeerMetrics()
    this.metrics.debuggingKeys.set(this.kv.keyCount())
    this.metrics.dbTotalSize.set(this.db.sizeBytes())
    this.metrics.dbTotalSizeInUse.set(this.db.sizeInUseBytes())
    this.metrics.debuggingCurrentRevision.set(this.kv.rev())
    this.metrics.debuggingCompactRevision.set(this.kv.compactRevision())
  }

  /** Feeds the peer counters and round-trip histogram from the transport's per-peer totals (deltas). */
  private refreshPeerMetrics(): void {
    for (const member of this.membership.list()) {
      if (member.id === this.memberId) continue
      const stats = this.transport.stats(member.id)
      if (!stats) continue
      const label = formatId(member.id)
      const last = this.peerTotals.get(member.id) ?? { sent: 0, received: 0 }
      if (stats.sentBytes > last.sent) this.metrics.peerSentBytes.inc({ To: label }, stats.sentBytes - last.sent)
      if (stats.receivedBytes > last.received) this.metrics.peerReceivedBytes.inc({ From: label }, stats.receivedBytes - last.received)
      this.peerTotals.set(member.id, { sent: stats.sentBytes, received: stats.receivedBytes })
      if (stats.roundTripMs !== null) this.metrics.peerRoundTrip.observe({ To: label }, stats.roundTripMs / 1000)
    }
  }

  /**
   * Serves a read-only Txn from committed state. NB: the store's txn takes a writer; a read-only txn only
   * reads through it, and nothing here is inside a transaction, so the committed reader is enough.
   */
  readOnlyTxn(request: TxnRequest): TxnResponse {
    return this.kv.txn(this.db.reader() as BackendWriter, request)
  }

  /** Database sizes for Status. */
  dbSize(): { size: number; inUse: number } {
    return { size: this.db.sizeBytes(), inUse: this.db.sizeInUseBytes() }
  }

  /**
   * Writes a consistent point-in-time copy of the member database to the new file `path` (SQLite VACUUM
   * INTO, one read transaction), for Maintenance.Snapshot. Returns the revision the copy holds.
   */
  snapshotDatabase(path: string): number {
    const revision = this.kv.rev()
    this.db.vacuumInto(path)
    return revision
  }

  /** Defragments the database (VACUUM). */
  defragment(): void {
    this.db.defragment()
  }

  /**
   * Leadership transfer to `target` (MoveLeader). Resolves when the target leads; rejects on timeout or as soon
   * as `giveUp()` says so.
   */
  async transferLeadership(target: bigint, timeoutMs = this.requestTimeoutMs, giveUp: () => boolean = () => false): Promise<void> {
    this.node.transferLeader(target)
    this.host.kick()
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline && !giveUp()) {
      if (this.host.leaderId === target) return
      await new Promise((resolve) => setTimeout(resolve, this.config.heartbeatMs))
    }
    throw new LeaderTransferTimeoutError()
  }

  /** Raft progress of the followers (leader only): match index per member. */
  progress(): Map<bigint, { match: number; isLearner: boolean; recentActive: boolean }> {
    return this.node.status().progress
  }

  /** Since when (ms since the epoch) this member's connection to peer `id` has been up; null while down. */
  peerActiveSince(id: bigint): number | null {
    return this.transport.stats(id)?.activeSince ?? null
  }

  /** The members (copies). */
  members(): ClusterMember[] {
    return this.membership.list()
  }

  private async healthSnapshot(needs: { serializableRead: boolean; linearizableRead: boolean }): Promise<HealthSnapshot> {
    let linearizableReadError: string | null | undefined
    if (needs.linearizableRead) {
      try {
        await Promise.race([
          this.linearizableBarrier(),
          new Promise((_, reject) => setTimeout(() => reject(new EtcdError('TIMEOUT')), 2000).unref()),
        ])
        linearizableReadError = null
      } catch (error) {
        linearizableReadError = (error as Error).message
      }
    }
    return {
      alarms: this.alarms.list().map((a) => a.alarm),
      hasLeader: this.host.leaderId !== 0n,
      isLearner: this.isLearner,
      serializableReadError: needs.serializableRead ? null : undefined,
      linearizableReadError,
    }
  }

  /**
   * Stops the member: transfers leadership first (graceful shutdown, as etcd on SIGTERM), stops serving,
   * rejects pending requests, closes the database. Idempotent.
   */
  async stop(options: { transferLeadership?: boolean; exitCode?: number } = {}): Promise<void> {
    if (this.stopping) return this.stopped
    if (options.transferLeadership !== false && this.isLeader) {
      const target = this.bestTransferee()
      if (target !== 0n) {
        try {
          // Give up once the target's link drops: it is stopping too (a whole cluster going down at once).
          await this.transferLeadership(target, 3 * this.config.electionMs, () => this.transport.stats(target)?.active === false)
          this.log('info', 'transferred leadership before shutdown', { to: formatId(target) })
        } catch {
          this.log('warn', 'leadership transfer before shutdown timed out')
        }
      }
    }
    this.stopping = true
    for (const timer of this.timers) clearInterval(timer)
    this.corruption.stop()
    this.host.stop()
    this.watchable.stopBackgroundSync()
    this.waits.failAll(new EtcdError('STOPPED'))
    for (const batch of this.pendingReads.values()) batch.forEach((waiter) => waiter.reject(new EtcdError('STOPPED')))
    this.pendingReads.clear()
    this.grpc.forceShutdown()
    await Promise.all(this.listeners.map((listener) => listener.close()))
    await Promise.all(this.metricsServers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
    await this.transport.stop()
    this.tls.client?.watcher.close()
    this.tls.peer?.watcher.close()
    this.db.close()
    if (options.exitCode !== undefined) process.exitCode = options.exitCode
    this.resolveStopped()
  }

  /** The most caught-up voter other than this member (target of a graceful leadership transfer). */
  private bestTransferee(): bigint {
    let best = 0n
    let bestMatch = -1
    for (const [id, progress] of this.node.status().progress) {
      if (id === this.memberId || progress.isLearner || !progress.recentActive || this.transport.stats(id)?.active === false) continue
      if (progress.match > bestMatch) {
        best = id
        bestMatch = progress.match
      }
    }
    return best
  }
}
