import { EtcdClient, type KeyValue as CoreKeyValue, type TxnCompare as CoreCompare, type TxnOp, type Watcher } from '../../../core/client/index'
import { monotonicMs, type HistoryRecorder, type KeyValue, type Request, type Response, type TxnCompare, type TxnWrite, type WatchSegment, type WatchStream } from '../history'
import type { ClientDriver, RequestDriver, WatchRecorder } from './types'

function toKeyValue(kv: CoreKeyValue | null | undefined): KeyValue | null {
  if (!kv) return null
  return { key: kv.key.toString(), value: kv.value.toString(), createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, lease: kv.lease.toString() }
}

const RESULT: Record<TxnCompare['result'], CoreCompare['result']> = { equal: '=', notEqual: '!=', greater: '>', less: '<' }

function toCompare(compare: TxnCompare): CoreCompare {
  const value = compare.target === 'value' ? String(compare.operand) : Number(compare.operand)
  return { key: compare.key, target: compare.target, result: RESULT[compare.result], value }
}

function toTxnOp(write: TxnWrite): TxnOp {
  return write.type === 'put'
    ? { type: 'put', key: write.key, value: write.value, options: { lease: BigInt(write.lease ?? 0) } }
    : { type: 'delete', key: write.key }
}

/** A connection through Quorum's EtcdClient, with failover and retries off (maxAttempts 1). */
class CoreConnection implements RequestDriver {
  private readonly client: EtcdClient

  constructor(hosts: string[]) {
    this.client = new EtcdClient({ endpoints: hosts, retry: { maxAttempts: 1 } })
  }

  async call(request: Request, options: { timeoutMs: number; serializable: boolean }): Promise<Response> {
    const { kv, lease } = this.client
    const call = { timeoutMs: options.timeoutMs }
    switch (request.kind) {
      case 'get': {
        const res = await kv.range(request.key, { serializable: options.serializable }, call)
        return { kind: 'get', revision: res.header.revision, kv: toKeyValue(res.kvs[0]) }
      }
      case 'put': {
        const res = await kv.put(request.key, request.value, { lease: BigInt(request.lease ?? 0), prevKv: true }, call)
        return { kind: 'put', revision: res.header.revision, prevKv: toKeyValue(res.prevKv) }
      }
      case 'delete': {
        const res = await kv.delete(request.key, { prevKv: true }, call)
        return { kind: 'delete', revision: res.header.revision, deleted: res.deleted, prevKv: toKeyValue(res.prevKvs[0]) }
      }
      case 'txn': {
        const res = await kv.txn({ compare: request.compares.map(toCompare), success: request.success.map(toTxnOp), failure: request.failure.map(toTxnOp) }, call)
        return { kind: 'txn', revision: res.header.revision, succeeded: res.succeeded }
      }
      case 'leaseGrant': {
        const res = await lease.grant(request.ttlSeconds, {}, call)
        return { kind: 'leaseGrant', revision: res.header.revision, leaseId: res.id.toString(), ttlSeconds: res.ttl }
      }
      case 'leaseRevoke': {
        const res = await lease.revoke(BigInt(request.leaseId), call)
        return { kind: 'leaseRevoke', revision: res.header.revision }
      }
      case 'leaseKeepAlive': {
        const res = await lease.keepAliveOnce(BigInt(request.leaseId), call)
        return { kind: 'leaseKeepAlive', revision: res.header.revision, ttlSeconds: res.ttl }
      }
    }
  }

  close(): void {
    this.client.close()
  }
}

/**
 * A watcher through EtcdClient.watch, which resumes by itself at last+1 after a reconnect; each (re)creation
 * starts a new segment at the watcher's next revision, so the resumable check judges the client's resume.
 */
class CoreWatcher implements WatchRecorder {
  readonly stream: WatchStream
  private readonly client: EtcdClient
  private watcher: Watcher | null = null
  private nextRevision = 1

  constructor(recorder: HistoryRecorder, watcherId: number, host: string, private readonly key: string, private readonly rangeEnd: string) {
    this.client = new EtcdClient({ endpoints: [host], retry: { maxAttempts: 1 } })
    this.stream = { watcherId, endpoint: host, segments: [] }
    recorder.watches.push(this.stream)
  }

  get lastRevision(): number {
    return this.nextRevision - 1
  }

  async start(): Promise<void> {
    const segment = (): WatchSegment => {
      const opened: WatchSegment = { startRevision: this.nextRevision, opened: monotonicMs(), responses: [] }
      this.stream.segments.push(opened)
      return opened
    }
    let current = segment()
    // NB: listeners attach after the create resolves; the harness starts watchers before any traffic, so no
    // event can arrive in between.
    this.watcher = await this.client.watch(this.key, { rangeEnd: this.rangeEnd, startRevision: 1, prevKv: true })
    this.watcher.on('created', () => {
      if (current.responses.length > 0 || current.endReason) current = segment()
    })
    this.watcher.on('disconnected', (error) => {
      current.endReason = error instanceof Error ? error.message : String(error)
    })
    this.watcher.on('events', (batch) => {
      const events = batch.events.map((e) => ({ type: e.type, kv: toKeyValue(e.kv) as KeyValue, prevKv: toKeyValue(e.prevKv) }))
      current.responses.push({ at: monotonicMs(), headerRevision: batch.header.revision, events })
      this.nextRevision = Math.max(this.nextRevision, ...events.map((e) => e.kv.modRevision + 1))
    })
  }

  async stop(): Promise<void> {
    await this.watcher?.cancel().catch(() => undefined) // the member may be gone; closing below ends it anyway
    this.client.close()
  }
}

/** Quorum's own client (core/client): the chaos suite then also tests its failover-free request path and watch resume. */
export const coreClientDriver: ClientDriver = {
  name: 'core',
  connect: (hosts) => new CoreConnection(hosts),
  watch: (recorder, watcherId, host, key, rangeEnd) => new CoreWatcher(recorder, watcherId, host, key, rangeEnd),
}
