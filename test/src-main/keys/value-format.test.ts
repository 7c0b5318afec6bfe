import { Writer } from 'protobufjs/minimal'
import { describe, expect, it } from 'vitest'
import { decodeKubernetes, isKubernetesProtobuf } from '../../../src-renderer/components/keys/kubernetes-protobuf'
import { bytesToBase64, bytesToView, guessView, prettify, validateView, viewToBytes, ValueFormatError } from '../../../src-renderer/components/keys/value-format'

// The value editor's byte rules (src-renderer/components/keys/value-format.ts) and the Kubernetes protobuf view.

const bytes = (...values: number[]) => Uint8Array.from(values)

describe('value views', () => {
  it('text views refuse non-UTF-8 values; hex and base64 round-trip any bytes exactly', () => {
    const binary = bytes(0xff, 0x00, 0xc3, 0x28, 0x0a)
    expect(bytesToView(binary, 'text')).toBeNull()
    expect(bytesToView(binary, 'json')).toBeNull()
    expect(bytesToView(binary, 'hex')).toBe('ff 00 c3 28 0a')
    expect([...viewToBytes(bytesToView(binary, 'hex')!, 'hex')]).toEqual([...binary])
    expect([...viewToBytes(bytesToView(binary, 'base64')!, 'base64')]).toEqual([...binary])
    const long = Uint8Array.from({ length: 40 }, (_, i) => i)
    expect(bytesToView(long, 'hex')!.split('\n')).toHaveLength(3)
    expect(guessView(binary)).toBe('hex')
  })

  it('validation names the language and keeps the parser message', () => {
    expect(() => validateView('{"a":', 'json')).toThrow(ValueFormatError)
    expect(() => validateView('a: [1', 'yaml')).toThrow(ValueFormatError)
    expect(() => validateView('<a><b></a>', 'xml')).toThrow(ValueFormatError)
    expect(() => validateView('a = ', 'toml')).toThrow(ValueFormatError)
    expect(() => validateView('abc', 'hex')).toThrow(/pairs/)
    expect(() => validateView('a$==', 'base64')).toThrow(/base64/)
    for (const [text, view] of [['{"a":1}', 'json'], ['a: 1', 'yaml'], ['<a><b/></a>', 'xml'], ['a = 1', 'toml'], ['anything', 'text']] as const) {
      expect(() => validateView(text, view)).not.toThrow()
    }
  })

  it('prettifies each language and guesses the view from the bytes', () => {
    expect(prettify('{"a":[1,2]}', 'json')).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}')
    expect(prettify('{a: 1, b: [x]}', 'yaml')).toBe('a: 1\nb:\n  - x\n')
    expect(prettify('<a><b>x</b></a>', 'xml')).toBe('<a>\n  <b>x</b>\n</a>')
    expect(prettify('[s]\nk="v"', 'toml')).toBe('[s]\nk = "v"\n')
    const enc = (text: string) => new TextEncoder().encode(text)
    expect(guessView(enc(' {"a":1}'))).toBe('json')
    expect(guessView(enc('<a/>'))).toBe('xml')
    expect(guessView(enc('[server]\nport = 1'))).toBe('toml')
    expect(guessView(enc('kind: Pod\nname: x'))).toBe('yaml')
    expect(guessView(enc('just words'))).toBe('text')
    expect(bytesToBase64(enc('héllo'))).toBe(Buffer.from('héllo').toString('base64'))
  })
})

/** A message with the fields given as [number, bytes|string|number] (length-delimited or varint). */
function message(fields: [number, Uint8Array | string | number][]): Uint8Array {
  const writer = Writer.create()
  for (const [field, value] of fields) {
    if (typeof value === 'number') writer.uint32((field << 3) | 0).int64(value)
    else if (typeof value === 'string') writer.uint32((field << 3) | 2).string(value)
    else writer.uint32((field << 3) | 2).bytes(value)
  }
  return writer.finish()
}

describe('Kubernetes protobuf values', () => {
  it('decodes the runtime.Unknown envelope, ObjectMeta by name and the rest by field number', () => {
    const meta = message([
      [1, 'web-0'],
      [3, 'default'],
      [5, '6f1c-uid'],
      [6, '4242'],
      [8, message([[1, 1_700_000_000]])],
      [11, message([[1, 'app'], [2, 'web']])],
      [11, message([[1, 'tier'], [2, 'front']])],
    ])
    const container = message([[1, 'nginx'], [2, 'nginx:1.27']])
    const spec = message([[2, container], [4, 30]])
    const pod = message([[1, meta], [2, spec]])
    const envelope = message([[1, message([[1, 'v1'], [2, 'Pod']])], [2, pod], [4, 'application/vnd.kubernetes.protobuf']])
    const value = new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...envelope])
    expect(isKubernetesProtobuf(value)).toBe(true)
    const decoded = decodeKubernetes(value)
    expect(decoded).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      contentType: 'application/vnd.kubernetes.protobuf',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web-0', namespace: 'default', uid: '6f1c-uid', resourceVersion: '4242', creationTimestamp: '2023-11-14T22:13:20Z', labels: { app: 'web', tier: 'front' } },
        '#2': { '#2': { '#1': 'nginx', '#2': 'nginx:1.27' }, '#4': 30 },
      },
    })
  })

  it('decodes ConfigMap data by name and refuses values without the magic or with broken envelopes', () => {
    const configMap = message([[1, message([[1, 'cfg']])], [2, message([[1, 'app.yaml'], [2, 'port: 80']])]])
    const envelope = message([[1, message([[1, 'v1'], [2, 'ConfigMap']])], [2, configMap]])
    expect(decodeKubernetes(new Uint8Array([0x6b, 0x38, 0x73, 0x00, ...envelope]))?.object).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { 'app.yaml': 'port: 80' } })
    expect(decodeKubernetes(new TextEncoder().encode('{"kind":"Pod"}'))).toBeNull()
    expect(decodeKubernetes(new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x05, 0x01]))).toBeNull()
  })
})
