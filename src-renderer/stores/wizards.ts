import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { MembershipChangeKind, MembershipPlan, Result } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'

/**
 * A busy flag, the last error as user text, and `run`, which makes one contract call with both kept current
 * and resolves with the value or null (shared by the wizard stores).
 */
export function callRunner() {
  const busy = ref(false)
  const error = ref<string | null>(null)
  async function run<T>(work: () => Promise<Result<T>>): Promise<T | null> {
    busy.value = true
    try {
      const result = await work()
      if (!result.ok) {
        error.value = errorText(result.error)
        return null
      }
      error.value = null
      return result.value
    } finally {
      busy.value = false
    }
  }
  return { busy, error, run }
}

/** State of the membership wizard: the plan on screen, the learner it added, and the last error as user text. */
export const useWizardsStore = defineStore('wizards', () => {
  const plan = ref<MembershipPlan | null>(null)
  /** The learner the wizard added (promoted and removed in later steps). */
  const learner = ref('')
  const { busy, error, run: call } = callRunner()

  function reset(): void {
    plan.value = null
    learner.value = ''
    error.value = null
  }

  /** Shows what `kind` on `member` would do (nothing changes). */
  async function preview(cluster: string, kind: MembershipChangeKind, member: string): Promise<void> {
    const next = await call(() => api.planMembershipChange(cluster, kind, member))
    if (next) plan.value = next
  }

  /** Makes the change; afterwards `plan` shows the new state. */
  async function apply(cluster: string, kind: MembershipChangeKind, member: string): Promise<boolean> {
    const next = await call(() => api.applyMembershipChange(cluster, kind, member))
    if (!next) return false
    plan.value = next
    if (kind === 'addLearner') learner.value = next.member
    return true
  }

  return { plan, learner, busy, error, reset, preview, apply }
})
