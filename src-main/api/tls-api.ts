// TLS wizard (issue 13): converts a local plaintext cluster to client and peer TLS with client-certificate
// auth. DTOs follow admin-api.ts's rules; re-exported by admin-api.ts.

import type { LocalClusterInfo, Result, Unsubscribe } from './admin-api'

/** The steps of a conversion, in order; `rollback` only runs after a failure. */
export const TLS_CONVERSION_STEPS = ['check', 'certificates', 'snapshot', 'stop', 'restore', 'start', 'profile', 'verify', 'rollback'] as const

/** One step of a conversion. */
export type TlsConversionStep = (typeof TLS_CONVERSION_STEPS)[number]

/** What the TLS wizard asks for. */
export interface TlsConversionRequest {
  /** Name of a local cluster (a-z, 0-9, -) running without TLS. */
  cluster: string
  /** Chosen by the renderer; progress events carry it. */
  operationId: string
}

/** Pushed when a step starts, ends or fails. */
export interface TlsProgressEvent {
  operationId: string
  step: TlsConversionStep
  state: 'running' | 'done' | 'failed'
  /** Plain words: what happened (e.g. "snapshot at revision 42, 31 keys"). */
  detail: string
}

/** A certificate the conversion generated, as the wizard shows it. Dates are ISO-8601 UTC strings. */
export interface TlsCertificateSummary {
  /** File name inside the cluster's certs directory, e.g. `server-member1.crt`. */
  file: string
  subject: string
  subjectAltNames: string[]
  notAfter: string
  isCa: boolean
}

/** The outcome of a conversion that succeeded. */
export interface TlsConversionReport {
  cluster: LocalClusterInfo
  /** Cluster ids (hex) before and after: a restore always creates a new cluster id. */
  oldClusterId: string
  newClusterId: string
  /** Revision of the snapshot the members were restored from; kept by the new cluster. */
  revision: number
  /** Live keys before the conversion, all found again (same values and revisions) afterwards. */
  keys: number
  /** The new https client URLs. */
  endpoints: string[]
  /** Absolute paths of the CA and the root client certificate and key (for etcdctl --cacert --cert --key). */
  caFile: string
  clientCertFile: string
  clientKeyFile: string
  certificates: TlsCertificateSummary[]
  elapsedMs: number
}

/** The TLS wizard; implemented by src-main/services/tls-setup.ts. */
export interface TlsApi {
  /**
   * Converts a running local plaintext cluster to TLS by snapshot and restore (same member names and ports,
   * https URLs, new cluster id, all keys and revisions kept) and points its connection profile at it. Any
   * failure rolls back to the old cluster, running as before; the message says at which step it failed.
   */
  convertLocalClusterToTls(request: TlsConversionRequest): Promise<Result<TlsConversionReport>>
  onTlsProgress(listener: (event: TlsProgressEvent) => void): Unsubscribe
}

/** Request methods of TlsApi, spread into the contract's method list. */
export const TLS_METHOD_FLAGS = { convertLocalClusterToTls: true } as const satisfies Record<Exclude<keyof TlsApi, 'onTlsProgress'>, true>

/** Events of TlsApi, spread into the contract's event list. */
export const TLS_EVENT_FLAGS = { onTlsProgress: true } as const
