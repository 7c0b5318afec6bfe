import { Reader } from 'protobufjs/minimal'

// Read-only view of Kubernetes objects that the API server stores in etcd as protobuf: the magic `k8s\0`, then
// a runtime.Unknown envelope (k8s.io/apimachinery/pkg/runtime/generated.proto):
//
//   message Unknown { TypeMeta typeMeta = 1; bytes raw = 2; string contentEncoding = 3; string contentType = 4; }
//   message TypeMeta { string apiVersion = 1; string kind = 2; }
//
// The envelope and ObjectMeta (apimachinery meta/v1) are decoded by name, and so are ConfigMap/Secret data.
// NB: what we cut: the schemas of the ~500 kinds are not bundled, so every other field of `raw` (spec, status
// and their children) is decoded generically by wire type: keys are field numbers (`#2`), nested messages are
// guessed (printable UTF-8 is a string, else a message if it parses, else base64).

const MAGIC = [0x6b, 0x38, 0x73, 0x00]

/** A decoded object: the envelope's type and the object as plain data (YAML/JSON-ready). */
export interface KubernetesObject {
  apiVersion: string
  kind: string
  contentType: string
  object: Record<string, unknown>
}

/** True when the value starts with the `k8s\0` magic. */
export function isKubernetesProtobuf(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((byte, i) => bytes[i] === byte)
}

type Fields = Map<number, (number | string | Uint8Array)[]>

/** Splits one message into its fields; throws on malformed input (used to tell messages from strings). */
function readFields(bytes: Uint8Array): Fields {
  const reader = Reader.create(bytes)
  const fields: Fields = new Map()
  while (reader.pos < reader.len) {
    const tag = reader.uint32()
    const field = tag >>> 3
    const wireType = tag & 7
    if (field === 0) throw new Error('field number 0')
    let value: number | string | Uint8Array
    if (wireType === 0) {
      const long = reader.int64() as unknown as number | { toString(): string }
      value = typeof long === 'number' ? long : Number(long.toString())
    } else if (wireType === 2) value = reader.bytes()
    else if (wireType === 1) value = reader.fixed64().toString()
    else if (wireType === 5) value = reader.fixed32()
    else throw new Error(`wire type ${wireType}`)
    const list = fields.get(field) ?? []
    list.push(value)
    fields.set(field, list)
  }
  return fields
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function text(value: number | string | Uint8Array | undefined): string {
  if (value === undefined) return ''
  if (value instanceof Uint8Array) return utf8.decode(value)
  return String(value)
}

function printable(bytes: Uint8Array): string | null {
  if (bytes.length === 0) return ''
  if (bytes[0]! < 0x20) return null
  try {
    const decoded = utf8.decode(bytes)
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(decoded) ? null : decoded
  } catch {
    return null
  }
}

function base64(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** A length-delimited value without a schema: string, nested message or bytes. */
function guess(bytes: Uint8Array, depth: number): unknown {
  const asText = printable(bytes)
  if (asText !== null) return asText
  if (depth < 32) {
    try {
      return generic(readFields(bytes), depth + 1)
    } catch {
      // not a message: fall through to bytes
    }
  }
  return { base64: base64(bytes) }
}

function generic(fields: Fields, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [field, values] of fields) {
    const decoded = values.map((value) => (value instanceof Uint8Array ? guess(value, depth) : value))
    out[`#${field}`] = decoded.length === 1 ? decoded[0] : decoded
  }
  return out
}

/** A map<string, string|bytes> field: repeated entries `{ key = 1; value = 2 }`. */
function stringMap(values: (number | string | Uint8Array)[] | undefined, bytesValues = false): Record<string, string> {
  const out: Record<string, string> = {}
  for (const entry of values ?? []) {
    if (!(entry instanceof Uint8Array)) continue
    const fields = readFields(entry)
    const value = fields.get(2)?.[0]
    out[text(fields.get(1)?.[0])] = bytesValues && value instanceof Uint8Array ? (printable(value) ?? `base64:${base64(value)}`) : text(value)
  }
  return out
}

function time(value: number | string | Uint8Array | undefined): string | undefined {
  if (!(value instanceof Uint8Array)) return undefined
  const seconds = Number(readFields(value).get(1)?.[0] ?? 0)
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
}

/** apimachinery ObjectMeta by name (field numbers from k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto). */
function objectMeta(bytes: Uint8Array): Record<string, unknown> {
  const fields = readFields(bytes)
  const meta: Record<string, unknown> = {}
  const strings: [number, string][] = [[1, 'name'], [2, 'generateName'], [3, 'namespace'], [4, 'selfLink'], [5, 'uid'], [6, 'resourceVersion']]
  for (const [field, name] of strings) if (fields.has(field)) meta[name] = text(fields.get(field)![0])
  if (fields.has(7)) meta.generation = fields.get(7)![0]
  if (fields.has(8)) meta.creationTimestamp = time(fields.get(8)![0])
  if (fields.has(9)) meta.deletionTimestamp = time(fields.get(9)![0])
  if (fields.has(11)) meta.labels = stringMap(fields.get(11))
  if (fields.has(12)) meta.annotations = stringMap(fields.get(12))
  if (fields.has(13)) meta.ownerReferences = fields.get(13)!.map((value) => guess(value as Uint8Array, 1))
  if (fields.has(14)) meta.finalizers = fields.get(14)!.map((value) => text(value))
  const known = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14])
  for (const [field, values] of fields) if (!known.has(field)) meta[`#${field}`] = values.map((value) => (value instanceof Uint8Array ? guess(value, 1) : value))
  return meta
}

/** The object inside `raw`: metadata by name, ConfigMap/Secret data by name, the rest generically. */
function decodeObject(kind: string, raw: Uint8Array): Record<string, unknown> {
  const fields = readFields(raw)
  const object: Record<string, unknown> = {}
  const metadata = fields.get(1)?.[0]
  if (metadata instanceof Uint8Array) object.metadata = objectMeta(metadata)
  const rest = new Map(fields)
  rest.delete(1)
  if (kind === 'ConfigMap') {
    if (fields.has(2)) object.data = stringMap(fields.get(2))
    if (fields.has(3)) object.binaryData = stringMap(fields.get(3), true)
    rest.delete(2)
    rest.delete(3)
  } else if (kind === 'Secret') {
    if (fields.has(2)) object.data = stringMap(fields.get(2), true)
    if (fields.has(3)) object.type = text(fields.get(3)![0])
    rest.delete(2)
    rest.delete(3)
  }
  return { ...object, ...generic(rest, 1) }
}

/** Decodes a `k8s\0` value, or returns null when it is not one or does not parse. */
export function decodeKubernetes(bytes: Uint8Array): KubernetesObject | null {
  if (!isKubernetesProtobuf(bytes)) return null
  try {
    const envelope = readFields(bytes.subarray(MAGIC.length))
    const typeMeta = envelope.get(1)?.[0]
    const typeFields = typeMeta instanceof Uint8Array ? readFields(typeMeta) : new Map()
    const apiVersion = text(typeFields.get(1)?.[0])
    const kind = text(typeFields.get(2)?.[0])
    const raw = envelope.get(2)?.[0]
    const object = raw instanceof Uint8Array ? decodeObject(kind, raw) : {}
    return { apiVersion, kind, contentType: text(envelope.get(4)?.[0]), object: { apiVersion, kind, ...object } }
  } catch {
    return null
  }
}
