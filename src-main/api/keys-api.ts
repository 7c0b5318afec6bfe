// Key browser DTOs (issue 12), re-exported by admin-api.ts. Keys and values are bytes: they cross the contract
// as base64, with a display string for the UI (UTF-8 where valid, else escaped `\xNN`).

import type { Result, Unsubscribe } from './admin-api'

/** A key as the contract carries it. */
export interface KeyRef {
  /** The exact key bytes, base64. */
  key: string
  /** For humans only; never sent back as a key. */
  display: string
}

/** One page of the key tree or flat list. */
export interface KeyPageRequest {
  connectionId: string
  /** Folder (tree) or prefix (flat) to list, base64; empty = the whole keyspace. */
  prefix: string
  /** Folder separator of the tree, e.g. `/`; empty string = flat mode (every key under `prefix`). */
  separator: string
  /** Continue from this cursor (from the previous page's `next`); absent = first page. */
  cursor?: string
  /** Read at this revision (from the first page) so every page sees the same store; absent = newest. */
  revision?: number
  /**
   * Entries per page, 1..50000. NB: etcd 3.4 walks the index of the whole rest of the range for every Range
   * (limit or not), so over a million keys fewer, bigger pages are much cheaper than many small ones.
   */
  limit: number
}

/** A key or a folder (a prefix ending at the separator) in a page. */
export interface KeyEntry extends KeyRef {
  kind: 'key' | 'folder'
  /** A key's mod revision (absent for folders); lets a refresh show what changed. */
  modRevision?: number
}

/** Largest value `getKey` returns when asked for all of it ("load all"); etcd's own limit is 1.5 MiB by default. */
export const LOAD_ALL_VALUE_BYTES = 12 * 1024 * 1024

/** A page of keys and folders in key order. */
export interface KeyPage {
  /** The revision every page of this listing reads; pass it back with `cursor`. */
  revision: number
  entries: KeyEntry[]
  /** Cursor of the next page (base64), null at the end. */
  next: string | null
}

/** How the value bytes look, for picking a viewer. */
export type ValueFormat = 'json' | 'text' | 'binary' | 'kubernetes-protobuf'

/** A key with its value and metadata at one revision. */
export interface KeyDetails extends KeyRef {
  /** Value bytes, base64 (cut at `maxValueBytes` when `truncated`). */
  value: string
  size: number
  truncated: boolean
  format: ValueFormat
  createRevision: number
  modRevision: number
  version: number
  /** Lease ID in hex, empty without a lease. */
  lease: string
  /** Seconds the lease has left, null without a lease (or when it just expired). */
  ttl: number | null
  /** The store revision the read saw. */
  revision: number
}

/** The key's versions, newest first, as far back as the store has not compacted. */
export interface KeyHistory {
  versions: KeyDetails[]
  /** True when the walk stopped at a compacted revision (older versions are gone). */
  compacted: boolean
}

/** A safe save: written only if the key's mod revision still equals `expectedModRevision` (0 = create). */
export interface SaveKeyRequest {
  connectionId: string
  key: string
  value: string
  expectedModRevision: number
}

/** Outcome of a safe save: written, or the conflict with their version and the base the edit started from. */
export type SaveKeyResult =
  | { saved: true; modRevision: number }
  | { saved: false; theirs: KeyDetails | null; base: KeyDetails | null }

/** Rename (move) or copy a key or every key under a prefix to a new name/prefix. */
export interface TransferKeysRequest {
  connectionId: string
  /** Chosen by the caller; progress events carry it. */
  operationId: string
  mode: 'copy' | 'move'
  /** Source key or prefix, base64. */
  source: string
  /** Target key or prefix, base64. */
  target: string
  /** True: every key starting with `source` goes to `target` + the rest. */
  isPrefix: boolean
}

/** What a copy/move did. */
export interface TransferKeysResult {
  keys: number
  transactions: number
}

/** Progress of a copy/move, pushed as it goes. */
export interface KeyTransferProgress {
  connectionId: string
  operationId: string
  phase: 'read' | 'copy' | 'verify' | 'delete' | 'rollback' | 'done'
  done: number
  total: number
}

/** What to export: a prefix, or the listed keys (base64). */
export interface ExportKeysRequest {
  connectionId: string
  prefix?: string
  keys?: string[]
}

