import { gatherEvidence, type GatherOptions } from './gather'
import { grade, score } from './grade'
import type { AdvisorReport } from './types'

/** Gathers the evidence of a cluster and grades it: findings worst first, and the score. See gatherEvidence. */
export async function advise(options: GatherOptions): Promise<AdvisorReport> {
  const evidence = await gatherEvidence(options)
  const findings = grade(evidence, options.now?.() ?? new Date())
  return { score: score(findings), findings, evidence }
}
