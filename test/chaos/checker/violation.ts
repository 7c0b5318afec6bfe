import type { Operation, WatchEvent } from '../history'

/** The property a violation breaks; stable identifiers the report and tests branch on. */
export type ViolationCode =
  | 'not-linearizable'
  | 'stale-read'
  | 'revision-not-after-real-time'
  | 'lost-write'
  | 'duplicate-write'
  | 'phantom-write'
  | 'wrong-effects'
  | 'read-mismatch'
  | 'prev-kv-mismatch'
  | 'txn-outcome-mismatch'
  | 'log-gap'
  | 'log-conflict'
  | 'watch-unordered'
  | 'watch-duplicate'
  | 'watch-gap'
  | 'watch-not-atomic'
  | 'watch-not-resumable'
  | 'watch-event-mismatch'
  | 'watch-stalled'
  | 'lease-expired-early'

/**
 * One broken guarantee, with the smallest history slice that shows it: the operations (and watch events)
 * involved, in call order, so a reader can verify the claim from the slice alone.
 */
export interface Violation {
  code: ViolationCode
  message: string
  key?: string
  revision?: number
  operations: Operation[]
  events?: Array<{ watcherId: number; revision: number; event: WatchEvent }>
}

/** A checker's result: violations found, plus keys it could not decide within its budget. */
export interface CheckResult {
  violations: Violation[]
  /** Per-key WGL searches that ran out of budget: neither a pass nor a failure. */
  inconclusive: string[]
}

/** Sorts a slice by call time and removes duplicates (same op listed twice). */
export function slice(operations: Array<Operation | undefined>): Operation[] {
  const unique = new Map<number, Operation>()
  for (const op of operations) if (op) unique.set(op.id, op)
  return [...unique.values()].sort((a, b) => a.call - b.call || a.id - b.id)
}
