import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js'
import type { Member } from '../member'
import { fromMvccError } from './convert'
import { toGrpcStatusError } from './errors'

/**
 * Wraps an async unary implementation as a grpc-js handler: counts the call in the gRPC metrics, converts
 * any error into etcd's status (core/server/grpc/errors.ts; unknown errors become UNKNOWN with the message,
 * never a stack) and answers exactly once.
 */
export function unary<Request, Response>(
  member: Member,
  service: string,
  method: string,
  implementation: (request: Request, call: ServerUnaryCall<Request, Response>) => Promise<Response> | Response,
) {
  return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>): void => {
    const started = performance.now()
    member.metrics.grpcStarted(service, method, 'unary')
    member.metrics.grpcMsgReceived(service, method, 'unary')
    const finish = (code: number) => {
      // go-grpc-prometheus counts the response message only for an OK unary call.
      if (code === 0) member.metrics.grpcMsgSent(service, method, 'unary')
      member.metrics.grpcHandled(service, method, 'unary', code, (performance.now() - started) / 1000)
    }
    Promise.resolve()
      .then(() => implementation(call.request, call))
      .then(
        (response) => {
          finish(0)
          callback(null, response)
        },
        (error: unknown) => {
          const status = toGrpcStatusError(fromMvccError(error))
          finish(status.code)
          callback(status)
        },
      )
  }
}
