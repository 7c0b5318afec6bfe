import { connect as netConnect, isIP } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import type { Clock } from '../../core/util/clock'
import type { ConnectionProblem, ConnectionTestReport } from '../api/admin-api'
import { ClusterCallError, hexId, type ClusterClientFactory, type ClusterClientOptions } from './cluster-client'

// "Test connection": find out, per endpoint, the first layer that fails (TCP, TLS, gRPC/etcd, auth) and say
// so in plain words. Transport problems are found with node:net/node:tls probes, which give precise OpenSSL
// error codes; everything above TLS goes through the ClusterClient.

/** How long each probe step may take. */
export interface ConnectionTestTimeouts {
  connectMs: number
  /** After a TLS handshake, how long to wait for the server to reject our (missing) client certificate. */
  tlsSettleMs: number
  callMs: number
}

const DEFAULT_TIMEOUTS: ConnectionTestTimeouts = { connectMs: 3000, tlsSettleMs: 250, callMs: 5000 }

interface ProbeFailure {
  problem: ConnectionProblem
  detail: string
}

// Node/OpenSSL error codes → problems. OpenSSL verify codes: openssl/x509_vfy.h; Node's host check:
// ERR_TLS_CERT_ALTNAME_INVALID (lib/tls.js checkServerIdentity).
const TLS_CODES: Record<string, ConnectionProblem> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'tls_ca_mismatch',
  UNABLE_TO_GET_ISSUER_CERT: 'tls_ca_mismatch',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'tls_ca_mismatch',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls_ca_mismatch',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls_ca_mismatch',
  CERT_SIGNATURE_FAILURE: 'tls_ca_mismatch',
  CERT_UNTRUSTED: 'tls_ca_mismatch',
  CERT_HAS_EXPIRED: 'tls_expired',
  CERT_NOT_YET_VALID: 'tls_expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'tls_hostname_mismatch',
  ERR_SSL_WRONG_VERSION_NUMBER: 'tls_not_enabled',
  ERR_SSL_PACKET_LENGTH_TOO_LONG: 'tls_not_enabled',
  ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED: 'tls_client_cert_required',
  ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE: 'tls_client_cert_required',
  ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE: 'tls_client_cert_required',
  ERR_SSL_TLSV1_ALERT_UNKNOWN_CA: 'tls_client_cert_required',
}

const NET_CODES: Record<string, ConnectionProblem> = {
  ECONNREFUSED: 'refused',
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ETIMEDOUT: 'unreachable',
}

function classifySocketError(error: NodeJS.ErrnoException): ProbeFailure {
  const code = error.code ?? ''
  const problem = TLS_CODES[code] ?? NET_CODES[code] ?? (/wrong version number/i.test(error.message) ? 'tls_not_enabled' : 'unknown')
  return { problem, detail: `${code || 'error'}: ${error.message}` }
}

/** TCP connect; resolves null when something accepts the connection. */
function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeFailure | null> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port })
    socket.setTimeout(timeoutMs, () => {
      socket.destroy()
      resolve({ problem: 'unreachable', detail: `no answer within ${timeoutMs} ms` })
    })
    socket.once('connect', () => {
      socket.destroy()
      resolve(null)
    })
    socket.once('error', (error) => resolve(classifySocketError(error)))
  })
}

/**
 * TLS handshake with the profile's CA, client certificate and server name. After the handshake we wait a
 * moment: with TLS 1.3 a server that requires a client certificate rejects it only after our side finished.
 */
function probeTls(host: string, port: number, tls: ClusterClientOptions['tls'], timeouts: ConnectionTestTimeouts, verify = true): Promise<ProbeFailure | null> {
  return new Promise((resolve) => {
    let settled = false
    const finish = (failure: ProbeFailure | null) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(failure)
    }
    const options: ConnectionOptions = {
      host,
      port,
      ca: tls?.caCert || undefined,
      cert: tls?.clientCert || undefined,
      key: tls?.clientKey || undefined,
      servername: tls?.serverName || (isIP(host) ? undefined : host),
      ALPNProtocols: ['h2'],
      rejectUnauthorized: verify,
    }
    const socket = tlsConnect(options)
    const timer = setTimeout(() => finish({ problem: 'unreachable', detail: `TLS handshake did not finish within ${timeouts.connectMs} ms` }), timeouts.connectMs)
    let handshaken = false
    socket.once('secureConnect', () => {
      handshaken = true
      clearTimeout(timer)
      setTimeout(() => finish(null), timeouts.tlsSettleMs)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      // A TLS server answers a bad handshake with an alert; a plain server (etcd's cmux, an HTTP/1 server)
      // just drops the connection when it sees a ClientHello.
      if (!handshaken && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) finish({ problem: 'tls_not_enabled', detail: `${error.code}: ${error.message}` })
      else finish(classifySocketError(error))
    })
    socket.on('data', () => undefined)
    socket.once('close', () => {
      if (!handshaken) finish({ problem: 'tls_not_enabled', detail: 'the server closed the connection instead of a TLS handshake' })
      else if (!tls?.clientCert) finish({ problem: 'tls_client_cert_required', detail: 'the server closed the connection right after the TLS handshake' })
      else finish(null)
    })
  })
}

