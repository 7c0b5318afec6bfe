import { status, type ServiceError } from '@grpc/grpc-js'
import { EtcdError, etcdErrorCodeForMessage } from '../server/grpc/errors'

export { EtcdError, ETCD_ERRORS, type EtcdErrorCode } from '../server/grpc/errors'

/** The name of a gRPC status code, e.g. `'UNAVAILABLE'`. */
export type GrpcCodeName = keyof typeof status

const codeNames = new Map<number, GrpcCodeName>(
  (Object.entries(status) as Array<[GrpcCodeName, number | string]>)
    .filter((entry): entry is [GrpcCodeName, number] => typeof entry[1] === 'number')
    .map(([name, value]) => [value, name]),
)

/**
 * A failed call whose message is not one of etcd's errors: transport failures (`UNAVAILABLE` with "No
 * connection established"), deadlines (`DEADLINE_EXCEEDED`), gRPC's own limits (`RESOURCE_EXHAUSTED` "received
 * message larger than max"), cancellation, or an UNKNOWN answer. `code` is the gRPC status name; `details` is
 * the server's (or grpc-js's) text.
 */
export class GrpcError extends Error {
  override name = 'GrpcError'

  constructor(
    readonly code: GrpcCodeName,
    readonly grpcCode: number,
    readonly details: string,
    options?: ErrorOptions,
  ) {
    super(`${code}: ${details}`, options)
  }
}

/** The client was closed; every call and stream made after (or cut by) `close()` fails with this. */
export class ClientClosedError extends Error {
  override name = 'ClientClosedError'
  readonly code = 'CLIENT_CLOSED'

  constructor() {
    super('etcd client closed')
  }
}

/** Whether `error` looks like a grpc-js ServiceError (a status with numeric `code` and `details`). */
export function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === 'number' &&
    typeof (error as Partial<ServiceError>).details === 'string'
  )
}

/**
 * Maps a failed call to a typed error the way etcd's clients do: by the status message (`rpctypes.Error`).
 * etcd's messages become {@link EtcdError} with the table code; anything else becomes {@link GrpcError}. Non-gRPC
 * errors are returned unchanged.
 */
export function toClientError(error: unknown): unknown {
  if (!isServiceError(error)) return error
  const etcdCode = etcdErrorCodeForMessage(error.details)
  if (etcdCode !== undefined) return new EtcdError(etcdCode, { cause: error })
  return new GrpcError(codeNames.get(error.code) ?? 'UNKNOWN', error.code, error.details, { cause: error })
}

/**
 * Whether a client holding credentials should authenticate again and retry after this error code (etcd compat:
 * clientv3 shouldRefreshToken): an invalid or outdated token, and also "user name is empty", which a client
 * gets when auth was enabled after it connected (it had no token then).
 */
export function shouldRefreshToken(code: string | undefined): boolean {
  return code === 'INVALID_AUTH_TOKEN' || code === 'AUTH_OLD_REVISION' || code === 'USER_EMPTY'
}

/** The etcd error code of a mapped or raw error, if it is one of etcd's errors. */
export function etcdCodeOf(error: unknown): string | undefined {
  if (error instanceof EtcdError) return error.code
  if (isServiceError(error)) return etcdErrorCodeForMessage(error.details)
  return undefined
}
