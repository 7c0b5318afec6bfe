import type { Server } from '@grpc/grpc-js'
import { addService } from '../../proto/services'
import type * as pb from '../../proto/types'
import type { KvStore } from '../../mvcc/kv-store'
import { isTxnReadOnly } from '../../mvcc/kv-store'
import { checkTxnRequest } from '../../mvcc/txn-check'
import type * as mvcc from '../../mvcc/types'
import { quotaCost } from '../../mvcc/quota'
import type { Member } from '../member'
import {
  deleteRangeFromWire,
  deleteRangeToWire,
  putFromWire,
  putToWire,
  rangeFromWire,
  rangeToWire,
  txnFromWire,
  txnToWire,
} from './convert'
import { EtcdError } from './errors'
import { unary } from './handler'

const SERVICE = 'etcdserverpb.KV'

/** Raises the NOSPACE alarm through Raft and refuses the write, as etcd's quota check does. */
async function checkQuota(member: Member, cost: number): Promise<void> {
  if (member.alarms.hasNoSpace()) throw new EtcdError('NO_SPACE')
  if (member.quota.available(cost)) return
  await member.propose('alarm', { action: 1, memberID: String(member.memberId), alarm: 1 }).catch(() => undefined)
  throw new EtcdError('NO_SPACE')
}

/**
 * etcd's KV service. Reads are linearizable through a ReadIndex barrier unless `serializable`; writes go
 * through Raft (any member proposes; Raft forwards to the leader). Read-only Txns are served like reads.
 */
export function registerKvService(server: Server, member: Member): void {
  const header = (revision: number) => member.wireHeader(revision)
  const kv: KvStore = member.kv
  addService(server, SERVICE, {
    Range: unary(member, SERVICE, 'Range', async (request: pb.RangeRequest, call) => {
      const range = rangeFromWire(request)
      if (!range.serializable) await member.linearizableBarrier()
      // etcd compat (v3_server.go Range → doSerialize): read permission checked here, not through Raft.
      return member.auth.serialized(call, { kind: 'range', body: request }, () => rangeToWire(kv.range(range), header))
    }),
    Put: unary(member, SERVICE, 'Put', async (request: pb.PutRequest, call) => {
      const put = putFromWire(request)
      await checkQuota(member, quotaCost({ put }))
      // Writes carry the caller; permissions are checked at apply (etcd authApplierV3.Put).
      return putToWire((await member.propose('put', request, await member.auth.proposalAuth(call))) as mvcc.PutResponse, header)
    }),
    DeleteRange: unary(member, SERVICE, 'DeleteRange', async (request: pb.DeleteRangeRequest, call) => {
      deleteRangeFromWire(request)
      return deleteRangeToWire((await member.propose('delete_range', request, await member.auth.proposalAuth(call))) as mvcc.DeleteRangeResponse, header)
    }),
    Txn: unary(member, SERVICE, 'Txn', async (request: pb.TxnRequest, call) => {
      const txn = txnFromWire(request, member.config.maxTxnOps)
      // etcd compat (v3rpc/key.go checkTxnRequest + checkIntervals): op budget, keys, no key written twice.
      checkTxnRequest(txn, member.config.maxTxnOps)
      if (isTxnReadOnly(txn)) {
        const serializable = txn.success.concat(txn.failure).every((op) => 'requestRange' in op && op.requestRange.serializable)
        if (!serializable) await member.linearizableBarrier()
        // etcd compat (v3_server.go Txn, read-only → doSerialize with checkTxnAuth): every compare and op, nested.
        return member.auth.serialized(call, { kind: 'txn', body: request }, () => txnToWire(member.readOnlyTxn(txn), header))
      }
      await checkQuota(member, quotaCost({ txn }))
      return txnToWire((await member.propose('txn', request, await member.auth.proposalAuth(call))) as mvcc.TxnResponse, header)
    }),
    Compact: unary(member, SERVICE, 'Compact', async (request: pb.CompactionRequest, call) => {
      const revision = (await member.propose('compaction', request, await member.auth.proposalAuth(call))) as number
      return { header: header(revision) }
    }),
  })
}
