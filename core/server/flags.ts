// The `quorum node` flags: etcd's names, meanings, defaults and ETCD_* environment variables, declared once.
// The CLI registers commander options from this table, `--config-file` reads the same keys from etcd's YAML
// format, and core/server/config.ts turns the merged values into a validated MemberConfig.

/** How a flag's text value is interpreted. */
export type FlagKind = 'string' | 'int' | 'bool' | 'duration' | 'urls' | 'list'

/** One etcd flag. */
export interface FlagSpec {
  /** etcd's flag name without dashes, e.g. `initial-cluster`; also the config-file key. */
  name: string
  kind: FlagKind
  /** Default as etcd prints it in `etcd --help` (text, parsed like a command-line value). */
  defaultValue: string
  help: string
  /** Allowed values, for enumerations. */
  choices?: readonly string[]
  /** Key of the nested config-file section (`client-transport-security` / `peer-transport-security`), if any. */
  section?: 'client-transport-security' | 'peer-transport-security'
  /** Key inside that section, when it differs from the flag name (e.g. `peer-cert-file` -> `cert-file`). */
  sectionKey?: string
}

const peer = (name: string, kind: FlagKind, defaultValue: string, help: string): FlagSpec => ({
  name: `peer-${name}`,
  kind,
  defaultValue,
  help,
  section: 'peer-transport-security',
  sectionKey: name,
})
const client = (name: string, kind: FlagKind, defaultValue: string, help: string): FlagSpec => ({
  name,
  kind,
  defaultValue,
  help,
  section: 'client-transport-security',
})

