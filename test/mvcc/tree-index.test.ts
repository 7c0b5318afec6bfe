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

  it('exact lookups and ordered scans agree after tombstones, compaction and re-creation', () => {
    const index = new TreeIndex()
    const keyOf = (i: number) => Buffer.from(`k${String(i).padStart(3, '0')}`)
    let rev = 0
    for (let i = 0; i < 100; i++) index.put(keyOf(i), { main: ++rev, sub: 0 })
    for (let i = 0; i < 100; i += 2) expect(index.tombstone(keyOf(i), { main: ++rev, sub: 0 })).toBe(true)
    index.compact(rev)
    // compaction drops the tombstoned keys entirely: gone for get, findKeyIndex, scans and size
    expect(index.size).toBe(50)
    for (let i = 0; i < 100; i++) {
      expect(index.findKeyIndex(keyOf(i)) !== undefined, `key ${i}`).toBe(i % 2 === 1)
      expect(index.get(keyOf(i), rev) !== undefined, `key ${i}`).toBe(i % 2 === 1)
    }
    // re-created keys come back in both views, with a new generation
    for (let i = 0; i < 100; i += 4) index.put(keyOf(i), { main: ++rev, sub: 0 })
    const scanned: string[] = []
    index.visitLive(keyOf(0), Buffer.alloc(0), rev, (key) => (scanned.push(key.toString()), true))
    const expected = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 2 === 1 || i % 4 === 0)
    expect(scanned).toEqual(expected.map((i) => keyOf(i).toString()))
    expect(index.size).toBe(expected.length)
    for (const i of expected) expect(index.get(keyOf(i), rev)?.created.main).toBe(i % 4 === 0 ? 151 + i / 4 : i + 1)
  })
})
