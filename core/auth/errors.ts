import type { EtcdErrorCode } from '../server/grpc/errors'

/**
 * An expected auth failure, by etcd's error code (core/server/grpc/errors.ts maps it to etcd's gRPC status and
 * exact message; only the type is imported so core/auth stays below core/server).
 */
export class AuthError extends Error {
  override name = 'AuthError'

  constructor(readonly code: EtcdErrorCode) {
    super(`auth: ${code.toLowerCase().replaceAll('_', ' ')}`)
  }
}
