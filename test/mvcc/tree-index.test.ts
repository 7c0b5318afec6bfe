import { describe, expect, it } from 'vitest'
import { TreeIndex } from '../../core/mvcc/key-index'

// The key index orders keys by their bytes (etcd's treeIndex, bytes.Compare), whatever the bytes: binary keys,
// bytes above 0x7f, NUL bytes, prefixes of each other. A seeded random set is checked against Buffer.compare
// for single lookups and for ranges, including open-ended ones.
describe('TreeIndex key order', () => {
  let seed = 11
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }
  const alphabet = [0x00, 0x01, 0x2f, 0x61, 0x7f, 0x80, 0xc3, 0xfe, 0xff]
  const randomKey = () => Buffer.from(Array.from({ length: 1 + random(4) }, () => alphabet[random(alphabet.length)]))

  it('looks up, orders and ranges binary keys by their bytes', () => {
    const index = new TreeIndex()
    const keys = new Map<string, Buffer>()
    for (let rev = 1; rev <= 400; rev++) {
      const key = randomKey()
      keys.set(key.toString('hex'), key)
      index.put(key, { main: rev, sub: 0 })
    }
    const sorted = [...keys.values()].sort(Buffer.compare)
    expect(index.size).toBe(sorted.length)
    for (const key of sorted) expect(index.get(key, 1000)?.modified.main).toBeGreaterThan(0)
    expect(index.get(Buffer.from([0x42, 0x42, 0x42, 0x42, 0x42]), 1000)).toBeUndefined()

    const visit = (start: Buffer, end: Buffer) => {
      const seen: string[] = []
      index.visitLive(start, end, 1000, (key) => {
        seen.push(key.toString('hex'))
        return true
      })
      return seen
    }
    expect(visit(Buffer.from([0x00]), Buffer.alloc(0))).toEqual(sorted.map((key) => key.toString('hex')))
    for (let i = 0; i < 200; i++) {
      const [a, b] = [randomKey(), randomKey()].sort(Buffer.compare)
      const expected = sorted.filter((key) => Buffer.compare(key, a) >= 0 && Buffer.compare(key, b) < 0).map((key) => key.toString('hex'))
      expect(visit(a, b), `[${a.toString('hex')}, ${b.toString('hex')})`).toEqual(expected)
      const fromKey = sorted.filter((key) => Buffer.compare(key, a) >= 0).map((key) => key.toString('hex'))
      expect(visit(a, Buffer.alloc(0))).toEqual(fromKey)
    }
  })
})
