import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { BackupRunEvent, BackupRunInfo, BackupScheduleInfo, BackupScheduleInput } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'
import { callRunner } from './wizards'

/**
 * Backup schedules and the history of the selected one, kept current by `onBackupRun`. A failed backup or
 * drill becomes `lastFailure` (the shell shows it wherever the user is) and, in web mode with permission, a
 * browser notification.
 */
export const useBackupsStore = defineStore('backups', () => {
  const schedules = ref<BackupScheduleInfo[]>([])
  const selectedId = ref<string | null>(null)
  const history = ref<BackupRunInfo[]>([])
  const loaded = ref(false)
  /** `error`: user text of the last failed call, null when the last call worked. */
  const { busy, error, run } = callRunner()
  /** The newest failed run or drill, for the app-wide notification. */
  const lastFailure = ref<BackupRunEvent | null>(null)
  let subscribed = false

  function notify(event: BackupRunEvent): void {
    if (event.run.status === 'ok' && event.run.drillResult !== 'fail') return
    lastFailure.value = event
    if (window.admin || typeof Notification === 'undefined' || Notification.permission !== 'granted') return
    new Notification(`Backup of ${event.connectionName} failed`, { body: event.run.reason || event.run.drillReason })
  }

  /** Starts listening for runs (idempotent); the shell calls it once so failures notify on every page. */
  function subscribe(): void {
    if (subscribed) return
    subscribed = true
    api.onBackupRun((event) => {
      notify(event)
      if (!loaded.value) return
      void load()
      if (event.scheduleId === selectedId.value) void loadHistory()
    })
  }

  async function load(): Promise<void> {
    subscribe()
    const result = await api.listBackupSchedules()
    if (result.ok) schedules.value = result.value.sort((a, b) => a.createdAt - b.createdAt)
    else error.value = errorText(result.error)
    loaded.value = true
  }

  async function loadHistory(): Promise<void> {
    const id = selectedId.value
    if (!id) {
      history.value = []
      return
    }
    const result = await api.getBackupHistory(id)
    if (result.ok && selectedId.value === id) history.value = result.value
  }

  async function select(id: string | null): Promise<void> {
    selectedId.value = id
    await loadHistory()
  }

  async function save(input: BackupScheduleInput): Promise<BackupScheduleInfo | null> {
    const saved = await run(() => api.saveBackupSchedule(input))
    if (saved) {
      await load()
      await select(saved.id)
    }
    return saved
  }

  async function remove(id: string): Promise<void> {
    if ((await run(() => api.deleteBackupSchedule(id))) === null && error.value) return
    if (selectedId.value === id) await select(null)
    await load()
  }

  async function runNow(id: string): Promise<void> {
    await run(() => api.runBackupNow(id))
    await load()
    if (id === selectedId.value) await loadHistory()
  }

  return { schedules, selectedId, history, busy, loaded, error, lastFailure, subscribe, load, select, save, remove, runNow }
})
