import { requestValues, type History, type Operation } from '../history'
import type { ChangeLog } from './change-log'
import { observationIndex } from './observations'

/**
 * Narrows unknown writes with the change log before the WGL search (etcd robustness `patchHistory`, which
 * does the same with the WAL). Values are unique, so the log says what became of an unknown put or txn:
 *
 * - no value of it is in the log: it took no effect that anything observed, so the search drops it (as
 *   `failed`); a write applied after the last observation could be linearized last and change nothing;
 * - a value is at revision r: it returns no later than the first observation of a revision >= r.
 *
 * Unknown deletes (no unique value) stay open-ended. Without this, every unknown write is a candidate at every
 * later point of the search, and runs with many timeouts (membership changes) exhaust the step budget.
 * Returns new operation objects for patched ones; the history itself is not changed.
 */
export function patchUnknownWrites(history: History, log: ChangeLog): Operation[] {
  const revisionOfValue = new Map<string, number>()
  for (const [revision, events] of log.byRevision) for (const event of events) if (event.type === 'put') revisionOfValue.set(event.kv.value, revision)
  const firstSeen = observationIndex(history)
  return history.operations.map((op) => {
    if (op.outcome !== 'unknown' || (op.request.kind !== 'put' && op.request.kind !== 'txn')) return op
    const revisions = requestValues(op.request).map((value) => revisionOfValue.get(value)).filter((r): r is number => r !== undefined)
    if (revisions.length === 0) return { ...op, outcome: 'failed' as const }
    const seen = firstSeen(Math.min(...revisions))
    return seen && seen.at < op.return ? { ...op, return: Math.max(seen.at, op.call) } : op
  })
}
