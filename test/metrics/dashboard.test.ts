import { describe, expect, it } from 'vitest'
import { shippedAlertRules } from '../../core/metrics/shipped-rules'
import { dashboardExpressions, parseFamilies, populatedMetrics, readDashboard } from './support'

function selectedMetrics(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{/g)].map((match) => match[1])
}

describe('dashboard and alert rules read only metrics the registry exposes', () => {
  it('every metric a panel or an alert selects is one of our families (histograms by _bucket)', async () => {
    const families = parseFamilies(await populatedMetrics('extensive').metrics())
    const known = (name: string) => families.has(name) || families.get(name.replace(/_bucket$/, ''))?.type === 'histogram'
    const exprs = [...dashboardExpressions(), ...shippedAlertRules().map((rule) => rule.expr)]
    const referenced = new Set(exprs.flatMap(selectedMetrics))
    referenced.delete('up') // Prometheus' own scrape health series
    expect(referenced.size).toBeGreaterThan(15)
    expect([...referenced].filter((name) => !known(name))).toEqual([])
  })

  it("the dashboard has etcd's standard panels, each with a query", () => {
    const dashboard = readDashboard()
    expect(dashboard.panels.map((panel) => panel.title)).toEqual([
      'Up', 'RPC rate', 'Active streams', 'DB size', 'Disk sync duration', 'Memory', 'Client traffic in',
      'Client traffic out', 'Peer traffic in', 'Peer traffic out', 'Raft proposals', 'Total leader elections per day',
      'Peer round trip time',
    ])
    for (const panel of dashboard.panels) expect(panel.targets.length, panel.title).toBeGreaterThan(0)
  })
})
