import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { AppInfo, ConnectionInput, ConnectionProfile, ConnectionTestReport, ImportReport } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'

/** Saved connection profiles and the app info; the connections page and the navigation read it. */
export const useConnectionsStore = defineStore('connections', () => {
  const profiles = ref<ConnectionProfile[]>([])
  const appInfo = ref<AppInfo | null>(null)
  const loaded = ref(false)
  /** User text of the last failed call, null when the last call worked. */
  const error = ref<string | null>(null)

  const byId = computed(() => new Map(profiles.value.map((profile) => [profile.id, profile])))

  async function load(): Promise<void> {
    const [list, info] = await Promise.all([api.listConnections(), appInfo.value ? null : api.getAppInfo()])
    if (info?.ok) appInfo.value = info.value
    if (list.ok) {
      profiles.value = list.value
      error.value = null
    } else error.value = errorText(list.error)
    loaded.value = true
  }

  /** Saves and reloads; returns the saved profile, or null (see `error`). */
  async function save(input: ConnectionInput): Promise<ConnectionProfile | null> {
    const result = await api.saveConnection(input)
    if (!result.ok) {
      error.value = errorText(result.error)
      return null
    }
    await load()
    return result.value
  }

  async function remove(id: string): Promise<boolean> {
    const result = await api.deleteConnection(id)
    if (!result.ok) error.value = errorText(result.error)
    await load()
    return result.ok
  }

  async function test(input: ConnectionInput): Promise<ConnectionTestReport | null> {
    const result = await api.testConnection(input)
    if (!result.ok) {
      error.value = errorText(result.error)
      return null
    }
    return result.value
  }

  async function exportAll(): Promise<string | null> {
    const result = await api.exportConnections()
    if (!result.ok) error.value = errorText(result.error)
    return result.ok ? result.value : null
  }

  async function importAll(json: string): Promise<ImportReport | null> {
    const result = await api.importConnections(json)
    if (!result.ok) {
      error.value = errorText(result.error)
      return null
    }
    await load()
    return result.value
  }

  return { profiles, appInfo, loaded, error, byId, load, save, remove, test, exportAll, importAll }
})
