import type { IncomingMessage, ServerResponse } from 'node:http'
import { assert } from '../util/assert'
import type { QuorumMetrics } from './registry'

// etcd compat: /health, /livez and /readyz as etcd 3.6 serves them, ported from (Apache-2.0)
// server/etcdserver/api/etcdhttp/health.go. The functions here are pure: they turn a status snapshot and
// the query string into the exact status code, headers and body etcd would send.
//
// NB: etcd runs the /livez and /readyz checks in Go map order (unspecified); we run them in registration
// order, which is the order etcd's source registers them in.
// NB: etcd 3.4 answers /health with {"health":"true"} (no "reason"); 3.5+ always add "reason". We serve 3.5+.

/** What the checks read from the member. The server builds it when a health request arrives. */
export interface HealthSnapshot {
  /** Active alarms in the cluster, by etcd's AlarmType name (`NOSPACE`, `CORRUPT`); one entry per member alarm. */
  alarms: string[]
  /** Raft knows a leader (SoftState.lead != 0). */
  hasLeader: boolean
  /** This member is a learner. */
  isLearner: boolean
  /**
   * Outcome of a 1-key, keys-only serializable Range run as root: `null` on success, else etcd's error text
   * (e.g. `etcdserver: request timed out`). `undefined` when not probed (see `HealthNeeds`).
   */
  serializableReadError?: string | null
  /** Same for a linearizable Range (needs a ReadIndex, so it fails without quorum). */
  linearizableReadError?: string | null
}

/** Which reads a request needs; the server only runs those (a linearizable read can take the request timeout). */
export interface HealthNeeds {
  serializableRead: boolean
  linearizableRead: boolean
}

/** A complete HTTP answer. */
export interface HttpReply {
  status: number
  headers: Record<string, string>
  body: string
}

/** The result of one `/livez` or `/readyz` check, for `etcd_server_healthcheck*`. */
export interface CheckOutcome {
  type: ProbeType
  name: string
  ok: boolean
}

/** `/livez` or `/readyz`. */
export type ProbeType = 'livez' | 'readyz'

const TEXT_HEADERS = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' }

type CheckName = 'data_corruption' | 'serializable_read' | 'linearizable_read' | 'non_learner'

/** etcd 3.6 registers these checks (installLivezEndpoints / installReadyzEndpoints), in this order. */
export const PROBE_CHECKS: Readonly<Record<ProbeType, readonly CheckName[]>> = {
  livez: ['serializable_read'],
  readyz: ['data_corruption', 'serializable_read', 'linearizable_read', 'non_learner'],
}

/** A parsed health request path: `/health`, `/livez`, `/readyz` or `/livez/<check>`, `/readyz/<check>`. */
export type HealthRoute =
  | { kind: 'health' }
  | { kind: 'probe'; type: ProbeType; check: CheckName | null }

/** Maps a URL path to the health route etcd serves there, or null (etcd answers 404). */
export function healthRoute(pathname: string): HealthRoute | null {
  if (pathname === '/health') return { kind: 'health' }
  for (const type of ['livez', 'readyz'] as const) {
    if (pathname === `/${type}`) return { kind: 'probe', type, check: null }
    const check = PROBE_CHECKS[type].find((name) => pathname === `/${type}/${name}`)
    if (check) return { kind: 'probe', type, check }
  }
  return null
}

/** The reads a request for `route` with `query` needs before it can be answered. */
export function healthNeeds(route: HealthRoute, query: URLSearchParams): HealthNeeds {
  if (route.kind === 'health') {
    const serializable = isSerializable(query)
    return { serializableRead: serializable, linearizableRead: !serializable }
  }
  const checks = probeChecks(route, query)
  return {
    serializableRead: checks.includes('serializable_read'),
    linearizableRead: checks.includes('linearizable_read'),
  }
}

function isSerializable(query: URLSearchParams): boolean {
  return query.get('serializable') === 'true'
}