/** One sentence per problem, naming the endpoint and the likely fix. */
export function explainProblem(problem: ConnectionProblem, endpoint: string): string {
  switch (problem) {
    case 'refused':
      return `Nothing is listening at ${endpoint}: the connection was refused. Check the host and port, and that etcd is running.`
    case 'unreachable':
      return `${endpoint} could not be reached in time. Check the host name, the network and any firewall.`
    case 'tls_ca_mismatch':
      return `The server at ${endpoint} presented a certificate that is not signed by the CA in this profile. Use the CA that issued the server certificate.`
    case 'tls_hostname_mismatch':
      return `The certificate of ${endpoint} does not name this host. Connect by a name or IP in its SANs, or set the TLS server name.`
    case 'tls_expired':
      return `The certificate of ${endpoint} has expired or is not valid yet. Renew the server certificate (and check the clocks).`
    case 'tls_client_cert_required':
      return `${endpoint} requires a client certificate that it trusts. Add the client certificate and key issued by the cluster's CA.`
    case 'tls_not_enabled':
      return `${endpoint} does not speak TLS. Use http:// instead of https://.`
    case 'tls_required':
      return `${endpoint} expects TLS. Use https:// and add the cluster's CA.`
    case 'auth_failed':
      return `The cluster at ${endpoint} rejected the user name or password.`
    case 'auth_required':
      return `The cluster at ${endpoint} has authentication enabled. Enter a user name and password.`
    case 'not_etcd':
      return `Something answers at ${endpoint}, but it is not an etcd v3 server (no etcd gRPC API).`
    case 'unknown':
      return `The connection to ${endpoint} failed for an unexpected reason; see the details.`
  }
}

function failure(endpoint: string, probe: ProbeFailure): ConnectionTestReport {
  return { ok: false, endpoint, problem: probe.problem, message: explainProblem(probe.problem, endpoint), detail: probe.detail }
}

/** Ranks failures so the report shows the most useful one when every endpoint fails. */
function usefulness(report: ConnectionTestReport): number {
  if (report.ok) return 3
  return report.problem === 'refused' || report.problem === 'unreachable' ? 0 : report.problem === 'unknown' ? 1 : 2
}

/**
 * Tests the settings on each endpoint in order and returns the first success, or else the most specific
 * failure. Never throws for connection problems; they are the report.
 */
export async function testConnection(
  options: ClusterClientOptions,
  createClient: ClusterClientFactory,
  clock: Clock,
  timeouts: ConnectionTestTimeouts = DEFAULT_TIMEOUTS,
): Promise<ConnectionTestReport> {
  let best: ConnectionTestReport | null = null
  for (const endpoint of options.endpoints) {
    const report = await testEndpoint(endpoint, options, createClient, clock, timeouts)
    if (report.ok) return report
    if (best === null || usefulness(report) > usefulness(best)) best = report
  }
  if (best === null) return failure('', { problem: 'unknown', detail: 'no endpoints' })
  return best
}

async function testEndpoint(
  endpoint: string,
  options: ClusterClientOptions,
  createClient: ClusterClientFactory,
  clock: Clock,
  timeouts: ConnectionTestTimeouts,
): Promise<ConnectionTestReport> {
  const url = new URL(endpoint)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const secure = url.protocol === 'https:'
  const port = Number(url.port || (secure ? 443 : 2379))

  const tcp = await probeTcp(host, port, timeouts.connectMs)
  if (tcp) return failure(endpoint, tcp)
  if (secure) {
    const tls = await probeTls(host, port, options.tls, timeouts)
    if (tls) return failure(endpoint, tls)
  }

  const started = clock.now()
  const client = createClient({ ...options, endpoints: [endpoint], callTimeoutMs: timeouts.callMs })
  try {
    const status = await client.status(endpoint)
    await client.healthCheck().catch((error: unknown) => {
      if (!(error instanceof ClusterCallError && error.code === 'permission_denied')) throw error
    })
    const members = await client.memberList()
    return {
      ok: true,
      endpoint,
      version: status.version,
      clusterId: hexId(status.clusterId),
      memberCount: members.length,
      latencyMs: clock.now() - started,
    }
  } catch (error) {
    if (!(error instanceof ClusterCallError)) throw error
    return failure(endpoint, await classifyCallError(error, host, port, secure, timeouts))
  } finally {
    await client.close()
  }
}

async function classifyCallError(
  error: ClusterCallError,
  host: string,
  port: number,
  secure: boolean,
  timeouts: ConnectionTestTimeouts,
): Promise<ProbeFailure> {
  const detail = `${error.code}: ${error.message}`
  switch (error.code) {
    case 'invalid_auth':
      return { problem: 'auth_failed', detail }
    case 'auth_required':
      return { problem: 'auth_required', detail }
    case 'unimplemented':
    case 'protocol':
    case 'deadline':
      return { problem: 'not_etcd', detail }
    case 'unavailable': {
      // TCP (and TLS) worked, yet gRPC did not: either the server wants TLS, or it is not a gRPC server.
      // A finished handshake, or a TLS alert (e.g. "certificate required"), both prove the port speaks TLS.
      const speaksTls = secure ? false : await probeTls(host, port, undefined, timeouts, false)
      if (speaksTls !== false && (speaksTls === null || speaksTls.problem.startsWith('tls_') && speaksTls.problem !== 'tls_not_enabled')) {
        return { problem: 'tls_required', detail }
      }
      return { problem: 'not_etcd', detail }
    }
    case 'permission_denied':
    case 'other':
      return { problem: 'unknown', detail }
  }
}
