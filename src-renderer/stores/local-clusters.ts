import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { LocalClusterInfo, LocalClusterInput, LocalMemberAction, Result } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'

/** The app's local clusters and which of them has an operation running; the local clusters page reads it. */
export const useLocalClustersStore = defineStore('localClusters', () => {
  const clusters = ref<LocalClusterInfo[]>([])
  const loaded = ref(false)
  /** Cluster names with an operation in flight (buttons show a spinner and are disabled). */
  const busy = ref(new Set<string>())
  /** User text of the last failed call, null when the last call worked. */
  const error = ref<string | null>(null)
  let subscribed = false

  const byName = computed(() => new Map(clusters.value.map((cluster) => [cluster.name, cluster])))

  function subscribe(): void {
    if (subscribed) return
    subscribed = true
    api.onLocalClustersChanged((next) => {
      clusters.value = next
    })
  }

  async function load(): Promise<void> {
    subscribe()
    const result = await api.listLocalClusters()
    if (result.ok) {
      clusters.value = result.value
      error.value = null
    } else error.value = errorText(result.error)
    loaded.value = true
  }

  /** Runs one call for `name`, marking it busy; the new state of the cluster replaces the old one. */
  async function run(name: string, call: () => Promise<Result<LocalClusterInfo | null>>): Promise<boolean> {
    busy.value = new Set(busy.value).add(name)
    try {
      const result = await call()
      if (!result.ok) {
        error.value = errorText(result.error)
        return false
      }
      error.value = null
      const info = result.value
      clusters.value = info
        ? [...clusters.value.filter((cluster) => cluster.name !== info.name), info].sort((a, b) => a.name.localeCompare(b.name))
        : clusters.value.filter((cluster) => cluster.name !== name)
      return true
    } finally {
      const next = new Set(busy.value)
      next.delete(name)
      busy.value = next
    }
  }

  const create = (input: LocalClusterInput) => run(input.name, () => api.createLocalCluster(input))
  const remove = (name: string) => run(name, () => api.deleteLocalCluster(name))
  const memberAction = (cluster: string, member: string, action: LocalMemberAction) => run(cluster, () => api.localMemberAction(cluster, member, action))
  const addMember = (cluster: string, learner: boolean) => run(cluster, () => api.addLocalMember(cluster, learner))

  return { clusters, loaded, busy, error, byName, load, create, remove, memberAction, addMember }
})