// etcd's getQuerySet: every non-empty value of the repeated parameter.
function querySet(query: URLSearchParams, name: string): Set<string> {
  return new Set(query.getAll(name).filter((value) => value.length > 0))
}

function probeChecks(route: Extract<HealthRoute, { kind: 'probe' }>, query: URLSearchParams): CheckName[] {
  if (route.check !== null) return [route.check]
  // etcd compat: excluding an unknown check is ignored (only logged), for version compatibility.
  const excluded = querySet(query, 'exclude')
  return PROBE_CHECKS[route.type].filter((name) => !excluded.has(name))
}

/** The body of `/health`: etcd's `Health` struct marshalled by encoding/json (field order health, reason). */
export interface HealthBody {
  health: 'true' | 'false'
  reason: string
}

/**
 * Evaluates `/health` like etcd 3.6: the first active alarm not named in `?exclude=` (`ALARM NOSPACE`,
 * `ALARM CORRUPT`, else `ALARM UNKNOWN`), then, unless `?serializable=true`, `RAFT NO LEADER`, then the Range
 * (`RANGE ERROR:<err>`).
 */
export function evaluateHealth(snapshot: HealthSnapshot, query: URLSearchParams): HealthBody {
  const excluded = querySet(query, 'exclude')
  const alarm = snapshot.alarms.find((name) => !excluded.has(name))
  if (alarm !== undefined) {
    const reason = alarm === 'NOSPACE' || alarm === 'CORRUPT' ? `ALARM ${alarm}` : 'ALARM UNKNOWN'
    return { health: 'false', reason }
  }
  const serializable = isSerializable(query)
  if (!serializable && !snapshot.hasLeader) return { health: 'false', reason: 'RAFT NO LEADER' }
  const error = readError(snapshot, serializable)
  if (error !== null) return { health: 'false', reason: `RANGE ERROR:${error}` }
  return { health: 'true', reason: '' }
}

function readError(snapshot: HealthSnapshot, serializable: boolean): string | null {
  const error = serializable ? snapshot.serializableReadError : snapshot.linearizableReadError
  assert(error !== undefined, () => `health snapshot lacks the ${serializable ? 'serializable' : 'linearizable'} read`)
  return error
}

/** The exact `/health` reply: 200 with the JSON, or 503 with the JSON and a newline (Go's `http.Error`). */
export function healthReply(snapshot: HealthSnapshot, query: URLSearchParams): HttpReply {
  const health = evaluateHealth(snapshot, query)
  const body = JSON.stringify(health)
  if (health.health === 'true') {
    return { status: 200, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body }
  }
  return { status: 503, headers: { ...TEXT_HEADERS }, body: `${body}\n` }
}

function runCheck(name: CheckName, snapshot: HealthSnapshot): string | null {
  switch (name) {
    case 'data_corruption':
      return snapshot.alarms.includes('CORRUPT') ? 'alarm activated: CORRUPT' : null
    case 'serializable_read':
      return readError(snapshot, true)
    case 'linearizable_read':
      return readError(snapshot, false)
    case 'non_learner':
      return snapshot.isLearner ? 'not supported for learner' : null
  }
}

/**
 * The exact `/livez` or `/readyz` reply (root path or a single-check sub path). Success: 200 and `ok\n`,
 * preceded by one `[+]<check> ok` line per check with `?verbose`. Failure: 503 and always every line, failed
 * ones as `[-]<check> failed: <error>`, then an empty line (Go's `http.Error` appends a newline).
 */
