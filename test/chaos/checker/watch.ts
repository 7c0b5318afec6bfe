import type { History, WatchEvent } from '../history'
import { revisionText, type ChangeLog } from './change-log'
import type { Violation } from './violation'

/**
 * Watch guarantees (etcd api_guarantees.md "Watch APIs"; etcd robustness `validate/watch.go`, re-derived):
 * - Ordered: events arrive by increasing revision, never back in time;
 * - Unique: an event (revision, key) is never delivered twice;
 * - Atomic: all events of one revision arrive in one response, and they are the whole revision;
 * - Reliable: inside a stream, no revision of the change log between two delivered ones is skipped;
 * - Resumable: a (re)started watch at revision s delivers the first log revision >= s first;
 * - prev_kv and kv metadata: checked through the log (every stream must equal the merged log, and the
 *   revision checker replays the log).
 * Each stream must also have delivered up to `history.finalRevision` (the harness waits for that).
 */
export function checkWatches(history: History, log: ChangeLog): Violation[] {
  const violations: Violation[] = []
  const logRevisions = [...log.byRevision.keys()].sort((a, b) => a - b)
  /** Index of the first log revision >= `revision` (binary search; the log is sorted). */
  const indexFrom = (revision: number): number => {
    let lo = 0
    let hi = logRevisions.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (logRevisions[mid] < revision) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  const firstLogRevisionFrom = (revision: number): number | undefined => logRevisions[indexFrom(revision)]
  const report = (code: Violation['code'], watcherId: number, revision: number, message: string, events: WatchEvent[]) =>
    violations.push({ code, revision, message: `watcher ${watcherId}: ${message}`, operations: [], events: events.map((event) => ({ watcherId, revision: event.kv.modRevision, event })) })

  for (const stream of history.watches) {
    const { watcherId } = stream
    const seen = new Set<string>()
    const responseOf = new Map<number, number>()
    const delivered = new Map<number, WatchEvent[]>()
    let last = 0
    let lastEvent: WatchEvent | undefined
    let responseIndex = 0
    for (const segment of stream.segments) {
      let firstOfSegment = true
      for (const response of segment.responses) {
        responseIndex++
        for (const event of response.events) {
          const revision = event.kv.modRevision
          const startsSegment = firstOfSegment
          if (firstOfSegment) {
            firstOfSegment = false
            const expected = firstLogRevisionFrom(segment.startRevision)
            if (revision !== expected) {
              report('watch-not-resumable', watcherId, revision, `watch started at revision ${segment.startRevision} delivered revision ${revision} first; the log's first revision from there is ${expected}`, [event])
            }
          }
          const id = `${revision}\n${event.kv.key}`
          if (seen.has(id)) {
            report('watch-duplicate', watcherId, revision, `event ${event.type} ${event.kv.key} at revision ${revision} delivered twice`, [event])
            continue
          }
          seen.add(id)
          if (revision < last) {
            report('watch-unordered', watcherId, revision, `revision ${revision} delivered after revision ${last}`, lastEvent ? [lastEvent, event] : [event])
            continue
          }
          // The first event of a segment is judged by the resumable check above, against its start revision.
          if (revision > last && last > 0 && !startsSegment) {
            const skipped = logRevisions.slice(indexFrom(last + 1), indexFrom(revision))
            if (skipped.length > 0) {
              report('watch-gap', watcherId, revision, `revisions ${skipped.join(', ')} skipped between ${last} and ${revision}`, lastEvent ? [lastEvent, event] : [event])
            }
          }
          const owner = responseOf.get(revision)
          if (owner !== undefined && owner !== responseIndex) {
            report('watch-not-atomic', watcherId, revision, `revision ${revision} split over two responses`, [event])
          }
          responseOf.set(revision, responseIndex)
          delivered.set(revision, [...(delivered.get(revision) ?? []), event])
          last = revision
          lastEvent = event
        }
      }
    }
    for (const [revision, events] of delivered) {
      const expected = log.byRevision.get(revision)
      if (expected && revisionText(expected) !== revisionText(events)) {
        report('watch-not-atomic', watcherId, revision, `revision ${revision} delivered as [${revisionText(events)}], the log has [${revisionText(expected)}]`, events)
      }
    }
    if (history.finalRevision !== undefined && last < history.finalRevision) {
      report('watch-stalled', watcherId, last, `last delivered revision is ${last}, the final write was at revision ${history.finalRevision}`, lastEvent ? [lastEvent] : [])
    }
  }
  return violations
}

