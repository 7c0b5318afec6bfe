import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { ClusterOverview, MemberMetricsPoint } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'
import { t } from '../i18n'

const MAX_POINTS = 6000

/**
 * The monitored cluster: its latest overview and the metrics history. Only one cluster is monitored at a
 * time; `watch(id)` switches, `unwatch()` stops. Samples arrive as events from the main process.
 */
export const useClusterStore = defineStore('cluster', () => {
  const connectionId = ref<string | null>(null)
  /** The connection whose overview was opened last (for the "overview" shortcut). */
  const lastConnectionId = ref<string | null>(null)
  const overview = shallowRef<ClusterOverview | null>(null)
  const points = shallowRef<MemberMetricsPoint[]>([])
  const intervalMs = ref(2000)
  const error = ref<string | null>(null)
  let subscribed = false

  function subscribe(): void {
    if (subscribed) return
    subscribed = true
    api.onOverviewChanged((next) => {
      if (next.connectionId !== connectionId.value) return
      overview.value = next
      error.value = null
    })
    api.onMonitoringError((event) => {
      if (event.connectionId === connectionId.value) error.value = t('error.unavailable', { message: event.message })
    })
    api.onMetricsSample((event) => {
      if (event.connectionId !== connectionId.value) return
      const merged = points.value.concat(event.points)
      points.value = merged.length > MAX_POINTS ? merged.slice(merged.length - MAX_POINTS) : merged
    })
  }

  async function watch(id: string): Promise<void> {
    subscribe()
    if (connectionId.value === id) return
    if (connectionId.value) await api.stopMonitoring(connectionId.value)
    connectionId.value = id
    lastConnectionId.value = id
    overview.value = null
    points.value = []
    error.value = null
    const [first, history] = await Promise.all([api.getClusterOverview(id), api.startMonitoring(id)])
    if (connectionId.value !== id) return
    if (first.ok) overview.value ??= first.value
    else error.value = errorText(first.error)
    if (history.ok) {
      intervalMs.value = history.value.intervalMs
      points.value = history.value.points.concat(points.value.filter((point) => point.at > (history.value.points.at(-1)?.at ?? 0)))
    } else error.value ??= errorText(history.error)
  }

  async function unwatch(): Promise<void> {
    const id = connectionId.value
    connectionId.value = null
    if (id) await api.stopMonitoring(id)
  }

  return { connectionId, lastConnectionId, overview, points, intervalMs, error, watch, unwatch }
})
