import { EventEmitter } from 'node:events'
import { serviceMethods } from '../proto/services'
import type * as pb from '../proto/types'
import type { Encodable } from '../proto/types'
import { EtcdError, toClientError } from './errors'
import { fromHeader, idToWire, toBigInt, toNumber, type ResponseHeader } from './convert'
import { StreamSession } from './stream-session'
import type { CallOptions, Transport } from './transport'

/** A granted lease. */
export interface LeaseGrant {
  header: ResponseHeader
  id: bigint
  /** The TTL the server chose, in seconds (etcd raises small TTLs to its minimum). */
  ttl: number
}

/** A keepalive answer: the lease's renewed TTL. */
export interface LeaseKeepAliveResult {
  header: ResponseHeader
  id: bigint
  ttl: number
}

/** A lease's remaining time and keys. `ttl` is -1 when the lease does not exist (expired or revoked). */
export interface LeaseTimeToLive {
  header: ResponseHeader
  id: bigint
  ttl: number
  grantedTtl: number
  keys: Buffer[]
}

/** Events of a {@link LeaseKeeper}. */
export interface LeaseKeeperEvents {
  /** The server renewed the lease. */
  keepalive: [result: LeaseKeepAliveResult]
  /** The lease is gone (expired, revoked) or can no longer be kept alive; the keeper has stopped. */
  lost: [error: Error]
}

function fromKeepAlive(response: pb.LeaseKeepAliveResponse): LeaseKeepAliveResult {
  return { header: fromHeader(response.header), id: toBigInt(response.ID), ttl: toNumber(response.TTL, 'TTL') }
}

/**
 * Keeps one lease alive: sends a keepalive every third of its TTL on the client's shared LeaseKeepAlive stream
 * (and at once after a reconnect). Emits 'keepalive' per answer and 'lost' when the server says the lease is
 * gone (TTL 0) or no answer came before the lease's deadline.
 */
export class LeaseKeeper extends EventEmitter<LeaseKeeperEvents> {
  /** When the lease expires unless renewed (ms since the epoch), from the last answer. */
  deadline: number
  /** The last TTL the server granted, in seconds. */
  ttl: number
  private timer: NodeJS.Timeout | null = null
  stopped = false

  constructor(
    readonly id: bigint,
    ttl: number,
    private readonly manager: KeepAliveManager,
  ) {
    super()
    this.ttl = ttl
    this.deadline = Date.now() + ttl * 1000
  }

  /** Stops sending keepalives (the lease then expires on its own unless revoked). */
  close(): void {
    this.manager.remove(this)
  }

  /** (Re)schedules the next keepalive: TTL/3 after the last answer, at least every 500 ms. */
  schedule(send: () => void, delayMs = Math.max(500, (this.ttl * 1000) / 3)): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = null
      if (this.stopped) return
      if (Date.now() > this.deadline) return this.manager.lose(this, new EtcdError('LEASE_NOT_FOUND'))
      send()
      this.schedule(send)
    }, delayMs)
  }

  /** Clears the timer; called by the manager when the keeper stops. */
  stop(): void {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }
}

/** All keepers of one client on one LeaseKeepAlive stream (open while any keeper exists). */
export class KeepAliveManager {
  private readonly session: StreamSession<Encodable<pb.LeaseKeepAliveRequest>, pb.LeaseKeepAliveResponse>
  private readonly keepers = new Map<bigint, LeaseKeeper>()

  constructor(transport: Transport) {
    this.session = new StreamSession(transport, serviceMethods('etcdserverpb.Lease').LeaseKeepAlive, {
      onOpen: () => {
        for (const keeper of this.keepers.values()) this.send(keeper)
      },
      onData: (response) => this.handle(response),
      onLost: () => undefined,
      onFatal: (error) => {
        const reason = error instanceof Error ? error : new Error(String(error))
        for (const keeper of [...this.keepers.values()]) this.lose(keeper, reason)
      },
    })
  }

  /** Starts keeping lease `id` (granted with `ttl` seconds) alive. */
  keep(id: bigint, ttl: number): LeaseKeeper {
    const existing = this.keepers.get(id)
    if (existing) return existing
    const keeper = new LeaseKeeper(id, ttl, this)
    this.keepers.set(id, keeper)
    this.session.start()
    this.send(keeper)
    keeper.schedule(() => this.send(keeper))
    return keeper
  }

  /** Stops keeping `keeper`'s lease alive; closes the stream after the last one. */
  remove(keeper: LeaseKeeper): void {
    keeper.stop()
    if (this.keepers.get(keeper.id) === keeper) this.keepers.delete(keeper.id)
    if (this.keepers.size === 0) this.session.stop()
  }

  /** Stops `keeper` and tells its listeners why. */
  lose(keeper: LeaseKeeper, error: Error): void {
    if (keeper.stopped) return
    this.remove(keeper)
    keeper.emit('lost', error)
  }

