import type { History, Operation } from '../history'
import type { LeaseExpiry } from './revision'
import { slice, type Violation } from './violation'

/**
 * Leases never expire early: a key attached to a lease may disappear by expiry only once the lease's TTL has
 * elapsed since the last moment the client refreshed it (grant or successful keep-alive, taken at its
 * invocation, the earliest time the server could have refreshed it). etcd only extends leases on leader
 * change (`lessor.Promote`), so this bound is safe for a correct server.
 *
 * The expiry happened no later than the first moment anyone observed its revision: a response whose header
 * revision is at least that revision, or a watch response carrying it. All times share one monotonic clock.
 */
export function checkLeases(history: History, expiries: LeaseExpiry[]): Violation[] {
  const observations: Array<{ revision: number; at: number; op?: Operation }> = []
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
  const firstSeen = (revision: number) => {
    let lo = 0
    let hi = observations.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (observations[mid].revision < revision) lo = mid + 1
      else hi = mid
    }
    return lo < suffix.length ? suffix[lo] : undefined
  }

  const violations: Violation[] = []
  for (const expiry of expiries) {
    const refreshes = history.operations.filter(
      (op) =>
        op.outcome === 'ok' &&
        ((op.request.kind === 'leaseGrant' && op.response?.kind === 'leaseGrant' && op.response.leaseId === expiry.leaseId) ||
          (op.request.kind === 'leaseKeepAlive' && op.request.leaseId === expiry.leaseId && op.response?.kind === 'leaseKeepAlive' && op.response.ttlSeconds > 0)),
    )
    const seen = firstSeen(expiry.revision)
    if (!seen) continue
    const last = refreshes.filter((op) => op.call < seen.at).sort((a, b) => b.call - a.call)[0]
    if (!last?.response) continue
    const ttlSeconds = last.response.kind === 'leaseGrant' || last.response.kind === 'leaseKeepAlive' ? last.response.ttlSeconds : 0
    const earliest = last.call + ttlSeconds * 1000
    if (seen.at < earliest) {
      violations.push({
        code: 'lease-expired-early',
        revision: expiry.revision,
        message: `lease ${expiry.leaseId} (TTL ${ttlSeconds} s, refreshed by #${last.id}) lost keys ${expiry.keys.join(', ')} at revision ${expiry.revision}, observed ${(earliest - seen.at).toFixed(0)} ms before the TTL could have elapsed`,
        operations: slice([last, seen.op]),
      })
    }
  }
  return violations
}
