import * as grpc from '@grpc/grpc-js'
import { serviceMethods } from '../proto/services'
import { ClientClosedError, etcdCodeOf, isServiceError, shouldRefreshToken, toClientError } from './errors'

/** TLS settings for every endpoint. PEM text or buffers. `servername` overrides the name checked against the cert. */
export interface TlsOptions {
  /** CA bundle that signed the servers' certificates; the system roots when absent. */
  ca?: Buffer | string
  /** Client certificate chain for mTLS (`--client-cert-auth`); needs `key`. */
  cert?: Buffer | string
  /** Private key of `cert`. */
  key?: Buffer | string
  /** Host name to verify the server certificate against instead of the endpoint's host. */
  servername?: string
}

/** Options of an {@link EtcdClient}. */
export interface EtcdClientOptions {
  /**
   * Client URLs of the members (`http://127.0.0.1:2379`, `https://etcd-1:2379`, or `host:port`). Calls go to one
   * endpoint at a time and fail over to the next on UNAVAILABLE.
   */
  endpoints: string[]
  /** TLS for all endpoints; also implied by `https://` endpoints. */
  tls?: TlsOptions
  /** etcd user and password: the client authenticates first and again whenever its token becomes invalid. */
  auth?: { username: string; password: string }
  /** Default deadline of every unary call, over all its retries. Default 10,000 ms. */
  callTimeoutMs?: number
  /** Metadata sent with every call (and stream). */
  metadata?: Record<string, string>
  /** Failover and retry: attempts per call (default 8) and the backoff between passes over the endpoints. */
  retry?: { maxAttempts?: number; initialBackoffMs?: number; maxBackoffMs?: number }
  /** HTTP/2 keepalive ping interval. Off by default; etcd refuses pings more often than `--grpc-keepalive-min-time` (5 s). */
  keepaliveTimeMs?: number
  /** Extra grpc-js channel options. */
  channelOptions?: Partial<grpc.ChannelOptions>
}

/** Per-call options. */
export interface CallOptions {
  /** Deadline of this call (all retries included), instead of `callTimeoutMs`. */
  timeoutMs?: number
  /** Extra metadata for this call. */
  metadata?: Record<string, string>
  /** Cancels the call. */
  signal?: AbortSignal
  /**
   * Send the call to this endpoint only (one of `endpoints`, as given), with no failover. For per-member
   * calls: Status, Defragment, Hash, HashKV, alarms, MoveLeader (which must reach the leader).
   */
  endpoint?: string
  /** Ask the member to fail the call with "etcdserver: no leader" when it has none (etcd's `hasleader` metadata). */
  requireLeader?: boolean
}

/** How a unary call may be retried on another endpoint. */
export interface RetryPolicy {
  /**
   * True for calls that are safe to repeat (reads, status, idempotent admin calls): retried on any
   * UNAVAILABLE. False for writes: retried only when the request surely never left (no connection).
   */
  idempotent: boolean
  /** Skips the auth token (Authenticate itself). */
  anonymous?: boolean
}

interface Endpoint {
  /** As given in the options. */
  readonly url: string
  /** `host:port` for grpc-js. */
  readonly target: string
  client: grpc.Client | null
}

const DEFAULT_CALL_TIMEOUT_MS = 10_000
// etcd compat: clientv3's token metadata key (rpctypes.TokenFieldNameGRPC) and the require-leader key.
const TOKEN_METADATA_KEY = 'token'
const REQUIRE_LEADER_METADATA_KEY = 'hasleader'

/** Splits an endpoint URL into the grpc-js target and whether it asks for TLS. */
export function parseEndpoint(url: string): { target: string; secure: boolean } {
  const match = /^(https?|unixs?):\/\/(.+?)\/?$/.exec(url)
  if (!match) return { target: url, secure: false }
  const [, scheme, rest] = match
  if (scheme.startsWith('unix')) return { target: `unix:${rest}`, secure: scheme === 'unixs' }
  return { target: rest, secure: scheme === 'https' }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true })
  })
}

/**
 * The connection layer under every client namespace: one grpc-js channel per endpoint (created on first use),
 * the current endpoint and failover, the auth token and its refresh, deadlines and metadata.
 *
 * Failover: a call that fails with UNAVAILABLE (and may be retried, see {@link RetryPolicy}) moves the client to
 * the next endpoint and tries again there; after each full pass over the endpoints it backs off exponentially,
 * until the attempts or the deadline run out. Auth: with `auth` set, the first call authenticates; a call
 * answered "etcdserver: invalid auth token" (token expired, or issued before a restart) re-authenticates once
 * and is retried.
 */
