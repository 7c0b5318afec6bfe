import type { Severity } from './types'

/** What the shipped table says about a server version. */
export interface VersionNote {
  severity: Severity
  note: string
}

/** A known-issue row: versions from `min` to `max` inclusive ([major, minor, patch]). */
interface KnownIssue {
  min: [number, number, number]
  max: [number, number, number]
  severity: Severity
  note: string
}

// Shipped with the app; keep it small and sourced.
// - 3.5.0-3.5.2: etcd-io/etcd#13766, data inconsistency after a crash under load; fixed in 3.5.3 (CHANGELOG-3.5).
// - 3.4: end of life since 3.6.0 was released (etcd supports the two latest minors; etcd.io/docs "Supported versions").
// - 3.3 and older: unsupported for years.
const KNOWN_ISSUES: readonly KnownIssue[] = [
  { min: [0, 0, 0], max: [3, 3, 999], severity: 'critical', note: 'etcd 3.3 and older are unsupported: no security or bug fixes' },
  { min: [3, 4, 0], max: [3, 4, 999], severity: 'warning', note: 'etcd 3.4 is end of life: plan the upgrade to 3.5.3+ or 3.6' },
  {
    min: [3, 5, 0],
    max: [3, 5, 2],
    severity: 'critical',
    note: 'etcd 3.5.0-3.5.2 can lose data consistency when a member crashes under load (etcd-io/etcd#13766): upgrade to 3.5.3+',
  },
]

function parseVersion(version: string): [number, number, number] | null {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim())
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}

/**
 * Grades a server version against the shipped table. `engine` `quorum` is always OK: Quorum reports the etcd
 * API level it implements (3.4.23), not an etcd build. An unparseable version is `info`.
 */
export function versionNote(version: string, engine: 'quorum' | 'etcd' | 'unknown'): VersionNote {
  if (engine === 'quorum') return { severity: 'ok', note: `Quorum (etcd API ${version}): maintained with this app` }
  const parsed = parseVersion(version)
  if (!parsed) return { severity: 'info', note: `unrecognised server version ${JSON.stringify(version)}` }
  const issue = KNOWN_ISSUES.find((row) => compare(parsed, row.min) >= 0 && compare(parsed, row.max) <= 0)
  return issue ? { severity: issue.severity, note: issue.note } : { severity: 'ok', note: `etcd ${version}: no known issue in the shipped table` }
}
