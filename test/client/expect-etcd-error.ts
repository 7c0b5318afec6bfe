import type { ServiceError } from '@grpc/grpc-js'
import { expect } from 'vitest'
import { ETCD_ERRORS, EtcdError, type EtcdErrorCode } from '../../core/client'

/**
 * Awaits `promise`, which must reject with etcd error `code`: an EtcdError whose underlying gRPC status (as the
 * server sent it) has exactly the table's status code and message. Against real etcd this checks the table.
 */
export async function expectEtcdError(promise: Promise<unknown>, code: EtcdErrorCode): Promise<EtcdError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  expect(error, `expected ${code}`).toBeInstanceOf(EtcdError)
  const etcdError = error as EtcdError
  expect(etcdError.code).toBe(code)
  const status = etcdError.cause as ServiceError
  expect({ code: status.code, details: status.details }).toEqual({
    code: ETCD_ERRORS[code].grpcCode,
    details: ETCD_ERRORS[code].message,
  })
  return etcdError
}
