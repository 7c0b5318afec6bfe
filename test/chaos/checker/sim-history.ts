import type { Rand } from '../../../core/util/rand'
import type { History, KeyValue, Operation, Request, Response, TxnCompare, TxnWrite, WatchEvent, WatchResponseRecord } from '../history'

/**
 * A sequential in-memory model of etcd's KV + lease semantics, and a generator of histories that are
 * linearizable by construction: each operation takes effect atomically at a point inside its [call, return]
 * interval. Used by the checker's property test (every generated history must be accepted) and as the base
 * that hand-made anomaly tests mutate.
 */
export class ModelStore {
  revision = 1
  readonly keys = new Map<string, KeyValue>()
  /** Lease ID → TTL seconds and the time it expires. */
  readonly leases = new Map<string, { ttlSeconds: number; deadline: number }>()
  /** Events per revision, in order. */
  readonly log: Array<{ revision: number; events: WatchEvent[]; at: number }> = []
  private nextLease = 1000

  private commit(events: WatchEvent[], at: number): void {
    for (const event of events) {
      if (event.type === 'put') this.keys.set(event.kv.key, event.kv)
      else this.keys.delete(event.kv.key)
    }
    this.log.push({ revision: this.revision, events, at })
  }

  private writeEvents(writes: TxnWrite[], revision: number): WatchEvent[] {
    const events: WatchEvent[] = []
    for (const write of writes) {
      const prev = this.keys.get(write.key) ?? null
      if (write.type === 'put') {
        const kv = { key: write.key, value: write.value, createRevision: prev?.createRevision ?? revision, modRevision: revision, version: (prev?.version ?? 0) + 1, lease: write.lease ?? '0' }
        events.push({ type: 'put', kv, prevKv: prev })
      } else if (prev) {
        events.push({ type: 'delete', kv: { key: write.key, value: '', createRevision: 0, modRevision: revision, version: 0, lease: '0' }, prevKv: prev })
      }
    }
    return events
  }

  /** Applies writes as one revision if they change anything. */
  private write(writes: TxnWrite[], at: number): void {
    const events = this.writeEvents(writes, this.revision + 1)
    if (events.length === 0) return
    this.revision++
    this.commit(events, at)
  }

  private holds(compare: TxnCompare): boolean {
    const kv = this.keys.get(compare.key)
    if (compare.target === 'value') return kv !== undefined && compare.result === 'equal' && kv.value === compare.operand
    const actual = compare.target === 'version' ? (kv?.version ?? 0) : compare.target === 'create' ? (kv?.createRevision ?? 0) : (kv?.modRevision ?? 0)
    return compare.result === 'equal' && actual === Number(compare.operand)
  }

  /** Expires every lease whose deadline is before `now` (each expiry is one revision). */
  expire(now: number): void {
    for (const [id, lease] of [...this.leases]) {
      if (lease.deadline >= now) continue
      this.leases.delete(id)
      this.write([...this.keys.values()].filter((kv) => kv.lease === id).map((kv) => ({ type: 'delete', key: kv.key })), now)
    }
  }

