import { EventEmitter } from 'node:events'
import { serviceMethods } from '../proto/services'
import { EventType, WatchFilterType, type Encodable } from '../proto/types'
import type * as pb from '../proto/types'
import { EtcdError, etcdErrorCodeForMessage } from '../server/grpc/errors'
import {
  fromHeader,
  fromKeyValue,
  rangeEndFor,
  toBuffer,
  toNumber,
  type Bytes,
  type KeyRange,
  type KeyValue,
  type ResponseHeader,
} from './convert'
import { StreamSession } from './stream-session'
import type { Transport } from './transport'

/** What to watch and how. */
export interface WatchOptions extends KeyRange {
  /** First revision to deliver (inclusive); absent means "changes after now". */
  startRevision?: number
  /** Deliver each event's previous key-value pair. */
  prevKv?: boolean
  /** Ask the server for periodic progress notifications while idle. */
  progressNotify?: boolean
  /** Filter out put events. */
  noPut?: boolean
  /** Filter out delete events. */
  noDelete?: boolean
  /** Let the server split huge revisions into fragments (reassembled here). */
  fragment?: boolean
}

/** One change. For a delete, `kv` holds the key with `modRevision` = the deletion's revision and no value. */
export interface WatchEvent {
  type: 'put' | 'delete'
  kv: KeyValue
  prevKv: KeyValue | null
}

/** The events of one watch response, with its header (header.revision = the store revision when sent). */
export interface WatchBatch {
  events: WatchEvent[]
  header: ResponseHeader
}

/** Events a {@link Watcher} emits. */
export interface WatcherEvents {
  /** The server registered the watch (again, after a reconnect). */
  created: [header: ResponseHeader]
  /** Changes, in revision order. */
  events: [batch: WatchBatch]
  /** A progress notification: the watcher has seen every change up to header.revision. */
  progress: [header: ResponseHeader]
  /** The stream broke; the watch resumes from `nextRevision` on a new stream. */
  disconnected: [error: unknown]
  /** The watch ended: `null` after cancel(), else why the server ended it (e.g. EtcdError COMPACTED). */
  canceled: [reason: Error | null]
}

/** The watch was ended by the server because its start revision was compacted away. */
export class WatchCompactedError extends EtcdError {
  constructor(readonly compactRevision: number) {
    super('COMPACTED')
  }
}

const PROGRESS_BROADCAST_WATCH_ID = '-1'

/**
 * One watch. Listen with `on('events', ...)`, or iterate (`for await (const batch of watcher)`), which buffers
 * from the moment iteration starts and ends at cancel (or throws the server's reason). Survives reconnects: it
 * is re-created on the new stream from {@link Watcher.nextRevision}, so no change is lost or repeated unless
 * that revision was compacted meanwhile (then it ends with {@link WatchCompactedError}).
 */
export class Watcher extends EventEmitter<WatcherEvents> {
  /** The server's id for this watch on the current stream; null while not registered. */
  watchId: string | null = null
  /**
   * The revision a re-created watch starts from: the last delivered event's revision + 1 (or the creation
   * header's revision + 1). 0 until known, meaning "now".
   */
  nextRevision: number
  /** Set once the watch ended (canceled by the caller or by the server). */
  done = false
  /** Set while a cancel() waits for the server's confirmation. */
  canceling = false
  /** Fragments of a split response, joined when the last one arrives. */
  fragments: pb.Event[] = []

  constructor(
    readonly key: Buffer,
    readonly options: WatchOptions,
    private readonly manager: WatchManager,
  ) {
    super()
    this.nextRevision = options.startRevision ?? 0
  }

  /** Cancels the watch; resolves once the server confirmed it (or the stream is gone). Idempotent. */
  cancel(): Promise<void> {
    return this.manager.cancel(this)
  }

  /** Iterates batches until cancel(); rethrows the server's reason when it ends the watch. */
  async *[Symbol.asyncIterator](): AsyncGenerator<WatchBatch, void, undefined> {
    const queue: WatchBatch[] = []
    let ended: { reason: Error | null } | null = this.done ? { reason: null } : null
    let wake: (() => void) | null = null
    const onEvents = (batch: WatchBatch) => (queue.push(batch), wake?.())
    const onCanceled = (reason: Error | null) => ((ended = { reason }), wake?.())
    this.on('events', onEvents)
    this.on('canceled', onCanceled)
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift()!
        if (ended) {
          if (ended.reason) throw ended.reason
          return
        }
        await new Promise<void>((resolve) => (wake = resolve))
        wake = null
      }
    } finally {
      this.off('events', onEvents)
      this.off('canceled', onCanceled)
    }
  }
}

