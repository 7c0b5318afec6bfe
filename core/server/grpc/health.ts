import type { Server } from '@grpc/grpc-js'
import { addService } from '../../proto/services'
import type * as pb from '../../proto/types'
import type { Member } from '../member'
import { unary } from './handler'

const SERVICE = 'grpc.health.v1.Health'
const SERVING = 1
const NOT_SERVING = 2

/** gRPC health checking as etcd 3.5 serves it: SERVING while the member knows a leader. */
export function registerHealthService(server: Server, member: Member): void {
  addService(server, SERVICE, {
    Check: unary(member, SERVICE, 'Check', (): pb.HealthCheckResponse => ({ status: member.leaderId !== 0n ? SERVING : NOT_SERVING })),
  })
}
