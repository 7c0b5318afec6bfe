import { observationCount, p99Ms } from './metrics'
import { versionNote } from './versions'
import type { ClusterEvidence, Finding, MemberEvidence, Severity } from './types'

// The advisor's rules. Each grades one practice from etcd's HA guidance (faq.md, op-guide/*, the etcd-mixin
// alerts) and returns a finding, or null when it does not apply (nothing to look at).

/** A rule: evidence and the current time in, one finding (or null: not applicable) out. Pure. */
export type Rule = (evidence: ClusterEvidence, now: Date) => Finding | null

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
const MIB = 1024 * 1024

// etcd FAQ ("What does the etcd warning 'apply entries took too long' mean?"): p99 fsync under 10 ms, p99
// backend commit under 25 ms. etcd-mixin etcdHighFsyncDurations: critical at 1 s.
const FSYNC_P99_MS = 10
const FSYNC_CRITICAL_P99_MS = 1000
const COMMIT_P99_MS = 25
// Fewer observations than this make a p99 meaningless.
const MIN_OBSERVATIONS = 20

function voters(evidence: ClusterEvidence): MemberEvidence[] {
  return evidence.members.filter((member) => !member.isLearner)
}

function finding(id: string, severity: Severity, title: string, evidence: Finding['evidence'], fix: Finding['fix'] = null): Finding {
  return { id, severity, title, evidence, fix }
}

