import type { History, KeyValue, WatchEvent, WatchResponseRecord } from '../history'
import type { Violation } from './violation'

/**
 * The change log: for every revision, the events etcd reports for it, merged from every watcher's streams
 * (first one seen wins; any disagreement between watchers is a `log-conflict`). Watchers start at revision 1
 * before traffic, so on a fresh cluster the log should hold every revision from 2 to the last one.
 */
export interface ChangeLog {
  /** Events per revision. Invariant: every list is non-empty. */
  byRevision: Map<number, WatchEvent[]>
  /** Watcher that first delivered each revision. */
  sourceOf: Map<number, number>
  maxRevision: number
}

/** Canonical text of a key-value with all its metadata ('-' for absent). */
export function kvText(kv: KeyValue | null): string {
  return kv ? `${kv.key}=${kv.value}@${kv.createRevision}/${kv.modRevision}/${kv.version}/${kv.lease}` : '-'
}

/** A canonical text for an event, with every field a watcher must agree on (kv metadata and prev_kv). */
export function eventText(event: WatchEvent): string {
  return event.type === 'put' ? `PUT ${kvText(event.kv)} prev ${kvText(event.prevKv)}` : `DEL ${event.kv.key}@${event.kv.modRevision} prev ${kvText(event.prevKv)}`
}

/** The events of one revision as a sorted list of canonical texts (order inside a revision is not compared). */
export function revisionText(events: WatchEvent[]): string {
  return events.map(eventText).sort().join('; ')
}

/** Groups each watcher's events by revision, in delivery order; only the first response carrying a revision counts. */
export function eventsByRevision(history: History): Array<{ watcherId: number; revisions: Map<number, WatchEvent[]> }> {
  return history.watches.map((stream) => {
    const revisions = new Map<number, WatchEvent[]>()
    const deliveredBy = new Map<number, WatchResponseRecord>()
    for (const segment of stream.segments) {
      for (const response of segment.responses) {
        for (const event of response.events) {
          const revision = event.kv.modRevision
          const first = deliveredBy.get(revision) ?? response
          // A revision delivered again by a later response is a watch fault (checked in watch.ts), not data.
          if (first !== response) continue
          deliveredBy.set(revision, response)
          revisions.set(revision, [...(revisions.get(revision) ?? []), event])
        }
      }
    }
    return { watcherId: stream.watcherId, revisions }
  })
}

/** Builds the merged change log and reports revisions on which two watchers disagree. */
export function buildChangeLog(history: History): { log: ChangeLog; violations: Violation[] } {
  const log: ChangeLog = { byRevision: new Map(), sourceOf: new Map(), maxRevision: 1 }
  const violations: Violation[] = []
  for (const { watcherId, revisions } of eventsByRevision(history)) {
    for (const [revision, events] of revisions) {
      const known = log.byRevision.get(revision)
      if (!known) {
        log.byRevision.set(revision, events)
        log.sourceOf.set(revision, watcherId)
        log.maxRevision = Math.max(log.maxRevision, revision)
      } else if (revisionText(known) !== revisionText(events)) {
        violations.push({
          code: 'log-conflict',
          revision,
          message: `watchers ${log.sourceOf.get(revision)} and ${watcherId} disagree on revision ${revision}: [${revisionText(known)}] vs [${revisionText(events)}]`,
          operations: [],
          events: [
            ...known.map((event) => ({ watcherId: log.sourceOf.get(revision) ?? -1, revision, event })),
            ...events.map((event) => ({ watcherId, revision, event })),
          ],
        })
      }
    }
  }
  return { log, violations }
}
