import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Operation } from './history'
import { historyToJson } from './history'
import type { ScenarioResult } from './scenario'

/** Where `npm run chaos` writes its reports unless told otherwise. */
export const DEFAULT_REPORT_DIR = 'test-artifacts/chaos'

/** The verdict of one run: passed means no violation, no inconclusive key and no liveness error. */
export function verdictOf(result: ScenarioResult): 'pass' | 'fail' | 'inconclusive' {
  if (result.check.violations.length > 0 || result.error || result.convergence?.equal === false) return 'fail'
  return result.check.linearizable === 'unknown' ? 'inconclusive' : 'pass'
}

function describeOp(op: Operation, origin: number): string {
  const t = (ms: number) => (ms === Infinity ? '∞' : `${(ms - origin).toFixed(1)}`)
  const { request, response } = op
  const args = JSON.stringify(request).replace(/"kind":"\w+",?/, '')
  const result = op.outcome === 'ok' ? JSON.stringify(response).replace(/"kind":"\w+",?/, '') : `${op.outcome}${op.error ? ` (${op.error})` : ''}`
  return `| #${op.id} | c${op.clientId} | ${t(op.call)} | ${t(op.return)} | ${request.kind} ${args} | ${result} |`
}

/** Markdown summary of several runs, with each violation's minimal history slice as a table. */
export function renderMarkdown(results: ScenarioResult[]): string {
  const lines = ['# Chaos report', '', '| scenario | seed | cluster | verdict | ops | ok | unknown | failed | faults | violations | known target bugs | recovery ms | WGL ms | revision ms | watch ms |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|']
  for (const r of results) {
    const s = r.check.stats
    const name = r.options.lieAboutSerializableReads ? `${r.options.scenario} (negative control)` : r.options.scenario
    lines.push(
      `| ${name} | ${r.options.seed} | ${r.cluster} | ${verdictOf(r)} | ${s.operations} | ${s.ok} | ${s.unknown} | ${s.failed} | ${r.faults.length} | ${r.check.violations.length} | ${r.knownViolations.length} | ${r.recoveryMs?.toFixed(0) ?? '—'} | ${s.wglMs.toFixed(0)} | ${s.revisionMs.toFixed(0)} | ${s.watchMs.toFixed(0)} |`,
    )
  }
  for (const r of results) {
    const origin = r.history.operations[0]?.call ?? 0
    lines.push('', `## ${r.options.scenario} (seed ${r.options.seed}, client ${r.options.client ?? 'etcd3'})`, '')
    if (r.error) lines.push(`Error: ${r.error}`, '')
    lines.push(`Faults: ${r.faults.map((f) => `${f.kind} member ${f.member} (${f.role}) at ${(f.start - origin).toFixed(0)}–${(f.end - origin).toFixed(0)} ms`).join('; ') || 'none'}`)
    if (r.convergence) lines.push(`HashKV at revision ${r.convergence.revision}: ${r.convergence.equal ? 'equal on every member' : `DIFFERENT: ${r.convergence.hashes.join(', ')}`}`)
    lines.push(`Watch events: ${r.check.stats.watchEvents}; log revisions: ${r.check.stats.logRevisions}; lease expiries: ${r.check.stats.leaseExpiries}; WGL keys: ${r.check.stats.wglKeys} (${r.check.stats.wglSteps} steps)`)
    if (r.check.inconclusiveKeys.length > 0) lines.push(`Inconclusive (search budget exhausted): ${r.check.inconclusiveKeys.join(', ')}`)
    const shown = [...r.check.violations.slice(0, 20), ...r.knownViolations.slice(0, 5)]
    for (const [i, v] of shown.entries()) {
      const heading = 'reference' in v ? `Known ${r.cluster} bug (${String(v.reference)})` : 'Violation'
      lines.push('', `### ${heading} ${i + 1}: ${v.code}`, '', v.message, '')
      if (v.operations.length > 0) {
        lines.push('| op | client | call ms | return ms | request | result |', '|---|---|---|---|---|---|', ...v.operations.map((op) => describeOp(op, origin)))
      }
      for (const e of v.events ?? []) lines.push(`- watcher ${e.watcherId} revision ${e.revision}: ${JSON.stringify(e.event)}`)
    }
    const hidden = r.check.violations.length + r.knownViolations.length - shown.length
    if (hidden > 0) lines.push('', `…and ${hidden} more (see report.json).`)
  }
  return `${lines.join('\n')}\n`
}

/** Writes report.md, report.json (results without histories) and one history JSON per run into `dir`. */
export function writeReport(dir: string, results: ScenarioResult[]): string {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'report.md'), renderMarkdown(results))
  const summary = results.map(({ history, ...rest }) => ({ ...rest, verdict: verdictOf({ history, ...rest }), operations: history.operations.length }))
  writeFileSync(join(dir, 'report.json'), JSON.stringify(summary, (_k, v: unknown) => (v === Infinity ? null : v), 2))
  for (const r of results) writeFileSync(join(dir, `history-${r.options.scenario}-${r.options.seed}${r.options.lieAboutSerializableReads ? '-negative' : ''}.json`), historyToJson(r.history))
  return dir
}
