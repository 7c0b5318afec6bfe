import { connect, constants, type ClientHttp2Session } from 'node:http2'
import type { MethodDefinition } from '@grpc/grpc-js'

// A minimal unary gRPC client over node:http2 (the harness of notes/etcd-baseline.md): one HTTP/2 session,
// length-prefixed protobuf frames, the status from the trailers. It costs far less client CPU than grpc-js, so
// on a 2-core machine the server, not the load generator, is what a benchmark measures.

/** A gRPC call that ended with a non-OK status. */
export class BenchCallError extends Error {
  readonly code = 'BENCH_CALL'
  constructor(
    readonly grpcStatus: number,
    message: string,
  ) {
    super(`gRPC status ${grpcStatus}: ${message}`)
  }
}

/** One HTTP/2 connection to a member's client URL. */
export class H2UnaryClient {
  private readonly session: ClientHttp2Session

  constructor(url: string) {
    this.session = connect(url)
    this.session.on('error', () => undefined)
  }

  /** Calls a unary method and resolves with the decoded response; rejects with BenchCallError on a status. */
  call<Request, Response>(method: MethodDefinition<Request, Response>, request: Request): Promise<Response> {
    const body = method.requestSerialize(request)
    const frame = Buffer.allocUnsafe(5 + body.length)
    frame[0] = 0
    frame.writeUInt32BE(body.length, 1)
    body.copy(frame, 5)
    return new Promise((resolve, reject) => {
      const stream = this.session.request({
        [constants.HTTP2_HEADER_METHOD]: 'POST',
        [constants.HTTP2_HEADER_PATH]: method.path,
        'content-type': 'application/grpc',
        te: 'trailers',
      })
      const chunks: Buffer[] = []
      let status = -1
      let message = ''
      const readStatus = (headers: Record<string, unknown>) => {
        if (headers['grpc-status'] !== undefined) {
          status = Number(headers['grpc-status'])
          message = decodeURIComponent(String(headers['grpc-message'] ?? ''))
        }
      }
      stream.on('response', readStatus)
      stream.on('trailers', readStatus)
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('error', reject)
      stream.on('end', () => {
        if (status !== 0) return reject(new BenchCallError(status, message))
        const data = Buffer.concat(chunks)
        resolve(method.responseDeserialize(data.subarray(5, 5 + data.readUInt32BE(1))))
      })
      stream.end(frame)
    })
  }

  close(): void {
    this.session.close()
  }
}
