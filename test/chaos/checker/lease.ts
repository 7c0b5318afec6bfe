import type { History } from '../history'
import { observationIndex } from './observations'
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
  const firstSeen = observationIndex(history)

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