/** Import conflict policy: `skip` existing keys, `overwrite` them, or `fail` (write nothing) when any exists. */
export type ImportPolicy = 'skip' | 'overwrite' | 'fail'

/** What an import would do (preview) or did. */
export interface ImportKeysReport {
  total: number
  /** Keys that do not exist yet. */
  created: number
  /** Existing keys with the same value. */
  identical: number
  /** Existing keys with another value (overwritten or skipped by policy). */
  conflicting: number
  written: number
  /** Up to 100 conflicting keys, for the preview. */
  conflicts: KeyRef[]
}

/** Watch a key or every key under a prefix from a revision (issue 12, watch panel). */
export interface KeyWatchRequest {
  connectionId: string
  /** Chosen by the caller; events carry it. */
  watchId: string
  /** Key or prefix, base64. */
  key: string
  isPrefix: boolean
  /** First revision to deliver (inclusive); 0 = changes after now. */
  startRevision: number
}

/** One change seen by a key watch. Values are cut at WATCH_VALUE_BYTES (then `truncated`). */
export interface KeyWatchChange extends KeyRef {
  type: 'put' | 'delete'
  /** Value bytes, base64; empty for a delete. */
  value: string
  size: number
  truncated: boolean
  modRevision: number
  version: number
}

/** Pushed by a key watch: changes in revision order, or a state change of the watch. */
export type KeyWatchEvent =
  | { connectionId: string; watchId: string; kind: 'changes'; changes: KeyWatchChange[] }
  /**
   * `watching`: registered (again, after a reconnect) and delivering from `nextRevision`; `disconnected`: the
   * stream broke, it resumes by itself from `nextRevision`; `ended`: the server ended it (`message` says why,
   * e.g. the start revision was compacted) or it was stopped.
   */
  | { connectionId: string; watchId: string; kind: 'state'; state: 'watching' | 'disconnected' | 'ended'; nextRevision: number; message: string }

/** A lease with its time left. IDs are hex, as etcdctl prints them. */
export interface LeaseInfo {
  id: string
  /** Seconds left; -1 once expired or revoked. */
  ttl: number
  grantedTtl: number
  keyCount: number
}

/** A lease with the keys attached to it (at most LEASE_KEYS_SHOWN, `keyCount` says how many in all). */
export interface LeaseDetails extends LeaseInfo {
  keys: KeyRef[]
}

/** Lease writes: grant a new lease, revoke one (its keys go with it), or renew one once. */
export type LeaseAction = { kind: 'grant'; ttl: number } | { kind: 'revoke'; id: string } | { kind: 'keepAlive'; id: string }

/** A role's permission on `[key, rangeEnd)`: one key (rangeEnd empty), a prefix, a range, or from a key on (`\0`). */
export interface RolePermission {
  kind: 'read' | 'write' | 'readwrite'
  key: KeyRef
  /** Empty for a single key. */
  rangeEnd: KeyRef
  /** How the range reads: `key`, `prefix` (rangeEnd is the prefix's end), `fromKey` (rangeEnd `\0`) or `range`. */
  shape: 'key' | 'prefix' | 'fromKey' | 'range'
}

/** The cluster's auth state: on or off, every user with its roles, every role with its permissions. */
export interface AuthOverview {
  enabled: boolean
  users: { name: string; roles: string[] }[]
  roles: { name: string; permissions: RolePermission[] }[]
  /** The user this connection authenticates as, empty without one. */
  connectedAs: string
}

/** Auth writes (etcd's Auth API). Guards refuse changes that would lock this connection out. */
export type AuthAction =
  | { kind: 'enable' }
  | { kind: 'disable' }
  | { kind: 'addUser'; name: string; password: string }
  | { kind: 'deleteUser'; name: string }
  | { kind: 'changePassword'; name: string; password: string }
  | { kind: 'grantRole'; user: string; role: string }
  | { kind: 'revokeRole'; user: string; role: string }
  | { kind: 'addRole'; name: string }
  | { kind: 'deleteRole'; name: string }
  /** `key` base64; `shape` decides the range end (key: none, prefix: the prefix end, fromKey: `\0`). */
  | { kind: 'grantPermission'; role: string; permission: 'read' | 'write' | 'readwrite'; key: string; shape: 'key' | 'prefix' | 'fromKey' }
  | { kind: 'revokePermission'; role: string; key: string; rangeEnd: string }

