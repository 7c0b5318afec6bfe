import { onBeforeUnmount, onMounted } from 'vue'

/**
 * Calls `tick` on mount and then every `intervalMs` while the component is mounted; a tick never overlaps
 * the previous one. The timer is cleared on unmount.
 */
export function usePolling(tick: () => Promise<void>, intervalMs: number): void {
  let timer: ReturnType<typeof setTimeout> | null = null
  let active = false
  const loop = async () => {
    await tick()
    if (active) timer = setTimeout(() => void loop(), intervalMs)
  }
  onMounted(() => {
    active = true
    void loop()
  })
  onBeforeUnmount(() => {
    active = false
    if (timer) clearTimeout(timer)
  })
}
