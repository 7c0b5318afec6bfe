import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { AlertInfo } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'

const MAX_ALERTS = 500

/**
 * Alerts of every monitored connection: the active ones and the history, kept current by `onAlert` events.
 * In web mode a firing alert also becomes a browser notification when the user has allowed them (Electron
 * notifies from the main process instead).
 */
export const useAlertsStore = defineStore('alerts', () => {
  const alerts = ref<AlertInfo[]>([])
  const error = ref<string | null>(null)
  let subscribed = false

  function notify(alert: AlertInfo): void {
    if (alert.state !== 'firing' || window.admin || typeof Notification === 'undefined') return
    if (Notification.permission === 'granted') new Notification(alert.summary, { body: alert.description })
  }

  async function load(): Promise<void> {
    if (!subscribed) {
      subscribed = true
      api.onAlert((alert) => {
        alerts.value = [alert, ...alerts.value.filter((known) => known.id !== alert.id)].slice(0, MAX_ALERTS)
        notify(alert)
      })
    }
    const result = await api.listAlerts('')
    if (result.ok) {
      const known = new Set(result.value.map((alert) => alert.id))
      alerts.value = [...result.value, ...alerts.value.filter((alert) => !known.has(alert.id))].slice(0, MAX_ALERTS)
      error.value = null
    } else error.value = errorText(result.error)
  }

  /** Asks the browser for notification permission (web mode; needs a user gesture). */
  async function enableNotifications(): Promise<NotificationPermission | null> {
    if (window.admin || typeof Notification === 'undefined') return null
    return Notification.requestPermission()
  }

  /** Active alerts of one connection, firing first. */
  function activeFor(connectionId: string): AlertInfo[] {
    return alerts.value
      .filter((alert) => alert.connectionId === connectionId && alert.state !== 'resolved')
      .sort((a, b) => (a.state === b.state ? 0 : a.state === 'firing' ? -1 : 1))
  }

  /** Every alert of one connection, newest change first. */
  function historyFor(connectionId: string): AlertInfo[] {
    return alerts.value.filter((alert) => alert.connectionId === connectionId).sort((a, b) => b.updatedAt - a.updatedAt)
  }

  return { alerts, error, load, enableNotifications, activeFor, historyFor }
})
