import { z } from 'zod'
import type { KeysApi } from './keys-api'

// Argument shapes of the key browser's contract methods (spread into ADMIN_ARG_SCHEMAS). Keys are base64 of
// at most 1.5 MiB (etcd's default request limit); the services reject non-canonical base64.

const id = z.string().min(1).max(128)
const bytes = z.string().max(2 * 1024 * 1024)
const revision = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

type KeyMethod = Exclude<keyof KeysApi, 'onKeyTransferProgress'>

/** One tuple schema per key method. */
export const KEY_ARG_SCHEMAS: { [M in KeyMethod]: z.ZodType<Parameters<KeysApi[M]>> } = {
  listKeys: z.tuple([
    z.strictObject({
      connectionId: id,
      prefix: bytes,
      separator: z.string().max(16),
      cursor: bytes.optional(),
      revision: revision.optional(),
      limit: z.number().int().min(1).max(10_000),
    }),
  ]),
  countKeys: z.tuple([id, bytes, revision]),
  getKey: z.tuple([id, bytes, revision]),
  getKeyHistory: z.tuple([id, bytes]),
  saveKey: z.tuple([z.strictObject({ connectionId: id, key: bytes, value: z.string().max(16 * 1024 * 1024), expectedModRevision: revision })]),
  deleteKey: z.tuple([id, bytes, revision]),
  deleteKeyPrefix: z.tuple([id, bytes, z.string().max(2 * 1024 * 1024), z.number().int().min(0)]),
  transferKeys: z.tuple([
    z.strictObject({ connectionId: id, operationId: id, mode: z.enum(['copy', 'move']), source: bytes, target: bytes, isPrefix: z.boolean() }),
  ]),
  exportKeys: z.tuple([z.strictObject({ connectionId: id, prefix: bytes.optional(), keys: z.array(bytes).max(100_000).optional() })]),
  importKeys: z.tuple([id, z.string().max(64 * 1024 * 1024), z.enum(['skip', 'overwrite', 'fail']), z.boolean()]),
}
