// Watch, ported from etcd mvcc/watchable_store.go, watcher.go and watcher_group.go (Apache-2.0).
//
//   commit ──notify──> synced watchers ──send──> stream buffer (bounded) ──poll──> gRPC stream
//                          │ buffer full                    ^
//                          v                                │ retry (syncVictims)
//                       victims ────────────────────────────┘
//   watch(startRevision <= current) -> unsynced ──syncWatchers (batches read from the backend)──> synced
//
// A write never waits for a watcher: a watcher whose stream buffer is full becomes a victim and is retried
// later, and an unsynced watcher catches up from the backend a bounded batch of revisions at a time.
import { assert } from '../util/assert'
import { EMPTY_BYTES, asBuffer, compareBytes } from './bytes'
import { CompactedError, FutureRevisionError, InvalidRequestError } from './errors'
import { type KvStore, indexRangeEnd } from './kv-store'
import type { KeyValue, KvEvent } from './types'

/** etcd compat: chanBufLen, responses a stream buffers before its watchers become victims. */
export const STREAM_BUFFER_RESPONSES = 128
/** etcd compat: maxWatchersPerSync. */
export const MAX_WATCHERS_PER_SYNC = 512
/** Revisions read from the backend per unsynced catch-up step (etcd watchBatchMaxRevs is 1000). */
export const SYNC_BATCH_REVISIONS = 1000

export type WatchFilter = 'NOPUT' | 'NODELETE'

/** WatchCreateRequest as the store takes it. */
export interface WatchCreate {
  key: Uint8Array
  /** As in Range: absent/empty single key, `\0` all keys >= key, else [key, rangeEnd). */
  rangeEnd?: Uint8Array
  /** 0/absent: from the next revision. <= current: replay history from there (compacted: canceled). */
  startRevision?: number
  prevKv?: boolean
  filters?: WatchFilter[]
  progressNotify?: boolean
  /** 0/absent: the stream picks the next free ID (etcd AutoWatchID). */
  watchId?: number
}

/**
 * mvcc.WatchResponse. `compactRevision` != 0 means the watcher's start revision was compacted and the
 * watcher is gone (`canceled` is then true, as the gRPC layer reports it). Events empty + no compaction:
 * a progress notification at `revision`.
 */
export interface WatchResponse {
  watchId: number
  events: KvEvent[]
  revision: number
  compactRevision: number
  canceled: boolean
}

interface Watcher {
  id: number
  key: Buffer
  end: Buffer | undefined
  /** The next revision this watcher must see. */
  minRev: number
  filters: WatchFilter[]
  prevKv: boolean
  progressNotify: boolean
  stream: WatchStream
  victim: boolean
  /** Events were sent since the last progress tick. */
  sentSinceTick: boolean
}

interface EventBatch {
  events: KvEvent[]
  /** Last revision covered by this batch. */
  rev: number
}

function matches(w: Watcher, key: Buffer): boolean {
  if (w.end === undefined) return compareBytes(w.key, key) === 0
  return compareBytes(key, w.key) >= 0 && (w.end.length === 0 || compareBytes(key, w.end) < 0)
}

function changeToEvent(kv: KeyValue, rev: number): KvEvent {
  if (kv.createRevision === 0) {
    return { type: 'DELETE', kv: { key: kv.key, value: EMPTY_BYTES, createRevision: 0, modRevision: rev, version: 0, lease: 0n } }
  }
  return { type: 'PUT', kv }
}

/** A group of watchers indexed for event matching: single keys by key, ranges in a list. */
class WatcherGroup {
  readonly all = new Set<Watcher>()
  private readonly byKey = new Map<string, Set<Watcher>>()
  private readonly ranges = new Set<Watcher>()

  add(w: Watcher): void {
    this.all.add(w)
    if (w.end === undefined) {
      const id = w.key.toString('latin1')
      let set = this.byKey.get(id)
      if (set === undefined) this.byKey.set(id, (set = new Set()))
      set.add(w)
    } else {
      this.ranges.add(w)
    }
  }