  /** Stops every keeper (the client is closing). */
  close(): void {
    for (const keeper of [...this.keepers.values()]) this.remove(keeper)
    this.session.stop()
  }

  private send(keeper: LeaseKeeper): void {
    this.session.write({ ID: idToWire(keeper.id) })
  }

  private handle(response: pb.LeaseKeepAliveResponse): void {
    const keeper = this.keepers.get(toBigInt(response.ID))
    if (!keeper) return
    const result = fromKeepAlive(response)
    // etcd compat: a keepalive for a lease that no longer exists is answered with TTL 0.
    if (result.ttl <= 0) return this.lose(keeper, new EtcdError('LEASE_NOT_FOUND'))
    keeper.ttl = result.ttl
    keeper.deadline = Date.now() + result.ttl * 1000
    keeper.emit('keepalive', result)
  }
}

/** The Lease service: grant, revoke, keep alive (stream or once), time-to-live, list. */
export class LeaseClient {
  private readonly methods = serviceMethods('etcdserverpb.Lease')
  private readonly keepAlives: KeepAliveManager

  constructor(private readonly transport: Transport) {
    this.keepAlives = new KeepAliveManager(transport)
  }

  /** Grants a lease of `ttl` seconds, with ID `options.id` if given (else the server picks one). */
  async grant(ttl: number, options: { id?: bigint } = {}, call: CallOptions = {}): Promise<LeaseGrant> {
    const response = await this.transport.unary(
      this.methods.LeaseGrant,
      { TTL: ttl, ID: idToWire(options.id ?? 0n) },
      call,
      { idempotent: false },
    )
    if (response.error) throw new Error(`etcd lease grant failed: ${response.error}`)
    return { header: fromHeader(response.header), id: toBigInt(response.ID), ttl: toNumber(response.TTL, 'TTL') }
  }

  /** Revokes lease `id`, deleting its keys. Fails with LEASE_NOT_FOUND for an unknown lease. */
  async revoke(id: bigint, call: CallOptions = {}): Promise<{ header: ResponseHeader }> {
    const response = await this.transport.unary(this.methods.LeaseRevoke, { ID: idToWire(id) }, call, {
      idempotent: true,
    })
    return { header: fromHeader(response.header) }
  }

  /** Remaining TTL of lease `id` (-1 if it does not exist), and its keys when `keys` is set. */
  async timeToLive(id: bigint, options: { keys?: boolean } = {}, call: CallOptions = {}): Promise<LeaseTimeToLive> {
    const response = await this.transport.unary(
      this.methods.LeaseTimeToLive,
      { ID: idToWire(id), keys: options.keys ?? false },
      call,
      { idempotent: true },
    )
    return {
      header: fromHeader(response.header),
      id: toBigInt(response.ID),
      ttl: toNumber(response.TTL, 'TTL'),
      grantedTtl: toNumber(response.grantedTTL, 'granted TTL'),
      keys: response.keys,
    }
  }

  /** The IDs of every live lease. */
  async leases(call: CallOptions = {}): Promise<bigint[]> {
    const response = await this.transport.unary(this.methods.LeaseLeases, {}, call, { idempotent: true })
    return response.leases.map((lease) => toBigInt(lease.ID))
  }

  /**
   * Renews lease `id` once (etcdctl `lease keep-alive --once`) on a stream of its own. Fails with
   * LEASE_NOT_FOUND when the lease is gone.
   */
  async keepAliveOnce(id: bigint, call: CallOptions = {}): Promise<LeaseKeepAliveResult> {
    const { stream } = await this.transport.openStream(this.methods.LeaseKeepAlive, call)
    const timeoutMs = call.timeoutMs ?? this.transport.options.callTimeoutMs ?? 10_000
    try {
      const response = await new Promise<pb.LeaseKeepAliveResponse>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`lease keepalive: no answer within ${timeoutMs} ms`)), timeoutMs)
        stream.once('data', (data: pb.LeaseKeepAliveResponse) => (clearTimeout(timer), resolve(data)))
        stream.once('error', (error) => (clearTimeout(timer), reject(toClientError(error))))
        stream.write({ ID: idToWire(id) })
      })
      const result = fromKeepAlive(response)
      if (result.ttl <= 0) throw new EtcdError('LEASE_NOT_FOUND')
      return result
    } finally {
      stream.cancel()
    }
  }

  /**
   * Keeps lease `id` alive until `close()` on the returned keeper (or until it is lost). `ttl` is the lease's
   * TTL in seconds, which sets the first keepalive interval; answers update it.
   */
  keepAlive(id: bigint, ttl: number): LeaseKeeper {
    return this.keepAlives.keep(id, ttl)
  }

  /** Stops every keeper; used when the client closes. */
  close(): void {
    this.keepAlives.close()
  }
}
