import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { DrillInput, DrillOutcome, DrillState } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'

/** The drills page: the chosen local cluster's drill state, the last drill's outcome, and the busy flag. */
export const useDrillsStore = defineStore('drills', () => {
  const state = ref<DrillState | null>(null)
  const outcome = ref<DrillOutcome | null>(null)
  /** True while a drill or an enable runs (the form is disabled). */
  const busy = ref(false)
  /** User text of the last failed call, null when the last call worked. */
  const error = ref<string | null>(null)

  /** Refreshes the state of `cluster` (probing writes when asked); ignored while a drill runs. */
  async function load(cluster: string, probeWrites = false): Promise<void> {
    if (busy.value) return
    const result = await api.getDrillState(cluster, probeWrites)
    if (busy.value) return
    if (result.ok) {
      if (state.value?.cluster !== cluster) outcome.value = null
      state.value = keepProbes(state.value, result.value)
      error.value = null
    } else error.value = errorText(result.error)
  }

  /** Probe results stay shown while the same faults are in force (a refresh without probes has none). */
  function keepProbes(previous: DrillState | null, next: DrillState): DrillState {
    if (!previous || previous.cluster !== next.cluster || JSON.stringify(previous.faults) !== JSON.stringify(next.faults)) return next
    return {
      ...next,
      members: next.members.map((member) => {
        const before = previous.members.find((candidate) => candidate.name === member.name)
        return member.canWrite === null && before ? { ...member, canWrite: before.canWrite, writeMs: before.writeMs } : member
      }),
    }
  }

  async function guarded(work: () => Promise<void>): Promise<void> {
    busy.value = true
    try {
      await work()
    } finally {
      busy.value = false
    }
  }

  const enable = (cluster: string) =>
    guarded(async () => {
      const result = await api.enableDrills(cluster)
      if (result.ok) {
        state.value = result.value
        error.value = null
      } else error.value = errorText(result.error)
    })

  const run = (cluster: string, input: DrillInput) =>
    guarded(async () => {
      const result = await api.runDrill(cluster, input)
      if (result.ok) {
        outcome.value = result.value
        state.value = result.value.state
        error.value = null
      } else error.value = errorText(result.error)
    })

  return { state, outcome, busy, error, load, enable, run }
})
