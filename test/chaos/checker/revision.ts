import type { History, KeyValue, Operation, TxnCompare, TxnWrite, WatchEvent } from '../history'
import { requestValues } from '../history'
import { buildChangeLog, kvText, revisionText, type ChangeLog } from './change-log'
import { slice, type Violation } from './violation'

/**
 * Revision-witness checker (reliability-methods.md §4.3). etcd reports its linearization order: every
 * modifying operation gets one new revision, reads report the revision they saw. So instead of searching for
 * a linearization, check that this witness is one, in O(n log n):
 *
 * 1. every revision of the change log is the effect of exactly one invoked write (or of a lease expiry), and
 *    every acknowledged write is in the log at the revision it was acknowledged with (no lost write);
 * 2. revision order respects real time: a write gets a revision above every revision completed before it was
 *    invoked; a linearizable read sees at least that revision (stale read otherwise);
 * 3. results equal a replay of the log: reads at their revision, prev_kv at r-1, txn outcomes, kv metadata.
 *
 * It covers multi-key txns and lease revokes, which the per-key WGL search cannot split.
 */

/** A revision whose deletes are not explained by any client operation: the server expired a lease. */
export interface LeaseExpiry {
  revision: number
  leaseId: string
  keys: string[]
}

/** Output of the revision-witness check; `attribution` maps revisions to the operation that caused them. */
export interface RevisionCheck {
  violations: Violation[]
  log: ChangeLog
  attribution: Map<number, Operation>
  expiries: LeaseExpiry[]
}

type State = Map<string, KeyValue>

/** Index over completed operations: the highest revision completed strictly before a time. */
class RealTimeIndex {
  private readonly returns: number[] = []
  private readonly maxRevision: number[] = []
  private readonly maxOp: Operation[] = []

  constructor(operations: Operation[]) {
    const done = operations.filter((o) => o.outcome === 'ok' && o.response).sort((a, b) => a.return - b.return)
    let best: Operation | undefined
    for (const op of done) {
      if (!best || (op.response?.revision ?? 0) > (best.response?.revision ?? 0)) best = op
      this.returns.push(op.return)
      this.maxRevision.push(best.response?.revision ?? 0)
      this.maxOp.push(best)
    }
  }

  /** Highest revision among operations that returned strictly before `time`, and the operation that had it. */
  before(time: number): { revision: number; op?: Operation } {
    let lo = 0
    let hi = this.returns.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.returns[mid] < time) lo = mid + 1
      else hi = mid
    }
    return lo === 0 ? { revision: 0 } : { revision: this.maxRevision[lo - 1], op: this.maxOp[lo - 1] }
  }
}

function compareHolds(state: State, compare: TxnCompare): boolean {
  const kv = state.get(compare.key)
  let actual: string | number
  switch (compare.target) {
    case 'value':
      // etcd compat: comparing the value of a missing key is always false (mvcc applyCompare).
      if (!kv) return false
      actual = kv.value
      break
    case 'version':
      actual = kv?.version ?? 0
      break
    case 'create':
      actual = kv?.createRevision ?? 0
      break
    case 'mod':
      actual = kv?.modRevision ?? 0
      break
  }
  const operand = typeof actual === 'number' ? Number(compare.operand) : String(compare.operand)
  switch (compare.result) {
    case 'equal':
      return actual === operand
    case 'notEqual':
      return actual !== operand
    case 'greater':
      return actual > operand
    case 'less':
      return actual < operand
  }
}

/** The branch a txn takes in `state`. */
function txnBranch(state: State, compares: TxnCompare[]): boolean {
  return compares.every((c) => compareHolds(state, c))
}

/** Events a write would produce at revision `revision` on top of `state` (a delete of a missing key is none). */
function writeEvents(state: State, writes: TxnWrite[], revision: number): WatchEvent[] {
  const events: WatchEvent[] = []
  for (const write of writes) {
    const prev = state.get(write.key) ?? null
    if (write.type === 'put') {
      events.push({
        type: 'put',
        kv: { key: write.key, value: write.value, createRevision: prev?.createRevision ?? revision, modRevision: revision, version: (prev?.version ?? 0) + 1, lease: write.lease ?? '0' },
        prevKv: prev,
      })
    } else if (prev) {
      events.push({ type: 'delete', kv: { key: write.key, value: '', createRevision: 0, modRevision: revision, version: 0, lease: '0' }, prevKv: prev })
    }
  }
  return events
}

