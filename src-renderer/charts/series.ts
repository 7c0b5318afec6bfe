import type { MemberMetricsPoint } from '../../src-main/api/admin-api'

/** One line of a chart: `[time ms, value]` pairs; null values leave a gap. */
export interface ChartSeries {
  name: string
  data: [number, number | null][]
  dashed?: boolean
}

/** One series per member (by name, or the ID for a member without one), points since `sinceMs`. */
export function perMemberSeries(points: readonly MemberMetricsPoint[], pick: (point: MemberMetricsPoint) => number | null, sinceMs: number): ChartSeries[] {
  const byMember = new Map<string, ChartSeries>()
  for (const point of points) {
    if (point.at < sinceMs) continue
    const name = point.memberName || point.memberId
    let series = byMember.get(name)
    if (!series) byMember.set(name, (series = { name, data: [] }))
    series.data.push([point.at, point.up ? pick(point) : null])
  }
  return [...byMember.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/**
 * Cluster-wide series taken from whichever member was leader at each sample (the leader's view of
 * proposals is the cluster's); leaderless samples leave gaps.
 */
export function leaderSeries(
  points: readonly MemberMetricsPoint[],
  lines: { name: string; pick: (point: MemberMetricsPoint) => number | null; dashed?: boolean }[],
  sinceMs: number,
): ChartSeries[] {
  const leaderPoints = points.filter((point) => point.at >= sinceMs && point.isLeader === true)
  return lines.map((line) => ({ name: line.name, dashed: line.dashed, data: leaderPoints.map((point) => [point.at, line.pick(point)] as [number, number | null]) }))
}

/** True when some series has at least two real values (enough to draw a line). */
export function hasLine(series: readonly ChartSeries[]): boolean {
  return series.some((line) => line.data.filter(([, value]) => value !== null).length >= 2)
}
