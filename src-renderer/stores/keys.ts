import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { KeyDetails, KeyEntry, KeyHistory, SaveKeyResult } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'

const PAGE = 500

/** UTF-8 text as base64 (the contract's form of bytes). */
export function textToBase64(text: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** Base64 bytes as UTF-8 text, or null when the bytes are not valid UTF-8. */
export function base64ToText(base64: string): string | null {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return null
  }
}

/**
 * The key browser of one connection: the listing (tree or flat, paged, pinned to one revision), the
 * selected key with its history, and the last save's conflict. Only caller of the key methods of `api`.
 */
export const useKeysStore = defineStore('keys', () => {
  const connectionId = ref('')
  const prefix = ref('')
  const separator = ref('/')
  const flat = ref(false)
  const entries = shallowRef<KeyEntry[]>([])
  const revision = ref(0)
  const next = ref<string | null>(null)
  const selected = shallowRef<KeyDetails | null>(null)
  const history = shallowRef<KeyHistory | null>(null)
  const conflict = shallowRef<Extract<SaveKeyResult, { saved: false }> | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)

  async function list(reset: boolean): Promise<void> {
    loading.value = true
    try {
      const result = await api.listKeys({
        connectionId: connectionId.value,
        prefix: textToBase64(prefix.value),
        separator: flat.value ? '' : separator.value,
        cursor: reset ? undefined : (next.value ?? undefined),
        revision: reset ? undefined : revision.value,
        limit: PAGE,
      })
      if (!result.ok) {
        error.value = errorText(result.error)
        return
      }
      error.value = null
      revision.value = result.value.revision
      next.value = result.value.next
      entries.value = reset ? result.value.entries : entries.value.concat(result.value.entries)
    } finally {
      loading.value = false
    }
  }

  async function open(id: string): Promise<void> {
    connectionId.value = id
    selected.value = null
    history.value = null
    await list(true)
  }

  async function enter(folder: string): Promise<void> {
    prefix.value = folder
    await list(true)
  }

  async function select(key: string): Promise<void> {
    const [details, versions] = await Promise.all([api.getKey(connectionId.value, key, 0), api.getKeyHistory(connectionId.value, key)])
    if (!details.ok) {
      error.value = errorText(details.error)
      return
    }
    selected.value = details.value
    history.value = versions.ok ? versions.value : null
    conflict.value = null
  }

  async function count(folderKey: string): Promise<number | null> {
    const result = await api.countKeys(connectionId.value, folderKey, revision.value)
    return result.ok ? result.value : null
  }

  /** Safe save of `value` (base64) over the selected key's mod revision (or `expected` when given). */
  async function save(value: string, expected?: number): Promise<boolean> {
    const current = selected.value
    if (!current) return false
    const result = await api.saveKey({ connectionId: connectionId.value, key: current.key, value, expectedModRevision: expected ?? current.modRevision })
    if (!result.ok) {
      error.value = errorText(result.error)
      return false
    }
    if (!result.value.saved) {
      conflict.value = result.value
      return false
    }
    conflict.value = null
    await select(current.key)
    return true
  }

  async function deletePrefix(typed: string, expectedCount: number): Promise<number | null> {
    const result = await api.deleteKeyPrefix(connectionId.value, textToBase64(prefix.value), typed, expectedCount)
    if (!result.ok) {
      error.value = errorText(result.error)
      return null
    }
    await list(true)
    return result.value
  }

  return { connectionId, prefix, separator, flat, entries, revision, next, selected, history, conflict, error, loading, open, list, enter, select, count, save, deletePrefix }
})
