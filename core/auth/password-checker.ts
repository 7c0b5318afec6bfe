import { Worker } from 'node:worker_threads'
import bcrypt from 'bcryptjs'

// bcrypt comparisons off the event loop. bcryptjs's async API still runs on the main thread in chunks of up to
// 100 ms, so a password-guessing client delays every other call of the member (measured on a loaded 2-core
// machine: Range p50 4.7 ms → 73 ms during 1,000 guesses at cost 4; at etcd's default cost 10 one comparison
// is ~350 ms of CPU here). One worker thread does the comparisons instead; the main thread only
// passes messages. The worker is an eval'd CommonJS script (no separate file to bundle) that loads bcryptjs's
// CommonJS build; if it cannot start, comparisons fall back to bcryptjs async in-thread.

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const bcrypt = require('bcryptjs')
parentPort.on('message', ({ id, password, hash }) => {
  let ok = false
  try { ok = bcrypt.compareSync(password, hash) } catch { ok = false }
  parentPort.postMessage({ id, ok })
})
`

/** Compares passwords with bcrypt hashes on a worker thread, in arrival order. */
export class PasswordChecker {
  private worker: Worker | undefined
  private nextId = 0
  private readonly pending = new Map<number, { resolve: (ok: boolean) => void; password: string; hash: string }>()
  private failed = false

  private start(): Worker | undefined {
    if (this.worker || this.failed) return this.worker
    try {
      const worker = new Worker(WORKER_SOURCE, { eval: true })
      worker.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
        this.pending.get(id)?.resolve(ok)
        this.pending.delete(id)
      })
      worker.on('error', () => this.fail())
      worker.on('exit', () => this.fail())
      worker.unref()
      this.worker = worker
    } catch {
      this.failed = true
    }
    return this.worker
  }

  /** A dead worker: answer the waiting comparisons in-thread and stop using the worker. */
  private fail(): void {
    this.worker = undefined
    this.failed = true
    for (const { resolve, password, hash } of this.pending.values()) void this.compareInThread(password, hash).then(resolve)
    this.pending.clear()
  }

  private compareInThread(password: string, hash: string): Promise<boolean> {
    return bcrypt.compare(password, hash).catch(() => false)
  }

  /** Whether `password` matches bcrypt `hash`. Never rejects (a malformed hash is a mismatch). */
  compare(password: string, hash: string): Promise<boolean> {
    const worker = this.start()
    if (!worker) return this.compareInThread(password, hash)
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, password, hash })
      worker.postMessage({ id, password, hash })
    })
  }

  /** Stops the worker; later comparisons run in-thread. */
  async close(): Promise<void> {
    const worker = this.worker
    this.failed = true
    this.worker = undefined
    if (worker) await worker.terminate()
  }
}

/** The member-wide checker used by AuthStore.checkPassword unless another is given. */
export const sharedPasswordChecker = new PasswordChecker()
