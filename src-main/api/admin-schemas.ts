import { z } from 'zod'
import type { AdminApi, AdminMethod, ConnectionInput, LocalClusterInput } from './admin-api'
import { KEY_ARG_SCHEMAS } from './keys-schemas'
import { WIZARD_ARG_SCHEMAS } from './wizards-schemas'
import { DRILL_ARG_SCHEMAS } from './drills-schemas'
import { TLS_ARG_SCHEMAS } from './tls-schemas'

// Argument shapes of every contract method, checked at each trust boundary (IPC handlers, web mode routes)
// before a service sees them. Limits keep a hostile renderer from sending megabytes of junk.

const id = z.string().min(1).max(128)
const pem = z.string().max(64 * 1024)
const endpoint = z
  .string()
  .max(512)
  .regex(/^https?:\/\/[^\s/]+(:\d{1,5})?\/?$/, 'an endpoint is http(s)://host:port')

const connectionInput: z.ZodType<ConnectionInput> = z.strictObject({
  id: id.optional(),
  name: z.string().trim().min(1).max(200),
  endpoints: z.array(endpoint).min(1).max(32),
  readOnly: z.boolean(),
  username: z.string().max(256),
  password: z.string().max(1024).optional(),
  tls: z.strictObject({ caCert: pem, clientCert: pem, serverName: z.string().max(256) }),
  clientKey: pem.optional(),
})

const clusterName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a cluster name is a-z, 0-9 and -, at most 40 characters')
const memberName = z.string().min(1).max(64)
const localClusterInput: z.ZodType<LocalClusterInput> = z.strictObject({
  name: clusterName,
  size: z.union([z.literal(1), z.literal(3), z.literal(5)]),
  tls: z.boolean(),
})
const memberAction = z.enum(['start', 'stop', 'kill', 'pause', 'resume', 'restart', 'promote', 'remove', 'moveLeader'])

type ArgsOf<M extends AdminMethod> = Parameters<AdminApi[M]>

/** One tuple schema per method; `parse` returns the typed argument list or throws a ZodError. */
export const ADMIN_ARG_SCHEMAS: { [M in AdminMethod]: z.ZodType<ArgsOf<M>> } = {
  ...KEY_ARG_SCHEMAS,
  ...WIZARD_ARG_SCHEMAS,
  ...DRILL_ARG_SCHEMAS,
  ...TLS_ARG_SCHEMAS,
  getAppInfo: z.tuple([]),
  listConnections: z.tuple([]),
  saveConnection: z.tuple([connectionInput]),
  deleteConnection: z.tuple([id]),
  testConnection: z.tuple([connectionInput]),
  exportConnections: z.tuple([]),
  importConnections: z.tuple([z.string().max(4 * 1024 * 1024)]),
  getClusterOverview: z.tuple([id]),
  startMonitoring: z.tuple([id]),
  stopMonitoring: z.tuple([id]),
  listLocalClusters: z.tuple([]),
  createLocalCluster: z.tuple([localClusterInput]),
  deleteLocalCluster: z.tuple([clusterName]),
  localMemberAction: z.tuple([clusterName, memberName, memberAction]),
  addLocalMember: z.tuple([clusterName, z.boolean()]),
  listAlerts: z.tuple([z.string().max(128)]),
}
