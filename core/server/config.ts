import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { DurationParseError, parseGoDuration } from '../util/duration'
import { NODE_FLAGS, envName, type FlagSpec } from './flags'
import { computeClusterId, computeMemberId } from './ids'

/** A configuration problem found before the member starts. The message follows etcd's wording. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  override name = 'ConfigError'
}

/** TLS settings of one listener family (client or peer), as etcd's `*-transport-security` sections. */
export interface TlsSettings {
  certFile: string
  keyFile: string
  trustedCaFile: string
  clientCertAuth: boolean
  autoTls: boolean
  /** Peer only: required CN of connecting peers (`--peer-cert-allowed-cn`). */
  allowedCn: string
  /** Peer only: required hostname (SAN) of connecting peers (`--peer-cert-allowed-hostname`). */
  allowedHostname: string
}

/** A fully validated member configuration. Durations in ms; IDs as bigint. */
export interface MemberConfig {
  name: string
  dataDir: string
  snapshotCount: number
  /** Log entries kept behind a snapshot for slow followers (--experimental-snapshot-catchup-entries). */
  snapshotCatchUpEntries: number
  heartbeatMs: number
  electionMs: number
  listenPeerUrls: URL[]
  listenClientUrls: URL[]
  listenMetricsUrls: URL[]
  initialAdvertisePeerUrls: URL[]
  advertiseClientUrls: URL[]
  /** Member name -> its peer URLs, from `--initial-cluster`, in flag order. */
  initialCluster: Map<string, string[]>
  initialClusterState: 'new' | 'existing'
  initialClusterToken: string
  /** This member's ID, derived from its advertised peer URLs and the token (etcd's rule). */
  memberId: bigint
  /** The cluster ID of a new cluster bootstrapped from `initialCluster` (etcd's rule). */
  clusterId: bigint
  quotaBackendBytes: number
  maxTxnOps: number
  maxRequestBytes: number
  grpcKeepaliveMinTimeMs: number
  grpcKeepaliveIntervalMs: number
  grpcKeepaliveTimeoutMs: number
  strictReconfigCheck: boolean
  preVote: boolean
  autoCompactionMode: 'periodic' | 'revision'
  /** Periodic mode: retention in ms; revision mode: number of revisions to keep. 0 disables. */
  autoCompactionRetention: number
  clientTls: TlsSettings
  peerTls: TlsSettings
  cipherSuites: string[]
  tlsMinVersion: 'TLSv1.2' | 'TLSv1.3'
  authToken: string
  bcryptCost: number
  authTokenTtlSeconds: number
  metrics: 'basic' | 'extensive'
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal'
  logOutputs: string[]
  corruptCheckIntervalMs: number
  /** --experimental-initial-corrupt-check: compare HashKV with the peers before serving (core/server/corruption.ts). */
  initialCorruptCheck: boolean
  leaseCheckpoint: boolean
  watchProgressNotifyIntervalMs: number
}

/** Raw flag values by etcd flag name (text, as typed on the command line or found in env / config file). */
export type RawFlags = Map<string, string>

/** Etcd's default backend quota when --quota-backend-bytes is 0 (2 GiB). */
export const DEFAULT_QUOTA_BACKEND_BYTES = 2 * 1024 * 1024 * 1024
/** Etcd's upper bound for --quota-backend-bytes (8 GiB); above it etcd only warns, so do we. */
export const MAX_QUOTA_BACKEND_BYTES = 8 * 1024 * 1024 * 1024

/**
 * Reads raw values from the environment (ETCD_*) for flags not given on the command line, as etcd does.
 * `given` holds the command-line values; the result merges both (command line wins).
 */
export function mergeEnv(given: RawFlags, env: NodeJS.ProcessEnv): RawFlags {
  const merged = new Map(given)
  for (const spec of NODE_FLAGS) {
    const value = env[envName(spec.name)]
    if (!merged.has(spec.name) && value !== undefined) merged.set(spec.name, value)
  }
  return merged
}

/**
 * Reads etcd's YAML configuration file format (the same keys as the flags, TLS settings nested under
 * `client-transport-security` / `peer-transport-security`). etcd compat: when a config file is given,
 * command-line flags and environment variables are ignored. Unknown keys are rejected so typos are caught.
 */
