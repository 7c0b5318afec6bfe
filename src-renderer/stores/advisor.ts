import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { AdvisorReportDto } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'

/** Advisor reports per connection (the newest run of each) and which connections are being graded. */
export const useAdvisorStore = defineStore('advisor', () => {
  const reports = ref(new Map<string, AdvisorReportDto>())
  const running = ref(new Set<string>())
  /** User text of the last failed call, null when the last call worked. */
  const error = ref<string | null>(null)

  /** Grades `connectionId` afresh; the report replaces the previous one. */
  async function advise(connectionId: string): Promise<void> {
    running.value = new Set(running.value).add(connectionId)
    try {
      const result = await api.adviseConnection(connectionId)
      if (result.ok) {
        reports.value = new Map(reports.value).set(connectionId, result.value)
        error.value = null
      } else error.value = errorText(result.error)
    } finally {
      const next = new Set(running.value)
      next.delete(connectionId)
      running.value = next
    }
  }

  return { reports, running, error, advise }
})
