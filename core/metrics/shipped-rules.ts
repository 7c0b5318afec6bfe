import rulesYaml from '../../build/monitoring/quorum-rules.yml?raw'
import { parseAlertRules, type AlertRule } from './alert-rules'

/** The text of build/monitoring/quorum-rules.yml, embedded at build time (Vite `?raw`). */
export const SHIPPED_RULES_YAML: string = rulesYaml

/** The alerting rules Quorum ships, parsed from the same file Prometheus loads. */
export function shippedAlertRules(): AlertRule[] {
  return parseAlertRules(SHIPPED_RULES_YAML)
}
