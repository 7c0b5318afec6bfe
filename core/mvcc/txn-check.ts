// Request validation that etcd does before proposing (etcd v3rpc/key.go checkTxnRequest, checkIntervals and
// the check*Request helpers; Apache-2.0, ported). The gRPC layer calls these; they never touch the store.
import { asBuffer, compareBytes } from './bytes'
import { InvalidRequestError } from './errors'
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types'

/** etcd compat: default --max-txn-ops. */
export const DEFAULT_MAX_TXN_OPS = 128

const emptyKey = () => new InvalidRequestError('EMPTY_KEY', 'etcdserver: key is not provided')
const duplicateKey = () => new InvalidRequestError('DUPLICATE_KEY', 'etcdserver: duplicate key given in txn request')

/** checkRangeRequest. */
export function checkRangeRequest(req: RangeRequest): void {
  if (req.key.length === 0) throw emptyKey()
}

/** checkPutRequest: key required; ignore_value excludes a value, ignore_lease excludes a lease. */
export function checkPutRequest(req: PutRequest): void {
  if (req.key.length === 0) throw emptyKey()
  if (req.ignoreValue && (req.value?.length ?? 0) !== 0) {
    throw new InvalidRequestError('VALUE_PROVIDED', 'etcdserver: value is provided')
  }
  if (req.ignoreLease && (req.lease ?? 0n) !== 0n) {
    throw new InvalidRequestError('LEASE_PROVIDED', 'etcdserver: lease is provided')
  }
}

/** checkDeleteRequest. */
export function checkDeleteRequest(req: DeleteRangeRequest): void {
  if (req.key.length === 0) throw emptyKey()
}

/**
 * checkTxnRequest + checkIntervals: op counts within maxTxnOps (nested txns get the remaining budget, as in
 * etcd), keys present, and no key put twice or put and deleted on paths that can run together.
 */
export function checkTxnRequest(req: TxnRequest, maxTxnOps = DEFAULT_MAX_TXN_OPS): void {
  checkTxnOps(req, maxTxnOps)
  checkIntervals(req.success)
  checkIntervals(req.failure)
}

function checkTxnOps(req: TxnRequest, maxTxnOps: number): void {
  const opc = Math.max(req.compare.length, req.success.length, req.failure.length)
  if (opc > maxTxnOps) throw new InvalidRequestError('TOO_MANY_OPS', 'etcdserver: too many operations in txn request')
  for (const c of req.compare) if (c.key.length === 0) throw emptyKey()
  for (const op of [...req.success, ...req.failure]) checkRequestOp(op, maxTxnOps - opc)
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  if ('requestRange' in op) checkRangeRequest(op.requestRange)
  else if ('requestPut' in op) checkPutRequest(op.requestPut)
  else if ('requestDeleteRange' in op) checkDeleteRequest(op.requestDeleteRange)
  else checkTxnOps(op.requestTxn, maxTxnOps)
}

/**
 * A delete interval as etcd's adt.StringAffineInterval: [key, rangeEnd), a point when rangeEnd is empty.
 * NB: etcd builds it from the raw range_end, so a range_end of "\0" gives [key, "\0"), which contains no key
 * above "\0": a put under a "delete from key" in the same txn is not reported as a duplicate (etcd 3.4/3.5).
 */
interface Interval {
  begin: Buffer
  end: Buffer | undefined
}

function intervalHas(iv: Interval, key: Buffer): boolean {
  if (iv.end === undefined) return compareBytes(iv.begin, key) === 0
  return compareBytes(iv.begin, key) <= 0 && compareBytes(key, iv.end) < 0
}

function checkIntervals(ops: RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = []
  // deletes of this level first, to check the lower levels' puts against them
  for (const op of ops) {
    if (!('requestDeleteRange' in op)) continue
    const { key, rangeEnd } = op.requestDeleteRange
    dels.push({ begin: asBuffer(key), end: rangeEnd !== undefined && rangeEnd.length > 0 ? asBuffer(rangeEnd) : undefined })
  }
  const intersects = (k: string) => dels.some((iv) => intervalHas(iv, Buffer.from(k, 'latin1')))
  const puts = new Set<string>()
  for (const op of ops) {
    if (!('requestTxn' in op)) continue
    const then = checkIntervals(op.requestTxn.success)
    const otherwise = checkIntervals(op.requestTxn.failure)
    for (const k of then.puts) {
      if (puts.has(k) || intersects(k)) throw duplicateKey()
      puts.add(k)
    }
    for (const k of otherwise.puts) {
      // a key from the then-branch may repeat in the else-branch: only one of them runs
      if (puts.has(k) && !then.puts.has(k)) throw duplicateKey()
      if (intersects(k)) throw duplicateKey()
      puts.add(k)
    }
    dels.push(...then.dels, ...otherwise.dels)
  }
  for (const op of ops) {
    if (!('requestPut' in op)) continue
    const k = asBuffer(op.requestPut.key).toString('latin1')
    if (puts.has(k) || intersects(k)) throw duplicateKey()
    puts.add(k)
  }
  return { puts, dels }
}