/** The key browser's part of the AdminApi (which extends it). Every write refuses read-only connections. */
export interface KeysApi {
  /** One page of the key tree (separator given) or flat list, pinned to the first page's revision. */
  listKeys(request: KeyPageRequest): Promise<Result<KeyPage>>
  /** How many keys lie under a prefix (base64) at `revision` (0 = newest). */
  countKeys(connectionId: string, prefix: string, revision: number): Promise<Result<number>>
  /**
   * A key with value and metadata at `revision` (0 = newest, with lease TTL); null when absent. The value is
   * cut at `maxValueBytes` (0 = MAX_VALUE_BYTES, at most LOAD_ALL_VALUE_BYTES) and flagged `truncated`.
   */
  getKey(connectionId: string, key: string, revision: number, maxValueBytes: number): Promise<Result<KeyDetails | null>>
  /** The key's earlier versions while not compacted, newest first. */
  getKeyHistory(connectionId: string, key: string): Promise<Result<KeyHistory>>
  /** Safe save (Txn on mod_revision); a conflict is a normal result carrying theirs and base. */
  saveKey(request: SaveKeyRequest): Promise<Result<SaveKeyResult>>
  /** Deletes a key if unchanged since `expectedModRevision`; false when it changed meanwhile. */
  deleteKey(connectionId: string, key: string, expectedModRevision: number): Promise<Result<boolean>>
  /** Deletes a prefix; `confirmation` is the prefix as the user typed it, `expectedCount` the count shown. */
  deleteKeyPrefix(connectionId: string, prefix: string, confirmation: string, expectedCount: number): Promise<Result<number>>
  /** Copies or moves a key or prefix, all or nothing, pushing `onKeyTransferProgress` events. */
  transferKeys(request: TransferKeysRequest): Promise<Result<TransferKeysResult>>
  /** JSON text of a prefix or of selected keys. */
  exportKeys(request: ExportKeysRequest): Promise<Result<string>>
  /** Imports an export; `preview` only reports what would happen. */
  importKeys(connectionId: string, json: string, policy: ImportPolicy, preview: boolean): Promise<Result<ImportKeysReport>>
  onKeyTransferProgress(listener: (event: KeyTransferProgress) => void): Unsubscribe
  /** Starts a watch (resolves once the server registered it); its changes and states arrive as `onKeyWatch`. */
  startKeyWatch(request: KeyWatchRequest): Promise<Result<null>>
  /** Cancels a watch started by `startKeyWatch`; unknown ids are ignored. */
  stopKeyWatch(watchId: string): Promise<Result<null>>
  onKeyWatch(listener: (event: KeyWatchEvent) => void): Unsubscribe
  /** Every lease with its TTL and number of attached keys. */
  listLeases(connectionId: string): Promise<Result<LeaseInfo[]>>
  /** One lease with its attached keys; not_found once it expired. */
  getLease(connectionId: string, id: string): Promise<Result<LeaseDetails>>
  /** Grant, revoke or keep alive once; resolves with the lease after the action (null after a revoke). */
  leaseAction(connectionId: string, action: LeaseAction): Promise<Result<LeaseInfo | null>>
  /** Auth on/off, users and roles (needs the root role once auth is on). */
  getAuthOverview(connectionId: string): Promise<Result<AuthOverview>>
  /** One auth change, then the new overview. */
  authAction(connectionId: string, action: AuthAction): Promise<Result<AuthOverview>>
}

/** Request methods of KeysApi, spread into the contract's method list. */
export const KEY_METHOD_FLAGS = {
  listKeys: true,
  countKeys: true,
  getKey: true,
  getKeyHistory: true,
  saveKey: true,
  deleteKey: true,
  deleteKeyPrefix: true,
  transferKeys: true,
  exportKeys: true,
  importKeys: true,
  startKeyWatch: true,
  stopKeyWatch: true,
  listLeases: true,
  getLease: true,
  leaseAction: true,
  getAuthOverview: true,
  authAction: true,
} as const satisfies Record<Exclude<keyof KeysApi, KeysEvent>, true>

/** Events of KeysApi, spread into the contract's event list. */
export const KEY_EVENT_FLAGS = { onKeyTransferProgress: true, onKeyWatch: true } as const satisfies Record<KeysEvent, true>

/** Names of the KeysApi events. */
export type KeysEvent = 'onKeyTransferProgress' | 'onKeyWatch'