export class Transport {
  private readonly endpoints: Endpoint[]
  private readonly credentials: grpc.ChannelCredentials
  private readonly channelOptions: Partial<grpc.ChannelOptions>
  private readonly callTimeoutMs: number
  private readonly maxAttempts: number
  private readonly initialBackoffMs: number
  private readonly maxBackoffMs: number
  /** Index into `endpoints` of the endpoint calls go to. */
  private current = 0
  /** The auth token; '' when the server has auth disabled; null before the first authentication. */
  private token: string | null = null
  private tokenRequest: Promise<string> | null = null
  private closed = false

  constructor(readonly options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new Error('etcd client: no endpoints given')
    const parsed = options.endpoints.map(parseEndpoint)
    const secure = options.tls !== undefined || parsed.some((endpoint) => endpoint.secure)
    if (secure && parsed.some((endpoint, i) => !endpoint.secure && options.endpoints[i].startsWith('http://'))) {
      throw new Error('etcd client: cannot mix http:// and https:// endpoints')
    }
    this.endpoints = options.endpoints.map((url, i) => ({ url, target: parsed[i].target, client: null }))
    const tls = options.tls
    const pem = (value: Buffer | string | undefined) => (value === undefined ? null : Buffer.from(value))
    this.credentials = secure
      ? grpc.credentials.createSsl(pem(tls?.ca), pem(tls?.key), pem(tls?.cert))
      : grpc.credentials.createInsecure()
    this.channelOptions = {
      // etcd compat: clientv3 accepts responses up to math.MaxInt32 bytes (large Range results).
      'grpc.max_receive_message_length': 2 ** 31 - 1,
      // Reconnect quickly to a member that comes back (grpc-js defaults: 1 s initial, 120 s max).
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
      ...(options.keepaliveTimeMs !== undefined
        ? { 'grpc.keepalive_time_ms': options.keepaliveTimeMs, 'grpc.keepalive_timeout_ms': 5_000 }
        : {}),
      ...(tls?.servername !== undefined
        ? { 'grpc.ssl_target_name_override': tls.servername, 'grpc.default_authority': tls.servername }
        : {}),
      ...options.channelOptions,
    }
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    this.maxAttempts = options.retry?.maxAttempts ?? 8
    this.initialBackoffMs = options.retry?.initialBackoffMs ?? 50
    this.maxBackoffMs = options.retry?.maxBackoffMs ?? 1_000
  }

  /** The endpoint URLs, as given. */
  get endpointUrls(): string[] {
    return this.endpoints.map((endpoint) => endpoint.url)
  }

  /** The endpoint calls currently go to. */
  get currentEndpoint(): string {
    return this.endpoints[this.current].url
  }

  /** Whether `close()` was called. */
  get isClosed(): boolean {
    return this.closed
  }

  /** The grpc-js client (channel) of endpoint `index`, created on first use. */
  channel(index: number): grpc.Client {
    if (this.closed) throw new ClientClosedError()
    const endpoint = this.endpoints[index]
    endpoint.client ??= new grpc.Client(endpoint.target, this.credentials, this.channelOptions)
    return endpoint.client
  }

  /** Index of endpoint `url` (as given in the options); throws if it is not one of them. */
  endpointIndex(url: string): number {
    const index = this.endpoints.findIndex((endpoint) => endpoint.url === url)
    if (index < 0) throw new Error(`etcd client: ${url} is not one of the endpoints ${this.endpointUrls.join(',')}`)
    return index
  }

  /** The index of the current endpoint. */
  currentIndex(): number {
    return this.current
  }

  /** Moves to the endpoint after `failedIndex` (unless another caller already moved on) and returns it. */
  failover(failedIndex: number): number {
    if (this.current === failedIndex) this.current = (failedIndex + 1) % this.endpoints.length
    return this.current
  }

