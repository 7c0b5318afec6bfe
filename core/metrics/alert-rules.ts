import { parse as parseYaml } from 'yaml'
import { z } from 'zod'

/** One alerting rule of a Prometheus rules file, as the desktop app evaluates it. */
export interface AlertRule {
  /** The rule group's name. */
  group: string
  /** `alert:`; several rules may share a name (e.g. a warning and a critical threshold). */
  alert: string
  /** The PromQL expression, verbatim. */
  expr: string
  /** `for:` in seconds (0 when absent): how long `expr` must hold before the alert fires. */
  forSeconds: number
  labels: Record<string, string>
  annotations: Record<string, string>
}

/** The rules file is not a valid Prometheus rules file (or has a construct the app does not support). */
export class AlertRulesFormatError extends Error {
  override name = 'AlertRulesFormatError'
  readonly code = 'ALERT_RULES_FORMAT'
}

const ruleSchema = z.union([
  z.object({
    alert: z.string().min(1),
    expr: z.string().min(1),
    for: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  // Recording rules are valid in a rules file; the app has nothing to alert on for them.
  z.object({ record: z.string().min(1), expr: z.string().min(1) }),
])
const fileSchema = z.object({
  groups: z.array(z.object({ name: z.string().min(1), rules: z.array(ruleSchema) })),
})

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 }

/** Parses a Prometheus duration (`10m`, `1h30m`, `500ms`) into seconds. */
export function parsePrometheusDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)]
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) {
    throw new AlertRulesFormatError(`not a Prometheus duration: ${JSON.stringify(text)}`)
  }
  return parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * DURATION_UNITS[unit], 0)
}

/**
 * Parses a Prometheus rules file (YAML) into its alerting rules, in file order. The desktop app calls this on
 * build/monitoring/quorum-rules.yml, the same file Prometheus loads, so both evaluate identical rules.
 */
export function parseAlertRules(yamlText: string): AlertRule[] {
  const parsed = fileSchema.safeParse(parseYaml(yamlText))
  if (!parsed.success) throw new AlertRulesFormatError(`invalid rules file: ${parsed.error.message}`)
  const rules: AlertRule[] = []
  for (const group of parsed.data.groups) {
    for (const rule of group.rules) {
      if (!('alert' in rule)) continue
      rules.push({
        group: group.name,
        alert: rule.alert,
        expr: rule.expr.trim(),
        forSeconds: rule.for === undefined ? 0 : parsePrometheusDuration(rule.for),
        labels: rule.labels ?? {},
        annotations: rule.annotations ?? {},
      })
    }
  }
  return rules
}
