import { z } from 'zod'
import { LOAD_ALL_VALUE_BYTES, type KeysApi, type KeysEvent } from './keys-api'

// Argument shapes of the key browser's contract methods (spread into ADMIN_ARG_SCHEMAS). Keys are base64 of
// at most 1.5 MiB (etcd's default request limit); the services reject non-canonical base64.

const id = z.string().min(1).max(128)
const bytes = z.string().max(2 * 1024 * 1024)
const revision = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

type KeyMethod = Exclude<keyof KeysApi, KeysEvent>
const leaseId = z.string().regex(/^[0-9a-f]{1,16}$/)
const name = z.string().min(1).max(256)
const permission = z.enum(['read', 'write', 'readwrite'])

/** One tuple schema per key method. */
export const KEY_ARG_SCHEMAS: { [M in KeyMethod]: z.ZodType<Parameters<KeysApi[M]>> } = {
  listKeys: z.tuple([
    z.strictObject({
      connectionId: id,
      prefix: bytes,
      separator: z.string().max(16),
      cursor: bytes.optional(),
      revision: revision.optional(),
      limit: z.number().int().min(1).max(50_000),
    }),
  ]),
  countKeys: z.tuple([id, bytes, revision]),
  getKey: z.tuple([id, bytes, revision, z.number().int().min(0).max(LOAD_ALL_VALUE_BYTES)]),
  getKeyHistory: z.tuple([id, bytes]),
  saveKey: z.tuple([z.strictObject({ connectionId: id, key: bytes, value: z.string().max(16 * 1024 * 1024), expectedModRevision: revision })]),
  deleteKey: z.tuple([id, bytes, revision]),
  deleteKeyPrefix: z.tuple([id, bytes, z.string().max(2 * 1024 * 1024), z.number().int().min(0)]),
  transferKeys: z.tuple([
    z.strictObject({ connectionId: id, operationId: id, mode: z.enum(['copy', 'move']), source: bytes, target: bytes, isPrefix: z.boolean() }),
  ]),
  exportKeys: z.tuple([z.strictObject({ connectionId: id, prefix: bytes.optional(), keys: z.array(bytes).max(100_000).optional() })]),
  importKeys: z.tuple([id, z.string().max(64 * 1024 * 1024), z.enum(['skip', 'overwrite', 'fail']), z.boolean()]),
  startKeyWatch: z.tuple([z.strictObject({ connectionId: id, watchId: id, key: bytes, isPrefix: z.boolean(), startRevision: revision })]),
  stopKeyWatch: z.tuple([id]),
  listLeases: z.tuple([id]),
  getLease: z.tuple([id, leaseId]),
  leaseAction: z.tuple([
    id,
    z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('grant'), ttl: z.number().int().min(1).max(9_000_000_000) }),
      z.strictObject({ kind: z.literal('revoke'), id: leaseId }),
      z.strictObject({ kind: z.literal('keepAlive'), id: leaseId }),
    ]),
  ]),
  getAuthOverview: z.tuple([id]),
  authAction: z.tuple([
    id,
    z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('enable') }),
      z.strictObject({ kind: z.literal('disable') }),
      z.strictObject({ kind: z.literal('addUser'), name, password: z.string().max(1024) }),
      z.strictObject({ kind: z.literal('deleteUser'), name }),
      z.strictObject({ kind: z.literal('changePassword'), name, password: z.string().max(1024) }),
      z.strictObject({ kind: z.literal('grantRole'), user: name, role: name }),
      z.strictObject({ kind: z.literal('revokeRole'), user: name, role: name }),
      z.strictObject({ kind: z.literal('addRole'), name }),
      z.strictObject({ kind: z.literal('deleteRole'), name }),
      z.strictObject({ kind: z.literal('grantPermission'), role: name, permission, key: bytes, shape: z.enum(['key', 'prefix', 'fromKey']) }),
      z.strictObject({ kind: z.literal('revokePermission'), role: name, key: bytes, rangeEnd: bytes }),
    ]),
  ]),
}
