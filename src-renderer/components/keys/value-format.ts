import { parse as parseToml, stringify as stringifyToml } from 'smol-toml'
import formatXml from 'xml-formatter'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'

// How the value editor shows and writes bytes. Pure (no DOM), so the rules are unit-tested:
// - text formats (text, json, yaml, xml, toml) show UTF-8 and exist only for values that are valid UTF-8,
//   so a non-UTF-8 value can never be rewritten through a lossy decode;
// - hex and base64 show the exact bytes of any value and write exactly the bytes typed.

/** The editor's views of a value. */
export type ValueView = 'text' | 'json' | 'yaml' | 'xml' | 'toml' | 'hex' | 'base64'

/** Every view, in menu order. */
export const VALUE_VIEWS: readonly ValueView[] = ['text', 'json', 'yaml', 'xml', 'toml', 'hex', 'base64']

const TEXT_VIEWS = new Set<ValueView>(['text', 'json', 'yaml', 'xml', 'toml'])

/** True for views that show the value as UTF-8 text. */
export function isTextView(view: ValueView): boolean {
  return TEXT_VIEWS.has(view)
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

/** The bytes as UTF-8 text, or null when they are not valid UTF-8. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    return null
  }
}

/** Base64 to bytes (the contract's form of bytes). */
export function base64ToBytes(base64: string): Uint8Array {
  const binary = atob(base64)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** Bytes to base64, in chunks so large values do not overflow the argument list. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

/** Hex of the bytes, 16 per line, bytes separated by spaces. */
export function bytesToHex(bytes: Uint8Array): string {
  const lines: string[] = []
  for (let i = 0; i < bytes.length; i += 16) {
    lines.push(Array.from(bytes.subarray(i, i + 16), (byte) => byte.toString(16).padStart(2, '0')).join(' '))
  }
  return lines.join('\n')
}

/** Base64 bytes as text for reading (lists, diffs, dialogs): UTF-8 when valid, else hex, never a lossy decode. */
export function base64ForReading(base64: string): string {
  const bytes = base64ToBytes(base64)
  return utf8OrNull(bytes) ?? bytesToHex(bytes)
}

/** Raised for text that a view cannot turn into bytes or that does not parse; `code` names the view. */
export class ValueFormatError extends Error {
  constructor(
    readonly code: ValueView,
    message: string,
  ) {
    super(message)
  }
}

function hexToBytes(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '')
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(digits)) throw new ValueFormatError('hex', 'hex wants pairs of 0-9a-f digits')
  const bytes = new Uint8Array(digits.length / 2)
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16)
  return bytes
}

function strictBase64ToBytes(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '')
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact)) throw new ValueFormatError('base64', 'not base64')
  return base64ToBytes(compact)
}

/** The value as `view` shows it, or null when the view cannot show these bytes (text views of non-UTF-8). */
export function bytesToView(bytes: Uint8Array, view: ValueView): string | null {
  if (view === 'hex') return bytesToHex(bytes)
  if (view === 'base64') return bytesToBase64(bytes)
  return utf8OrNull(bytes)
}

/** Checks that `text` parses as the view's language; throws ValueFormatError with the parser's message. */
export function validateView(text: string, view: ValueView): void {
  try {
    switch (view) {
      case 'json':
        JSON.parse(text)
        return
      case 'yaml':
        parseYaml(text)
        return
      case 'xml':
        formatXml(text, { strictMode: true })
        return
      case 'toml':
        parseToml(text)
        return
      case 'hex':
        hexToBytes(text)
        return
      case 'base64':
        strictBase64ToBytes(text)
        return
      case 'text':
        return
    }
  } catch (error) {
    if (error instanceof ValueFormatError) throw error
    throw new ValueFormatError(view, error instanceof Error ? error.message : String(error))
  }
}

/** The bytes that `text` in `view` stands for (validated first). */
export function viewToBytes(text: string, view: ValueView): Uint8Array {
  validateView(text, view)
  if (view === 'hex') return hexToBytes(text)
  if (view === 'base64') return strictBase64ToBytes(text)
  return new TextEncoder().encode(text)
}

/** `text` pretty-printed in its view's language (2-space indent); hex/base64/text come back unchanged. */
export function prettify(text: string, view: ValueView): string {
  validateView(text, view)
  switch (view) {
    case 'json':
      return JSON.stringify(JSON.parse(text), null, 2)
    case 'yaml':
      return stringifyYaml(parseYaml(text))
    case 'xml':
      return formatXml(text, { indentation: '  ', lineSeparator: '\n', collapseContent: true })
    case 'toml':
      return stringifyToml(parseToml(text))
    default:
      return text
  }
}

/** The best first view for a value: JSON/YAML/XML/TOML when it parses as one, text for other UTF-8, else hex. */
export function guessView(bytes: Uint8Array): ValueView {
  const text = utf8OrNull(bytes)
  if (text === null) return 'hex'
  const trimmed = text.trim()
  const parses = (view: ValueView) => {
    try {
      validateView(trimmed, view)
      return true
    } catch {
      return false
    }
  }
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && parses('json')) return 'json'
  if (trimmed.startsWith('<') && parses('xml')) return 'xml'
  if (/^\[[^\]\n]+\]\s*$/m.test(trimmed) && parses('toml')) return 'toml'
  if (/^[\w"'-]+\s*:\s/m.test(trimmed) && parses('yaml')) return 'yaml'
  return 'text'
}

/** Human size: bytes, KiB or MiB with one decimal. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}
