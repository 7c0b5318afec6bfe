// Decoders for the records etcd keeps in its bbolt buckets (etcd 3.4/3.5, Apache-2.0):
//   key       revision bytes -> mvccpb.KeyValue          (mvcc/kvstore_txn.go, mvcc/revision.go)
//   lease     8-byte big-endian id -> leasepb.Lease       (lease/lessor.go)
//   meta      consistent_index, scheduledCompactRev, finishedCompactRev, term (3.5), confState (3.5)
//   members   hex id -> membership.Member JSON; members_removed: hex id -> "removed" (membership/store.go)
//   auth      authEnabled (1 byte), authRevision (8 bytes); authUsers -> authpb.User; authRoles -> authpb.Role
// The protobuf messages are tiny, so they are read field by field with protobufjs's Reader rather than a
// generated or loaded descriptor.

import protobuf from 'protobufjs/minimal.js'
import type Long from 'long'
import type { KeyValue } from '../mvcc/types'
import { SnapshotError } from './errors'

/** An MVCC revision: `main` counts write transactions, `sub` the changes inside one (etcd mvcc/revision.go). */
export interface Revision {
  main: number
  sub: number
}

/** A `key` bucket key: the revision, and whether it marks a deletion (tombstone). */
export interface RevisionKey extends Revision {
  tombstone: boolean
}

/**
 * mvccpb.KeyValue as stored in the `key` bucket: the same shape core/mvcc uses, so a restore hands records
 * straight to the store. Buffers from the decoders are views into page memory; copy what you keep.
 */
export type MvccKeyValue = KeyValue

/** leasepb.Lease from the `lease` bucket. `ttl` is the granted TTL in seconds. */
export interface LeaseRecord {
  id: bigint
  ttlSeconds: number
  remainingTtlSeconds: number
}

/** A member from the `members` bucket (etcd membership.Member), id taken from the bucket key. */
export interface MemberRecord {
  id: bigint
  name: string
  peerURLs: string[]
  clientURLs: string[]
  isLearner: boolean
}

/** authpb.Permission type names, as etcdctl prints them. */
export type PermissionType = 'READ' | 'WRITE' | 'READWRITE'

/** authpb.User. `password` is the bcrypt hash etcd stored (empty with noPassword). */
export interface AuthUserRecord {
  name: string
  password: string
  roles: string[]
  noPassword: boolean
}

/** authpb.Role with its key permissions; an empty rangeEnd means the single key. */
export interface AuthRoleRecord {
  name: string
  keyPermissions: { permType: PermissionType; key: Buffer; rangeEnd: Buffer }[]
}

const REVISION_BYTES = 17
const TOMBSTONE_MARK = 0x74 // 't', mvcc/kvstore.go markTombstone
const REVISION_SEPARATOR = 0x5f // '_'

/** Decodes a `key` bucket key: 8-byte big-endian main, '_', 8-byte big-endian sub, optional 't'. */
export function decodeRevisionKey(bytes: Buffer): RevisionKey {
  const tombstone = bytes.length === REVISION_BYTES + 1 && bytes[REVISION_BYTES] === TOMBSTONE_MARK
  if ((bytes.length !== REVISION_BYTES && !tombstone) || bytes[8] !== REVISION_SEPARATOR) {
    throw new SnapshotError('SNAPSHOT_CORRUPT', `bad revision key ${bytes.toString('hex')} in the key bucket`)
  }
  return {
    main: safeNumber(bytes.readBigInt64BE(0), 'revision main'),
    sub: safeNumber(bytes.readBigInt64BE(9), 'revision sub'),
    tombstone,
  }
}

/** Encodes a revision as a `key` bucket key (17 bytes; 18 with the tombstone mark). */
export function encodeRevisionKey(revision: Revision, tombstone = false): Buffer {
  const bytes = Buffer.alloc(REVISION_BYTES + (tombstone ? 1 : 0))
  bytes.writeBigInt64BE(BigInt(revision.main), 0)
  bytes[8] = REVISION_SEPARATOR
  bytes.writeBigInt64BE(BigInt(revision.sub), 9)
  if (tombstone) bytes[REVISION_BYTES] = TOMBSTONE_MARK
  return bytes
}

/** Decodes an mvccpb.KeyValue (key=1, create_revision=2, mod_revision=3, version=4, value=5, lease=6). */
export function decodeKeyValue(bytes: Buffer): MvccKeyValue {
  const kv: MvccKeyValue = {
    key: EMPTY,
    createRevision: 0,
    modRevision: 0,
    version: 0,
    value: EMPTY,
    lease: 0n,
  }
  decodeFields(bytes, 'mvccpb.KeyValue', (field, reader, wireType) => {
    switch (field) {
      case 1: kv.key = bytesField(reader); return
      case 2: kv.createRevision = safeNumber(int64(reader), 'create_revision'); return
      case 3: kv.modRevision = safeNumber(int64(reader), 'mod_revision'); return
      case 4: kv.version = safeNumber(int64(reader), 'version'); return
      case 5: kv.value = bytesField(reader); return
      case 6: kv.lease = int64(reader); return
      default: return skip(reader, wireType)
    }
  })
  return kv
}

/** Only the key of an mvccpb.KeyValue (field 1, which etcd writes first), without decoding the rest. */
export function decodeKeyValueKey(bytes: Buffer): Buffer {
  let key: Buffer = EMPTY
  decodeFields(bytes, 'mvccpb.KeyValue', (field, reader, wireType) => {
    if (field !== 1) return skip(reader, wireType)
    key = bytesField(reader)
    reader.pos = reader.len // the rest is not needed
  })
  return key
}

