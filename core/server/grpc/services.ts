import type { Server } from '@grpc/grpc-js'
import type { Member } from '../member'
import { registerAuthService } from './auth'
import { registerClusterService } from './cluster'
import { registerHealthService } from './health'
import { unary } from './handler'
import { registerKvService } from './kv'
import { registerLeaseService } from './lease'
import { registerMaintenanceService } from './maintenance'
import { registerSnapshotService } from './snapshot'
import { registerWatchService } from './watch'

/** Registers every etcd v3 service a member serves on its client URLs. */
export function registerServices(server: Server, member: Member): void {
  registerKvService(server, member)
  registerWatchService(server, member)
  registerLeaseService(server, member)
  registerClusterService(server, member)
  registerMaintenanceService(server, member)
  registerSnapshotService(server, member)
  registerHealthService(server, member)
  registerAuthService(server, {
    authStore: member.auth.store,
    tokens: member.auth.tokens,
    bcryptCost: member.auth.bcryptCost,
    clientCertAuth: member.auth.clientCertAuth,
    propose: (kind, body, auth) => member.propose(kind, body, auth),
    header: () => member.header(),
    readBarrier: () => member.linearizableBarrier(),
    unary: (method, implementation) => unary(member, 'etcdserverpb.Auth', method, implementation),
  })
}
