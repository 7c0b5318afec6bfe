// Crash tests: a child process writes and acknowledges each commit on stdout; it is SIGKILLed at a random
// point; after reopening, every acknowledged write must be there and the database must pass integrity_check.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { KvStore } from '../../core/mvcc/kv-store'
import { MemberDb } from '../../core/storage/member-db'
import { getAppliedIndex, setAppliedIndex } from '../../core/storage/metadata'
import { seededRand } from '../../core/util/rand'
import { tempDir } from '../support/temp-dir'

const WRITER = join(__dirname, 'fixtures', 'crash-writer.ts')

/** Runs the writer until it has acknowledged at least `minAcks` writes plus a random extra delay, then SIGKILLs it. */
function runAndKill(dataDir: string, minAcks: number, extraMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, 'write'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const acks: number[] = []
    let buffered = ''
    let stderr = ''
    let timer: NodeJS.Timeout | undefined
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const lines = buffered.split('\n')
      buffered = lines.pop() ?? ''
      for (const line of lines) if (line.startsWith('ack ')) acks.push(Number(line.slice(4)))
      if (acks.length >= minAcks && timer === undefined) timer = setTimeout(() => child.kill('SIGKILL'), extraMs)
    })
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acks)
      else reject(new Error(`writer exited with ${code}: ${stderr}`))
    })
  })
}

describe('crash safety', () => {
  const dir = tempDir('quorum-crash-')
  afterAll(() => dir.remove())

  it('every acknowledged write survives SIGKILL at random points and the database stays sound', async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100000)
    const rand = seededRand(seed)
    const acked: number[] = []
    for (let round = 0; round < 4; round++) {
      acked.push(...(await runAndKill(dir.path, 20, rand.int(150))))
      const db = MemberDb.open({ dataDir: dir.path, create: 'never', integrityCheck: 'full' })
      try {
        expect(db.integrityCheck(), `seed ${seed}`).toEqual(['ok'])
        const kv = new KvStore(db)
        const applied = getAppliedIndex(db)
        const last = acked[acked.length - 1]
        // only the last apply can be lost, when it was deferred: the next persist would have committed it
        expect(applied, `seed ${seed}`).toBeGreaterThanOrEqual(last - 1)
        expect(db.raftStorage.lastIndex()).toBeGreaterThanOrEqual(last)
        // applied state and applied index were written together: exactly the keys up to applied exist
        expect(kv.range({ key: Buffer.from('k'), rangeEnd: Buffer.from('l'), countOnly: true }).count).toBe(applied)
        // what was persisted but not applied is replayed from the log, as the host does
        for (let index = applied + 1; index <= db.raftStorage.lastIndex(); index++) {
          db.transaction((tx) => {
            kv.put(tx, { key: Buffer.from(`k${index}`), value: Buffer.alloc(1) })
            setAppliedIndex(tx, index)
          })
        }
        for (const index of acked) {
          expect(db.raftStorage.term(index)).toBe(1)
          expect(kv.range({ key: Buffer.from(`k${index}`) }).count, `key k${index}, seed ${seed}`).toBe(1)
        }
      } finally {
        db.close()
      }
    }
    expect(acked.length).toBeGreaterThanOrEqual(80)
  }, 60_000)
})
