// An in-memory Backend for tests and benchmarks: the same contract as the SQLite backend, no durability.
import { assert } from '../util/assert'
import type { AlarmRecord, Backend, BackendWriter, KvIndexRecord, KvRecord, LeaseRecord, MetaName } from './backend'
import { compareRevision, revisionId } from './revision'

function copyRecord(r: KvRecord): KvRecord {
  return { main: r.main, sub: r.sub, tombstone: r.tombstone, kv: { ...r.kv } }
}

/** Backend kept in memory. `reader()` and `writer()` are the same object: writes take effect at once. */
export class MemoryBackend implements Backend, BackendWriter {
  // Invariant: records are sorted by (main, sub) ascending.
  private records: KvRecord[] = []
  private readonly meta = new Map<MetaName, number>()
  private readonly leases = new Map<bigint, LeaseRecord>()
  private readonly alarms = new Map<string, AlarmRecord>()

  reader(): BackendWriter {
    return this
  }

  /** The write handle; call it inside whatever the test considers a transaction. */
  writer(): BackendWriter {
    return this
  }

  sizeBytes(): number {
    let n = 0
    for (const r of this.records) n += 64 + r.kv.key.length + r.kv.value.length
    return n + 64 * this.leases.size
  }

  sizeInUseBytes(): number {
    return this.sizeBytes()
  }

  defragment(): void {}

  getRecord(main: number, sub: number): KvRecord | undefined {
    const i = this.lowerBound(main, sub)
    const r = this.records[i]
    return r !== undefined && r.main === main && r.sub === sub ? copyRecord(r) : undefined
  }

  rangeRecords(fromMain: number, toMain: number, limit: number): KvRecord[] {
    const out: KvRecord[] = []
    for (let i = this.lowerBound(fromMain, 0); i < this.records.length; i++) {
      const r = this.records[i]
      if (r.main >= toMain || (limit > 0 && out.length >= limit)) break
      out.push(copyRecord(r))
    }
    return out
  }

  forEachRecord(fn: (record: KvRecord) => void): void {
    for (const r of this.records) fn(copyRecord(r))
  }

  forEachIndexRecord(fn: (record: KvIndexRecord) => void): void {
    for (const r of this.records) {
      fn({ main: r.main, sub: r.sub, tombstone: r.tombstone, key: r.kv.key, createRevision: r.kv.createRevision, version: r.kv.version, lease: r.kv.lease })
    }
  }

  getMeta(name: MetaName): number | undefined {
    return this.meta.get(name)
  }

  listLeases(): LeaseRecord[] {
    return [...this.leases.values()].map((l) => ({ ...l })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  listAlarms(): AlarmRecord[] {
    return [...this.alarms.values()].map((a) => ({ ...a }))
  }

  putRecord(record: KvRecord): void {
    const last = this.records[this.records.length - 1]
    const copy = copyRecord(record)
    if (last === undefined || compareRevision(last, record) < 0) {
      this.records.push(copy)
      return
    }
    const i = this.lowerBound(record.main, record.sub)
    const at = this.records[i]
    assert(at === undefined || compareRevision(at, record) !== 0, () => `record ${record.main}_${record.sub} already stored`)
    this.records.splice(i, 0, copy)
  }

  deleteRecordsUpTo(atMain: number, keep: ReadonlySet<string>): number {
    const before = this.records.length
    this.records = this.records.filter((r) => r.main > atMain || keep.has(revisionId(r)))
    return before - this.records.length
  }

  putMeta(name: MetaName, value: number): void {
    this.meta.set(name, value)
  }

  putLease(lease: LeaseRecord): void {
    this.leases.set(lease.id, { ...lease })
  }

  deleteLease(id: bigint): void {
    this.leases.delete(id)
  }

  putAlarm(alarm: AlarmRecord): void {
    this.alarms.set(`${alarm.memberId}/${alarm.alarm}`, { ...alarm })
  }

  deleteAlarm(alarm: AlarmRecord): void {
    this.alarms.delete(`${alarm.memberId}/${alarm.alarm}`)
  }

  private lowerBound(main: number, sub: number): number {
    let lo = 0
    let hi = this.records.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareRevision(this.records[mid], { main, sub }) < 0) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
