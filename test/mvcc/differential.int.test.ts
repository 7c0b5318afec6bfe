// Differential test: the same random sequence of KV operations against real etcd 3.4 and our KvStore (over
// the SQLite backend); every response, every error and finally HashKV must be identical.
import { Etcd3 } from 'etcd3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { KvStore } from '../../core/mvcc/kv-store'
import { Lessor } from '../../core/mvcc/lessor'
import { checkTxnRequest } from '../../core/mvcc/txn-check'
import type {
  Compare,
  DeleteRangeRequest,
  KeyValue,
  PutRequest,
  RangeRequest,
  RequestOp,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
} from '../../core/mvcc/types'
import { MemberDb } from '../../core/storage/member-db'
import { FakeClock } from '../../core/util/clock'
import { type Rand, seededRand } from '../../core/util/rand'
import { type EtcdCluster, etcdctl, startEtcd } from '../support/etcd'
import { tempDir } from '../support/temp-dir'

const KEYS = ['\x00', 'a', 'a\x00', 'ab', 'a\xff', 'b', 'ba', 'c', '\xff', '\xff\xff'].map((k) => Buffer.from(k, 'latin1'))
const RANGE_ENDS = [undefined, '\x00', 'b', 'c', 'a\xff', '\xff\xff\xff', 'a'].map((k) => (k === undefined ? undefined : Buffer.from(k, 'latin1')))
const LEASES = [0n, 0x1001n, 0x1002n]
const SORT_ORDERS: SortOrder[] = ['NONE', 'ASCEND', 'DESCEND']
const SORT_TARGETS: SortTarget[] = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE']
const RESULTS = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'] as const

type Op =
  | { range: RangeRequest }
  | { put: PutRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest }
  | { compact: number }

const pick = <T>(rand: Rand, items: readonly T[]): T => items[rand.int(items.length)]

function genRange(rand: Rand, rev: number): RangeRequest {
  return {
    key: pick(rand, KEYS),
    rangeEnd: pick(rand, RANGE_ENDS),
    limit: rand.int(3) === 0 ? rand.int(4) : 0,
    revision: rand.int(4) === 0 ? Math.max(0, rev - rand.int(8)) : 0,
    sortOrder: rand.int(3) === 0 ? pick(rand, SORT_ORDERS) : 'NONE',
    sortTarget: rand.int(3) === 0 ? pick(rand, SORT_TARGETS) : 'KEY',
    keysOnly: rand.int(6) === 0,
    countOnly: rand.int(8) === 0,
    minModRevision: rand.int(8) === 0 ? rev - rand.int(5) : 0,
    maxModRevision: rand.int(8) === 0 ? rev - rand.int(5) : 0,
    minCreateRevision: rand.int(8) === 0 ? rev - rand.int(8) : 0,
    maxCreateRevision: rand.int(8) === 0 ? rev - rand.int(8) : 0,
  }
}

function genPut(rand: Rand): PutRequest {
  const ignoreValue = rand.int(10) === 0
  const ignoreLease = rand.int(10) === 0
  return {
    key: pick(rand, KEYS),
    value: ignoreValue ? Buffer.alloc(0) : Buffer.from(`v${rand.int(5)}`),
    lease: ignoreLease ? 0n : pick(rand, LEASES),
    prevKv: rand.int(2) === 0,
    ignoreValue,
    ignoreLease,
  }
}

function genDelete(rand: Rand): DeleteRangeRequest {
  return { key: pick(rand, KEYS), rangeEnd: rand.int(2) === 0 ? undefined : pick(rand, RANGE_ENDS), prevKv: rand.int(2) === 0 }
}

function genCompare(rand: Rand, rev: number): Compare {
  const base = { key: pick(rand, KEYS), rangeEnd: rand.int(4) === 0 ? pick(rand, RANGE_ENDS) : undefined, result: pick(rand, RESULTS) }
  switch (rand.int(5)) {
    case 0:
      return { ...base, target: 'VALUE', value: Buffer.from(`v${rand.int(5)}`) }
    case 1:
      return { ...base, target: 'VERSION', version: rand.int(4) }
    case 2:
      return { ...base, target: 'CREATE', createRevision: rev - rand.int(6) }
    case 3:
      return { ...base, target: 'MOD', modRevision: rev - rand.int(6) }
    default:
      return { ...base, target: 'LEASE', lease: pick(rand, LEASES) }
  }
}

function genTxn(rand: Rand, rev: number, depth: number): TxnRequest {
  const ops = (): RequestOp[] =>
    Array.from({ length: rand.int(4) }, (): RequestOp => {
      const k = rand.int(depth < 2 ? 5 : 4)
      if (k === 0) return { requestRange: genRange(rand, rev) }
      if (k === 1) return { requestPut: genPut(rand) }
      if (k === 2) return { requestDeleteRange: genDelete(rand) }
      if (k === 3) return { requestRange: { key: pick(rand, KEYS) } }
      return { requestTxn: genTxn(rand, rev, depth + 1) }
    })
  return { compare: Array.from({ length: rand.int(3) }, () => genCompare(rand, rev)), success: ops(), failure: ops() }
}

