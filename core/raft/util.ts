// Small helpers shared by the log, storage and the state machine.
import type { Entry, HardState, NodeId } from './types'

/** "No size limit" for entry slices. */
export const NO_LIMIT = Number.MAX_SAFE_INTEGER

/**
 * Encoded size of an entry as counted against maxSizePerMsg / maxCommittedSizePerReady: the payload plus a
 * fixed allowance for term, index and type (etcd compat: etcd uses the protobuf size, which is close).
 */
export function entrySize(e: Entry): number {
  return e.data.length + 16
}

/** Sum of entry payload sizes, as counted against maxUncommittedEntriesSize (etcd: payloadsSize). */
export function payloadsSize(entries: readonly Entry[]): number {
  let n = 0
  for (const e of entries) n += e.data.length
  return n
}

/** Sum of entrySize over `entries`. */
export function entriesSize(entries: readonly Entry[]): number {
  let n = 0
  for (const e of entries) n += entrySize(e)
  return n
}

/**
 * The longest prefix of `entries` whose total entrySize is <= maxSizeBytes, but at least one entry
 * (etcd-io/raft util.go limitSize). Returns the same array when nothing is cut.
 */
export function limitSize(entries: Entry[], maxSizeBytes: number): Entry[] {
  if (entries.length === 0) return entries
  let size = entrySize(entries[0])
  let n = 1
  for (; n < entries.length; n++) {
    size += entrySize(entries[n])
    if (size > maxSizeBytes) break
  }
  return n === entries.length ? entries : entries.slice(0, n)
}

/** Orders node ids ascending (for deterministic iteration). */
export function compareIds(a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Whether two HardStates have the same term, vote and commit. */
export function isHardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}

/** Whether `h` is the zero HardState (nothing persisted yet). */
export function isEmptyHardState(h: HardState): boolean {
  return h.term === 0 && h.vote === 0n && h.commit === 0
}

/** Whether two byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** A map key for a byte string (latin1, one char per byte). */
export function bytesKey(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i])
  return s
}
