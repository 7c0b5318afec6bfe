import { CompareResult, CompareTarget, Etcd3, type ICompare, type IKeyValue, type IOptions, type IRequestOp, type IWatchResponse } from 'etcd3'
import { monotonicMs, type HistoryRecorder, type KeyValue, type Request, type Response, type TxnCompare, type TxnWrite, type WatchEvent, type WatchSegment, type WatchStream } from '../history'
import type { ClientDriver, RequestDriver, WatchRecorder } from './types'

type FaultHandling = NonNullable<IOptions['faultHandling']>
type Policy = NonNullable<FaultHandling['global']>

/**
 * etcd3's default policies retry failed calls (a retried put can be applied twice) and open circuit breakers;
 * a recording client must send every request exactly once. This policy just runs the call.
 */
function passThrough(): Policy {
  const noEvent = () => ({ dispose: () => undefined })
  const policy = {
    onSuccess: noEvent,
    onFailure: noEvent,
    execute: async <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T, signal?: AbortSignal) => fn({ signal: signal ?? new AbortController().signal }),
  }
  return policy as unknown as Policy
}

/** Fault handling for etcd3 that never retries and never trips a breaker. */
export function noRetries(): FaultHandling {
  return { global: passThrough(), host: () => passThrough() }
}

function toKeyValue(kv: IKeyValue | null | undefined): KeyValue | null {
  if (!kv) return null
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: String(kv.lease ?? '0'),
  }
}

// etcd compat: the npm client's enums are numeric (Equal = 0 ... Value = 3). Strings would be silently encoded
// as 0 by proto-loader (reliability-methods.md §4.4), turning every value compare into "version == 0".
const TARGET: Record<TxnCompare['target'], CompareTarget> = { value: CompareTarget.Value, version: CompareTarget.Version, create: CompareTarget.Create, mod: CompareTarget.Mod }
const RESULT: Record<TxnCompare['result'], CompareResult> = { equal: CompareResult.Equal, notEqual: CompareResult.NotEqual, greater: CompareResult.Greater, less: CompareResult.Less }

function toCompare(compare: TxnCompare): ICompare {
  const base: ICompare = { key: Buffer.from(compare.key), target: TARGET[compare.target], result: RESULT[compare.result] }
  switch (compare.target) {
    case 'value':
      return { ...base, value: Buffer.from(String(compare.operand)) }
    case 'version':
      return { ...base, version: Number(compare.operand) }
    case 'create':
      return { ...base, create_revision: Number(compare.operand) }
    case 'mod':
      return { ...base, mod_revision: Number(compare.operand) }
  }
}

function toRequestOp(write: TxnWrite): IRequestOp {
  return write.type === 'put'
    ? { request_put: { key: Buffer.from(write.key), value: Buffer.from(write.value), lease: write.lease ?? 0 } }
    : { request_delete_range: { key: Buffer.from(write.key) } }
}

/** A connection through the npm etcd3 client's raw gRPC stubs. */
class Etcd3Connection implements RequestDriver {
  private readonly client: Etcd3

  constructor(hosts: string[]) {
    this.client = new Etcd3({ hosts, faultHandling: noRetries() })
  }

  call(request: Request, options: { timeoutMs: number; serializable: boolean }): Promise<Response> {
    return this.send(request, options.serializable, { deadline: Date.now() + options.timeoutMs })
  }

  private async send(request: Request, serializable: boolean, options: { deadline: number }): Promise<Response> {
    const { kv, leaseClient } = this.client
    switch (request.kind) {
      case 'get': {
        const res = await kv.range({ key: Buffer.from(request.key), serializable }, options)
        return { kind: 'get', revision: Number(res.header.revision), kv: toKeyValue(res.kvs[0]) }
      }
      case 'put': {
        const res = await kv.put({ key: Buffer.from(request.key), value: Buffer.from(request.value), lease: request.lease ?? 0, prev_kv: true }, options)
        return { kind: 'put', revision: Number(res.header.revision), prevKv: toKeyValue(res.prev_kv) }
      }
      case 'delete': {
        const res = await kv.deleteRange({ key: Buffer.from(request.key), prev_kv: true }, options)
        return { kind: 'delete', revision: Number(res.header.revision), deleted: Number(res.deleted), prevKv: toKeyValue(res.prev_kvs[0]) }
      }
      case 'txn': {
        const res = await kv.txn({ compare: request.compares.map(toCompare), success: request.success.map(toRequestOp), failure: request.failure.map(toRequestOp) }, options)
        return { kind: 'txn', revision: Number(res.header.revision), succeeded: res.succeeded }
      }
      case 'leaseGrant': {
        const res = await leaseClient.leaseGrant({ TTL: request.ttlSeconds }, options)
        return { kind: 'leaseGrant', revision: Number(res.header.revision), leaseId: String(res.ID), ttlSeconds: Number(res.TTL) }
      }
      case 'leaseRevoke': {
        const res = await leaseClient.leaseRevoke({ ID: request.leaseId }, options)
        return { kind: 'leaseRevoke', revision: Number(res.header.revision) }
      }
      case 'leaseKeepAlive':
        return this.keepAlive(request.leaseId, options)
    }
  }

