import { z } from 'zod'
import type { WizardsApi } from './wizards-api'

// Argument shapes of the guided operations' methods (spread into ADMIN_ARG_SCHEMAS).

const id = z.string().min(1).max(128)
const path = z.string().min(1).max(4096)
const clusterName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a cluster name is a-z, 0-9 and -, at most 40 characters')
const url = z.string().max(512)
const count = z.number().int().min(0).max(10_000)

type WizardMethod = Exclude<keyof WizardsApi, 'onSnapshotProgress' | 'onBackupRun'>

/** One tuple schema per wizard method. */
export const WIZARD_ARG_SCHEMAS: { [M in WizardMethod]: z.ZodType<Parameters<WizardsApi[M]>> } = {
  suggestSnapshotPath: z.tuple([id]),
  takeSnapshot: z.tuple([z.strictObject({ connectionId: id, operationId: id, memberId: z.string().regex(/^[0-9a-f]{0,16}$/), path })]),
  getSnapshotStatus: z.tuple([path]),
  verifySnapshot: z.tuple([path]),
  restoreSnapshotToLocal: z.tuple([
    z.strictObject({ path, clusterName, size: z.union([z.literal(1), z.literal(3), z.literal(5)]) }),
  ]),
  planRemoteRestore: z.tuple([
    z.strictObject({
      snapshotPath: path,
      members: z.array(z.strictObject({ name: z.string().max(64), peerUrl: url, clientUrl: url, dataDir: path })).min(1).max(15),
      clusterToken: z.string().max(128),
      tool: z.enum(['etcdctl', 'etcdutl']),
      bumpRevision: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    }),
  ]),
  listBackupSchedules: z.tuple([]),
  saveBackupSchedule: z.tuple([
    z.strictObject({
      id: id.optional(),
      connectionId: id,
      everyMs: z.number().int().min(1000).max(366 * 24 * 3_600_000),
      cron: z.string().max(128),
      destination: z.string().max(4096),
      keepLast: z.number().int().min(1).max(10_000),
      hourly: count,
      daily: count,
      weekly: count,
      drills: z.boolean(),
      paused: z.boolean(),
    }),
  ]),
  deleteBackupSchedule: z.tuple([id]),
  runBackupNow: z.tuple([id]),
  getBackupHistory: z.tuple([id]),
  planMembershipChange: z.tuple([clusterName, z.enum(['addLearner', 'promote', 'remove']), z.string().max(64)]),
  applyMembershipChange: z.tuple([clusterName, z.enum(['addLearner', 'promote', 'remove']), z.string().max(64)]),
}
