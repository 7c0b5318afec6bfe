import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { AuthAction, AuthOverview } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'

/** The Users and roles page of one connection (etcd's Auth API). Only caller of the auth methods of `api`. */
export const useUsersStore = defineStore('users', () => {
  const connectionId = ref('')
  const overview = shallowRef<AuthOverview | null>(null)
  const error = ref<string | null>(null)

  async function load(id = connectionId.value): Promise<void> {
    connectionId.value = id
    const result = await api.getAuthOverview(id)
    if (!result.ok) {
      error.value = errorText(result.error)
      return
    }
    error.value = null
    overview.value = result.value
  }

  /** Runs one auth change; false when refused (the reason is in `error`). */
  async function act(action: AuthAction): Promise<boolean> {
    const result = await api.authAction(connectionId.value, action)
    if (!result.ok) {
      error.value = errorText(result.error)
      return false
    }
    error.value = null
    overview.value = result.value
    return true
  }

  return { connectionId, overview, error, load, act }
})
