// Issue 9: the catch-up state image is built on a worker thread from one consistent read of the member database
// while the member keeps writing, travels as a checksummed chunked body, and a body that breaks off or is
// damaged leaves nothing behind for the receiver to install.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openMvcc } from '../../../core/mvcc/mvcc'
import { MemberDb } from '../../../core/storage/member-db'
import { getAppliedIndex, setAppliedIndex, setIdentity } from '../../../core/storage/metadata'
import { createSnapshot, persistReady } from '../../../core/storage/raft-storage'
import { buildStateImageFile, installStateImage, stateImageFileRef } from '../../../core/storage/state-snapshot'
import { imageBody, receiveImageBody } from '../../../core/server/peer/snapshot-stream'
import { EntryType } from '../../../core/raft/types'
import { FakeClock } from '../../../core/util/clock'
import { tempDir } from '../../support/temp-dir'

const CONF = { voters: [1n, 2n, 3n], learners: [] }

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk)
  return Buffer.concat(chunks)
}

async function* pieces(bytes: Buffer, size: number, breakAfter = Infinity): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < bytes.length; offset += size) {
    if (offset >= breakAfter) throw new Error('peer connection reset')
    yield bytes.subarray(offset, offset + size)
  }
}

describe('snapshot image stream', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup()
  })

  function member(memberId: bigint) {
    const dir = tempDir('quorum-snapshot-stream-')
    const db = MemberDb.open({ dataDir: dir.path })
    cleanups.push(dir.remove, () => db.close())
    db.transaction((tx) => setIdentity(tx, { clusterId: 9n, memberId }))
    return { dir: dir.path, db, mvcc: openMvcc(db, { clock: new FakeClock() }) }
  }

  /** Entry i (term 1) puts key k<i> and is recorded as applied in the same transaction, as MemberStore does. */
  function applyEntry(m: ReturnType<typeof member>, i: number, value: Buffer): void {
    m.db.transaction((tx) => {
      persistReady(tx, { entries: [{ index: i, term: 1, type: EntryType.Normal, data: new Uint8Array() }], hardState: { term: 1, vote: 1n, commit: i } })
      m.mvcc.kv.put(tx, { key: Buffer.from(`k${String(i).padStart(5, '0')}`), value })
      setAppliedIndex(tx, i)
      if (i === 1) tx.statements.memberMetaSet.run('conf_state', JSON.stringify({ voters: ['1', '2', '3'], learners: [] }))
    })
  }

  it('the image built on a worker while the member keeps writing is one consistent state: index, term and exactly the keys applied up to it', async () => {
    const source = member(1n)
    const value = Buffer.alloc(20_000, 7)
    for (let i = 1; i <= 300; i++) applyEntry(source, i, value)
    source.db.transaction((tx) => createSnapshot(tx, 250, CONF, new Uint8Array()))
    const out = join(source.dir, 'image.img')
    const building = buildStateImageFile(source.db.path, out)
    // the main thread is free meanwhile: it applies more entries while the worker reads
    let next = 301
    let done = false
    void building.finally(() => (done = true))
    while (!done) {
      applyEntry(source, next++, value)
      await new Promise((resolve) => setImmediate(resolve))
    }
    const info = await building
    expect(next).toBeGreaterThan(301)
    expect(info.index).toBeGreaterThanOrEqual(300)
    expect(info.index).toBeLessThan(next)
    expect(info.term).toBe(1)
    expect(info.confState.voters.map(String)).toEqual(['1', '2', '3'])

    const target = member(3n)
    target.db.transaction((tx) => installStateImage(tx, stateImageFileRef(out), info.index, info.confState))
    expect(getAppliedIndex(target.db)).toBe(info.index)
    const installed = openMvcc(target.db, { clock: new FakeClock() })
    const keys = installed.kv.range({ key: Buffer.from('k'), rangeEnd: Buffer.from('l'), keysOnly: true }).kvs.map((kv) => Buffer.from(kv.key).toString())
    expect(keys).toHaveLength(info.index)
    expect(keys.at(-1)).toBe(`k${String(info.index).padStart(5, '0')}`)
    expect(installed.kv.rev()).toBe(info.index + 1)
  })

  it('a body received whole is the image byte for byte; chunks of any size', async () => {
    const m = member(1n)
    const image = join(m.dir, 'source.img')
    writeFileSync(image, Buffer.from(Array.from({ length: 70_001 }, (_, i) => (i * 31) % 251)))
    const body = await collect(imageBody(image))
    for (const size of [7, 31, 32, 33, 65_536]) {
      const received = join(m.dir, `received-${size}.img`)
      await expect(receiveImageBody(pieces(body, size), received)).resolves.toBe(70_001)
      expect(readFileSync(received).equals(readFileSync(image))).toBe(true)
    }
  })

  it('a body that breaks off, is truncated or damaged is refused and leaves no file to install', async () => {
    const m = member(1n)
    const image = join(m.dir, 'source.img')
    writeFileSync(image, Buffer.alloc(300_000, 5))
    const body = await collect(imageBody(image))
    const flipped = Buffer.from(body)
    flipped[123_456] ^= 0x40
    await expect(receiveImageBody(pieces(body, 10_000, 150_000), join(m.dir, 'broken.img'))).rejects.toThrow('peer connection reset')
    await expect(receiveImageBody(pieces(body.subarray(0, 200_000), 10_000), join(m.dir, 'truncated.img'))).rejects.toThrow(/sha256|truncated/)
    await expect(receiveImageBody(pieces(body.subarray(0, 20), 10_000), join(m.dir, 'tiny.img'))).rejects.toThrow('truncated')
    await expect(receiveImageBody(pieces(flipped, 10_000), join(m.dir, 'flipped.img'))).rejects.toThrow('sha256')
    for (const name of ['broken.img', 'truncated.img', 'tiny.img', 'flipped.img']) expect(existsSync(join(m.dir, name))).toBe(false)
    expect(readdirSync(m.dir).filter((name) => name.endsWith('.img'))).toEqual(['source.img'])
  })
})