  /** Applies one request atomically at time `at`; returns the response, or null for a definite failure. */
  apply(request: Request, at: number): Response | null {
    this.expire(at)
    switch (request.kind) {
      case 'get':
        return { kind: 'get', revision: this.revision, kv: this.keys.get(request.key) ?? null }
      case 'put': {
        if (request.lease && !this.leases.has(request.lease)) return null
        const prevKv = this.keys.get(request.key) ?? null
        this.write([{ type: 'put', key: request.key, value: request.value, lease: request.lease }], at)
        return { kind: 'put', revision: this.revision, prevKv }
      }
      case 'delete': {
        const prevKv = this.keys.get(request.key) ?? null
        this.write([{ type: 'delete', key: request.key }], at)
        return { kind: 'delete', revision: this.revision, deleted: prevKv ? 1 : 0, prevKv }
      }
      case 'txn': {
        const succeeded = request.compares.every((c) => this.holds(c))
        this.write(succeeded ? request.success : request.failure, at)
        return { kind: 'txn', revision: this.revision, succeeded }
      }
      case 'leaseGrant': {
        const leaseId = String(this.nextLease++)
        this.leases.set(leaseId, { ttlSeconds: request.ttlSeconds, deadline: at + request.ttlSeconds * 1000 })
        return { kind: 'leaseGrant', revision: this.revision, leaseId, ttlSeconds: request.ttlSeconds }
      }
      case 'leaseRevoke': {
        if (!this.leases.delete(request.leaseId)) return null
        this.write([...this.keys.values()].filter((kv) => kv.lease === request.leaseId).map((kv) => ({ type: 'delete', key: kv.key })), at)
        return { kind: 'leaseRevoke', revision: this.revision }
      }
      case 'leaseKeepAlive': {
        const lease = this.leases.get(request.leaseId)
        if (lease) lease.deadline = at + lease.ttlSeconds * 1000
        return { kind: 'leaseKeepAlive', revision: this.revision, ttlSeconds: lease?.ttlSeconds ?? 0 }
      }
    }
  }
}

/** Shape of a generated history. */
export interface SimOptions {
  clients: number
  opsPerClient: number
  keys: string[]
  /** Probability that a write's outcome is unknown to the client (applied or not, 50/50). */
  unknownRate: number
  /** Include lease operations (keys `lease/*`) and multi-key txns (keys `txn/*`). */
  leases?: boolean
  multiKeyTxns?: boolean
  /** Number of watchers recording the change log (each one stream, one segment). */
  watchers?: number
}

/**
 * Generates a linearizable history: every client is sequential; each operation gets an interval with random
 * overlap against other clients' operations and takes effect at a random point inside it.
 */