function genOp(rand: Rand, rev: number): Op {
  const k = rand.int(20)
  if (k < 5) return { range: genRange(rand, rev) }
  if (k < 11) return { put: genPut(rand) }
  if (k < 14) return { deleteRange: genDelete(rand) }
  if (k < 19) return { txn: genTxn(rand, rev, 0) }
  return { compact: Math.max(1, rev - rand.int(6)) }
}

// --- wire conversion for the etcd3 client ---

const n = (v: number | undefined) => String(v ?? 0)
const wireRange = (r: RangeRequest) => ({
  key: Buffer.from(r.key),
  range_end: r.rangeEnd === undefined ? undefined : Buffer.from(r.rangeEnd),
  limit: n(r.limit),
  revision: n(r.revision),
  sort_order: SORT_ORDERS.indexOf(r.sortOrder ?? 'NONE'),
  sort_target: SORT_TARGETS.indexOf(r.sortTarget ?? 'KEY'),
  keys_only: r.keysOnly ?? false,
  count_only: r.countOnly ?? false,
  min_mod_revision: n(r.minModRevision),
  max_mod_revision: n(r.maxModRevision),
  min_create_revision: n(r.minCreateRevision),
  max_create_revision: n(r.maxCreateRevision),
})
const wirePut = (p: PutRequest) => ({
  key: Buffer.from(p.key),
  value: Buffer.from(p.value ?? Buffer.alloc(0)),
  lease: String(p.lease ?? 0n),
  prev_kv: p.prevKv ?? false,
  ignore_value: p.ignoreValue ?? false,
  ignore_lease: p.ignoreLease ?? false,
})
const wireDelete = (d: DeleteRangeRequest) => ({
  key: Buffer.from(d.key),
  range_end: d.rangeEnd === undefined ? undefined : Buffer.from(d.rangeEnd),
  prev_kv: d.prevKv ?? false,
})
const TARGETS = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE']
function wireCompare(c: Compare) {
  const base = { key: Buffer.from(c.key), range_end: c.rangeEnd === undefined ? undefined : Buffer.from(c.rangeEnd), result: RESULTS.indexOf(c.result), target: TARGETS.indexOf(c.target) }
  switch (c.target) {
    case 'VALUE':
      return { ...base, value: Buffer.from(c.value) }
    case 'VERSION':
      return { ...base, version: String(c.version) }
    case 'CREATE':
      return { ...base, create_revision: String(c.createRevision) }
    case 'MOD':
      return { ...base, mod_revision: String(c.modRevision) }
    case 'LEASE':
      return { ...base, lease: String(c.lease) }
  }
}
function wireTxn(t: TxnRequest): object {
  const op = (o: RequestOp) =>
    'requestRange' in o
      ? { request_range: wireRange(o.requestRange) }
      : 'requestPut' in o
        ? { request_put: wirePut(o.requestPut) }
        : 'requestDeleteRange' in o
          ? { request_delete_range: wireDelete(o.requestDeleteRange) }
          : { request_txn: wireTxn(o.requestTxn) }
  return { compare: t.compare.map(wireCompare), success: t.success.map(op), failure: t.failure.map(op) }
}

// --- normalisation of both sides into plain comparable data ---

interface WireKv {
  key: Buffer
  value: Buffer
  create_revision: string
  mod_revision: string
  version: string
  lease: string
}
const hex = (x: Uint8Array) => Buffer.from(x).toString('hex')
const fromWireKv = (kv: WireKv) => ({ key: hex(kv.key), value: hex(kv.value), c: Number(kv.create_revision), m: Number(kv.mod_revision), v: Number(kv.version), l: String(kv.lease) })
const fromKv = (kv: KeyValue) => ({ key: hex(kv.key), value: hex(kv.value), c: kv.createRevision, m: kv.modRevision, v: kv.version, l: String(kv.lease) })

