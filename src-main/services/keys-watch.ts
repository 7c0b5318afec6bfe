import { prefixRangeEnd, type EtcdClient, type WatchEvent, type Watcher } from '../../core/client'
import type { KeyWatchChange, KeyWatchEvent, KeyWatchRequest } from '../api/keys-api'
import { decodeKey, keyRef } from './keys'
import { ServiceError } from './result'

// The watch panel's watches: one core Watcher each (it re-creates itself on a new stream after a reconnect,
// from the revision after the last delivered event, so nothing is lost or repeated), relayed as contract
// events. Pausing is the renderer's business: it stops the watch and starts a new one from the next revision.

/** Values in watch events are cut at this size (the panel shows a preview; the editor reads the key itself). */
export const WATCH_VALUE_BYTES = 64 * 1024
/** Open watches per app at most; each costs a slot on the cluster's watch stream. */
export const MAX_WATCHES = 32

function toChange(event: WatchEvent): KeyWatchChange {
  const value = event.type === 'put' ? event.kv.value : Buffer.alloc(0)
  const truncated = value.length > WATCH_VALUE_BYTES
  return {
    type: event.type,
    ...keyRef(event.kv.key),
    value: (truncated ? value.subarray(0, WATCH_VALUE_BYTES) : value).toString('base64'),
    size: value.length,
    truncated,
    modRevision: event.kv.modRevision,
    version: event.kv.version,
  }
}

/** The open watches, by the caller's watch id. */
export class KeyWatches {
  private readonly watchers = new Map<string, Watcher>()

  constructor(private readonly emit: (event: KeyWatchEvent) => void) {}

  /** Starts a watch; resolves once the server registered it. A second start with the same id replaces the first. */
  async start(client: EtcdClient, request: KeyWatchRequest): Promise<void> {
    await this.stop(request.watchId)
    if (this.watchers.size >= MAX_WATCHES) throw new ServiceError('invalid_argument', `at most ${MAX_WATCHES} watches at once`)
    const key = decodeKey(request.key)
    const { connectionId, watchId } = request
    const range = request.isPrefix ? { rangeEnd: key.length === 0 ? Buffer.from([0]) : prefixRangeEnd(key) } : {}
    const watcher = await client.watch(key, { ...range, ...(request.startRevision > 0 ? { startRevision: request.startRevision } : {}) })
    this.watchers.set(watchId, watcher)
    const state = (value: 'watching' | 'disconnected' | 'ended', message = '') =>
      this.emit({ connectionId, watchId, kind: 'state', state: value, nextRevision: watcher.nextRevision, message })
    watcher.on('events', (batch) => this.emit({ connectionId, watchId, kind: 'changes', changes: batch.events.map(toChange) }))
    watcher.on('created', () => state('watching'))
    watcher.on('disconnected', (error) => state('disconnected', error instanceof Error ? error.message : String(error)))
    watcher.on('canceled', (reason) => {
      if (this.watchers.get(watchId) === watcher) this.watchers.delete(watchId)
      state('ended', reason?.message ?? '')
    })
    state('watching')
  }

  /** Cancels a watch; unknown ids are ignored. */
  async stop(watchId: string): Promise<void> {
    const watcher = this.watchers.get(watchId)
    if (!watcher) return
    this.watchers.delete(watchId)
    await watcher.cancel()
  }

  /** Cancels every watch (the clients close anyway). */
  async close(): Promise<void> {
    await Promise.all([...this.watchers.keys()].map((id) => this.stop(id)))
  }
}
