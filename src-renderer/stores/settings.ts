import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'

/** Theme preference; `system` follows the OS (prefers-color-scheme). */
export type ThemePreference = 'light' | 'dark' | 'system'

const STORAGE_KEY = 'quorum.theme'
const ORDER: ThemePreference[] = ['system', 'light', 'dark']

function storedTheme(): ThemePreference {
  const value = window.localStorage.getItem(STORAGE_KEY)
  return value === 'light' || value === 'dark' || value === 'system' ? value : 'system'
}

/** UI settings kept in the browser profile (localStorage), not in the app database. */
export const useSettingsStore = defineStore('settings', () => {
  const theme = ref<ThemePreference>(storedTheme())
  const media = window.matchMedia('(prefers-color-scheme: dark)')
  const systemDark = ref(media.matches)
  media.addEventListener('change', (event) => (systemDark.value = event.matches))
  watch(theme, (value) => window.localStorage.setItem(STORAGE_KEY, value))

  /** The theme actually shown. */
  const dark = computed(() => (theme.value === 'system' ? systemDark.value : theme.value === 'dark'))

  function cycleTheme(): void {
    theme.value = ORDER[(ORDER.indexOf(theme.value) + 1) % ORDER.length]
  }

  return { theme, dark, cycleTheme }
})