/** What `op` would write at `revision` given the state before it (empty if it writes nothing there). */
function expectedEvents(op: Operation, state: State, revision: number): WatchEvent[] {
  const { request, response } = op
  switch (request.kind) {
    case 'put':
      return writeEvents(state, [{ type: 'put', key: request.key, value: request.value, lease: request.lease }], revision)
    case 'delete':
      // An acknowledged delete says itself whether it removed the key; prev_kv is checked separately.
      if (response?.kind === 'delete' && response.deleted === 0) return []
      return writeEvents(state, [{ type: 'delete', key: request.key }], revision)
    case 'txn': {
      // An acknowledged txn's effects follow the branch it reports; the outcome is checked separately.
      const succeeded = response?.kind === 'txn' ? response.succeeded : txnBranch(state, request.compares)
      return writeEvents(state, succeeded ? request.success : request.failure, revision)
    }
    case 'leaseRevoke':
      return writeEvents(state, [...state.values()].filter((kv) => kv.lease === request.leaseId).map((kv) => ({ type: 'delete', key: kv.key })), revision)
    default:
      return []
  }
}

function sameKv(a: KeyValue | null, b: KeyValue | null): boolean {
  return kvText(a) === kvText(b)
}

function applyEvents(state: State, events: WatchEvent[]): void {
  for (const event of events) {
    if (event.type === 'put') state.set(event.kv.key, event.kv)
    else state.delete(event.kv.key)
  }
}

/** The event types and keys of a revision, sorted (what identifies a delete-only revision's cause). */
function keysText(events: WatchEvent[]): string {
  return events.map((e) => `${e.type} ${e.kv.key}`).sort().join(', ')
}

/** The keys a delete-only revision removed, if they all belonged to one lease in `state`, and all of its keys. */
function leaseOf(state: State, events: WatchEvent[]): string | null {
  if (events.some((e) => e.type !== 'delete')) return null
  const leases = new Set(events.map((e) => state.get(e.kv.key)?.lease ?? '0'))
  if (leases.size !== 1) return null
  const [lease] = leases
  if (lease === '0') return null
  const owned = [...state.values()].filter((kv) => kv.lease === lease).map((kv) => kv.key).sort()
  return owned.join('\n') === events.map((e) => e.kv.key).sort().join('\n') ? lease : null
}