/** Host part of a URL ('' when unparseable); IPv6 brackets removed. */
function hostOf(url: string): string {
  try {
    return new URL(url.includes('://') ? url : `http://${url}`).hostname.replace(/^\[|\]$/g, '')
  } catch {
    return ''
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}

/** The cluster must answer at all: without the member list nothing else can be graded. */
export const reachableRule: Rule = (evidence) => {
  const down = evidence.members.filter((member) => member.status === null)
  const numbers = { members: evidence.members.length, statusFailures: down.length, error: evidence.memberListError ?? down[0]?.statusError ?? null }
  if (evidence.memberListError !== null) {
    return finding('reachable', 'critical', `Cannot read the member list from ${evidence.endpoints.join(', ')}`, numbers, {
      text: 'Check the endpoints, the TLS files and credentials, and that a majority of members is running.',
      target: 'page:members',
    })
  }
  if (down.length > 0) {
    return finding('reachable', 'critical', `${down.length} of ${evidence.members.length} member(s) do not answer Status: ${down.map((m) => m.name || m.id).join(', ')}`, numbers, {
      text: 'Restart the stopped member(s) or replace them (remove, then add) before another failure costs quorum.',
      target: 'page:members',
    })
  }
  return finding('reachable', 'ok', `All ${evidence.members.length} member(s) answer`, numbers)
}

/** etcd FAQ: odd sizes tolerate as many failures as the next even size with fewer members; 2 is worse than 1. */
export const memberCountRule: Rule = (evidence) => {
  if (evidence.memberListError !== null) return null
  const count = voters(evidence).length
  const tolerance = Math.floor((count - 1) / 2)
  const numbers = { voters: count, learners: evidence.members.length - count, failureTolerance: tolerance }
  const add: Finding['fix'] = { text: 'Add members until the count is odd and at least 3 (remove before add when replacing).', target: 'wizard:add-member' }
  if (count === 1) return finding('member-count', 'warning', 'Single member: no failure is tolerated; losing it loses the cluster', numbers, add)
  if (count === 2) {
    return finding('member-count', 'critical', 'Even member count 2: worse than 1, either member failing stops writes (quorum is 2)', numbers, {
      text: 'Add a third member (or remove one): 3 members tolerate 1 failure, 2 tolerate none and fail twice as often.',
      target: 'wizard:add-member',
    })
  }
  if (count % 2 === 0) {
    return finding('member-count', 'warning', `Even member count ${count}: tolerates ${tolerance} failure(s), as ${count - 1} members would`, numbers, {
      text: `Add or remove one member to make the count odd (${count + 1} tolerates ${tolerance + 1}).`,
      target: 'wizard:add-member',
    })
  }
  if (count > 7) {
    return finding('member-count', 'warning', `${count} members: more than 7 slows every write with little gain`, numbers, {
      text: 'Keep 5 or 7 voting members; use learners or proxies for read scale.',
      target: 'wizard:remove-member',
    })
  }
  return finding('member-count', 'ok', `${count} members: tolerates ${tolerance} failure(s)`, numbers)
}

/** Members must sit on distinct hosts (failure domains), judged from their peer URLs (client URLs as fallback). */
export const distinctHostsRule: Rule = (evidence) => {
  const members = voters(evidence)
  if (members.length === 0) return null
  const hosts = members.map((member) => hostOf(member.peerUrls[0] ?? member.clientUrls[0] ?? ''))
  const perHost = new Map<string, number>()
  for (const host of hosts) perHost.set(host, (perHost.get(host) ?? 0) + 1)
  const busiest = Math.max(...perHost.values())
  const numbers = { members: members.length, distinctHosts: perHost.size, mostMembersOnOneHost: busiest }
  if (hosts.every(isLoopback)) {
    return finding('distinct-hosts', 'info', 'All members on this machine (loopback): fine for a local playground, not for production', numbers)
  }
  const quorum = Math.floor(members.length / 2) + 1
  const fix = { text: 'Move members to separate machines, ideally separate racks or zones.', target: 'page:members' } as const
  if (members.length > 1 && busiest >= quorum) {
    return finding('distinct-hosts', 'critical', `${busiest} of ${members.length} members share one host: losing it loses quorum`, numbers, fix)
  }
  if (busiest > 1) return finding('distinct-hosts', 'warning', `${perHost.size} hosts for ${members.length} members`, numbers, fix)
  return finding('distinct-hosts', 'ok', `${members.length} members on ${perHost.size} distinct hosts`, numbers)
}

function tlsRule(id: string, kind: 'client' | 'peer', urls: (member: MemberEvidence) => string[]): Rule {
  return (evidence) => {
    const all = evidence.members.flatMap(urls)
    if (all.length === 0) return null
    const plain = all.filter((url) => !url.startsWith('https://')).length
    const numbers = { urls: all.length, plainHttpUrls: plain }
    if (plain === 0) return finding(id, 'ok', `${kind === 'client' ? 'Client' : 'Peer'} traffic uses TLS on all ${all.length} URL(s)`, numbers)
    const what = kind === 'client' ? 'Client traffic (keys, values, passwords)' : 'Peer traffic (the whole Raft log)'
    return finding(id, 'critical', `${what} is unencrypted on ${plain} of ${all.length} URL(s)`, numbers, {
      text: `Turn on ${kind} TLS: --${kind === 'client' ? '' : 'peer-'}cert-file, --${kind === 'client' ? '' : 'peer-'}key-file, --${kind === 'client' ? '' : 'peer-'}trusted-ca-file and --${kind === 'client' ? '' : 'peer-'}client-cert-auth.`,
      target: 'wizard:tls',
    })
  }
}

/** Client URLs must be https (etcd op-guide/security.md). */
export const clientTlsRule = tlsRule('client-tls', 'client', (member) => member.clientUrls)

/** Peer URLs must be https (etcd op-guide/security.md). */
export const peerTlsRule = tlsRule('peer-tls', 'peer', (member) => member.peerUrls)

/** Someone must authenticate clients: client certificates (--client-cert-auth) or RBAC (auth enable). */
export const authRule: Rule = (evidence) => {
  const numbers = { authEnabled: evidence.authEnabled, clientCertRequired: evidence.clientCertRequired }
  if (evidence.authEnabled === true || evidence.clientCertRequired === true) {
    const how = [evidence.clientCertRequired ? 'client certificates' : '', evidence.authEnabled ? 'RBAC' : ''].filter(Boolean).join(' and ')
    return finding('auth', 'ok', `Clients are authenticated (${how})`, numbers)
  }
  if (evidence.authEnabled === null) {
    return finding('auth', 'info', 'Could not tell whether auth is on', numbers, { text: 'Check with `etcdctl auth status` as root.', target: 'wizard:auth' })
  }
  return finding('auth', 'warning', 'Anyone who reaches a client URL can read and write every key: no client-cert auth, RBAC off', numbers, {
    text: 'Turn on RBAC (create root, `auth enable`) or require client certificates (--client-cert-auth).',
    target: 'wizard:auth',
  })
}

/** Every member's /metrics must answer, or nothing can alert on it. */
export const metricsReachableRule: Rule = (evidence) => {
  const members = evidence.members.filter((member) => member.metricsUrl !== null)
  if (members.length === 0) return null
  const failing = members.filter((member) => member.metrics === null)
  const numbers = { members: members.length, unreachable: failing.length, firstError: failing[0]?.metricsError ?? null }
  if (failing.length === 0) return finding('metrics-reachable', 'ok', `/metrics answers on all ${members.length} member(s)`, numbers)
  return finding('metrics-reachable', 'warning', `/metrics unreachable on ${failing.map((m) => m.name || m.id).join(', ')}`, numbers, {
    text: 'Expose metrics (--listen-metrics-urls) and scrape them with Prometheus; pass --metrics-urls if they are on another port.',
    target: 'page:monitoring',
  })
}

/**
 * Leader changes in the last hour. Measured when the advisor sampled the counter twice (the increase, scaled
 * to an hour); otherwise estimated from `etcd_server_leader_changes_seen_total` and the uptime: a member up
 * less than an hour saw all its changes within it (minus its first election); an older one is prorated.
 * etcd-mixin etcdHighNumberOfLeaderChanges fires at 4 in 15 minutes.
 */
export const leaderChangesRule: Rule = (evidence) => {
  const estimates = evidence.members.flatMap((member) => {
    const sampled = member.leaderChangesSampled
    if (sampled && sampled.intervalMs > 0) return [(sampled.delta * HOUR_MS) / sampled.intervalMs]
    const m = member.metrics
    if (!m || m.leaderChanges === null || m.uptimeSeconds === null) return []
    const hours = m.uptimeSeconds / 3600
    return [hours <= 1 ? Math.max(0, m.leaderChanges - 1) : Math.max(0, m.leaderChanges - 1) / hours]
  })
  if (estimates.length === 0) return null
  const perHour = Math.round(Math.max(...estimates) * 10) / 10
  const measured = evidence.members.some((member) => member.leaderChangesSampled !== null)
  const numbers = { leaderChangesLastHour: perHour, membersSampled: estimates.length, measuredOverInterval: measured }
  if (perHour >= 3) {
    return finding('leader-changes', 'warning', `About ${perHour} leader changes in the last hour: network or disk trouble`, numbers, {
      text: 'Check peer round-trip times and disk latency; raise --heartbeat-interval/--election-timeout for slow links.',
      target: 'page:monitoring',
    })
  }
  return finding('leader-changes', 'ok', `Stable leadership: about ${perHour} leader change(s) in the last hour`, numbers)
}

function latencyRule(id: string, label: string, pick: (member: MemberEvidence) => import('./types').Histogram | null, limitMs: number, criticalMs: number): Rule {
  return (evidence) => {
    const rows = evidence.members.flatMap((member) => {
      const histogram = member.metrics ? pick(member) : null
      const p99 = observationCount(histogram) >= MIN_OBSERVATIONS ? p99Ms(histogram) : null
      return p99 === null ? [] : [{ name: member.name || member.id, p99 }]
    })
    if (rows.length === 0) return null
    const worst = rows.reduce((a, b) => (b.p99 > a.p99 ? b : a))
    const p99 = Math.round(worst.p99 * 100) / 100
    const numbers = { worstP99Ms: p99, member: worst.name, limitMs, membersSampled: rows.length }
    const severity: Severity = worst.p99 >= criticalMs ? 'critical' : worst.p99 > limitMs ? 'warning' : 'ok'
    if (severity === 'ok') return finding(id, 'ok', `${label} p99 ${p99} ms (under ${limitMs} ms)`, numbers)
    return finding(id, severity, `${label} p99 ${p99} ms on ${worst.name}, above etcd's ${limitMs} ms guidance`, numbers, {
      text: 'Give etcd a dedicated SSD/NVMe data dir with no competing I/O; slow disks cause missed heartbeats and elections.',
      target: 'page:monitoring',
    })
  }
}

/** WAL fsync p99 under 10 ms (etcd FAQ), lifetime histogram. */
export const fsyncLatencyRule = latencyRule('fsync-p99', 'WAL fsync', (m) => m.metrics?.walFsync ?? null, FSYNC_P99_MS, FSYNC_CRITICAL_P99_MS)

/** Backend commit p99 under 25 ms (etcd FAQ), lifetime histogram. */
export const commitLatencyRule = latencyRule('backend-commit-p99', 'Backend commit', (m) => m.metrics?.backendCommit ?? null, COMMIT_P99_MS, Infinity)

/** DB size against the quota: NOSPACE makes the cluster read-only (op-guide/maintenance.md; mixin: critical at 95%). */
export const quotaRule: Rule = (evidence) => {
  const rows = evidence.members.flatMap((member) => {
    const quota = member.metrics?.quotaBytes ?? null
    const size = member.status?.dbSizeBytes ?? member.metrics?.dbSizeBytes ?? null
    return quota && size !== null ? [{ name: member.name || member.id, quota, size, ratio: size / quota }] : []
  })
  if (rows.length === 0) return null
  const worst = rows.reduce((a, b) => (b.ratio > a.ratio ? b : a))
  const percent = Math.round(worst.ratio * 1000) / 10
  const numbers = { dbSizeBytes: worst.size, quotaBytes: worst.quota, usedPercent: percent, member: worst.name }
  const fix = { text: 'Compact old revisions, defragment each member (leader last), or raise --quota-backend-bytes (8 GiB max).', target: 'page:maintenance' } as const
  if (worst.ratio > 0.95) return finding('db-quota', 'critical', `DB at ${percent}% of its quota on ${worst.name}: NOSPACE is close`, numbers, fix)
  if (worst.ratio > 0.8) return finding('db-quota', 'warning', `DB at ${percent}% of its quota on ${worst.name}`, numbers, fix)
  return finding('db-quota', 'ok', `DB at ${percent}% of its quota`, numbers)
}

/** Fragmentation: in-use / size under 50% with over 100 MiB in use (etcd-mixin etcdDatabaseHighFragmentationRatio). */
export const fragmentationRule: Rule = (evidence) => {
  const rows = evidence.members.flatMap((member) => {
    const size = member.status?.dbSizeBytes ?? member.metrics?.dbSizeBytes ?? null
    const inUse = member.status?.dbSizeInUseBytes ?? member.metrics?.dbSizeInUseBytes ?? null
    return size && inUse !== null && inUse > 0 ? [{ name: member.name || member.id, size, inUse, ratio: inUse / size }] : []
  })
  if (rows.length === 0) return null
  const worst = rows.reduce((a, b) => (b.ratio < a.ratio ? b : a))
  const percent = Math.round(worst.ratio * 1000) / 10
  const numbers = { dbSizeBytes: worst.size, dbSizeInUseBytes: worst.inUse, inUsePercent: percent, member: worst.name }
  if (worst.ratio < 0.5 && worst.inUse > 100 * MIB) {
    return finding('db-fragmentation', 'warning', `Only ${percent}% of the DB file is in use on ${worst.name}: defragment`, numbers, {
      text: 'Defragment one member at a time, followers first and the leader last.',
      target: 'page:maintenance',
    })
  }
  return finding('db-fragmentation', 'ok', `${percent}% of the DB file in use`, numbers)
}

/** Active alarms (NOSPACE: read-only; CORRUPT: data divergence). */
export const alarmsRule: Rule = (evidence) => {
  if (evidence.alarms === null) return null
  const active = evidence.alarms.filter((alarm) => alarm.alarm !== 'none')
  if (active.length === 0) return finding('alarms', 'ok', 'No active alarms', { activeAlarms: 0 })
  const names = [...new Set(active.map((alarm) => alarm.alarm.toUpperCase()))].join(', ')
  return finding('alarms', 'critical', `Active alarm(s): ${names} on ${active.length} member(s)`, { activeAlarms: active.length, kinds: names }, {
    text: 'NOSPACE: compact, defragment every member, then disarm. CORRUPT: stop the diverged member and restore it from a snapshot.',
    target: 'page:alarms',
  })
}

function ageHours(iso: string, now: Date): number {
  return Math.round(((now.getTime() - Date.parse(iso)) / HOUR_MS) * 10) / 10
}

/** A successful backup within the last 24 hours (from the backup service). */
export const backupRule: Rule = (evidence, now) => {
  const last = evidence.lastSuccessfulBackup
  const fix = { text: 'Schedule snapshots (at least daily) and keep them off the cluster machines.', target: 'page:backups' } as const
  if (last === null) return finding('backup-recent', 'critical', 'No backup recorded', { lastSuccessfulBackup: null }, fix)
  const hours = ageHours(last, now)
  if (now.getTime() - Date.parse(last) > DAY_MS) {
    return finding('backup-recent', 'critical', `Last successful backup ${hours} h ago (over 24 h)`, { lastSuccessfulBackup: last, ageHours: hours }, fix)
  }
  return finding('backup-recent', 'ok', `Last successful backup ${hours} h ago`, { lastSuccessfulBackup: last, ageHours: hours })
}

/** A passing restore drill within the last 7 days: an untested backup is a hope, not a backup. */
export const restoreDrillRule: Rule = (evidence, now) => {
  const last = evidence.lastPassingDrill
  const fix = { text: 'Run a restore drill: restore the latest snapshot into a scratch cluster and compare its hash.', target: 'page:backups' } as const
  if (last === null) return finding('restore-drill', 'warning', 'No passing restore drill recorded', { lastPassingDrill: null }, fix)
  const hours = ageHours(last, now)
  if (now.getTime() - Date.parse(last) > 7 * DAY_MS) {
    return finding('restore-drill', 'warning', `Last passing restore drill ${Math.round(hours / 24)} days ago (over 7)`, { lastPassingDrill: last, ageHours: hours }, fix)
  }
  return finding('restore-drill', 'ok', `Last passing restore drill ${hours} h ago`, { lastPassingDrill: last, ageHours: hours })
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2, ok: 3 }

/** Server versions against the shipped known-issues table (versions.ts); the worst member decides. */
export const versionRule: Rule = (evidence) => {
  // NB: Quorum reports the etcd API level (3.4.23) as its version; only its /metrics tell it apart. A member
  // whose /metrics failed takes the engine its peers showed.
  const known = evidence.members.find((member) => member.metrics && member.metrics.engine !== 'unknown')?.metrics?.engine ?? 'unknown'
  const rows = evidence.members.flatMap((member) => {
    const version = member.status?.version ?? member.metrics?.serverVersion ?? null
    const engine = member.metrics && member.metrics.engine !== 'unknown' ? member.metrics.engine : known
    return version === null ? [] : [{ version, ...versionNote(version, engine) }]
  })
  if (rows.length === 0) return null
  const worst = rows.reduce((a, b) => (SEVERITY_RANK[b.severity] < SEVERITY_RANK[a.severity] ? b : a))
  const versions = [...new Set(rows.map((row) => row.version))].join(', ')
  const numbers = { versions, mixed: versions.includes(',') }
  if (worst.severity === 'ok' || worst.severity === 'info') return finding('server-version', worst.severity, worst.note, numbers)
  return finding('server-version', worst.severity, worst.note, numbers, { text: 'Upgrade one member at a time (a rolling upgrade), after a backup.', target: 'page:upgrade' })
}

/** Certificates given to the advisor must not expire within 30 days. */
export const certificateExpiryRule: Rule = (evidence, now) => {
  if (evidence.certificates.length === 0) return null
  const rows = evidence.certificates.map((cert) => ({ ...cert, days: Math.floor((Date.parse(cert.notAfter) - now.getTime()) / DAY_MS) }))
  const soonest = rows.reduce((a, b) => (b.days < a.days ? b : a))
  const numbers = { certificates: rows.length, soonestFile: soonest.file, soonestNotAfter: soonest.notAfter, daysLeft: soonest.days }
  const fix = { text: 'Issue new certificates and roll them out member by member before they expire.', target: 'wizard:certs-renew' } as const
  if (soonest.days < 0) return finding('cert-expiry', 'critical', `Certificate ${soonest.file} expired on ${soonest.notAfter}`, numbers, fix)
  if (soonest.days < 30) return finding('cert-expiry', 'warning', `Certificate ${soonest.file} expires in ${soonest.days} day(s)`, numbers, fix)
  return finding('cert-expiry', 'ok', `Certificates valid for at least ${soonest.days} more days`, numbers)
}

// etcd's rafthttp prober warns at 1 s of clock difference between peers; the Date header's 1 s resolution
// adds up to 1 s of noise, hence 2 s.
const CLOCK_SKEW_LIMIT_MS = 2000

/** Member clocks against this machine and each other, from the Date headers of their /metrics answers. */
export const clockSkewRule: Rule = (evidence) => {
  const skews = evidence.members.flatMap((member) => (member.clockSkewMs === null ? [] : [member.clockSkewMs]))
  if (skews.length === 0) return null
  const worst = Math.max(...skews.map(Math.abs))
  const spread = Math.max(...skews) - Math.min(...skews)
  const numbers = { maxSkewMs: Math.round(worst), spreadBetweenMembersMs: Math.round(spread), membersSampled: skews.length }
  if (worst > CLOCK_SKEW_LIMIT_MS || spread > CLOCK_SKEW_LIMIT_MS) {
    return finding('clock-skew', 'warning', `Member clocks differ by up to ${Math.round(Math.max(worst, spread) / 1000)} s`, numbers, {
      text: 'Run NTP (chrony/systemd-timesyncd) on every member; skew breaks lease and TLS expiry judgements.',
      target: 'doc:clock-sync',
    })
  }
  return finding('clock-skew', 'ok', 'Member clocks agree (within the 1 s resolution of the Date header)', numbers)
}

/** Every rule, in the order the report lists ties. */
export const RULES: readonly Rule[] = [
  reachableRule,
  memberCountRule,
  distinctHostsRule,
  clientTlsRule,
  peerTlsRule,
  authRule,
  metricsReachableRule,
  leaderChangesRule,
  fsyncLatencyRule,
  commitLatencyRule,
  quotaRule,
  fragmentationRule,
  alarmsRule,
  backupRule,
  restoreDrillRule,
  versionRule,
  certificateExpiryRule,
  clockSkewRule,
]
