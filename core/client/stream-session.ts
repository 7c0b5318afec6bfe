import * as grpc from '@grpc/grpc-js'
import { ClientClosedError, EtcdError, etcdCodeOf, GrpcError, isServiceError, shouldRefreshToken, toClientError } from './errors'
import type { Transport } from './transport'

/** What a {@link StreamSession} tells its owner. */
export interface StreamSessionHandlers<Response> {
  /** A new stream is open (first or after a reconnect): send the requests that (re)establish state. */
  onOpen(): void
  /** A response arrived. */
  onData(response: Response): void
  /** The stream was lost and a new one will be opened after a backoff. */
  onLost(error: unknown): void
  /** The session stopped for good (a non-retryable error, or the client closed). */
  onFatal(error: unknown): void
}

const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  grpc.status.UNAVAILABLE,
  grpc.status.INTERNAL,
  grpc.status.CANCELLED,
  grpc.status.UNKNOWN,
  grpc.status.DEADLINE_EXCEEDED,
])

/**
 * Whether a lost stream (or a failed attempt to open one) should be retried: transport trouble, leader loss
 * and stale tokens are; refusals (permission denied, bad password, unimplemented) and a closed client are not.
 */
function isRetryable(error: unknown, hasCredentials: boolean): boolean {
  if (shouldRefreshToken(etcdCodeOf(error))) return hasCredentials
  let grpcCode: number | undefined
  if (isServiceError(error)) grpcCode = error.code
  else if (error instanceof GrpcError || error instanceof EtcdError) grpcCode = error.grpcCode
  return grpcCode !== undefined && RETRYABLE_CODES.has(grpcCode)
}

/**
 * One long-lived bidirectional stream (Watch, LeaseKeepAlive) that reopens itself: when the stream fails it
 * moves to the next endpoint, refreshes the auth token if the server called it invalid, waits a backoff, opens
 * a new stream and calls `onOpen` so the owner can restore its state (watches resume from their next revision).
 * Invariant: at most one stream is open; responses of a replaced stream are ignored.
 */
export class StreamSession<Request, Response> {
  private stream: grpc.ClientDuplexStream<Request, Response> | null = null
  private opening = false
  private stopped = false
  private attempt = 0
  private retryTimer: NodeJS.Timeout | null = null

  constructor(
    private readonly transport: Transport,
    private readonly method: grpc.MethodDefinition<Request, Response>,
    private readonly handlers: StreamSessionHandlers<Response>,
  ) {}

  /** Whether a stream is open now (writes go through). */
  get isOpen(): boolean {
    return this.stream !== null
  }

  /** Opens the stream unless it is open or opening. */
  start(): void {
    this.stopped = false
    if (this.stream || this.opening || this.retryTimer) return
    void this.open()
  }

  /** Sends a request on the open stream; returns false (and sends nothing) when no stream is open. */
  write(request: Request): boolean {
    if (!this.stream) return false
    this.stream.write(request)
    return true
  }

  /** Closes the stream and stops reconnecting. The owner gets no more callbacks. */
  stop(): void {
    this.stopped = true
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    const stream = this.stream
    this.stream = null
    if (stream) {
      stream.end()
      stream.cancel()
    }
  }

  private async open(): Promise<void> {
    this.opening = true
    let opened: { index: number; token: string | null; stream: grpc.ClientDuplexStream<Request, Response> }
    try {
      opened = await this.transport.openStream(this.method)
    } catch (error) {
      this.opening = false
      // Authenticating for the new stream failed: retried if the cluster was unreachable, else fatal.
      if (!this.stopped) void this.reconnect(this.transport.currentIndex(), null, error)
      return
    }
    this.opening = false
    const { stream, index, token } = opened
    if (this.stopped) {
      stream.cancel()
      return
    }
    this.stream = stream
    const lost = (error: unknown) => {
      if (this.stream !== stream) return
      this.stream = null
      stream.cancel()
      void this.reconnect(index, token, error)
    }
    stream.on('data', (response: Response) => {
      if (this.stream !== stream) return
      // Only an answer proves the stream works; headers alone do not (a member without a leader sends them).
      this.attempt = 0
      this.handlers.onData(response)
    })
    stream.on('error', (error) => lost(error))
    stream.on('end', () => lost(Object.assign(new Error('stream ended'), { code: grpc.status.UNAVAILABLE, details: 'stream ended by the server', metadata: new grpc.Metadata() })))
    this.handlers.onOpen()
  }

  private async reconnect(index: number, token: string | null, error: unknown): Promise<void> {
    if (this.stopped) return
    if (this.transport.isClosed) return this.handlers.onFatal(new ClientClosedError())
    if (!isRetryable(error, this.transport.options.auth !== undefined)) return this.handlers.onFatal(toClientError(error))
    this.handlers.onLost(toClientError(error))
    if (shouldRefreshToken(etcdCodeOf(error))) {
      try {
        await this.transport.refreshToken(token)
      } catch (refreshError) {
        return this.handlers.onFatal(refreshError)
      }
    } else {
      this.transport.failover(index)
    }
    const delay = Math.max(this.attempt === 0 ? 0 : 50, this.transport.backoffMs(this.attempt))
    this.attempt++
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      if (!this.stopped) void this.open()
    }, delay)
  }
}