  /** The backoff before attempt `attempt` (0-based): none in the first pass, then doubling per pass. */
  backoffMs(attempt: number): number {
    const pass = Math.floor(attempt / this.endpoints.length)
    if (pass === 0) return 0
    const base = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** (pass - 1))
    return base * (0.8 + Math.random() * 0.4)
  }

  /** Metadata for a call or stream: the client's, the call's, the token and require-leader. */
  async metadata(options: CallOptions = {}, anonymous = false): Promise<grpc.Metadata> {
    const metadata = new grpc.Metadata()
    for (const [key, value] of Object.entries({ ...this.options.metadata, ...options.metadata })) {
      metadata.set(key, value)
    }
    if (options.requireLeader) metadata.set(REQUIRE_LEADER_METADATA_KEY, 'true')
    if (!anonymous && this.options.auth) {
      const token = await this.getToken()
      if (token !== '') metadata.set(TOKEN_METADATA_KEY, token)
    }
    return metadata
  }

  /** The current auth token, authenticating first if there is none yet. '' when the server has auth disabled. */
  async getToken(): Promise<string> {
    if (this.token !== null) return this.token
    return this.refreshToken()
  }

  /**
   * Authenticates again (once for all concurrent callers) and returns the new token. Called when a call is
   * answered "invalid auth token". Throws AUTH_FAILED for a bad user or password.
   */
  refreshToken(stale?: string | null): Promise<string> {
    if (!this.options.auth) return Promise.resolve('')
    if (stale !== undefined && this.token !== stale && this.token !== null) return Promise.resolve(this.token)
    this.tokenRequest ??= this.authenticate().finally(() => (this.tokenRequest = null))
    return this.tokenRequest
  }

  private async authenticate(): Promise<string> {
    const { username, password } = this.options.auth!
    this.token = null
    try {
      const response = await this.unary(
        serviceMethods('etcdserverpb.Auth').Authenticate,
        { name: username, password },
        {},
        { idempotent: true, anonymous: true },
      )
      this.token = response.token
    } catch (error) {
      // etcd compat: clientv3 goes on without a token when the server has auth disabled.
      if (etcdCodeOf(error) !== 'AUTH_NOT_ENABLED') throw error
      this.token = ''
    }
    return this.token
  }

  /**
   * One unary call with deadline, metadata, token refresh and failover. Resolves with the decoded response;
   * rejects with the mapped error (EtcdError, GrpcError, ClientClosedError).
   */
  async unary<Request, Response>(
    method: grpc.MethodDefinition<Request, Response>,
    request: Request,
    options: CallOptions,
    policy: RetryPolicy,
  ): Promise<Response> {
    const deadline = Date.now() + (options.timeoutMs ?? this.callTimeoutMs)
    const pinned = options.endpoint === undefined ? undefined : this.endpointIndex(options.endpoint)
    let refreshedToken = false
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new ClientClosedError()
      const index = pinned ?? this.current
      const usedToken = this.token
      try {
        const metadata = await this.metadata(options, policy.anonymous)
        return await this.callOnce(index, method, request, metadata, deadline, options.signal)
      } catch (error) {
        if (!isServiceError(error)) throw error
        const code = etcdCodeOf(error)
        if (shouldRefreshToken(code) && this.options.auth && !policy.anonymous && !refreshedToken) {
          refreshedToken = true
          await this.refreshToken(usedToken)
          continue
        }
        const retryable =
          error.code === grpc.status.UNAVAILABLE &&
          (policy.idempotent || error.details.startsWith('No connection established'))
        const delay = this.backoffMs(attempt + 1)
        if (!retryable || pinned !== undefined || attempt + 1 >= this.maxAttempts || Date.now() + delay >= deadline) {
          throw toClientError(error)
        }
        this.failover(index)
        await sleep(delay, options.signal)
      }
    }
  }

  private callOnce<Request, Response>(
    index: number,
    method: grpc.MethodDefinition<Request, Response>,
    request: Request,
    metadata: grpc.Metadata,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    return new Promise((resolve, reject) => {
      const call = this.channel(index).makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        metadata,
        { deadline },
        (error, response) => (error ? reject(error) : resolve(response as Response)),
      )
      if (signal) {
        if (signal.aborted) call.cancel()
        else signal.addEventListener('abort', () => call.cancel(), { once: true })
      }
    })
  }

  /**
   * Opens a stream on endpoint `index` (the current one by default) with the client's metadata and token. The
   * caller owns reconnects (watch and keepalive resume on their own terms).
   */
  async openStream<Request, Response>(
    method: grpc.MethodDefinition<Request, Response>,
    options: CallOptions & { index?: number } = {},
  ): Promise<{ index: number; token: string | null; stream: grpc.ClientDuplexStream<Request, Response> }> {
    const metadata = await this.metadata(options)
    const index = options.index ?? this.current
    const stream = this.channel(index).makeBidiStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      metadata,
      {},
    )
    return { index, token: this.token, stream }
  }

  /** Opens a server-streaming call (Snapshot) on the current or pinned endpoint with a deadline. */
  async openServerStream<Request, Response>(
    method: grpc.MethodDefinition<Request, Response>,
    request: Request,
    options: CallOptions = {},
  ): Promise<grpc.ClientReadableStream<Response>> {
    const metadata = await this.metadata(options)
    const index = options.endpoint === undefined ? this.current : this.endpointIndex(options.endpoint)
    const callOptions: grpc.CallOptions = options.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs }
    const stream = this.channel(index).makeServerStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      metadata,
      callOptions,
    )
    if (options.signal) options.signal.addEventListener('abort', () => stream.cancel(), { once: true })
    return stream
  }

  /** Closes every channel. Calls in flight fail; later calls throw ClientClosedError. Idempotent. */
  close(): void {
    this.closed = true
    for (const endpoint of this.endpoints) {
      endpoint.client?.close()
      endpoint.client = null
    }
  }
}
