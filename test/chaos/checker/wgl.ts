import { assert } from '../../../core/util/assert'
import type { Operation } from '../history'
import { slice, type Violation } from './violation'

/**
 * Per-key linearizability check: the Wing–Gong search with Lowe's memoization (as porcupine's
 * `checkSingle`; algorithm only, no code copied), over a versioned-register model of one etcd key.
 *
 * P-compositionality: a history of single-key operations is linearizable iff every key's sub-history is, so
 * keys are searched one by one. Multi-key txns and lease-owned keys are excluded by the caller and covered by
 * the revision-witness checker instead.
 *
 * A write with an unknown outcome has return time +Infinity: it may be linearized anywhere after its call,
 * including "never" (after every observed operation).
 */

/** State of one key: its value (null = absent) and etcd's per-key `version` (changes since creation). */
export interface RegisterState {
  value: string | null
  version: number
}

/** The model operations; outputs are undefined for an unknown outcome. */
export type RegisterStep =
  | { f: 'get'; out: RegisterState }
  | { f: 'put'; value: string; prev?: RegisterState }
  | { f: 'delete'; deleted?: number }
  | { f: 'cas'; expected: string | null; value: string; ok?: boolean }

/** One operation in a per-key search; `ret` may be Infinity. */
export interface SearchOp {
  call: number
  ret: number
  step: RegisterStep
  source?: Operation
}

/** Result of one search: `ok`, `illegal`, or `unknown` when the step budget ran out. */
export type SearchVerdict = 'ok' | 'illegal' | 'unknown'

const EMPTY: RegisterState = { value: null, version: 0 }

function sameState(a: RegisterState, b: RegisterState): boolean {
  return a.value === b.value && a.version === b.version
}

/** The sequential specification of one etcd key; returns the next state, or null if `step` is illegal in `s`. */
export function stepRegister(s: RegisterState, step: RegisterStep): RegisterState | null {
  switch (step.f) {
    case 'get':
      return sameState(s, step.out) ? s : null
    case 'put':
      if (step.prev && !sameState(s, step.prev)) return null
      return { value: step.value, version: s.version + 1 }
    case 'delete':
      if (step.deleted !== undefined && step.deleted !== (s.value === null ? 0 : 1)) return null
      return EMPTY
    case 'cas': {
      const matches = s.value === step.expected
      if (step.ok !== undefined && step.ok !== matches) return null
      return matches ? { value: step.value, version: s.version + 1 } : s
    }
  }
}

function stateKey(s: RegisterState): string {
  return s.value === null ? '-' : `${s.version}:${s.value}`
}

/**
 * Searches for a linearization of `ops` (any order) from the empty key. `maxSteps` bounds the work; when it
 * runs out the verdict is `unknown`, never `ok`.
 */
export function searchLinearization(ops: SearchOp[], maxSteps = 2_000_000): { verdict: SearchVerdict; steps: number } {
  const n = ops.length
  // Entries 0..n-1 are calls, n..2n-1 returns; on a time tie calls come first (treated as concurrent).
  const order = Array.from({ length: 2 * n }, (_, i) => i).sort((a, b) => {
    const ta = a < n ? ops[a].call : ops[a - n].ret
    const tb = b < n ? ops[b].call : ops[b - n].ret
    return ta - tb || (a < n ? 0 : 1) - (b < n ? 0 : 1)
  })
  const head = 2 * n
  const next = new Int32Array(2 * n + 1).fill(-1)
  const prev = new Int32Array(2 * n + 1).fill(-1)
  let last = head
  for (const entry of order) {
    next[last] = entry
    prev[entry] = last
    last = entry
  }
  const unlink = (x: number) => {
    next[prev[x]] = next[x]
    if (next[x] !== -1) prev[next[x]] = prev[x]
  }
  const relink = (x: number) => {
    next[prev[x]] = x
    if (next[x] !== -1) prev[next[x]] = x
  }
  const words = new Uint32Array(Math.ceil(n / 32) || 1)
  const cache = new Set<string>()
  const stack: Array<{ entry: number; state: RegisterState }> = []
  let remainingFinite = ops.filter((o) => o.ret !== Infinity).length
  let state = EMPTY
  let entry = next[head]
  let steps = 0
  while (remainingFinite > 0) {
    assert(entry !== -1, 'WGL walked past the last entry with finite operations left')
    if (++steps > maxSteps) return { verdict: 'unknown', steps }
    if (entry < n) {
      const next_ = stepRegister(state, ops[entry].step)
      if (next_) {
        words[entry >>> 5] |= 1 << (entry & 31)
        const key = `${words.join(',')}|${stateKey(next_)}`
        if (!cache.has(key)) {
          cache.add(key)
          stack.push({ entry, state })
          state = next_
          unlink(entry)
          unlink(entry + n)
          if (ops[entry].ret !== Infinity) remainingFinite--
          entry = next[head]
          continue
        }
        words[entry >>> 5] &= ~(1 << (entry & 31))
      }
      entry = next[entry]
    } else {
      const top = stack.pop()
      if (!top) return { verdict: 'illegal', steps }
      const i = top.entry
      state = top.state
      words[i >>> 5] &= ~(1 << (i & 31))
      if (ops[i].ret !== Infinity) remainingFinite++
      relink(i + n)
      relink(i)
      entry = next[i]
    }
  }
  return { verdict: 'ok', steps }
}

