// The MVCC Backend over a member database: tables mvcc_kv, mvcc_meta, mvcc_lease and mvcc_alarm.
import type { AlarmRecord, AlarmType, BackendWriter, KvIndexRecord, LeaseRecord, KvRecord, MetaName } from '../mvcc/backend'
import { revisionId } from '../mvcc/revision'
import { assert } from '../util/assert'
import type { Statements } from './statements'

// Integer columns are read as numbers (revisions are safe integers); the int64 lease ID is read as text
// (CAST) so it never passes through a double.
interface KvRow {
  main: number
  sub: number
  tombstone: number
  key: Buffer
  value: Buffer
  create_revision: number
  mod_revision: number
  version: number
  lease: string
}

function leaseFromText(text: string): bigint {
  return text === '0' ? 0n : BigInt(text)
}

function rowToRecord(row: KvRow): KvRecord {
  return {
    main: row.main,
    sub: row.sub,
    tombstone: row.tombstone !== 0,
    kv: {
      key: row.key,
      value: row.value,
      createRevision: row.create_revision,
      modRevision: row.mod_revision,
      version: row.version,
      lease: leaseFromText(row.lease),
    },
  }
}

/**
 * Read and write access to the MVCC tables through one connection. Reads work at any time; writes assert
 * that a transaction is open (`inTransaction`), which MemberDb.transaction guarantees.
 */
export class SqliteMvccAccess implements BackendWriter {
  constructor(
    /** @internal */ readonly statements: Statements,
    private readonly inTransaction: () => boolean,
  ) {}

  getRecord(main: number, sub: number): KvRecord | undefined {
    const row = this.statements.kvGet.get(main, sub) as KvRow | undefined
    return row === undefined ? undefined : rowToRecord(row)
  }

  rangeRecords(fromMain: number, toMain: number, limit: number): KvRecord[] {
    const rows = this.statements.kvRange.all(fromMain, toMain, limit > 0 ? limit : -1) as KvRow[]
    return rows.map(rowToRecord)
  }

  forEachRecord(fn: (record: KvRecord) => void): void {
    for (const row of this.statements.kvAll.iterate() as IterableIterator<KvRow>) fn(rowToRecord(row))
  }

  forEachIndexRecord(fn: (record: KvIndexRecord) => void): void {
    for (const row of this.statements.kvIndexScan.iterate() as IterableIterator<[number, number, number, Buffer, number, number, string]>) {
      fn({ main: row[0], sub: row[1], tombstone: row[2] !== 0, key: row[3], createRevision: row[4], version: row[5], lease: leaseFromText(row[6]) })
    }
  }

  getMeta(name: MetaName): number | undefined {
    const value = this.statements.mvccMetaGet.get(name) as number | undefined
    return value
  }

  listLeases(): LeaseRecord[] {
    const rows = this.statements.leaseAll.all() as { id: bigint; ttl: bigint; remaining_ttl: bigint }[]
    return rows.map((r) => ({ id: r.id, ttlSeconds: Number(r.ttl), remainingTtlSeconds: Number(r.remaining_ttl) }))
  }

  listAlarms(): AlarmRecord[] {
    const rows = this.statements.alarmAll.all() as { member_id: string; alarm: AlarmType }[]
    return rows.map((r) => ({ memberId: BigInt(r.member_id), alarm: r.alarm }))
  }

  putRecord(record: KvRecord): void {
    this.assertWritable()
    const { kv } = record
    this.statements.kvInsert.run(
      record.main,
      record.sub,
      record.tombstone ? 1 : 0,
      kv.key,
      kv.value,
      kv.createRevision,
      kv.modRevision,
      kv.version,
      kv.lease,
    )
  }

  deleteRecordsUpTo(atMain: number, keep: ReadonlySet<string>): number {
    this.assertWritable()
    const revs = this.statements.kvRevisionsUpTo.all(atMain) as { main: number; sub: number }[]
    let n = 0
    for (const rev of revs) {
      if (keep.has(revisionId(rev))) continue
      this.statements.kvDelete.run(rev.main, rev.sub)
      n++
    }
    return n
  }

  putMeta(name: MetaName, value: number): void {
    this.assertWritable()
    this.statements.mvccMetaSet.run(name, value)
  }

  putLease(lease: LeaseRecord): void {
    this.assertWritable()
    this.statements.leasePut.run(lease.id, lease.ttlSeconds, lease.remainingTtlSeconds)
  }

  deleteLease(id: bigint): void {
    this.assertWritable()
    this.statements.leaseDelete.run(id)
  }

  putAlarm(alarm: AlarmRecord): void {
    this.assertWritable()
    this.statements.alarmPut.run(alarm.memberId.toString(), alarm.alarm)
  }

  deleteAlarm(alarm: AlarmRecord): void {
    this.assertWritable()
    this.statements.alarmDelete.run(alarm.memberId.toString(), alarm.alarm)
  }

  private assertWritable(): void {
    assert(this.inTransaction(), 'MVCC write outside a member database transaction')
  }
}
