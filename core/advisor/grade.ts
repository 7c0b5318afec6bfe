import { RULES, type Rule } from './rules'
import { SEVERITY_ORDER, type ClusterEvidence, type Finding, type Severity } from './types'

/** Points a finding of each severity takes off the score of 100. */
export const SEVERITY_PENALTY: Readonly<Record<Severity, number>> = { critical: 20, warning: 6, info: 0, ok: 0 }

/** 100 minus the penalties of the findings, clamped to [0, 100]. */
export function score(findings: readonly Finding[]): number {
  const penalty = findings.reduce((sum, finding) => sum + SEVERITY_PENALTY[finding.severity], 0)
  return Math.max(0, Math.min(100, 100 - penalty))
}

/** Findings sorted worst first; ties keep rule order. Returns a new array. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity))
}

/** Runs every rule (or `rules`) over the evidence; returns the applicable findings worst first. */
export function grade(evidence: ClusterEvidence, now: Date, rules: readonly Rule[] = RULES): Finding[] {
  return sortFindings(rules.flatMap((rule) => rule(evidence, now) ?? []))
}