  /** One keep-alive round trip on a fresh LeaseKeepAlive stream (etcd has no unary keep-alive). */
  private async keepAlive(leaseId: string, options: { deadline: number }): Promise<Response> {
    const stream = await this.client.leaseClient.leaseKeepAlive(options)
    try {
      return await new Promise<Response>((resolve, reject) => {
        stream.on('data', (res) => resolve({ kind: 'leaseKeepAlive', revision: Number(res.header.revision), ttlSeconds: Number(res.TTL) }))
        stream.on('error', reject)
        stream.on('end', () => reject(new Error('keep-alive stream ended without a response')))
        stream.write({ ID: leaseId })
      })
    } finally {
      stream.cancel()
    }
  }

  close(): void {
    this.client.close()
  }
}

function toEvent(event: IWatchResponse['events'][number]): WatchEvent {
  const kv = toKeyValue(event.kv)
  if (!kv) throw new Error('watch event without kv')
  return { type: event.type === 'Delete' ? 'delete' : 'put', kv, prevKv: toKeyValue(event.prev_kv) }
}

/**
 * A watcher on `[key, rangeEnd)` pinned to one member, recording every event with prev_kv. It starts at
 * revision 1 and, whenever the stream breaks, opens a new segment at last delivered revision + 1 (the
 * harness does the resuming here; etcd3's own Watcher would hide it).
 */
class Etcd3Watcher implements WatchRecorder {
  readonly stream: WatchStream
  private readonly client: Etcd3
  private stopped = false
  private cancelCurrent: (() => void) | null = null
  private running: Promise<void> = Promise.resolve()
  private nextRevision = 1

  constructor(recorder: HistoryRecorder, watcherId: number, private readonly host: string, private readonly key: string, private readonly rangeEnd: string) {
    this.client = new Etcd3({ hosts: host, faultHandling: noRetries() })
    this.stream = { watcherId, endpoint: host, segments: [] }
    recorder.watches.push(this.stream)
  }

  /** Highest revision delivered so far (0 if none). */
  get lastRevision(): number {
    return this.nextRevision - 1
  }

  async start(): Promise<void> {
    this.running = this.loop()
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const segment: WatchSegment = { startRevision: this.nextRevision, opened: monotonicMs(), responses: [] }
      this.stream.segments.push(segment)
      try {
        await this.watchOnce(segment)
      } catch (error) {
        segment.endReason = error instanceof Error ? error.message : String(error)
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  private async watchOnce(segment: WatchSegment): Promise<void> {
    const stream = await this.client.watchClient.watch()
    await new Promise<void>((resolve, reject) => {
      this.cancelCurrent = () => {
        stream.cancel()
        resolve()
      }
      stream.on('data', (res: IWatchResponse) => {
        if (res.canceled) reject(new Error(`watch canceled: ${res.cancel_reason || 'no reason'} (compact_revision ${res.compact_revision})`))
        if (res.events.length === 0) return
        const events = res.events.map(toEvent)
        segment.responses.push({ at: monotonicMs(), headerRevision: Number(res.header.revision), events })
        this.nextRevision = Math.max(this.nextRevision, ...events.map((e) => e.kv.modRevision + 1))
      })
      stream.on('error', reject)
      stream.on('end', () => reject(new Error('watch stream ended')))
      stream.write({ create_request: { key: Buffer.from(this.key), range_end: Buffer.from(this.rangeEnd), start_revision: segment.startRevision, prev_kv: true } })
    })
    this.cancelCurrent = null
  }

  /** Stops watching; the recorded stream stays in the history. */
  async stop(): Promise<void> {
    this.stopped = true
    this.cancelCurrent?.()
    await this.running
    this.client.close()
  }
}

/** The npm etcd3 client (1.1.2): independent of Quorum's code, so it is the default oracle. */
export const etcd3Driver: ClientDriver = {
  name: 'etcd3',
  connect: (hosts) => new Etcd3Connection(hosts),
  watch: (recorder, watcherId, host, key, rangeEnd) => new Etcd3Watcher(recorder, watcherId, host, key, rangeEnd),
}