type Norm = Record<string, unknown>
/* eslint-disable @typescript-eslint/no-explicit-any */
function normWire(kind: string, r: any): Norm {
  const rev = Number(r.header?.revision ?? 0)
  switch (kind) {
    case 'range':
      return { rev, kvs: r.kvs.map(fromWireKv), more: r.more, count: Number(r.count) }
    case 'put':
      return { rev, prev: r.prev_kv ? fromWireKv(r.prev_kv) : null }
    case 'deleteRange':
      return { rev, deleted: Number(r.deleted), prev: r.prev_kvs.map(fromWireKv) }
    case 'txn':
      return {
        rev,
        succeeded: r.succeeded,
        responses: r.responses.map((o: any) =>
          o.response_range
            ? normWire('range', o.response_range)
            : o.response_put
              ? normWire('put', o.response_put)
              : o.response_delete_range
                ? normWire('deleteRange', o.response_delete_range)
                : normWire('txn', o.response_txn),
        ),
      }
    default:
      return { rev }
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
function normOurs(kind: string, r: unknown): Norm {
  switch (kind) {
    case 'range': {
      const x = r as { revision: number; kvs: KeyValue[]; more: boolean; count: number }
      return { rev: x.revision, kvs: x.kvs.map(fromKv), more: x.more, count: x.count }
    }
    case 'put': {
      const x = r as { revision: number; prevKv?: KeyValue }
      return { rev: x.revision, prev: x.prevKv ? fromKv(x.prevKv) : null }
    }
    case 'deleteRange': {
      const x = r as { revision: number; deleted: number; prevKvs: KeyValue[] }
      return { rev: x.revision, deleted: x.deleted, prev: x.prevKvs.map(fromKv) }
    }
    case 'txn': {
      const x = r as { revision: number; succeeded: boolean; responses: ResponseOp[] }
      return {
        rev: x.revision,
        succeeded: x.succeeded,
        responses: x.responses.map((o) =>
          'responseRange' in o
            ? normOurs('range', o.responseRange)
            : 'responsePut' in o
              ? normOurs('put', o.responsePut)
              : 'responseDeleteRange' in o
                ? normOurs('deleteRange', o.responseDeleteRange)
                : normOurs('txn', o.responseTxn),
        ),
      }
    }
    default:
      return { rev: r as number }
  }
}

/** etcd's error text without the "etcdserver: " prefix, which our errors only sometimes carry. */
function errorText(error: unknown): string {
  const message = String((error as Error).message ?? error)
  const known = [
    'required revision has been compacted',
    'required revision is a future revision',
    'key not found',
    'lease not found',
    'duplicate key given in txn request',
    'too many operations in txn request',
    'value is provided',
    'lease is provided',
    'key is not provided',
  ]
  return known.find((k) => message.includes(k)) ?? `unexpected: ${message}`
}

describe('differential: KV operations against real etcd 3.4', () => {
  let etcd: EtcdCluster
  let client: Etcd3
  const dir = tempDir('quorum-diff-')
  let db: MemberDb
  let kv: KvStore

  beforeAll(async () => {
    etcd = await startEtcd()
    client = new Etcd3({ hosts: etcd.members[0].clientUrl })
    db = MemberDb.open({ dataDir: dir.path })
    kv = new KvStore(db)
    const lessor = new Lessor(kv, { clock: new FakeClock() })
    for (const id of LEASES.filter((l) => l !== 0n)) {
      await client.leaseClient.leaseGrant({ ID: String(id), TTL: 100_000 })
      db.transaction((tx) => lessor.grant(tx, id, 100_000))
    }
  }, 60_000)

  afterAll(async () => {
    client?.close()
    db?.close()
    await etcd?.stop()
    dir.remove()
  })

  it('responses, errors and HashKV are identical over a random operation sequence', async () => {
    const seed = Number(process.env.DIFF_SEED ?? 4242)
    const rand = seededRand(seed)
    for (let step = 0; step < 1000; step++) {
      const op = genOp(rand, kv.rev())
      const kind = Object.keys(op)[0]
      let theirs: Norm
      let ours: Norm
      try {
        if ('range' in op) theirs = normWire(kind, await client.kv.range(wireRange(op.range)))
        else if ('put' in op) theirs = normWire(kind, await client.kv.put(wirePut(op.put)))
        else if ('deleteRange' in op) theirs = normWire(kind, await client.kv.deleteRange(wireDelete(op.deleteRange)))
        else if ('txn' in op) theirs = normWire(kind, await client.kv.txn(wireTxn(op.txn)))
        else theirs = normWire(kind, await client.kv.compact({ revision: String(op.compact), physical: true }))
      } catch (error) {
        theirs = { error: errorText(error) }
      }
      try {
        if ('range' in op) ours = normOurs(kind, kv.range(op.range))
        else if ('put' in op) ours = normOurs(kind, db.transaction((tx) => kv.put(tx, op.put)))
        else if ('deleteRange' in op) ours = normOurs(kind, db.transaction((tx) => kv.deleteRange(tx, op.deleteRange)))
        else if ('txn' in op) {
          checkTxnRequest(op.txn)
          ours = normOurs(kind, db.transaction((tx) => kv.txn(tx, op.txn)))
        } else ours = normOurs(kind, db.transaction((tx) => kv.compact(tx, op.compact)))
      } catch (error) {
        ours = { error: errorText(error) }
      }
      expect(ours, `seed ${seed} step ${step}: ${kind} ${JSON.stringify(op, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`).toEqual(theirs)
    }
    // HashKV through etcdctl (the etcd3 client has no HashKV call): same bytes hashed, same crc32c
    for (const rev of [0, kv.rev() - 3]) {
      const out = etcdctl(etcd.endpoints, ['endpoint', 'hashkv', `--rev=${rev}`, '-w', 'json'])
      const theirs = JSON.parse(out.stdout) as { HashKV: { header: { revision: number }; hash: number; compact_revision: number } }[]
      const ours = kv.hashKv(rev)
      expect({ hash: ours.hash, revision: ours.revision, compactRevision: ours.compactRevision }).toEqual({
        hash: theirs[0].HashKV.hash,
        revision: theirs[0].HashKV.header.revision,
        compactRevision: theirs[0].HashKV.compact_revision,
      })
    }
  }, 60_000)
})
