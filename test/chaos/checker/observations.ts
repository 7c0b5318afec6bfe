import type { History, Operation } from '../history'

/** The first moment anyone observed the store at or past some revision, and who. */
export interface Observation {
  revision: number
  at: number
  op?: Operation
}

/**
 * Index of observations: every acknowledged response (its header revision at its return time) and every watch
 * response (its highest event revision at its arrival). `firstSeen(r)` is the earliest observation of any
 * revision >= r: an effect at revision r happened no later than that. All times share the history's clock.
 */
export function observationIndex(history: History): (revision: number) => Observation | undefined {
  const observations: Observation[] = []
  for (const op of history.operations) if (op.outcome === 'ok' && op.response) observations.push({ revision: op.response.revision, at: op.return, op })
  for (const stream of history.watches) {
    for (const segment of stream.segments) {
      for (const response of segment.responses) {
        if (response.events.length === 0) continue
        observations.push({ revision: Math.max(...response.events.map((e) => e.kv.modRevision)), at: response.at })
      }
    }
  }
  // Earliest observation of any revision >= r: suffix minimum over observations sorted by revision.
  observations.sort((a, b) => a.revision - b.revision)
  const suffix = [...observations]
  for (let i = suffix.length - 2; i >= 0; i--) if (suffix[i + 1].at < suffix[i].at) suffix[i] = suffix[i + 1]
  return (revision) => {
    let lo = 0
    let hi = observations.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (observations[mid].revision < revision) lo = mid + 1
      else hi = mid
    }
    return lo < suffix.length ? suffix[lo] : undefined
  }
}
