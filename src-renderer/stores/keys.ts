import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { LOAD_ALL_VALUE_BYTES, type KeyDetails, type KeyEntry, type KeyHistory, type KeyWatchChange, type KeyWatchEvent, type SaveKeyResult, type Unsubscribe } from '../../src-main/api/admin-api'
import { api } from '../api'
import { errorText } from './errors'
import { t } from '../i18n'

/** Entries of the first page: small, so the first screen renders fast. */
export const FIRST_PAGE = 200
/**
 * Entries of each further page, loaded as a "more" row scrolls into view. Big, because each etcd Range walks
 * the rest of the range's index: 20 pages through a million keys cost far less than 100.
 */
export const NEXT_PAGE = 50_000
/** Watch events kept in the panel (oldest dropped first). */
export const WATCH_EVENTS_KEPT = 2000

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
 * One row of the virtualised key tree: a key, a folder (expandable), or a "more" row standing for the next
 * page of its parent (loaded when it scrolls into view). Rows are immutable: changes replace the object.
 * Memory matters at a million rows, so a row keeps `key` (base64) only when `display` is not the exact
 * UTF-8 text of the key (the service escaped something: the display then holds a backslash).
 */
export interface KeyRow {
  /** Unique in the list: the display text, or `\0more\0` + parent id for a "more" row. */
  id: string
  kind: 'key' | 'folder' | 'more'
  depth: number
  display: string
  key?: string
  modRevision?: number
  expanded?: boolean
  /** Set by a refresh: the key is new, or its mod revision moved past the previous listing's revision. */
  mark?: 'added' | 'changed'
  /** "more" rows: the prefix (base64) being listed and the cursor of the next page. */
  prefix?: string
  cursor?: string
}

/** What a refresh found, comparing the listed range with the listing before it. */
export interface RefreshSummary {
  from: number
  to: number
  added: number
  changed: number
  removed: number
}

/** A watch panel line: one change with the time it arrived. */
export interface WatchLine extends KeyWatchChange {
  seq: number
}

/** The exact key bytes (base64) of a row. */
export function rowKey(row: Pick<KeyRow, 'key' | 'display'>): string {
  return row.key ?? textToBase64(row.display)
}

function toRow(entry: KeyEntry, depth: number): KeyRow {
  const row: KeyRow = { id: entry.display, kind: entry.kind, depth, display: entry.display }
  if (entry.display.includes('\\')) row.key = entry.key
  if (entry.modRevision !== undefined) row.modRevision = entry.modRevision
  return row
}

function moreRow(parentId: string, prefix: string, cursor: string, depth: number): KeyRow {
  return { id: `\u0000more\u0000${parentId}`, kind: 'more', depth, display: '', prefix, cursor }
}

/**
 * The key browser of one connection: the virtualised tree (or flat list) loaded page by page at one pinned
 * revision, the selected key with its history, the last save's conflict, and the watch panel. Only caller of
 * the key methods of `api`.
 */
