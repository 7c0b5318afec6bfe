import { z } from 'zod'
import type { TlsApi } from './tls-api'

// Argument shapes of the TLS wizard's methods (spread into ADMIN_ARG_SCHEMAS).

/** One tuple schema per TLS wizard method. */
export const TLS_ARG_SCHEMAS: { [M in Exclude<keyof TlsApi, 'onTlsProgress'>]: z.ZodType<Parameters<TlsApi[M]>> } = {
  convertLocalClusterToTls: z.tuple([
    z.strictObject({
      cluster: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a cluster name is a-z, 0-9 and -, at most 40 characters'),
      operationId: z.string().min(1).max(128),
    }),
  ]),
}