/**
 * Converts one key's operations into model steps. Reads must be labelled linearizable (serializable reads may
 * be stale by contract); failed reads are dropped; failed writes (definite errors) are dropped; unknown writes
 * keep `ret = Infinity` and no output. Returns null if the operation does not belong in a per-key search.
 */
export function toSearchOp(op: Operation): SearchOp | null {
  const { request, response } = op
  const known = op.outcome === 'ok'
  if (op.outcome === 'failed') return null
  switch (request.kind) {
    case 'get':
      if (!known || request.consistency !== 'linearizable' || response?.kind !== 'get') return null
      return { call: op.call, ret: op.return, source: op, step: { f: 'get', out: response.kv ? { value: response.kv.value, version: response.kv.version } : EMPTY } }
    case 'put': {
      const prev = known && response?.kind === 'put' ? (response.prevKv ? { value: response.prevKv.value, version: response.prevKv.version } : EMPTY) : undefined
      return { call: op.call, ret: op.return, source: op, step: { f: 'put', value: request.value, prev } }
    }
    case 'delete':
      return { call: op.call, ret: op.return, source: op, step: { f: 'delete', deleted: known && response?.kind === 'delete' ? response.deleted : undefined } }
    case 'txn': {
      const cas = asCas(op)
      if (!cas) return null
      return { call: op.call, ret: op.return, source: op, step: { ...cas, ok: known && response?.kind === 'txn' ? response.succeeded : undefined } }
    }
    default:
      return null
  }
}

/** A txn is a single-key CAS if it compares one key's value (or absence, version == 0) and puts that key. */
function asCas(op: Operation): { f: 'cas'; expected: string | null; value: string } | null {
  const { request } = op
  if (request.kind !== 'txn' || request.compares.length !== 1 || request.success.length !== 1 || request.failure.length !== 0) return null
  const [compare] = request.compares
  const [write] = request.success
  if (write.type !== 'put' || write.key !== compare.key || write.lease !== undefined || compare.result !== 'equal') return null
  if (compare.target === 'value') return { f: 'cas', expected: String(compare.operand), value: write.value }
  if (compare.target === 'version' && Number(compare.operand) === 0) return { f: 'cas', expected: null, value: write.value }
  return null
}

/** True if every operation on the key can go into the per-key search (no multi-key txn, no leases). */
export function isRegisterOperation(op: Operation): boolean {
  const { request } = op
  if (request.kind === 'txn') return asCas(op) !== null
  if (request.kind === 'put') return request.lease === undefined
  return request.kind === 'get' || request.kind === 'delete'
}

/** Prefix of a key history as it was observable at time `t`: operations still running become unknown. */
function prefixAt(ops: SearchOp[], t: number): SearchOp[] {
  const out: SearchOp[] = []
  for (const op of ops) {
    if (op.call > t) continue
    if (op.ret <= t) out.push(op)
    else if (op.step.f !== 'get') out.push({ ...op, ret: Infinity, step: unknownStep(op.step) })
  }
  return out
}

function unknownStep(step: RegisterStep): RegisterStep {
  switch (step.f) {
    case 'get':
      return step
    case 'put':
      return { f: 'put', value: step.value }
    case 'delete':
      return { f: 'delete' }
    case 'cas':
      return { f: 'cas', expected: step.expected, value: step.value }
  }
}

/** Options for `checkKeyLinearizable`. */
export interface WglOptions {
  /** Search steps per key (and per shrinking probe) before the verdict becomes unknown. */
  maxSteps?: number
  /** Operations of context shown before the culprit in a violation slice. */
  contextWrites?: number
}

/**
 * Checks one key's operations. On `illegal`, finds the first completion time at which the observable prefix
 * stops being linearizable (binary search; prefixes of a linearizable history are linearizable), and reports
 * the operation completing there plus the operations overlapping it and the last few writes before it.
 */
export function checkKeyLinearizable(key: string, ops: Operation[], options: WglOptions = {}): { verdict: SearchVerdict; steps: number; violation?: Violation } {
  const maxSteps = options.maxSteps ?? 2_000_000
  const searchOps = ops.map(toSearchOp).filter((o): o is SearchOp => o !== null)
  const result = searchLinearization(searchOps, maxSteps)
  if (result.verdict !== 'illegal') return result
  const times = [...new Set(searchOps.filter((o) => o.ret !== Infinity).map((o) => o.ret))].sort((a, b) => a - b)
  let lo = 0
  let hi = times.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    // Probes get a tenth of the budget: an undecided probe just moves the cut later (a longer slice).
    if (searchLinearization(prefixAt(searchOps, times[mid]), Math.ceil(maxSteps / 10)).verdict === 'illegal') hi = mid
    else lo = mid + 1
  }
  const cut = times[lo]
  const culprit = searchOps.find((o) => o.ret === cut)
  assert(culprit !== undefined, `no operation returns at ${cut}`)
  const earlierWrites = searchOps.filter((o) => o.ret < culprit.call && o.step.f !== 'get').sort((a, b) => b.ret - a.ret)
  const context = options.contextWrites ?? 3
  const from = earlierWrites.length >= context ? earlierWrites[context - 1].ret : -Infinity
  const involved = searchOps.filter((o) => o.call <= cut && o.ret >= from)
  return {
    ...result,
    violation: {
      code: 'not-linearizable',
      key,
      message: `key ${key}: no linearization exists once operation #${culprit.source?.id} (${culprit.step.f}) completes; the slice is that operation, everything overlapping it, and the last ${context} writes before it`,
      operations: slice(involved.map((o) => o.source)),
    },
  }
}