export function simulateHistory(rand: Rand, options: SimOptions): History {
  type Planned = { clientId: number; call: number; at: number; ret: number; unknown: boolean; applied: boolean }
  const planned: Planned[] = []
  for (let clientId = 0; clientId < options.clients; clientId++) {
    let t = rand.next() * 5
    for (let i = 0; i < options.opsPerClient; i++) {
      const call = t + rand.next() * 3
      const at = call + rand.next() * 10
      const ret = at + rand.next() * 10
      const unknown = rand.next() < options.unknownRate
      planned.push({ clientId, call, at, ret, unknown, applied: !unknown || rand.next() < 0.5 })
      t = ret
    }
  }
  planned.sort((a, b) => a.at - b.at)
  const store = new ModelStore()
  const operations: Operation[] = []
  const leaseIds: string[] = []
  let valueCounter = 0
  const value = () => `v${valueCounter++}`
  const pick = <T>(items: T[]): T => items[rand.int(items.length)]
  const chooseRequest = (): Request => {
    const roll = rand.next()
    if (options.leases && roll < 0.15) {
      const sub = rand.next()
      if (sub < 0.3 || leaseIds.length === 0) return { kind: 'leaseGrant', ttlSeconds: 1 + rand.int(3) }
      const leaseId = pick(leaseIds)
      if (sub < 0.6) return { kind: 'put', key: `lease/${rand.int(4)}`, value: value(), lease: leaseId }
      if (sub < 0.8) return { kind: 'leaseKeepAlive', leaseId }
      return { kind: 'leaseRevoke', leaseId }
    }
    if (options.multiKeyTxns && roll < 0.3) {
      const a = `txn/${rand.int(3)}`
      const b = `txn/${3 + rand.int(3)}`
      const current = store.keys.get(a)
      const compares: TxnCompare[] = [rand.next() < 0.5 && current ? { key: a, target: 'mod', result: 'equal', operand: current.modRevision } : { key: a, target: 'version', result: 'equal', operand: rand.int(2) }]
      return { kind: 'txn', compares, success: [{ type: 'put', key: a, value: value() }, { type: 'put', key: b, value: value() }], failure: rand.next() < 0.5 ? [{ type: 'delete', key: b }] : [] }
    }
    const key = pick(options.keys)
    const sub = rand.next()
    if (sub < 0.4) return { kind: 'get', key, consistency: 'linearizable' }
    if (sub < 0.7) return { kind: 'put', key, value: value() }
    if (sub < 0.8) return { kind: 'delete', key }
    const current = store.keys.get(key)
    const expected = rand.next() < 0.7 ? (current?.value ?? null) : null
    return {
      kind: 'txn',
      compares: [expected === null ? { key, target: 'version', result: 'equal', operand: 0 } : { key, target: 'value', result: 'equal', operand: expected }],
      success: [{ type: 'put', key, value: value() }],
      failure: [],
    }
  }
  for (const plan of planned) {
    const request = chooseRequest()
    const isWrite = request.kind !== 'get' && request.kind !== 'leaseKeepAlive'
    const unknown = plan.unknown && isWrite
    const response = unknown && !plan.applied ? undefined : store.apply(request, plan.at)
    if (response?.kind === 'leaseGrant') leaseIds.push(response.leaseId)
    const op: Operation = { id: 0, clientId: plan.clientId, call: plan.call, return: plan.ret, request, outcome: 'ok', response: response ?? undefined }
    if (unknown) Object.assign(op, { return: Infinity, outcome: 'unknown', response: undefined, error: 'simulated timeout' })
    else if (!response) Object.assign(op, { outcome: 'failed', error: 'etcdserver: requested lease not found' })
    operations.push(op)
  }
  // Settle: expire what is due, then one final write the watchers must reach.
  const end = Math.max(...planned.map((p) => p.ret)) + 1
  store.expire(end)
  const finalRequest: Request = { kind: 'put', key: 'final', value: value() }
  const final = store.apply(finalRequest, end)
  operations.push({ id: 0, clientId: options.clients, call: end, return: end + 1, request: finalRequest, outcome: 'ok', response: final ?? undefined })
  operations.sort((a, b) => a.call - b.call)
  operations.forEach((op, i) => (op.id = i))
  const watches = Array.from({ length: options.watchers ?? 2 }, (_, watcherId) => ({
    watcherId,
    segments: [
      {
        startRevision: 1,
        opened: 0,
        responses: store.log.map((entry): WatchResponseRecord => ({ at: entry.at + 0.5 + rand.next(), headerRevision: entry.revision, events: entry.events })),
      },
    ],
  }))
  return { operations, watches, finalRevision: store.revision }
}

/**
 * Builds a history by hand for tests: each `op` takes effect in the model at `at` (default: its call time),
 * in the order the calls to `op` are made. Tests then corrupt one detail and expect the checker to notice.
 */
export class ScriptedHistory {
  readonly store = new ModelStore()
  readonly operations: Operation[] = []

  /** Records an acknowledged (or failed) operation [call, ret] of `clientId` that took effect at `at`. */
  op(clientId: number, call: number, ret: number, request: Request, at = call): Operation {
    const response = this.store.apply(request, at)
    const op: Operation = { id: this.operations.length, clientId, call, return: ret, request, outcome: response ? 'ok' : 'failed', response: response ?? undefined }
    this.operations.push(op)
    return op
  }

  /** Records a write whose outcome the client never learned; `applied` says whether it took effect at `at`. */
  unknown(clientId: number, call: number, request: Request, applied: boolean, at = call): Operation {
    if (applied) this.store.apply(request, at)
    const op: Operation = { id: this.operations.length, clientId, call, return: Infinity, request, outcome: 'unknown', error: 'deadline exceeded' }
    this.operations.push(op)
    return op
  }

  /** The history with `watchers` watchers that each saw the whole log, one response per revision. */
  history(watchers = 1): History {
    return {
      operations: this.operations,
      watches: Array.from({ length: watchers }, (_, watcherId) => ({
        watcherId,
        segments: [{ startRevision: 1, opened: 0, responses: this.store.log.map((entry) => ({ at: entry.at + 0.5, headerRevision: entry.revision, events: entry.events })) }],
      })),
      finalRevision: this.store.revision,
    }
  }
}