function fromEvent(event: pb.Event): WatchEvent {
  if (!event.kv) throw new Error('etcd client: watch event without kv')
  return {
    type: event.type === EventType.DELETE ? 'delete' : 'put',
    kv: fromKeyValue(event.kv),
    prevKv: event.prev_kv ? fromKeyValue(event.prev_kv) : null,
  }
}

interface CancelWaiter {
  resolve: () => void
}

/**
 * All watches of one client, multiplexed on one Watch stream (opened with the first watch, closed with the
 * last). Creates are sent one at a time, because the server answers them in order with the ids it chose; a
 * watch counts as created when its `created` response arrives. On a lost stream every live watch goes back
 * to the create queue and is re-created from its next revision on the new stream.
 */
export class WatchManager {
  private readonly session: StreamSession<Encodable<pb.WatchRequest>, pb.WatchResponse>
  /** Watches waiting for their create request to be sent, in order. */
  private readonly pending: Watcher[] = []
  /** The watch whose create request is in flight. */
  private creating: Watcher | null = null
  /** Registered watches by server watch id. */
  private readonly active = new Map<string, Watcher>()
  private readonly cancelWaiters = new Map<Watcher, CancelWaiter[]>()
  private readonly createWaiters = new Map<Watcher, { resolve: () => void; reject: (error: Error) => void }>()

  constructor(transport: Transport) {
    this.session = new StreamSession(transport, serviceMethods('etcdserverpb.Watch').Watch, {
      onOpen: () => this.pump(),
      onData: (response) => this.handle(response),
      onLost: (error) => this.requeueAll(error),
      onFatal: (error) => this.failAll(error instanceof Error ? error : new Error(String(error))),
    })
  }

  /** Starts watching `key` (see {@link WatchOptions}); resolves once the server registered the watch. */
  async watch(key: Bytes, options: WatchOptions = {}): Promise<Watcher> {
    const watcher = new Watcher(toBuffer(key), options, this)
    const created = new Promise<void>((resolve, reject) => this.createWaiters.set(watcher, { resolve, reject }))
    this.pending.push(watcher)
    this.session.start()
    this.pump()
    await created
    return watcher
  }

  /**
   * Asks the server for a progress notification on the stream (etcd 3.4+): every watch then emits
   * 'progress' with the store's current revision. No-op when no stream is open.
   */
  requestProgress(): boolean {
    return this.session.write({ progress_request: {} })
  }

