import type { History, Operation } from '../history'
import { requestKeys } from '../history'
import { checkLeases } from './lease'
import { patchUnknownWrites } from './patch'
import { checkRevisions } from './revision'
import type { Violation } from './violation'
import { checkWatches } from './watch'
import { checkKeyLinearizable, isRegisterOperation } from './wgl'

export type { Violation, ViolationCode } from './violation'

/** Options for `checkHistory`. */
export interface CheckOptions {
  /** WGL search steps per key before that key's verdict is "unknown" (default 2,000,000). */
  maxStepsPerKey?: number
}

/** Counts and timings of one check, for the report. */
export interface CheckStats {
  operations: number
  ok: number
  failed: number
  unknown: number
  watchEvents: number
  wglKeys: number
  wglSteps: number
  wglMs: number
  revisionMs: number
  watchMs: number
  leaseMs: number
  logRevisions: number
  leaseExpiries: number
}

/**
 * The verdict on one history. `linearizable` is 'unknown' when no violation was found but some WGL search ran
 * out of budget: that is never a pass.
 */
export interface CheckReport {
  linearizable: 'yes' | 'no' | 'unknown'
  violations: Violation[]
  inconclusiveKeys: string[]
  stats: CheckStats
}

/**
 * Runs every checker over a history: per-key WGL on the keys whose operations all fit the register model
 * (unknown writes narrowed by the change log, see patch.ts), the revision witness over everything, watch guarantees and lease expiry.
 */
export function checkHistory(history: History, options: CheckOptions = {}): CheckReport {
  const violations: Violation[] = []
  const inconclusiveKeys: string[] = []
  const timed = <T>(fn: () => T): [T, number] => {
    const start = performance.now()
    const value = fn()
    return [value, performance.now() - start]
  }

  // The revision witness first: its change log narrows the unknown writes for the WGL search.
  const [revisions, revisionMs] = timed(() => checkRevisions(history))
  const [wgl, wglMs] = timed(() => {
    const byKey = new Map<string, Operation[]>()
    const excluded = new Set<string>()
    for (const op of patchUnknownWrites(history, revisions.log)) {
      for (const key of requestKeys(op.request)) {
        if (!isRegisterOperation(op)) excluded.add(key)
        const list = byKey.get(key)
        if (list) list.push(op)
        else byKey.set(key, [op])
      }
    }
    let steps = 0
    let keys = 0
    for (const [key, ops] of [...byKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (excluded.has(key)) continue
      keys++
      const result = checkKeyLinearizable(key, ops, { maxSteps: options.maxStepsPerKey })
      steps += result.steps
      if (result.verdict === 'unknown') inconclusiveKeys.push(key)
      if (result.violation) violations.push(result.violation)
    }
    return { steps, keys }
  })
  violations.push(...revisions.violations)
  const [watchViolations, watchMs] = timed(() => checkWatches(history, revisions.log))
  violations.push(...watchViolations)
  const [leaseViolations, leaseMs] = timed(() => checkLeases(history, revisions.expiries))
  violations.push(...leaseViolations)

  const count = (outcome: Operation['outcome']) => history.operations.filter((o) => o.outcome === outcome).length
  return {
    linearizable: violations.length > 0 ? 'no' : inconclusiveKeys.length > 0 ? 'unknown' : 'yes',
    violations,
    inconclusiveKeys,
    stats: {
      operations: history.operations.length,
      ok: count('ok'),
      failed: count('failed'),
      unknown: count('unknown'),
      watchEvents: history.watches.reduce((n, w) => n + w.segments.reduce((m, s) => m + s.responses.reduce((k, r) => k + r.events.length, 0), 0), 0),
      wglKeys: wgl.keys,
      wglSteps: wgl.steps,
      wglMs,
      revisionMs,
      watchMs,
      leaseMs,
      logRevisions: revisions.log.byRevision.size,
      leaseExpiries: revisions.expiries.length,
    },
  }
}