/** Every flag `quorum node` accepts, in `etcd --help` order. */
export const NODE_FLAGS: readonly FlagSpec[] = [
  // Member
  { name: 'name', kind: 'string', defaultValue: 'default', help: 'Human-readable name for this member.' },
  { name: 'data-dir', kind: 'string', defaultValue: '${name}.etcd', help: 'Path to the data directory.' },
  { name: 'snapshot-count', kind: 'int', defaultValue: '100000', help: 'Number of committed transactions to trigger a snapshot to disk.' },
  { name: 'heartbeat-interval', kind: 'int', defaultValue: '100', help: 'Time (in milliseconds) of a heartbeat interval.' },
  { name: 'election-timeout', kind: 'int', defaultValue: '1000', help: 'Time (in milliseconds) for an election to timeout.' },
  { name: 'listen-peer-urls', kind: 'urls', defaultValue: 'http://localhost:2380', help: 'List of URLs to listen on for peer traffic.' },
  { name: 'listen-client-urls', kind: 'urls', defaultValue: 'http://localhost:2379', help: 'List of URLs to listen on for client traffic.' },
  { name: 'quota-backend-bytes', kind: 'int', defaultValue: '0', help: 'Raise alarms when backend size exceeds the given quota (0 defaults to low space quota).' },
  { name: 'max-txn-ops', kind: 'int', defaultValue: '128', help: 'Maximum number of operations permitted in a transaction.' },
  { name: 'max-request-bytes', kind: 'int', defaultValue: '1572864', help: 'Maximum client request size in bytes the server will accept.' },
  { name: 'grpc-keepalive-min-time', kind: 'duration', defaultValue: '5s', help: 'Minimum duration interval that a client should wait before pinging server.' },
  { name: 'grpc-keepalive-interval', kind: 'duration', defaultValue: '2h', help: 'Frequency duration of server-to-client ping to check if a connection is alive (0 to disable).' },
  { name: 'grpc-keepalive-timeout', kind: 'duration', defaultValue: '20s', help: 'Additional duration of wait before closing a non-responsive connection (0 to disable).' },
  // Clustering
  { name: 'initial-advertise-peer-urls', kind: 'urls', defaultValue: 'http://localhost:2380', help: "List of this member's peer URLs to advertise to the rest of the cluster." },
  { name: 'initial-cluster', kind: 'string', defaultValue: 'default=http://localhost:2380', help: 'Initial cluster configuration for bootstrapping.' },
  { name: 'initial-cluster-state', kind: 'string', defaultValue: 'new', choices: ['new', 'existing'], help: "Initial cluster state ('new' or 'existing')." },
  { name: 'initial-cluster-token', kind: 'string', defaultValue: 'etcd-cluster', help: 'Initial cluster token for the etcd cluster during bootstrap.' },
  { name: 'advertise-client-urls', kind: 'urls', defaultValue: 'http://localhost:2379', help: "List of this member's client URLs to advertise to the public." },
  { name: 'strict-reconfig-check', kind: 'bool', defaultValue: 'true', help: 'Reject reconfiguration requests that would cause quorum loss.' },
  { name: 'pre-vote', kind: 'bool', defaultValue: 'true', help: 'Enable to run an additional Raft election phase (Quorum defaults to true, as etcd 3.5+).' },
  { name: 'auto-compaction-retention', kind: 'string', defaultValue: '0', help: 'Auto compaction retention length. 0 means disable auto compaction.' },
  { name: 'auto-compaction-mode', kind: 'string', defaultValue: 'periodic', choices: ['periodic', 'revision'], help: "Interpret 'auto-compaction-retention' one of: periodic|revision." },
  // Security
  client('cert-file', 'string', '', 'Path to the client server TLS cert file.'),
  client('key-file', 'string', '', 'Path to the client server TLS key file.'),
  client('client-cert-auth', 'bool', 'false', 'Enable client cert authentication.'),
  client('trusted-ca-file', 'string', '', 'Path to the client server TLS trusted CA cert file.'),
  client('auto-tls', 'bool', 'false', 'Client TLS using generated certificates.'),
  peer('cert-file', 'string', '', 'Path to the peer server TLS cert file.'),
  peer('key-file', 'string', '', 'Path to the peer server TLS key file.'),
  peer('client-cert-auth', 'bool', 'false', 'Enable peer client cert authentication.'),
  peer('trusted-ca-file', 'string', '', 'Path to the peer server TLS trusted CA file.'),
  peer('cert-allowed-cn', 'string', '', 'Required CN for client certs connecting to the peer endpoint.'),
  peer('cert-allowed-hostname', 'string', '', 'Allowed TLS hostname for inter peer authentication.'),
  peer('auto-tls', 'bool', 'false', 'Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided.'),
  { name: 'cipher-suites', kind: 'list', defaultValue: '', help: 'Comma-separated list of supported TLS cipher suites between client/server and peers (empty: Node defaults).' },
  { name: 'tls-min-version', kind: 'string', defaultValue: 'TLS1.2', choices: ['TLS1.2', 'TLS1.3'], help: 'Minimum TLS version supported by the server.' },
  // Auth
  { name: 'auth-token', kind: 'string', defaultValue: 'simple', help: "Specify a v3 authentication token type and its options ('simple' or 'jwt')." },
  { name: 'bcrypt-cost', kind: 'int', defaultValue: '10', help: 'Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31.' },
  { name: 'auth-token-ttl', kind: 'int', defaultValue: '300', help: 'Time (in seconds) of the auth-token-ttl.' },
  // Profiling and monitoring
  { name: 'metrics', kind: 'string', defaultValue: 'basic', choices: ['basic', 'extensive'], help: "Set level of detail for exported metrics, specify 'extensive' to include histogram metrics." },
  { name: 'listen-metrics-urls', kind: 'urls', defaultValue: '', help: 'List of URLs to listen on for the metrics and health endpoints.' },
  // Logging
  { name: 'logger', kind: 'string', defaultValue: 'zap', choices: ['zap', 'capnslog'], help: "Structured JSON logging ('zap'); 'capnslog' is accepted for compatibility and also logs JSON." },
  { name: 'log-outputs', kind: 'list', defaultValue: 'stderr', help: "Specify 'stdout' or 'stderr', or a comma-separated list of file paths." },
  { name: 'log-level', kind: 'string', defaultValue: 'info', choices: ['debug', 'info', 'warn', 'error', 'panic', 'fatal'], help: 'Configures log level. Only supports debug, info, warn, error, panic, or fatal.' },
  // Experimental
  { name: 'experimental-initial-corrupt-check', kind: 'bool', defaultValue: 'false', help: 'Enable to check data corruption before serving any client/peer traffic.' },
  { name: 'experimental-corrupt-check-time', kind: 'duration', defaultValue: '0s', help: 'Duration of time between cluster corruption check passes.' },
  { name: 'experimental-enable-lease-checkpoint', kind: 'bool', defaultValue: 'true', help: 'Persist lease remaining TTL so long-lived leases do not renew forever across leader changes.' },
  // etcd compat: etcd 3.5.13+/3.6 flag; lets tests reach snapshot catch-up without writing 5,000 entries.
  { name: 'experimental-snapshot-catchup-entries', kind: 'int', defaultValue: '5000', help: 'Number of entries for a slow follower to catch up after compacting the raft storage entries.' },
  { name: 'experimental-watch-progress-notify-interval', kind: 'duration', defaultValue: '10m', help: 'Duration of periodical watch progress notification.' },
]

/** The ETCD_* environment variable for a flag, as etcd reads it (`initial-cluster` -> `ETCD_INITIAL_CLUSTER`). */
export function envName(flag: string): string {
  return `ETCD_${flag.toUpperCase().replace(/-/g, '_')}`
}
