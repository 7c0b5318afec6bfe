import type { Metadata, Server, ServerDuplexStream } from '@grpc/grpc-js'
import { addService } from '../../proto/services'
import type * as pb from '../../proto/types'
import { MAX_LEASE_TTL_SECONDS } from '../../mvcc/lessor'
import type { Member } from '../member'
import { id64, int64 } from './convert'
import { EtcdError, toGrpcStatusError } from './errors'
import { forwardUnary, leaderClient } from './forward'
import { unary } from './handler'

const SERVICE = 'etcdserverpb.Lease'

/** etcd's Lease service. Grant/revoke go through Raft; keep-alive and TTL queries are answered by the leader. */
export function registerLeaseService(server: Server, member: Member): void {
  /** etcd leaseTimeToLive: answered by the leader (a follower forwards the call with the caller's token). */
  const leaseTimeToLive = async (request: pb.LeaseTimeToLiveRequest, call: { metadata: Metadata }): Promise<pb.LeaseTimeToLiveResponse> => {
    if (!member.isLeader) return forwardUnary<pb.LeaseTimeToLiveResponse>(member, SERVICE, 'LeaseTimeToLive', request, call)
    const id = id64(request.ID)
    try {
      const ttl = member.lessor.timeToLive(id, request.keys)
      return { header: member.header(), ID: String(id), TTL: String(ttl.ttlSeconds), grantedTTL: String(ttl.grantedTtlSeconds), keys: ttl.keys }
    } catch (error) {
      // etcd compat: an unknown lease answers TTL -1 rather than an error.
      if ((error as { code?: string }).code === 'LEASE_NOT_FOUND') return { header: member.header(), ID: String(id), TTL: '-1', grantedTTL: '0', keys: [] }
      throw error
    }
  }
  addService(server, SERVICE, {
    LeaseGrant: unary(member, SERVICE, 'LeaseGrant', async (request: pb.LeaseGrantRequest, call) => {
      const ttl = int64(request.TTL)
      if (ttl > MAX_LEASE_TTL_SECONDS) throw new EtcdError('LEASE_TTL_TOO_LARGE')
      const id = id64(request.ID) !== 0n ? id64(request.ID) : member.leaseIds.next()
      const granted = (await member.propose('lease_grant', { ID: String(id), TTL: String(ttl) }, await member.auth.proposalAuth(call))) as { id: bigint; ttlSeconds: number }
      return { header: member.header(), ID: String(granted.id), TTL: String(granted.ttlSeconds), error: '' }
    }),
    LeaseRevoke: unary(member, SERVICE, 'LeaseRevoke', async (request: pb.LeaseRevokeRequest, call) => {
      // etcd compat: the header carries the revision the revoke produced (etcd fills it in the applier), not
      // the store's revision when the answer is sent, which later writes may already have moved on.
      // Permission (write on every attached key, etcd checkLeasePuts) is checked at apply.
      const revision = (await member.propose('lease_revoke', { ID: request.ID }, await member.auth.proposalAuth(call))) as number
      return { header: member.header(revision) }
    }),
    LeaseTimeToLive: unary(member, SERVICE, 'LeaseTimeToLive', async (request: pb.LeaseTimeToLiveRequest, call) => {
      if (!request.keys) return leaseTimeToLive(request, call)
      const checked = await member.auth.checkLeaseTimeToLive(call, id64(request.ID))
      const response = await leaseTimeToLive(request, call)
      member.auth.checkLeaseTimeToLiveFresh(checked)
      return response
    }),
    LeaseLeases: unary(member, SERVICE, 'LeaseLeases', async () => {
      await member.linearizableBarrier()
      return { header: member.header(), leases: member.lessor.leases().map((id) => ({ ID: String(id) })) }
    }),
    LeaseKeepAlive: (call: ServerDuplexStream<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>) => {
      member.metrics.grpcStarted(SERVICE, 'LeaseKeepAlive', 'bidi_stream')
      let upstream: ReturnType<typeof openUpstream> | null = null
      const openUpstream = () => {
        const client = leaderClient(member, SERVICE) as unknown as { LeaseKeepAlive: () => import('@grpc/grpc-js').ClientDuplexStream<unknown, pb.LeaseKeepAliveResponse> }
        const stream = client.LeaseKeepAlive()
        stream.on('data', (response: pb.LeaseKeepAliveResponse) => call.write({ ...response, header: member.header() }))
        stream.on('error', () => {
          upstream = null
        })
        stream.on('end', () => {
          upstream = null
        })
        return stream
      }
      const renewOnLeader = (id: bigint) => {
        let ttl = 0
        try {
          const renewed = member.lessor.renew(id)
          ttl = renewed.ttlSeconds
          if (renewed.clearCheckpoint) {
            const { id: leaseId, remainingTtlSeconds } = renewed.clearCheckpoint
            member.propose('lease_checkpoint', { checkpoints: [{ ID: String(leaseId), remaining_TTL: String(remainingTtlSeconds) }] }).catch(() => undefined)
          }
        } catch (error) {
          // etcd compat: renewing an unknown (or expired) lease answers TTL 0.
          if ((error as { code?: string }).code !== 'LEASE_NOT_FOUND') throw error
        }
        call.write({ header: member.header(), ID: String(id), TTL: String(ttl) })
      }
      const forward = (request: pb.LeaseKeepAliveRequest) => {
        upstream ??= openUpstream()
        upstream.write(request)
      }
      call.on('data', (request: pb.LeaseKeepAliveRequest) => {
        const id = id64(request.ID)
        if (!member.isLeader) {
          try {
            forward(request)
          } catch (error) {
            call.destroy(toGrpcStatusError(error))
          }
          return
        }
        // etcd compat (etcd-io/etcd#15247, fixed in 3.4.31/3.5.13): a leader that was paused must not renew a
        // lease the new leader may already have expired: confirm leadership with a ReadIndex round first.
        member
          .linearizableBarrier()
          .then(() => (member.isLeader ? renewOnLeader(id) : forward(request)))
          .catch((error: unknown) => call.destroy(toGrpcStatusError(error)))
      })
      const close = () => {
        upstream?.end()
        upstream = null
      }
      call.on('end', () => {
        close()
        call.end()
      })
      call.on('cancelled', close)
      call.on('error', close)
    },
  })
}