  /** Cancels `watcher` (see Watcher.cancel). */
  cancel(watcher: Watcher): Promise<void> {
    if (watcher.done) return Promise.resolve()
    const pendingIndex = this.pending.indexOf(watcher)
    if (pendingIndex >= 0) {
      this.pending.splice(pendingIndex, 1)
      this.finish(watcher, null)
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      const waiters = this.cancelWaiters.get(watcher) ?? []
      waiters.push({ resolve })
      this.cancelWaiters.set(watcher, waiters)
      if (watcher.canceling) return
      watcher.canceling = true
      // A watch whose create is in flight is canceled when its `created` response arrives.
      if (watcher.watchId !== null) this.session.write({ cancel_request: { watch_id: watcher.watchId } })
    })
  }

  /** Ends every watch and closes the stream (the client is closing). */
  close(): void {
    this.failAll(null)
  }

  private createRequest(watcher: Watcher): Encodable<pb.WatchRequest> {
    const { options } = watcher
    const filters: number[] = []
    if (options.noPut) filters.push(WatchFilterType.NOPUT)
    if (options.noDelete) filters.push(WatchFilterType.NODELETE)
    return {
      create_request: {
        key: watcher.key,
        range_end: rangeEndFor(watcher.key, options),
        start_revision: watcher.nextRevision,
        progress_notify: options.progressNotify ?? false,
        filters,
        prev_kv: options.prevKv ?? false,
        fragment: options.fragment ?? false,
      },
    }
  }

  /** Sends the next create request if none is in flight. */
  private pump(): void {
    if (this.creating || this.pending.length === 0 || !this.session.isOpen) return
    const watcher = this.pending.shift()!
    this.creating = watcher
    this.session.write(this.createRequest(watcher))
  }

  private handle(response: pb.WatchResponse): void {
    const header = fromHeader(response.header)
    if (response.created) {
      const watcher = this.creating
      this.creating = null
      if (watcher) this.onCreated(watcher, response, header)
      this.pump()
      return
    }
    if (response.watch_id === PROGRESS_BROADCAST_WATCH_ID && !response.canceled) {
      // NB: an answer to a progress request goes to every watch. etcd 3.4 may send it while a watch still
      // catches up, so it does not advance nextRevision.
      for (const watcher of this.active.values()) watcher.emit('progress', header)
      return
    }
    const watcher = this.active.get(response.watch_id)
    if (!watcher) return
    if (response.canceled) {
      this.active.delete(response.watch_id)
      this.finish(watcher, watcher.canceling ? null : this.cancelReason(response))
      return
    }
    if (response.fragment) {
      watcher.fragments.push(...response.events)
      return
    }
    const events = watcher.fragments.length > 0 ? [...watcher.fragments, ...response.events] : response.events
    watcher.fragments = []
    if (events.length === 0) {
      // A progress notification for this watch: it has seen everything up to header.revision.
      watcher.nextRevision = Math.max(watcher.nextRevision, header.revision + 1)
      watcher.emit('progress', header)
      return
    }
    const batch = { events: events.map(fromEvent), header }
    watcher.nextRevision = Math.max(watcher.nextRevision, batch.events[batch.events.length - 1].kv.modRevision + 1)
    watcher.emit('events', batch)
  }

  private onCreated(watcher: Watcher, response: pb.WatchResponse, header: ResponseHeader): void {
    if (response.canceled) {
      // etcd answers a refused create (permission denied, bad id) with created + canceled together.
      this.finish(watcher, this.cancelReason(response))
      return
    }
    watcher.watchId = response.watch_id
    this.active.set(response.watch_id, watcher)
    if (watcher.nextRevision === 0) watcher.nextRevision = header.revision + 1
    this.createWaiters.get(watcher)?.resolve()
    this.createWaiters.delete(watcher)
    watcher.emit('created', header)
    if (watcher.canceling) this.session.write({ cancel_request: { watch_id: response.watch_id } })
  }

  private cancelReason(response: pb.WatchResponse): Error {
    const compactRevision = toNumber(response.compact_revision, 'compact revision')
    if (compactRevision > 0) return new WatchCompactedError(compactRevision)
    // etcd 3.4 sends the Go text of a status error ("rpc error: code = PermissionDenied desc = etcdserver:
    // permission denied"); the etcd message is what follows "desc = ".
    const reason = response.cancel_reason
    const code = etcdErrorCodeForMessage(/ desc = (.*)$/s.exec(reason)?.[1] ?? reason)
    if (code !== undefined) return new EtcdError(code)
    return new Error(`watch canceled by the server: ${reason || 'no reason given'}`)
  }

  /** Ends a watch: resolves cancel and create waiters, emits 'canceled', closes the stream if it was the last. */
  private finish(watcher: Watcher, reason: Error | null): void {
    if (watcher.done) return
    watcher.done = true
    watcher.watchId = null
    const createWaiter = this.createWaiters.get(watcher)
    this.createWaiters.delete(watcher)
    if (createWaiter) {
      if (reason) createWaiter.reject(reason)
      else createWaiter.resolve()
    }
    for (const waiter of this.cancelWaiters.get(watcher) ?? []) waiter.resolve()
    this.cancelWaiters.delete(watcher)
    watcher.emit('canceled', reason)
    if (this.active.size === 0 && this.pending.length === 0 && !this.creating) this.session.stop()
  }

  /** The stream broke: every live watch waits to be re-created from its next revision. */
  private requeueAll(error: unknown): void {
    const live = [...(this.creating ? [this.creating] : []), ...this.active.values()]
    this.creating = null
    this.active.clear()
    const requeued: Watcher[] = []
    for (const watcher of live) {
      watcher.watchId = null
      watcher.fragments = []
      if (watcher.canceling) this.finish(watcher, null)
      else requeued.push(watcher)
    }
    this.pending.unshift(...requeued)
    for (const watcher of requeued) watcher.emit('disconnected', error)
  }

  /** Ends every watch with `reason` (null: a normal close) and stops the stream. */
  private failAll(reason: Error | null): void {
    const all = [...(this.creating ? [this.creating] : []), ...this.pending, ...this.active.values()]
    this.creating = null
    this.pending.length = 0
    this.active.clear()
    this.session.stop()
    for (const watcher of all) this.finish(watcher, reason)
  }
}
