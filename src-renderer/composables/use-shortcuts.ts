import { onBeforeUnmount, onMounted } from 'vue'

/** A key combination: `alt+1`, `shift+?`, `n`. Lower-case key names as KeyboardEvent.key gives them. */
export type ShortcutKey = string

function comboOf(event: KeyboardEvent): string {
  const parts: string[] = []
  if (event.ctrlKey || event.metaKey) parts.push('mod')
  if (event.altKey) parts.push('alt')
  // For Alt+digit use the physical key: on macOS Alt changes event.key.
  const key = event.altKey && /^Digit\d$/.test(event.code) ? event.code.slice(5) : event.key.toLowerCase()
  parts.push(key)
  return parts.join('+')
}

function typingInField(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null
  return !!target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
}

/**
 * Binds shortcuts while the calling component is mounted. Single keys (no modifier) are ignored while the
 * user types in a field; combinations with Alt or Ctrl/Cmd always work.
 */
export function useShortcuts(bindings: Record<ShortcutKey, () => void>): void {
  const onKeydown = (event: KeyboardEvent) => {
    const combo = comboOf(event)
    const handler = bindings[combo]
    if (!handler) return
    if (!combo.includes('+') && typingInField(event)) return
    event.preventDefault()
    handler()
  }
  onMounted(() => window.addEventListener('keydown', onKeydown))
  onBeforeUnmount(() => window.removeEventListener('keydown', onKeydown))
}