  delete(w: Watcher): boolean {
    if (!this.all.delete(w)) return false
    if (w.end === undefined) {
      const id = w.key.toString('latin1')
      const set = this.byKey.get(id)
      set?.delete(w)
      if (set?.size === 0) this.byKey.delete(id)
    } else {
      this.ranges.delete(w)
    }
    return true
  }

  /** Events per watcher whose range the event's key falls in and whose minRev <= the event's revision. */
  batches(events: KvEvent[]): Map<Watcher, KvEvent[]> {
    const out = new Map<Watcher, KvEvent[]>()
    const push = (w: Watcher, ev: KvEvent) => {
      if (ev.kv.modRevision < w.minRev) return
      const list = out.get(w)
      if (list === undefined) out.set(w, [ev])
      else list.push(ev)
    }
    for (const ev of events) {
      const single = this.byKey.get(ev.kv.key.toString('latin1'))
      if (single !== undefined) for (const w of single) push(w, ev)
      for (const w of this.ranges) if (matches(w, ev.kv.key)) push(w, ev)
    }
    return out
  }
}

/** Watch state over a KvStore; create streams with `newWatchStream()`. */
export class WatchableStore {
  private readonly synced = new WatcherGroup()
  private readonly unsynced = new WatcherGroup()
  private readonly victims = new Map<Watcher, EventBatch>()
  private timer: NodeJS.Timeout | undefined

  constructor(
    readonly kv: KvStore,
    private readonly options: { syncBatchRevisions?: number; maxWatchersPerSync?: number } = {},
  ) {
    kv.onCommit((rev, changes) => this.notify(rev, changes))
  }

  /** A new stream (one per gRPC Watch call). */
  newWatchStream(bufferResponses = STREAM_BUFFER_RESPONSES): WatchStream {
    return new WatchStream(this, bufferResponses)
  }

  /** Number of watchers waiting to catch up (unsynced) plus victims. */
  pendingCount(): number {
    return this.unsynced.all.size + this.victims.size
  }

  /**
   * Runs syncVictims and syncWatchers every `intervalMs` (etcd: 100 ms) on a timer that does not keep the
   * process alive. Tests call the two steps directly instead.
   */
  startBackgroundSync(intervalMs = 100): void {
    if (this.timer !== undefined) return
    this.timer = setInterval(() => {
      this.syncVictims()
      this.syncWatchers()
    }, intervalMs)
    this.timer.unref()
  }

