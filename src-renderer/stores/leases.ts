import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { LeaseAction, LeaseDetails, LeaseInfo } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'

/**
 * The Leases page of one connection: every lease with its time left (counted down locally between reads), the
 * keys of the opened lease, and the lease writes. Only caller of the lease methods of `api`.
 */
export const useLeasesStore = defineStore('leases', () => {
  const connectionId = ref('')
  const leases = shallowRef<LeaseInfo[]>([])
  /** performance.now() of the last read, for the local countdown. */
  const readAt = ref(0)
  const opened = shallowRef<LeaseDetails | null>(null)
  const error = ref<string | null>(null)

  async function load(id = connectionId.value): Promise<void> {
    connectionId.value = id
    const result = await api.listLeases(id)
    if (!result.ok) {
      error.value = errorText(result.error)
      return
    }
    error.value = null
    leases.value = result.value
    readAt.value = performance.now()
  }

  async function open(id: string): Promise<void> {
    const result = await api.getLease(connectionId.value, id)
    if (!result.ok) {
      error.value = errorText(result.error)
      return
    }
    opened.value = result.value
  }

  /** Runs a lease write, then lists again; false when it failed (the error is in `error`). */
  async function act(action: LeaseAction): Promise<boolean> {
    const result = await api.leaseAction(connectionId.value, action)
    if (!result.ok) {
      error.value = errorText(result.error)
      return false
    }
    if (action.kind === 'revoke' && opened.value?.id === action.id) opened.value = null
    await load()
    return true
  }

  return { connectionId, leases, readAt, opened, error, load, open, act }
})
