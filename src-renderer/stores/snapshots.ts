import { defineStore } from 'pinia'
import { ref } from 'vue'
import type {
  KeyEntry,
  LocalClusterInfo,
  MemberOverview,
  RemoteRestorePlan,
  RemoteRestoreRequest,
  RestoreToLocalRequest,
  SnapshotFileStatus,
  SnapshotProgressEvent,
  SnapshotVerifyReport,
  TakenSnapshot,
} from '../../src-main/api/admin-api'
import { api } from '../api'
import { callRunner } from './wizards'

/** Keys the restore wizard lists from the restored cluster to show they are there. */
const SHOWN_KEYS = 200

/**
 * State of the snapshot and restore wizards: the member picker, the running snapshot's progress, the
 * results, and the last error as user text. One wizard runs at a time; `reset` starts over.
 */
export const useSnapshotsStore = defineStore('snapshots', () => {
  const members = ref<MemberOverview[]>([])
  /** Size of the chosen member's database, to turn bytes into a percentage (the stream has no length). */
  const expectedBytes = ref<number | null>(null)
  const progress = ref<SnapshotProgressEvent | null>(null)
  const taken = ref<TakenSnapshot | null>(null)
  const verifyReport = ref<SnapshotVerifyReport | null>(null)
  const fileStatus = ref<SnapshotFileStatus | null>(null)
  const restored = ref<LocalClusterInfo | null>(null)
  const restoredKeys = ref<KeyEntry[]>([])
  const plan = ref<RemoteRestorePlan | null>(null)
  /** `error`: user text of the last failed call, null when the last call worked. */
  const { busy, error, run } = callRunner()
  let operationId = ''
  let subscribed = false

  function subscribe(): void {
    if (subscribed) return
    subscribed = true
    api.onSnapshotProgress((event) => {
      if (event.operationId === operationId) progress.value = event
    })
  }

  function reset(): void {
    progress.value = null
    taken.value = null
    verifyReport.value = null
    fileStatus.value = null
    restored.value = null
    restoredKeys.value = []
    plan.value = null
    error.value = null
  }

  /** Runs one call with `busy` set; returns the value, or null after storing the error text. */
  async function loadMembers(connectionId: string): Promise<void> {
    const overview = await run(() => api.getClusterOverview(connectionId))
    members.value = overview?.members ?? []
  }

  const suggestPath = (connectionId: string) => run(() => api.suggestSnapshotPath(connectionId))

  /** Streams a snapshot of `memberId` ('' = leader) to `path`; progress arrives while it runs. */
  async function take(connectionId: string, memberId: string, path: string): Promise<boolean> {
    subscribe()
    reset()
    operationId = `snap-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    const member = memberId ? members.value.find((candidate) => candidate.id === memberId) : members.value.find((candidate) => candidate.role === 'leader')
    expectedBytes.value = member?.dbSizeBytes ?? null
    taken.value = await run(() => api.takeSnapshot({ connectionId, operationId, memberId, path }))
    return taken.value !== null
  }

  async function verify(path: string): Promise<void> {
    verifyReport.value = await run(() => api.verifySnapshot(path))
  }

  async function readStatus(path: string): Promise<boolean> {
    reset()
    fileStatus.value = await run(() => api.getSnapshotStatus(path))
    return fileStatus.value !== null
  }

  /** Restores into a new local cluster, then lists its keys (the proof the data came along). */
  async function restoreLocal(request: RestoreToLocalRequest): Promise<boolean> {
    restored.value = await run(() => api.restoreSnapshotToLocal(request))
    if (!restored.value) return false
    const connectionId = restored.value.connectionId
    const page = await run(() => api.listKeys({ connectionId, prefix: '', separator: '', limit: SHOWN_KEYS }))
    restoredKeys.value = page?.entries ?? []
    return true
  }

  async function planRemote(request: RemoteRestoreRequest): Promise<boolean> {
    plan.value = await run(() => api.planRemoteRestore(request))
    return plan.value !== null
  }

  return {
    members,
    expectedBytes,
    progress,
    taken,
    verifyReport,
    fileStatus,
    restored,
    restoredKeys,
    plan,
    busy,
    error,
    reset,
    loadMembers,
    suggestPath,
    take,
    verify,
    readStatus,
    restoreLocal,
    planRemote,
  }
})
