import { z } from 'zod'
import type { DrillInput, DrillsApi } from './drills-api'

// Argument shapes of the drills and advisor methods (spread into ADMIN_ARG_SCHEMAS).

const clusterName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a cluster name is a-z, 0-9 and -, at most 40 characters')
const drillInput: z.ZodType<DrillInput> = z.strictObject({
  kind: z.enum(['partition', 'split', 'latency', 'loss', 'heal']),
  members: z.array(z.string().min(1).max(64)).max(16),
  direction: z.enum(['both', 'in', 'out']),
  ms: z.number().int().min(0).max(60_000),
  jitterMs: z.number().int().min(0).max(60_000),
  rate: z.number().min(0).max(1),
})

/** One tuple schema per drills/advisor method. */
export const DRILL_ARG_SCHEMAS: { [M in keyof DrillsApi]: z.ZodType<Parameters<DrillsApi[M]>> } = {
  getDrillState: z.tuple([clusterName, z.boolean()]),
  enableDrills: z.tuple([clusterName]),
  runDrill: z.tuple([clusterName, drillInput]),
  adviseConnection: z.tuple([z.string().min(1).max(128)]),
}
