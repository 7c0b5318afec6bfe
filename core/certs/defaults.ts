// Constants of core/certs that the CLI needs to build its flags, kept free of @peculiar/x509 so that loading the
// `quorum` program (every member process runs it) does not load the X.509 stack until a certs action runs.

/** Key types `quorum certs` can generate. ECDSA P-256 is the default: small, fast, and accepted by etcd and Go. */
export const KEY_TYPES = ['ecdsa', 'rsa2048', 'rsa4096'] as const
/** One of `KEY_TYPES`: `ecdsa` (P-256), `rsa2048`, `rsa4096`. */
export type KeyType = (typeof KEY_TYPES)[number]

/** Default lifetime of server, peer and client certificates, in days. */
export const DEFAULT_LEAF_DAYS = 365
/** Default lifetime of the CA certificate, in days. */
export const DEFAULT_CA_DAYS = 3650