export function readConfigFile(path: string): RawFlags {
  let document: unknown
  try {
    document = parseYaml(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new ConfigError(`error loading config file "${path}": ${(error as Error).message}`)
  }
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(`error loading config file "${path}": not a YAML mapping`)
  }
  const raw: RawFlags = new Map()
  const byName = new Map(NODE_FLAGS.filter((spec) => !spec.section).map((spec) => [spec.name, spec]))
  const bySection = new Map<string, Map<string, FlagSpec>>()
  for (const spec of NODE_FLAGS) {
    if (!spec.section) continue
    const section = bySection.get(spec.section) ?? new Map<string, FlagSpec>()
    section.set(spec.sectionKey ?? spec.name, spec)
    bySection.set(spec.section, section)
  }
  const text = (value: unknown): string => (Array.isArray(value) ? value.join(',') : String(value))
  for (const [key, value] of Object.entries(document)) {
    const section = bySection.get(key)
    if (section) {
      if (value === null || typeof value !== 'object') throw new ConfigError(`config file "${path}": ${key} must be a mapping`)
      for (const [innerKey, innerValue] of Object.entries(value as Record<string, unknown>)) {
        const spec = section.get(innerKey)
        if (!spec) throw new ConfigError(`config file "${path}": unknown key "${key}.${innerKey}"`)
        raw.set(spec.name, text(innerValue))
      }
      continue
    }
    if (!byName.has(key)) throw new ConfigError(`config file "${path}": unknown key "${key}"`)
    if (value !== null && value !== undefined) raw.set(key, text(value))
  }
  return raw
}