/** Runs the revision-witness check over a whole history. */
export function checkRevisions(history: History): RevisionCheck {
  const { log, violations } = buildChangeLog(history)
  const ops = history.operations
  const realTime = new RealTimeIndex(ops)
  const byValue = new Map<string, Operation>()
  for (const op of ops) for (const value of requestValues(op.request)) byValue.set(value, op)
  const ackedAt = new Map<number, Operation[]>()
  for (const op of ops) {
    if (op.outcome !== 'ok' || !op.response) continue
    const list = ackedAt.get(op.response.revision) ?? []
    list.push(op)
    ackedAt.set(op.response.revision, list)
  }
  const attribution = new Map<number, Operation>()
  const revisionOf = new Map<number, number>()
  const expiries: LeaseExpiry[] = []
  const state: State = new Map()
  const writerOf = (kv: KeyValue | null | undefined) => (kv ? attribution.get(kv.modRevision) : undefined)
  const lateRevokes = ops.filter((o) => o.outcome === 'ok' && o.response !== undefined && o.request.kind === 'leaseRevoke')
  const unknownDeleters = ops.filter((o) => o.outcome === 'unknown' && (o.request.kind === 'delete' || o.request.kind === 'leaseRevoke' || o.request.kind === 'txn'))

  let lastRevision = Math.max(log.maxRevision, history.finalRevision ?? 0)
  for (const revision of ackedAt.keys()) lastRevision = Math.max(lastRevision, revision)
  // Revision 1 is the empty store the run starts from; only reads can report it.
  for (let revision = 1; revision <= lastRevision; revision++) {
    const events = log.byRevision.get(revision)
    if (revision === 1) {
      if (events) violations.push({ code: 'phantom-write', revision, message: 'revision 1 (the empty initial store) has events', operations: [] })
    } else if (!events) {
      const claimed = (ackedAt.get(revision) ?? []).filter((o) => o.request.kind === 'put')
      violations.push({
        code: claimed.length > 0 ? 'lost-write' : 'log-gap',
        revision,
        message: `revision ${revision} is missing from every watch stream${claimed.length > 0 ? ' although a write was acknowledged with it' : ''}`,
        operations: slice(claimed),
      })
    } else {
      // Which operation made this revision? A put value names it; a delete-only revision is an acknowledged
      // delete/txn/revoke claiming this revision, else an unknown one, else a lease expiry.
      const values = events.filter((e) => e.type === 'put').map((e) => e.kv.value)
      const writers = new Set(values.map((v) => byValue.get(v)))
      let op: Operation | undefined
      if (values.length > 0) {
        if (writers.has(undefined) || writers.size !== 1) {
          violations.push({
            code: writers.has(undefined) ? 'phantom-write' : 'wrong-effects',
            revision,
            message: writers.has(undefined) ? `revision ${revision} writes a value no client wrote: [${revisionText(events)}]` : `revision ${revision} mixes the effects of ${writers.size} operations`,
            operations: slice([...writers]),
          })
        }
        op = [...writers].find((w) => w !== undefined)
      } else {
        // Match on the deleted keys only; the full events (prev_kv, metadata) are compared once attributed.
        const deleted = keysText(events)
        const fits = (o: Operation) => keysText(expectedEvents(o, state, revision)) === deleted
        op = (ackedAt.get(revision) ?? []).find((o) => o.request.kind !== 'get' && !revisionOf.has(o.id) && fits(o))
        op ??= unknownDeleters.find((o) => !revisionOf.has(o.id) && realTime.before(o.call).revision < revision && fits(o))
        // An acknowledged revoke of the lease whose header names a later revision: the server answered with the
        // wrong revision (checkAttributed reports it). It cannot be an expiry, since the revoke then finds no lease.
        op ??= lateRevokes.find((o) => !revisionOf.has(o.id) && o.response!.revision > revision && realTime.before(o.call).revision < revision && fits(o))
        const lease = op ? null : leaseOf(state, events)
        if (lease !== null) {
          expiries.push({ revision, leaseId: lease, keys: events.map((e) => e.kv.key) })
          const expected = writeEvents(state, events.map((e) => ({ type: 'delete', key: e.kv.key })), revision)
          if (revisionText(expected) !== revisionText(events)) {
            violations.push({ code: 'wrong-effects', revision, message: `lease ${lease} expiry at revision ${revision} should be [${revisionText(expected)}], the log has [${revisionText(events)}]`, operations: [] })
          }
        } else if (!op) {
          violations.push({ code: 'phantom-write', revision, message: `revision ${revision} deletes ${deleted} but no invoked operation explains it`, operations: [] })
        }
      }
      if (op) checkAttributed(op, revision, events)
      applyEvents(state, events)
    }
    for (const read of ackedAt.get(revision) ?? []) if (!revisionOf.has(read.id)) checkRead(read, revision)
  }

  // Every acknowledged operation was visited at its own revision above (lastRevision covers them all), so an
  // acknowledged write that is not in the log has been reported as lost there.
  return { violations, log, attribution, expiries }

  function checkAttributed(op: Operation, revision: number, events: WatchEvent[]): void {
    const before = revisionOf.get(op.id)
    if (before !== undefined) {
      violations.push({ code: 'duplicate-write', revision, message: `operation #${op.id} took effect twice, at revisions ${before} and ${revision}`, operations: [op] })
      return
    }
    attribution.set(revision, op)
    revisionOf.set(op.id, revision)
    if (op.outcome === 'failed') {
      violations.push({ code: 'wrong-effects', revision, message: `operation #${op.id} failed with "${op.error}" but took effect at revision ${revision}`, operations: [op] })
    }
    const expected = expectedEvents(op, state, revision)
    if (revisionText(expected) !== revisionText(events)) {
      violations.push({
        code: 'wrong-effects',
        revision,
        message: `revision ${revision} should hold the effects of operation #${op.id}, [${revisionText(expected)}], but the log has [${revisionText(events)}]`,
        operations: slice([op, ...events.map((e) => writerOf(e.prevKv))]),
      })
    }
    const { revision: bound, op: witness } = realTime.before(op.call)
    if (revision <= bound) {
      violations.push({
        code: 'revision-not-after-real-time',
        revision,
        message: `operation #${op.id} took effect at revision ${revision}, but revision ${bound} had already completed (#${witness?.id}) before it was invoked`,
        operations: slice([op, witness]),
      })
    }
    const { request, response } = op
    if (op.outcome === 'ok' && response) {
      if (response.revision !== revision) {
        violations.push({ code: 'wrong-effects', revision, message: `operation #${op.id} was acknowledged with revision ${response.revision} but took effect at revision ${revision}`, operations: [op] })
      }
      if ((response.kind === 'put' || response.kind === 'delete') && (request.kind === 'put' || request.kind === 'delete')) {
        const prev = state.get(request.key) ?? null
        if (!sameKv(prev, response.prevKv)) {
          violations.push({
            code: 'prev-kv-mismatch',
            revision,
            key: request.key,
            message: `operation #${op.id} returned prev_kv ${JSON.stringify(response.prevKv)} but the state at revision ${revision - 1} is ${JSON.stringify(prev)}`,
            operations: slice([op, writerOf(prev), writerOf(response.prevKv)]),
          })
        }
      }
      if (response.kind === 'txn' && request.kind === 'txn' && response.succeeded !== txnBranch(state, request.compares)) {
        violations.push({
          code: 'txn-outcome-mismatch',
          revision,
          message: `txn #${op.id} reported succeeded=${response.succeeded}, but its compares evaluate to ${!response.succeeded} at revision ${revision - 1}`,
          operations: slice([op, ...request.compares.map((c) => writerOf(state.get(c.key)))]),
        })
      }
    }
  }

  /** An acknowledged operation that did not write at its revision: its result must equal the state there. */
  function checkRead(op: Operation, revision: number): void {
    const { request, response } = op
    if (!response) return
    // etcd compat: LeaseKeepAlive does not go through Raft; its header revision is whatever the member that
    // answered had applied (v3rpc lease.go fills it locally), so it is not a linearizable read.
    const linearizable = request.kind === 'get' ? request.consistency === 'linearizable' : request.kind !== 'leaseKeepAlive'
    const { revision: bound, op: witness } = realTime.before(op.call)
    if (linearizable && revision < bound) {
      violations.push({
        code: 'stale-read',
        revision,
        message: `${request.kind} #${op.id} saw revision ${revision}, but revision ${bound} had completed (#${witness?.id}) before it was invoked`,
        operations: slice([op, witness]),
      })
    }
    if (request.kind === 'get' && response.kind === 'get') {
      const actual = state.get(request.key) ?? null
      if (!sameKv(actual, response.kv)) {
        violations.push({
          code: 'read-mismatch',
          revision,
          key: request.key,
          message: `get #${op.id} of ${request.key} at revision ${revision} returned ${JSON.stringify(response.kv)}, the replay has ${JSON.stringify(actual)}`,
          operations: slice([op, writerOf(actual), response.kv ? byValue.get(response.kv.value) : undefined]),
        })
      }
      return
    }
    if (request.kind === 'leaseGrant' || request.kind === 'leaseKeepAlive') return
    if (response.kind === 'txn' && request.kind === 'txn' && response.succeeded !== txnBranch(state, request.compares)) {
      violations.push({
        code: 'txn-outcome-mismatch',
        revision,
        message: `txn #${op.id} reported succeeded=${response.succeeded} at revision ${revision}, where its compares evaluate to ${!response.succeeded}`,
        operations: slice([op, ...request.compares.map((c) => writerOf(state.get(c.key)))]),
      })
      return
    }
    const pending = expectedEvents(op, state, revision)
    const deletedClaim = response.kind === 'delete' && response.deleted > 0
    if (pending.length > 0 || deletedClaim) {
      violations.push({
        code: 'lost-write',
        revision,
        message: `${request.kind} #${op.id} was acknowledged at revision ${revision}, but that revision does not hold its effects [${revisionText(pending)}]`,
        operations: slice([op, attribution.get(revision)]),
      })
    }
  }
}