  stopBackgroundSync(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  /**
   * After the store's backend was replaced (a Raft snapshot was installed and the KvStore reloaded): every
   * synced watcher must re-read from the new backend, so all become unsynced, keeping their next revision
   * (etcd watchableStore.Restore). Victims keep their pending batch.
   */
  restore(): void {
    for (const w of [...this.synced.all]) {
      this.synced.delete(w)
      this.unsynced.add(w)
    }
  }

  /** @internal */
  addWatcher(w: Watcher, startRev: number): void {
    const current = this.kv.rev()
    const synced = startRev > current || startRev === 0
    if (synced) {
      w.minRev = Math.max(current + 1, startRev)
      this.synced.add(w)
    } else {
      w.minRev = startRev
      this.unsynced.add(w)
    }
  }

  /** @internal */
  removeWatcher(w: Watcher): void {
    this.synced.delete(w)
    this.unsynced.delete(w)
    this.victims.delete(w)
  }

  /** @internal Progress for one watcher: only a synced watcher reports the current revision (etcd progress). */
  progress(w: Watcher): void {
    if (this.synced.all.has(w)) this.send(w, { watchId: w.id, events: [], revision: this.kv.rev(), compactRevision: 0, canceled: false })
  }

  /** @internal */
  isSynced(w: Watcher): boolean {
    return this.synced.all.has(w)
  }

  /**
   * One catch-up step for up to maxWatchersPerSync unsynced watchers: read at most syncBatchRevisions
   * revisions from the backend and send each watcher its events. Returns how many stay unsynced.
   */
  syncWatchers(): number {
    if (this.unsynced.all.size === 0) return 0
    const curRev = this.kv.rev()
    const compactRev = this.kv.compactRevision()
    const chosen: Watcher[] = []
    let minRev = Number.MAX_SAFE_INTEGER
    for (const w of [...this.unsynced.all]) {
      if (chosen.length >= (this.options.maxWatchersPerSync ?? MAX_WATCHERS_PER_SYNC)) break
      if (w.minRev > curRev) {
        // moved here by restore() while waiting for a future revision: nothing to read, back to synced
        this.unsynced.delete(w)
        this.synced.add(w)
        continue
      }
      if (w.minRev < compactRev) {
        // etcd compat: a watcher whose start revision was compacted gets the compact revision and ends
        if (w.stream.offer({ watchId: w.id, events: [], revision: 0, compactRevision: compactRev, canceled: true })) {
          this.unsynced.delete(w)
          w.stream.forget(w.id)
        }
        continue
      }
      chosen.push(w)
      minRev = Math.min(minRev, w.minRev)
    }
    if (chosen.length === 0) return this.unsynced.all.size
    const upper = Math.min(curRev + 1, minRev + (this.options.syncBatchRevisions ?? SYNC_BATCH_REVISIONS))
    const records = this.kv.backend.reader().rangeRecords(minRev, upper, 0)
    const events: KvEvent[] = records.map((r) => (r.tombstone ? changeToEvent(r.kv, r.main) : { type: 'PUT', kv: r.kv }))
    const group = new WatcherGroup()
    for (const w of chosen) group.add(w)
    const batches = group.batches(events)
    for (const w of chosen) {
      if (w.minRev >= upper) continue
      w.minRev = upper
      const evs = batches.get(w)
      const done = upper > curRev
      if (evs !== undefined && !this.send(w, { watchId: w.id, events: evs, revision: curRev, compactRevision: 0, canceled: false })) {
        w.victim = true
        this.victims.set(w, { events: evs, rev: curRev })
        this.unsynced.delete(w)
        continue
      }
      if (done) {
        this.unsynced.delete(w)
        this.synced.add(w)
      }
    }
    return this.unsynced.all.size
  }

  /** Retries the victims' pending responses; delivered watchers go back to synced or unsynced. */
  syncVictims(): void {
    const curRev = this.kv.rev()
    for (const [w, batch] of [...this.victims]) {
      if (!this.send(w, { watchId: w.id, events: batch.events, revision: batch.rev, compactRevision: 0, canceled: false })) continue
      this.victims.delete(w)
      w.victim = false
      if (w.minRev <= curRev) this.unsynced.add(w)
      else this.synced.add(w)
    }
  }

  private notify(rev: number, changes: KeyValue[]): void {
    const events = changes.map((kv) => changeToEvent(kv, rev))
    for (const [w, evs] of this.synced.batches(events)) {
      // NB: unlike etcd, minRev also advances after a successful send, so a restore() never replays
      // events a watcher already received
      w.minRev = rev + 1
      if (this.send(w, { watchId: w.id, events: evs, revision: rev, compactRevision: 0, canceled: false })) continue
      // move the slow watcher to victims
      w.victim = true
      this.victims.set(w, { events: evs, rev })
      this.synced.delete(w)
    }
  }

  /** Filters, adds prevKv and offers the response; false when the stream buffer is full. */
  private send(w: Watcher, resp: WatchResponse): boolean {
    const isProgress = resp.events.length === 0
    let events = resp.events
    if (w.filters.length > 0) {
      events = events.filter((ev) => !((ev.type === 'PUT' && w.filters.includes('NOPUT')) || (ev.type === 'DELETE' && w.filters.includes('NODELETE'))))
    }
    // etcd compat: if every event was filtered out, nothing is sent
    if (!isProgress && events.length === 0) return true
    if (w.prevKv) events = events.map((ev) => ({ ...ev, prevKv: this.prevKvOf(ev) }))
    const ok = w.stream.offer({ ...resp, events })
    if (ok && !isProgress) w.sentSinceTick = true
    return ok
  }

  private prevKvOf(ev: KvEvent): KeyValue | undefined {
    try {
      return this.kv.range({ key: ev.kv.key, revision: ev.kv.modRevision - 1 }).kvs[0]
    } catch (error) {
      if (error instanceof CompactedError || error instanceof FutureRevisionError) return undefined
      throw error
    }
  }
}

/**
 * One client's set of watchers (etcd watchStream). Responses queue in a bounded buffer; the server drains it
 * with `poll()` when `onAvailable` fires (and whenever it can write again).
 */
export class WatchStream {
  private readonly watchers = new Map<number, Watcher>()
  private nextId = 0
  private readonly buffer: WatchResponse[] = []
  /** Called when the buffer goes from empty to non-empty. */
  onAvailable: (() => void) | undefined