function parseUrls(flag: string, text: string): URL[] {
  if (text.trim() === '') return []
  return text.split(',').map((item) => {
    const trimmed = item.trim()
    let url: URL
    try {
      url = new URL(trimmed)
    } catch {
      throw new ConfigError(`error verifying flags, --${flag} has an invalid URL "${trimmed}". See 'quorum node --help'.`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError(`URL scheme must be http or https: ${trimmed}`)
    }
    if (url.port === '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
      throw new ConfigError(`error verifying flags, --${flag} URL "${trimmed}" must be scheme://host:port without a path. See 'quorum node --help'.`)
    }
    return url
  })
}

/** The canonical text of a URL as etcd compares them (`http://127.0.0.1:2380`, no trailing slash). */
export function urlText(url: URL): string {
  return `${url.protocol}//${url.host}`
}

/** Parses etcd's `--initial-cluster` (`a=http://h:1,a=http://h:2,b=http://h:3`). */
export function parseInitialCluster(text: string): Map<string, string[]> {
  const cluster = new Map<string, string[]>()
  for (const item of text.split(',')) {
    const trimmed = item.trim()
    if (trimmed === '') continue
    const eq = trimmed.indexOf('=')
    if (eq <= 0) throw new ConfigError(`error setting up initial cluster: ${trimmed} is not a valid name=URL pair`)
    const name = trimmed.slice(0, eq)
    const [url] = parseUrls('initial-cluster', trimmed.slice(eq + 1))
    cluster.set(name, [...(cluster.get(name) ?? []), urlText(url)])
  }
  return cluster
}

/**
 * Turns raw flag values into a validated MemberConfig, or throws ConfigError with etcd's wording.
 * Values missing from `raw` take etcd's defaults.
 */
export function buildMemberConfig(raw: RawFlags): MemberConfig {
  const value = (name: string): string => {
    const spec = NODE_FLAGS.find((flag) => flag.name === name)
    if (!spec) throw new Error(`unknown flag ${name}`)
    return raw.get(name) ?? spec.defaultValue
  }
  const int = (name: string, min = 0): number => {
    const text = value(name).trim()
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
      throw new ConfigError(`invalid value "${text}" for flag -${name}: parse error`)
    }
    const parsed = Number(text)
    if (parsed < min) throw new ConfigError(`invalid value "${text}" for flag -${name}: must be >= ${min}`)
    return parsed
  }
  const bool = (name: string): boolean => {
    const text = value(name).trim().toLowerCase()
    if (['true', '1', 't', ''].includes(text)) return true
    if (['false', '0', 'f'].includes(text)) return false
    throw new ConfigError(`invalid boolean value "${value(name)}" for -${name}: parse error`)
  }
  const duration = (name: string): number => {
    try {
      return parseGoDuration(value(name))
    } catch (error) {
      if (error instanceof DurationParseError) throw new ConfigError(`invalid value "${value(name)}" for flag -${name}: parse error`)
      throw error
    }
  }
  const choice = <T extends string>(name: string): T => {
    const spec = NODE_FLAGS.find((flag) => flag.name === name)
    const text = value(name)
    if (spec?.choices && !spec.choices.includes(text)) throw new ConfigError(`invalid value "${text}" for flag -${name}: invalid value`)
    return text as T
  }
  const tls = (prefix: '' | 'peer-'): TlsSettings => ({
    certFile: value(`${prefix}cert-file`),
    keyFile: value(`${prefix}key-file`),
    trustedCaFile: value(`${prefix}trusted-ca-file`),
    clientCertAuth: bool(`${prefix}client-cert-auth`),
    autoTls: bool(`${prefix}auto-tls`),
    allowedCn: prefix ? value('peer-cert-allowed-cn') : '',
    allowedHostname: prefix ? value('peer-cert-allowed-hostname') : '',
  })

  const name = value('name')
  const heartbeatMs = int('heartbeat-interval')
  const electionMs = int('election-timeout')
  // etcd compat: embed/config.go Validate.
  if (heartbeatMs <= 0) throw new ConfigError(`error verifying flags, --heartbeat-interval must be >0 (set to ${heartbeatMs}ms). See 'quorum node --help'.`)
  if (electionMs <= 0) throw new ConfigError(`error verifying flags, --election-timeout must be >0 (set to ${electionMs}ms). See 'quorum node --help'.`)
  if (5 * heartbeatMs > electionMs) {
    throw new ConfigError(
      `error verifying flags, --election-timeout[${electionMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatMs}ms]. See 'quorum node --help'.`,
    )
  }
  if (electionMs > 50_000) throw new ConfigError(`error verifying flags, --election-timeout[${electionMs}ms] is too long, and should be set less than 50000ms. See 'quorum node --help'.`)

  const listenClientUrls = parseUrls('listen-client-urls', value('listen-client-urls'))
  const advertiseClientUrls = parseUrls('advertise-client-urls', value('advertise-client-urls'))
  if (raw.has('listen-client-urls') && !raw.has('advertise-client-urls')) {
    throw new ConfigError(
      "error verifying flags, --advertise-client-urls is required when --listen-client-urls is set explicitly. See 'quorum node --help'.",
    )
  }
  const initialAdvertisePeerUrls = parseUrls('initial-advertise-peer-urls', value('initial-advertise-peer-urls'))
  const initialClusterText = raw.has('initial-cluster') ? value('initial-cluster') : `${name}=${initialAdvertisePeerUrls.map(urlText).join(`,${name}=`)}`
  const initialCluster = parseInitialCluster(initialClusterText)
  const initialClusterState = choice<'new' | 'existing'>('initial-cluster-state')
  const ownPeerUrls = initialCluster.get(name)
  if (!ownPeerUrls) throw new ConfigError(`couldn't find local name "${name}" in the initial cluster configuration`)
  const advertised = initialAdvertisePeerUrls.map(urlText).sort()
  if (advertised.join(',') !== [...ownPeerUrls].sort().join(',')) {
    const detail =
      advertised.length !== ownPeerUrls.length
        ? `(len(${JSON.stringify(advertised)}) != len(${JSON.stringify(ownPeerUrls)}))`
        : `(resolved urls: ${JSON.stringify(advertised.join(','))} != ${JSON.stringify([...ownPeerUrls].sort().join(','))})`
    throw new ConfigError(
      `--initial-cluster has ${name}=${ownPeerUrls.join(',')} but missing from --initial-advertise-peer-urls=${advertised.join(',')} ${detail}`,
    )
  }
  const allPeerUrls = [...initialCluster.values()].flat()
  const duplicate = allPeerUrls.find((url, i) => allPeerUrls.indexOf(url) !== i)
  if (duplicate) throw new ConfigError(`error setting up initial cluster: duplicate peer URL ${duplicate} in --initial-cluster`)

  const token = value('initial-cluster-token')
  const memberIds = [...initialCluster.values()].map((urls) => computeMemberId(urls, token))
  const autoCompactionMode = value('auto-compaction-mode')
  if (autoCompactionMode !== 'periodic' && autoCompactionMode !== 'revision') {
    throw new ConfigError(`error verifying flags, unknown auto-compaction-mode "${autoCompactionMode}". See 'quorum node --help'.`)
  }
  const retentionText = value('auto-compaction-retention').trim()
  let autoCompactionRetention: number
  if (autoCompactionMode === 'revision') {
    if (!/^\d+$/.test(retentionText)) throw new ConfigError(`error verifying flags, invalid auto-compaction-retention "${retentionText}" for revision mode. See 'quorum node --help'.`)
    autoCompactionRetention = Number(retentionText)
  } else if (/^\d+$/.test(retentionText)) {
    // etcd compat: a bare number in periodic mode means hours.
    autoCompactionRetention = Number(retentionText) * 3_600_000
  } else {
    try {
      autoCompactionRetention = parseGoDuration(retentionText)
    } catch {
      throw new ConfigError(`error verifying flags, invalid auto-compaction-retention "${retentionText}". See 'quorum node --help'.`)
    }
  }
  const bcryptCost = int('bcrypt-cost')
  if (bcryptCost < 4 || bcryptCost > 31) throw new ConfigError(`error verifying flags, invalid bcrypt-cost ${bcryptCost}: valid values are between 4 and 31. See 'quorum node --help'.`)
  const authToken = value('auth-token')
  if (!/^(simple|jwt)(,.*)?$/.test(authToken)) throw new ConfigError(`error verifying flags, unknown token type "${authToken.split(',')[0]}" for --auth-token. See 'quorum node --help'.`)

  const dataDirRaw = value('data-dir')
  const config: MemberConfig = {
    name,
    dataDir: dataDirRaw === '${name}.etcd' || dataDirRaw === '' ? `${name}.etcd` : dataDirRaw,
    snapshotCount: int('snapshot-count', 1),
    snapshotCatchUpEntries: int('experimental-snapshot-catchup-entries', 1),
    heartbeatMs,
    electionMs,
    listenPeerUrls: parseUrls('listen-peer-urls', value('listen-peer-urls')),
    listenClientUrls,
    listenMetricsUrls: parseUrls('listen-metrics-urls', value('listen-metrics-urls')),
    initialAdvertisePeerUrls,
    advertiseClientUrls,
    initialCluster,
    initialClusterState,
    initialClusterToken: token,
    memberId: computeMemberId(ownPeerUrls, token),
    clusterId: computeClusterId(memberIds),
    quotaBackendBytes: int('quota-backend-bytes') || DEFAULT_QUOTA_BACKEND_BYTES,
    maxTxnOps: int('max-txn-ops', 1),
    maxRequestBytes: int('max-request-bytes', 1),
    grpcKeepaliveMinTimeMs: duration('grpc-keepalive-min-time'),
    grpcKeepaliveIntervalMs: duration('grpc-keepalive-interval'),
    grpcKeepaliveTimeoutMs: duration('grpc-keepalive-timeout'),
    strictReconfigCheck: bool('strict-reconfig-check'),
    preVote: bool('pre-vote'),
    autoCompactionMode,
    autoCompactionRetention,
    clientTls: tls(''),
    peerTls: tls('peer-'),
    cipherSuites: value('cipher-suites').split(',').map((s) => s.trim()).filter(Boolean),
    tlsMinVersion: choice<'TLS1.2' | 'TLS1.3'>('tls-min-version') === 'TLS1.3' ? 'TLSv1.3' : 'TLSv1.2',
    authToken,
    bcryptCost,
    authTokenTtlSeconds: int('auth-token-ttl', 1),
    metrics: choice<'basic' | 'extensive'>('metrics'),
    logLevel: choice('log-level'),
    logOutputs: value('log-outputs').split(',').map((s) => s.trim()).filter(Boolean),
    corruptCheckIntervalMs: duration('experimental-corrupt-check-time'),
    initialCorruptCheck: bool('experimental-initial-corrupt-check'),
    leaseCheckpoint: bool('experimental-enable-lease-checkpoint'),
    watchProgressNotifyIntervalMs: duration('experimental-watch-progress-notify-interval'),
  }
  for (const url of [...config.listenClientUrls, ...config.listenMetricsUrls]) {
    if (url.protocol === 'https:' && !config.clientTls.autoTls && (config.clientTls.certFile === '' || config.clientTls.keyFile === '')) {
      throw new ConfigError(`TLS key/cert (--cert-file, --key-file) must be provided for client url ${urlText(url)} with HTTPS scheme`)
    }
  }
  for (const url of config.listenPeerUrls) {
    if (url.protocol === 'https:' && !config.peerTls.autoTls && (config.peerTls.certFile === '' || config.peerTls.keyFile === '')) {
      throw new ConfigError(`TLS key/cert (--peer-cert-file, --peer-key-file) must be provided for peer url ${urlText(url)} with HTTPS scheme`)
    }
  }
  return config
}
