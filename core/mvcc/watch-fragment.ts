// Splitting a large watch response into fragments, ported from etcd v3rpc/watch.go sendFragments
// (Apache-2.0). Used by the gRPC layer for watchers created with fragment=true.
import type { WatchResponse } from './watchable-store'

/** A watch response piece; `fragment` is true on every piece but the last. */
export type WatchResponseFragment = WatchResponse & { fragment: boolean }

/**
 * Splits `resp` so that each piece's encoded size (measured by `sizeOf`) stays below maxRequestBytes, except
 * that a piece always carries at least one event. A response under the limit or with fewer than two events
 * is returned whole with fragment=false.
 */
export function fragmentWatchResponse(
  resp: WatchResponse,
  maxRequestBytes: number,
  sizeOf: (piece: WatchResponseFragment) => number,
): WatchResponseFragment[] {
  const whole = { ...resp, fragment: false }
  if (resp.events.length < 2 || sizeOf(whole) < maxRequestBytes) return [whole]
  const pieces: WatchResponseFragment[] = []
  let idx = 0
  for (;;) {
    const cur: WatchResponseFragment = { ...resp, events: [], fragment: true }
    for (const ev of resp.events.slice(idx)) {
      cur.events.push(ev)
      if (cur.events.length > 1 && sizeOf(cur) >= maxRequestBytes) {
        cur.events.pop()
        break
      }
      idx++
    }
    if (idx === resp.events.length) cur.fragment = false
    pieces.push(cur)
    if (!cur.fragment) return pieces
  }
}