export const useKeysStore = defineStore('keys', () => {
  const connectionId = ref('')
  const prefix = ref('')
  const separator = ref('/')
  const flat = ref(false)
  /** Replaced (never mutated) on every change, so the virtual list sees a new array. */
  const rows = shallowRef<KeyRow[]>([])
  const revision = ref(0)
  const selected = shallowRef<KeyDetails | null>(null)
  const history = shallowRef<KeyHistory | null>(null)
  const conflict = shallowRef<Extract<SaveKeyResult, { saved: false }> | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)
  const refreshed = shallowRef<RefreshSummary | null>(null)
  /** performance.now() when the first page's answer arrived; the view reports its render time from it. */
  const firstPageArrivedAt = ref(0)
  const loadingMore = new Set<string>()

  async function page(prefixBase64: string, cursor: string | undefined, limit: number) {
    const result = await api.listKeys({
      connectionId: connectionId.value,
      prefix: prefixBase64,
      separator: flat.value ? '' : separator.value,
      cursor,
      revision: revision.value || undefined,
      limit,
    })
    if (!result.ok) {
      error.value = errorText(result.error)
      return null
    }
    error.value = null
    return result.value
  }

  function pageRows(entries: KeyEntry[], next: string | null, parentId: string, prefixBase64: string, depth: number): KeyRow[] {
    const out = entries.map((entry) => toRow(entry, depth))
    if (next) out.push(moreRow(parentId, prefixBase64, next, depth))
    return out
  }

  /** Lists the top level again at the newest revision (collapsing folders); `limit` entries at first. */
  async function list(limit = FIRST_PAGE): Promise<void> {
    loading.value = true
    try {
      revision.value = 0
      const prefixBase64 = textToBase64(prefix.value)
      const result = await page(prefixBase64, undefined, limit)
      if (!result) return
      firstPageArrivedAt.value = performance.now()
      revision.value = result.revision
      rows.value = pageRows(result.entries, result.next, '', prefixBase64, 0)
    } finally {
      loading.value = false
    }
  }

  /** Loads the page a "more" row stands for and puts it in the row's place. Repeated calls are ignored. */
  async function loadMore(row: KeyRow): Promise<void> {
    if (row.kind !== 'more' || loadingMore.has(row.id)) return
    loadingMore.add(row.id)
    try {
      const result = await page(row.prefix!, row.cursor, NEXT_PAGE)
      const at = rows.value.indexOf(row)
      if (!result || at < 0) return
      const parentId = row.id.slice('\u0000more\u0000'.length)
      const replacement = pageRows(result.entries, result.next, parentId, row.prefix!, row.depth)
      const next = rows.value.slice(0, at)
      for (const added of replacement) next.push(added)
      for (let i = at + 1; i < rows.value.length; i++) next.push(rows.value[i]!)
      rows.value = next
    } finally {
      loadingMore.delete(row.id)
    }
  }

  /** Expands a folder (its first page goes below it) or collapses it (its descendants go). */
  async function toggle(folder: KeyRow): Promise<void> {
    const at = rows.value.indexOf(folder)
    if (at < 0 || folder.kind !== 'folder') return
    let end = at + 1
    while (end < rows.value.length && rows.value[end]!.depth > folder.depth) end++
    if (folder.expanded) {
      rows.value = [...rows.value.slice(0, at), { ...folder, expanded: false }, ...rows.value.slice(end)]
      return
    }
    const folderKey = rowKey(folder)
    const result = await page(folderKey, undefined, FIRST_PAGE)
    if (!result) return
    const children = pageRows(result.entries, result.next, folder.id, folderKey, folder.depth + 1)
    const current = rows.value.indexOf(folder)
    if (current < 0) return
    rows.value = [...rows.value.slice(0, current), { ...folder, expanded: true }, ...children, ...rows.value.slice(current + 1)]
  }

  /**
   * Lists again at the newest revision as many top-level entries as were loaded, and marks what changed since
   * the previous revision: new entries, keys with a newer mod revision, and how many listed entries are gone.
   */
  async function refresh(): Promise<void> {
    const before = new Map(rows.value.filter((row) => row.depth === 0 && row.kind !== 'more').map((row) => [row.id, row.modRevision]))
    const from = revision.value
    await list(Math.min(10_000, Math.max(FIRST_PAGE, before.size)))
    if (from === 0) return
    let added = 0
    let changed = 0
    const seen = new Set<string>()
    let last = ''
    rows.value = rows.value.map((row) => {
      if (row.kind === 'more') return row
      seen.add(row.id)
      last = row.id
      if (!before.has(row.id)) return added++, { ...row, mark: 'added' as const }
      if ((row.modRevision ?? 0) > from) return changed++, { ...row, mark: 'changed' as const }
      return row
    })
    let removed = 0
    for (const id of before.keys()) if (id <= last && !seen.has(id)) removed++
    refreshed.value = { from, to: revision.value, added, changed, removed }
  }

  async function open(id: string): Promise<void> {
    connectionId.value = id
    selected.value = null
    history.value = null
    refreshed.value = null
    await list()
  }

  async function enter(folder: string): Promise<void> {
    prefix.value = folder
    await list()
  }

  /** Opens a key (value, metadata, history); `maxValueBytes` 0 = the service's default cut. */
  async function select(key: string, maxValueBytes = 0): Promise<void> {
    const [details, versions] = await Promise.all([api.getKey(connectionId.value, key, 0, maxValueBytes), api.getKeyHistory(connectionId.value, key)])
    if (!details.ok) {
      error.value = errorText(details.error)
      return
    }
    if (details.value === null) {
      error.value = null
      selected.value = null
      history.value = null
      return
    }
    selected.value = details.value
    history.value = versions.ok ? versions.value : null
    conflict.value = null
  }

  /** Reads the selected key again with its whole value (up to LOAD_ALL_VALUE_BYTES). */
  async function loadAll(): Promise<void> {
    if (selected.value) await select(selected.value.key, LOAD_ALL_VALUE_BYTES)
  }

  /**
   * "Go to key": opens the key and lists from it, so the list starts at that key however deep it is in a
   * million (tree mode: inside its folder).
   */
  async function goTo(text: string): Promise<boolean> {
    const key = textToBase64(text)
    await select(key)
    if (!selected.value) return false
    const cut = flat.value || separator.value === '' ? -1 : text.lastIndexOf(separator.value)
    prefix.value = cut >= 0 && !flat.value ? text.slice(0, cut + separator.value.length) : flat.value ? prefix.value : ''
    if (!text.startsWith(prefix.value)) prefix.value = ''
    revision.value = 0
    const prefixBase64 = textToBase64(prefix.value)
    const result = await page(prefixBase64, key, FIRST_PAGE)
    if (!result) return true
    firstPageArrivedAt.value = performance.now()
    revision.value = result.revision
    rows.value = pageRows(result.entries, result.next, '', prefixBase64, 0)
    return true
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

  /** Writes an earlier version's value back, guarded like a save by the current mod revision. */
  async function revert(version: KeyDetails): Promise<boolean> {
    if (version.truncated) {
      error.value = t('keys.revertTruncated')
      return false
    }
    return save(version.value)
  }

  async function deletePrefix(typed: string, expectedCount: number): Promise<number | null> {
    const result = await api.deleteKeyPrefix(connectionId.value, textToBase64(prefix.value), typed, expectedCount)
    if (!result.ok) {
      error.value = errorText(result.error)
      return null
    }
    await list()
    return result.value
  }

  // Watch panel: one watch at a time. Pause stops it and keeps the next revision; resume starts from there,
  // so nothing is missed while paused.
  const watchLines = shallowRef<WatchLine[]>([])
  const watchState = ref<'idle' | 'watching' | 'disconnected' | 'paused' | 'ended'>('idle')
  const watchMessage = ref('')
  const watchTarget = ref<{ key: string; isPrefix: boolean } | null>(null)
  let watchId = ''
  let watchNext = 0
  let watchSeq = 0
  let unsubscribeWatch: Unsubscribe | null = null

  function onWatchEvent(event: KeyWatchEvent): void {
    if (event.watchId !== watchId) return
    if (event.kind === 'state') {
      if (watchState.value !== 'paused') watchState.value = event.state
      watchMessage.value = event.message
      if (event.nextRevision > watchNext) watchNext = event.nextRevision
      return
    }
    const lines = event.changes.map((change) => ({ ...change, seq: ++watchSeq }))
    for (const change of event.changes) watchNext = Math.max(watchNext, change.modRevision + 1)
    const next = watchLines.value.concat(lines)
    watchLines.value = next.length > WATCH_EVENTS_KEPT ? next.slice(next.length - WATCH_EVENTS_KEPT) : next
  }

  async function startWatch(keyText: string, isPrefix: boolean, fromRevision: number): Promise<void> {
    await stopWatch()
    unsubscribeWatch ??= api.onKeyWatch(onWatchEvent)
    watchTarget.value = { key: textToBase64(keyText), isPrefix }
    watchLines.value = []
    watchNext = fromRevision
    await begin()
  }

  async function begin(): Promise<void> {
    const target = watchTarget.value
    if (!target) return
    watchId = `w${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`
    const result = await api.startKeyWatch({ connectionId: connectionId.value, watchId, key: target.key, isPrefix: target.isPrefix, startRevision: watchNext })
    if (!result.ok) {
      watchState.value = 'ended'
      watchMessage.value = errorText(result.error)
      return
    }
    watchState.value = 'watching'
  }

  async function pauseWatch(): Promise<void> {
    if (!watchId) return
    const id = watchId
    watchState.value = 'paused'
    watchId = ''
    await api.stopKeyWatch(id)
  }

  async function resumeWatch(): Promise<void> {
    if (watchState.value === 'paused') await begin()
  }

  async function stopWatch(): Promise<void> {
    if (watchId) await api.stopKeyWatch(watchId)
    watchId = ''
    watchState.value = 'idle'
  }

  return {
    connectionId,
    prefix,
    separator,
    flat,
    rows,
    revision,
    selected,
    history,
    conflict,
    error,
    loading,
    refreshed,
    firstPageArrivedAt,
    open,
    list,
    loadMore,
    toggle,
    refresh,
    enter,
    select,
    loadAll,
    goTo,
    count,
    save,
    revert,
    deletePrefix,
    watchLines,
    watchState,
    watchMessage,
    watchTarget,
    startWatch,
    pauseWatch,
    resumeWatch,
    stopWatch,
  }
})