export function probeReply(
  route: Extract<HealthRoute, { kind: 'probe' }>,
  snapshot: HealthSnapshot,
  query: URLSearchParams,
): { reply: HttpReply; outcomes: CheckOutcome[] } {
  const outcomes: CheckOutcome[] = []
  let output = ''
  for (const name of probeChecks(route, query)) {
    const error = runCheck(name, snapshot)
    outcomes.push({ type: route.type, name, ok: error === null })
    output += error === null ? `[+]${name} ok\n` : `[-]${name} failed: ${error}\n`
  }
  if (outcomes.some((outcome) => !outcome.ok)) {
    return { reply: { status: 503, headers: { ...TEXT_HEADERS }, body: `${output}\n` }, outcomes }
  }
  const body = (query.has('verbose') ? output : '') + 'ok\n'
  return { reply: { status: 200, headers: { ...TEXT_HEADERS }, body }, outcomes }
}

/** Go's answers for a wrong method and an unknown path. */
const METHOD_NOT_ALLOWED: HttpReply = {
  status: 405,
  headers: { ...TEXT_HEADERS, Allow: 'GET' },
  body: 'Method Not Allowed\n',
}
const NOT_FOUND: HttpReply = { status: 404, headers: { ...TEXT_HEADERS }, body: '404 page not found\n' }
const INTERNAL_ERROR: HttpReply = { status: 500, headers: { ...TEXT_HEADERS }, body: 'Internal Server Error\n' }

/** What the handler factory needs. */
export interface MetricsHttpOptions {
  /** The member's registry; the handler also counts health checks in it, as etcd does. */
  metrics: QuorumMetrics
  /** Builds a snapshot, running only the reads `needs` asks for. Called once per health request. */
  status: (needs: HealthNeeds) => Promise<HealthSnapshot> | HealthSnapshot
}

/**
 * A node:http request listener for `/metrics`, `/health`, `/livez[/<check>]` and `/readyz[/<check>]`, to mount
 * on the client URLs and on `--listen-metrics-urls`. Resolves true when it answered; for any other path it
 * answers etcd's 404 unless `next` is given, in which case it calls `next` and resolves false. If `status` or
 * a metric collector throws, it answers 500 and rejects with that error (read failures belong in the snapshot,
 * not in a rejection).
 */
export function createMetricsHttpHandler(options: MetricsHttpOptions) {
  return async (request: IncomingMessage, response: ServerResponse, next?: () => void): Promise<boolean> => {
    try {
      return await answer(options, request, response, next)
    } catch (error) {
      if (!response.headersSent) send(response, INTERNAL_ERROR)
      throw error // for the caller's log: `status` or a metric collector failed
    }
  }
}

async function answer(
  { metrics, status }: MetricsHttpOptions,
  request: IncomingMessage,
  response: ServerResponse,
  next: (() => void) | undefined,
): Promise<boolean> {
  const url = new URL(request.url ?? '/', 'http://localhost')
  const route = url.pathname === '/metrics' ? 'metrics' : healthRoute(url.pathname)
  if (route === null) {
    if (next) {
      next()
      return false
    }
    send(response, NOT_FOUND)
    return true
  }
  if (request.method !== 'GET') {
    send(response, METHOD_NOT_ALLOWED)
    return true
  }
  if (route === 'metrics') {
    const body = await metrics.metrics()
    send(response, { status: 200, headers: { 'Content-Type': metrics.contentType }, body })
    return true
  }
  const snapshot = await status(healthNeeds(route, url.searchParams))
  if (route.kind === 'health') {
    const reply = healthReply(snapshot, url.searchParams)
    if (reply.status === 200) metrics.healthSuccess.inc()
    else metrics.healthFailures.inc()
    send(response, reply)
    return true
  }
  const { reply, outcomes } = probeReply(route, snapshot, url.searchParams)
  for (const { type, name, ok } of outcomes) {
    metrics.healthCheck.set({ type, name }, ok ? 1 : 0)
    metrics.healthChecks.inc({ type, name, status: ok ? 'success' : 'error' })
  }
  send(response, reply)
  return true
}

function send(response: ServerResponse, reply: HttpReply): void {
  response.writeHead(reply.status, { ...reply.headers, 'Content-Length': Buffer.byteLength(reply.body) })
  response.end(reply.body)
}
