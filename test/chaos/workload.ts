import type { Rand } from '../../core/util/rand'
import type { ClusterUnderTest } from './cluster'
import type { ClientDriver, WatchRecorder } from './drivers/types'
import type { HistoryRecorder, Request, TxnWrite } from './history'
import { RecordingClient } from './recording-client'

/** Every key the workload touches starts with this prefix; watchers cover exactly [KEY_PREFIX, PREFIX_END). */
export const KEY_PREFIX = 'chaos/'
export const PREFIX_END = 'chaos0'

/** Single-key registers (per-key WGL + revision witness). */
const REGISTER_KEYS = Array.from({ length: 5 }, (_, i) => `${KEY_PREFIX}reg/${i}`)
/** Keys written by multi-key txns (revision witness only). */
const TXN_KEYS = Array.from({ length: 6 }, (_, i) => `${KEY_PREFIX}txn/${i}`)
/** Keys attached to leases (revision witness + lease check). */
const LEASE_KEYS = Array.from({ length: 4 }, (_, i) => `${KEY_PREFIX}lease/${i}`)

/** Traffic shape. */
export interface WorkloadOptions {
  /** Sequential clients; client i talks to member i % size, the last two (if > size) to all members. */
  clients: number
  timeoutMs: number
  /** Pause between a client's requests, uniformly in [0, thinkMs). */
  thinkMs: number
  /** Negative control: reads are sent serializable but recorded as linearizable. */
  lieAboutSerializableReads?: boolean
}

/**
 * Concurrent, sequential clients doing etcd's robustness-style mix: linearizable and serializable gets,
 * puts with unique values, deletes, single-key CAS, multi-key txns, and leases (grant, put-with-lease,
 * keep-alive, revoke, or let expire). Values are `c<client>-<n>`, unique in the run.
 */
export class Workload {
  private readonly clients: RecordingClient[]
  private stopped = false
  private running: Promise<void>[] = []

  constructor(
    cluster: ClusterUnderTest,
    recorder: HistoryRecorder,
    driver: ClientDriver,
    private readonly rand: Rand,
    private readonly options: WorkloadOptions,
  ) {
    const urls = cluster.members.map((m) => m.clientUrl)
    this.clients = Array.from({ length: options.clients }, (_, i) => {
      const hosts = i >= urls.length && i >= options.clients - 2 ? urls : [urls[i % urls.length]]
      const clientOptions = { timeoutMs: options.timeoutMs, lieAboutSerializableReads: options.lieAboutSerializableReads }
      return new RecordingClient(recorder, i, driver.connect(hosts), clientOptions, hosts.length === 1 ? hosts[0] : undefined)
    })
  }

  start(): void {
    this.running = this.clients.map((client) => this.runClient(client))
  }

  async stop(): Promise<void> {
    this.stopped = true
    await Promise.all(this.running)
    for (const client of this.clients) client.close()
  }

  private async runClient(client: RecordingClient): Promise<void> {
    const rand = this.rand
    const pick = <T>(items: T[]): T => items[rand.int(items.length)]
    let counter = 0
    const value = () => `c${client.clientId}-${counter++}`
    // What this client last saw of each key (for CAS and txn compares); stale knowledge is fine, it only
    // makes the compare fail.
    const seen = new Map<string, { value: string; modRevision: number }>()
    const leases: string[] = []
    while (!this.stopped) {
      const request = this.nextRequest(rand.next(), pick, value, seen, leases)
      const { outcome, response } = await client.send(request)
      if (request.kind === 'get' && response?.kind === 'get') {
        if (response.kv) seen.set(request.key, { value: response.kv.value, modRevision: response.kv.modRevision })
        else seen.delete(request.key)
      }
      // Forget leases that are gone; the oldest of more than three is abandoned and left to expire.
      if (response?.kind === 'leaseGrant' && leases.push(response.leaseId) > 3) leases.shift()
      const dead = request.kind === 'leaseRevoke' ? request.leaseId
        : request.kind === 'leaseKeepAlive' && response?.kind === 'leaseKeepAlive' && response.ttlSeconds <= 0 ? request.leaseId
        : request.kind === 'put' && outcome === 'failed' ? request.lease
        : undefined
      if (dead !== undefined && leases.includes(dead)) leases.splice(leases.indexOf(dead), 1)
      // After an error back off a little, so a dead member does not turn into a hot loop.
      const pause = outcome === 'ok' ? rand.next() * this.options.thinkMs : 50 + rand.next() * 100
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause))
    }
  }

  private nextRequest(
    roll: number,
    pick: <T>(items: T[]) => T,
    value: () => string,
    seen: Map<string, { value: string; modRevision: number }>,
    leases: string[],
  ): Request {
    const rand = this.rand
    if (roll < 0.22) return { kind: 'get', key: pick([...REGISTER_KEYS, ...REGISTER_KEYS, ...TXN_KEYS, ...LEASE_KEYS]), consistency: 'linearizable' }
    if (roll < 0.3) return { kind: 'get', key: pick([...REGISTER_KEYS, ...TXN_KEYS]), consistency: 'serializable' }
    if (roll < 0.55) return { kind: 'put', key: pick(REGISTER_KEYS), value: value() }
    if (roll < 0.6) return { kind: 'delete', key: pick(REGISTER_KEYS) }
    if (roll < 0.7) {
      const key = pick(REGISTER_KEYS)
      const known = seen.get(key)
      return {
        kind: 'txn',
        compares: [known ? { key, target: 'value', result: 'equal', operand: known.value } : { key, target: 'version', result: 'equal', operand: 0 }],
        success: [{ type: 'put', key, value: value() }],
        failure: [],
      }
    }
    if (roll < 0.8) {
      const [a, b] = [pick(TXN_KEYS.slice(0, 3)), pick(TXN_KEYS.slice(3))]
      const known = seen.get(a)
      const second: TxnWrite = rand.next() < 0.8 ? { type: 'put', key: b, value: value() } : { type: 'delete', key: b }
      return {
        kind: 'txn',
        compares: [known ? { key: a, target: 'mod', result: 'equal', operand: known.modRevision } : { key: a, target: 'version', result: 'equal', operand: 0 }],
        success: [{ type: 'put', key: a, value: value() }, second],
        failure: rand.next() < 0.5 ? [{ type: 'put', key: b, value: value() }] : [],
      }
    }
    const sub = rand.next()
    if (leases.length === 0 || sub < 0.15) return { kind: 'leaseGrant', ttlSeconds: 2 + rand.int(2) }
    const leaseId = pick(leases)
    if (sub < 0.6) return { kind: 'put', key: pick(LEASE_KEYS), value: value(), lease: leaseId }
    if (sub < 0.9) return { kind: 'leaseKeepAlive', leaseId }
    return { kind: 'leaseRevoke', leaseId }
  }
}

/** One watcher per member on the whole test prefix, from revision 1; resolves once all are watching. */
export async function startWatchers(cluster: ClusterUnderTest, recorder: HistoryRecorder, driver: ClientDriver): Promise<WatchRecorder[]> {
  const watchers = cluster.members.map((member, i) => driver.watch(recorder, i, member.clientUrl, KEY_PREFIX, PREFIX_END))
  await Promise.all(watchers.map((w) => w.start()))
  return watchers
}
