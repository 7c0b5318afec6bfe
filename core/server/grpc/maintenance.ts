import type { Server } from '@grpc/grpc-js'
import { addService } from '../../proto/services'
import type * as pb from '../../proto/types'
import type { AlarmRecord } from '../../mvcc/backend'
import type { Member } from '../member'
import { SERVER_VERSION } from '../member'
import { id64, int64 } from './convert'
import { EtcdError } from './errors'
import { unary } from './handler'

const SERVICE = 'etcdserverpb.Maintenance'
const ALARM_NUMBERS: Record<string, number> = { NOSPACE: 1, CORRUPT: 2 }

function alarmsToWire(alarms: AlarmRecord[]): pb.AlarmMember[] {
  return alarms.map((alarm) => ({ memberID: String(alarm.memberId), alarm: ALARM_NUMBERS[alarm.alarm] }))
}

/**
 * etcd's Maintenance service (Snapshot is served by core/server/grpc/snapshot.ts when present). With auth on,
 * everything but Status needs the root role (etcd authMaintenanceServer: Defragment, Snapshot, Hash, HashKV;
 * MoveLeader and Alarm, admin-gated here as in later releases; see member-auth.ts).
 */
export function registerMaintenanceService(server: Server, member: Member): void {
  addService(server, SERVICE, {
    Status: unary(member, SERVICE, 'Status', () => {
      const { size, inUse } = member.dbSize()
      return {
        header: member.header(),
        version: SERVER_VERSION,
        dbSize: String(size),
        leader: String(member.leaderId),
        raftIndex: String(member.raftIndex),
        raftTerm: String(member.raftTerm),
        raftAppliedIndex: String(member.appliedIndex),
        errors: member.alarms.list().map((alarm) => `memberID:${alarm.memberId} alarm:${alarm.alarm} `),
        dbSizeInUse: String(inUse),
        isLearner: member.isLearner,
      }
    }),
    // etcd compat (3.4 v3rpc maintenanceServer.Alarm returns the applier's response as is): no header.
    Alarm: unary(member, SERVICE, 'Alarm', async (request: pb.AlarmRequest, call) => {
      await member.auth.checkMaintenanceAdmin(call)
      if (request.action === 0) return { header: null, alarms: alarmsToWire(member.alarms.list()) }
      const changed = (await member.propose('alarm', request, await member.auth.proposalAuth(call))) as AlarmRecord[]
      return { header: null, alarms: alarmsToWire(changed) }
    }),
    Defragment: unary(member, SERVICE, 'Defragment', async (_request: pb.DefragmentRequest, call) => {
      await member.auth.checkMaintenanceAdmin(call)
      member.defragment()
      return { header: member.header() }
    }),
    Hash: unary(member, SERVICE, 'Hash', async (_request: pb.HashRequest, call) => {
      await member.auth.checkMaintenanceAdmin(call)
      return { header: member.header(), hash: member.kv.hash() }
    }),
    HashKV: unary(member, SERVICE, 'HashKV', async (request: pb.HashKVRequest, call) => {
      await member.auth.checkMaintenanceAdmin(call)
      const result = member.kv.hashKv(int64(request.revision))
      return { header: member.header(result.revision), hash: result.hash, compact_revision: String(result.compactRevision) }
    }),
    MoveLeader: unary(member, SERVICE, 'MoveLeader', async (request: pb.MoveLeaderRequest, call) => {
      await member.auth.checkMaintenanceAdmin(call)
      if (!member.isLeader) throw new EtcdError('NOT_LEADER')
      const target = id64(request.targetID)
      const targetMember = member.membership.get(target)
      if (!targetMember || targetMember.isLearner || target === member.memberId) throw new EtcdError('BAD_LEADER_TRANSFEREE')
      await member.transferLeadership(target)
      return { header: member.header() }
    }),
  })
}
