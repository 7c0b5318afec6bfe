// Which backups to keep. Pure: the caller passes the backups and the current time.
//
//   now ─┬─ hour 0 ─┬─ hour 1 ─┬─ ...      keep the newest backup inside each of the last H hour buckets,
//        └── day 0 ─────────────┴─ day 1   of the last D UTC days and of the last W weeks (Monday-based UTC),
//   plus the newest N overall. A backup kept by any rule stays; everything else may be deleted.

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
const WEEK_MS = 7 * DAY_MS
// The Unix epoch was a Thursday; shifting by 3 days makes week buckets start on Monday 00:00 UTC.
const WEEK_OFFSET_MS = 3 * DAY_MS

/** Retention rules; every count is >= 0 and 0 disables the tier. */
export interface RetentionPolicy {
  keepLast: number
  hourly?: number
  daily?: number
  weekly?: number
}

/** A backup as retention sees it: a name and when it was taken (ms since the epoch). */
export interface RetainedCandidate {
  name: string
  takenMs: number
}

// The newest backup in each of the `count` newest buckets (bucket 0 holds `nowMs`).
function keepPerBucket(sorted: readonly RetainedCandidate[], nowMs: number, count: number, bucketMs: number, offsetMs: number, keep: Set<string>): void {
  if (count <= 0) return
  const current = Math.floor((nowMs + offsetMs) / bucketMs)
  const seen = new Set<number>()
  for (const candidate of sorted) {
    const bucket = Math.floor((candidate.takenMs + offsetMs) / bucketMs)
    if (bucket > current || bucket <= current - count || seen.has(bucket)) continue
    seen.add(bucket)
    keep.add(candidate.name)
  }
}

/**
 * Splits `candidates` into the names to keep and to delete under `policy` at `nowMs`. The result lists are
 * newest first and new arrays; ties in time are broken by name so the answer is deterministic.
 */
export function applyRetention(
  candidates: readonly RetainedCandidate[],
  policy: RetentionPolicy,
  nowMs: number,
): { keep: string[]; remove: string[] } {
  const sorted = [...candidates].sort((a, b) => b.takenMs - a.takenMs || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))
  const keep = new Set<string>()
  for (const candidate of sorted.slice(0, Math.max(0, policy.keepLast))) keep.add(candidate.name)
  keepPerBucket(sorted, nowMs, policy.hourly ?? 0, HOUR_MS, 0, keep)
  keepPerBucket(sorted, nowMs, policy.daily ?? 0, DAY_MS, 0, keep)
  keepPerBucket(sorted, nowMs, policy.weekly ?? 0, WEEK_MS, WEEK_OFFSET_MS, keep)
  return {
    keep: sorted.filter((candidate) => keep.has(candidate.name)).map((candidate) => candidate.name),
    remove: sorted.filter((candidate) => !keep.has(candidate.name)).map((candidate) => candidate.name),
  }
}