/** Decodes a leasepb.Lease (ID=1, TTL=2, RemainingTTL=3). */
export function decodeLease(bytes: Buffer): LeaseRecord {
  const lease: LeaseRecord = { id: 0n, ttlSeconds: 0, remainingTtlSeconds: 0 }
  decodeFields(bytes, 'leasepb.Lease', (field, reader, wireType) => {
    switch (field) {
      case 1: lease.id = int64(reader); return
      case 2: lease.ttlSeconds = safeNumber(int64(reader), 'TTL'); return
      case 3: lease.remainingTtlSeconds = safeNumber(int64(reader), 'RemainingTTL'); return
      default: return skip(reader, wireType)
    }
  })
  return lease
}

/** Decodes a `members` entry: key = member id in hex, value = membership.Member JSON. */
export function decodeMember(key: Buffer, value: Buffer): MemberRecord {
  const id = parseHexId(key, 'member')
  let json: { name?: unknown; peerURLs?: unknown; clientURLs?: unknown; isLearner?: unknown }
  try {
    json = JSON.parse(value.toString('utf8')) as typeof json
  } catch (error) {
    throw new SnapshotError('SNAPSHOT_CORRUPT', `member ${key.toString('latin1')}: bad JSON (${String(error)})`)
  }
  return {
    id,
    name: typeof json.name === 'string' ? json.name : '',
    peerURLs: stringArray(json.peerURLs),
    clientURLs: stringArray(json.clientURLs),
    isLearner: json.isLearner === true,
  }
}

/** Parses a bucket key holding a member id in lowercase hex (types.ID.String()). */
export function parseHexId(key: Buffer, what: string): bigint {
  const text = key.toString('latin1')
  if (!/^[0-9a-f]{1,16}$/.test(text)) throw new SnapshotError('SNAPSHOT_CORRUPT', `bad ${what} id ${JSON.stringify(text)}`)
  return BigInt(`0x${text}`)
}

/** Decodes authpb.User (name=1, password=2, roles=3, options=4 {no_password=1}). */
export function decodeAuthUser(bytes: Buffer): AuthUserRecord {
  const user: AuthUserRecord = { name: '', password: '', roles: [], noPassword: false }
  decodeFields(bytes, 'authpb.User', (field, reader, wireType) => {
    switch (field) {
      case 1: user.name = bytesField(reader).toString('utf8'); return
      case 2: user.password = bytesField(reader).toString('utf8'); return
      case 3: user.roles.push(reader.string()); return
      case 4:
        decodeFields(bytesField(reader), 'authpb.UserAddOptions', (option, inner, innerWire) => {
          if (option === 1) {
            user.noPassword = inner.bool()
            return
          }
          return skip(inner, innerWire)
        })
        return
      default: return skip(reader, wireType)
    }
  })
  return user
}

const PERMISSION_TYPES: readonly PermissionType[] = ['READ', 'WRITE', 'READWRITE']

/** Decodes authpb.Role (name=1, keyPermission=2 {permType=1, key=2, range_end=3}). */
export function decodeAuthRole(bytes: Buffer): AuthRoleRecord {
  const role: AuthRoleRecord = { name: '', keyPermissions: [] }
  decodeFields(bytes, 'authpb.Role', (field, reader, wireType) => {
    if (field === 1) {
      role.name = bytesField(reader).toString('utf8')
      return
    }
    if (field !== 2) return skip(reader, wireType)
    const permission: AuthRoleRecord['keyPermissions'][number] = { permType: 'READ', key: EMPTY, rangeEnd: EMPTY }
    decodeFields(bytesField(reader), 'authpb.Permission', (inner, innerReader, innerWire) => {
      switch (inner) {
        case 1: {
          const type = PERMISSION_TYPES[innerReader.int32()]
          if (!type) throw new SnapshotError('SNAPSHOT_CORRUPT', `role ${role.name}: unknown permission type`)
          permission.permType = type
          return
        }
        case 2: permission.key = bytesField(innerReader); return
        case 3: permission.rangeEnd = bytesField(innerReader); return
        default: return skip(innerReader, innerWire)
      }
    })
    role.keyPermissions.push(permission)
    return
  })
  return role
}

/** Reads an 8-byte big-endian unsigned integer (consistent_index, term, authRevision). */
export function decodeUint64BE(bytes: Buffer, what: string): bigint {
  if (bytes.length !== 8) throw new SnapshotError('SNAPSHOT_CORRUPT', `${what} is ${bytes.length} bytes, expected 8`)
  return bytes.readBigUInt64BE(0)
}

const EMPTY: Buffer = Buffer.alloc(0)

type FieldHandler = (field: number, reader: protobuf.Reader, wireType: number) => void

// Walks the fields of one message; a truncated or malformed message becomes SNAPSHOT_CORRUPT.
function decodeFields(bytes: Uint8Array, message: string, handle: FieldHandler): void {
  const reader = protobuf.Reader.create(bytes)
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32()
      handle(tag >>> 3, reader, tag & 7)
    }
  } catch (error) {
    if (error instanceof SnapshotError) throw error
    throw new SnapshotError('SNAPSHOT_CORRUPT', `malformed ${message}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

function skip(reader: protobuf.Reader, wireType: number): void {
  reader.skipType(wireType)
}

// Reader.bytes() returns a view for Buffer input; wrap it so callers always get a Buffer.
function bytesField(reader: protobuf.Reader): Buffer {
  const bytes = reader.bytes()
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
}

function int64(reader: protobuf.Reader): bigint {
  const value = reader.int64() as Long | number
  if (typeof value === 'number') return BigInt(value)
  return (BigInt(value.high) << 32n) | BigInt(value.low >>> 0)
}

function safeNumber(value: bigint, what: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SnapshotError('SNAPSHOT_CORRUPT', `${what} ${value} is out of range`)
  }
  return Number(value)
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []
}