  constructor(
    private readonly store: WatchableStore,
    private readonly capacity: number,
  ) {}

  /**
   * Creates a watcher and returns its ID. Throws InvalidRequestError for an empty range (key >= rangeEnd) or
   * an ID already in use on this stream (etcd ErrEmptyWatcherRange / ErrWatcherDuplicateID).
   */
  watch(req: WatchCreate): number {
    const key = Buffer.from(asBuffer(req.key))
    const end = indexRangeEnd(req.rangeEnd)
    if (end !== undefined && end.length > 0 && compareBytes(key, end) >= 0) {
      throw new InvalidRequestError('EMPTY_WATCHER_RANGE', 'mvcc: watcher range is empty')
    }
    let id = req.watchId ?? 0
    if (id === 0) {
      while (this.watchers.has(this.nextId)) this.nextId++
      id = this.nextId++
    } else if (this.watchers.has(id)) {
      throw new InvalidRequestError('WATCHER_DUPLICATE_ID', 'mvcc: duplicate watch ID provided on the WatchStream')
    }
    const w: Watcher = {
      id,
      key,
      end: end === undefined ? undefined : Buffer.from(end),
      minRev: 0,
      filters: req.filters ?? [],
      prevKv: req.prevKv ?? false,
      progressNotify: req.progressNotify ?? false,
      stream: this,
      victim: false,
      sentSinceTick: false,
    }
    this.watchers.set(id, w)
    this.store.addWatcher(w, Math.max(req.startRevision ?? 0, 0))
    return id
  }

  /** Cancels a watcher; false when the ID is unknown. Responses already buffered stay. */
  cancel(id: number): boolean {
    const w = this.watchers.get(id)
    if (w === undefined) return false
    this.store.removeWatcher(w)
    this.watchers.delete(id)
    return true
  }

  /** Asks for a progress notification on one watcher (sent only if it is synced; etcd RequestProgress). */
  requestProgress(id: number): void {
    const w = this.watchers.get(id)
    if (w !== undefined) this.store.progress(w)
  }

  /**
   * etcd 3.5 RequestProgressAll: when every watcher on the stream is synced, the revision to report in one
   * progress response with watch ID -1; undefined when some watcher is still catching up.
   */
  progressAllRevision(): number | undefined {
    for (const w of this.watchers.values()) if (!this.store.isSynced(w)) return undefined
    return this.store.kv.rev()
  }

  /**
   * The periodic progress-notify tick (etcd --experimental-watch-progress-notify-interval): each watcher
   * created with progressNotify that received no events since the last tick gets a progress response.
   */
  progressTick(): void {
    for (const w of this.watchers.values()) {
      if (w.progressNotify && !w.sentSinceTick) this.store.progress(w)
      w.sentSinceTick = false
    }
  }

  /** Takes every buffered response, oldest first. */
  poll(): WatchResponse[] {
    return this.buffer.splice(0, this.buffer.length)
  }

  /** Cancels every watcher (the gRPC stream closed). */
  close(): void {
    for (const id of [...this.watchers.keys()]) this.cancel(id)
  }

  /** IDs of the live watchers. */
  watchIds(): number[] {
    return [...this.watchers.keys()]
  }

  /** @internal Queues a response; false when the buffer is full. */
  offer(resp: WatchResponse): boolean {
    if (!this.watchers.has(resp.watchId)) return true
    if (this.buffer.length >= this.capacity) return false
    this.buffer.push(resp)
    if (this.buffer.length === 1) this.onAvailable?.()
    return true
  }

  /** @internal The store dropped the watcher (compacted start revision). */
  forget(id: number): void {
    assert(this.watchers.has(id), () => `forgetting unknown watcher ${id}`)
    this.watchers.delete(id)
  }
}
