import { EtcdError, type EtcdClient } from '../../core/client'
import type { LeaseAction, LeaseDetails, LeaseInfo } from '../api/keys-api'
import { unreachable } from '../../core/util/assert'
import { leaseHex } from './cluster-client'
import { keyRef } from './keys'
import { ServiceError } from './result'

// The Leases page over the Lease service: list with time left, attached keys, grant, revoke, keep alive once.
// IDs cross the contract as hex (etcdctl's form) and are bigints inside.

/** What the lease functions need from a client. */
export type LeasesClient = Pick<EtcdClient, 'lease'>

/** At most this many attached keys are returned by `getLease` (`keyCount` has the full number). */
export const LEASE_KEYS_SHOWN = 1000

function parseId(hex: string): bigint {
  if (!/^[0-9a-f]{1,16}$/.test(hex)) throw new ServiceError('invalid_argument', `lease id "${hex}" is not hex`)
  return BigInt(`0x${hex}`)
}

async function details(client: LeasesClient, id: bigint): Promise<LeaseDetails | null> {
  const lease = await client.lease.timeToLive(id, { keys: true })
  // etcd compat: TimeToLive answers TTL -1 for a lease that does not exist (expired or revoked).
  if (lease.ttl < 0) return null
  return {
    id: leaseHex(id),
    ttl: lease.ttl,
    grantedTtl: lease.grantedTtl,
    keyCount: lease.keys.length,
    // etcd lists a lease's keys in map order (it changes from call to call): shown in key order
    keys: [...lease.keys].sort(Buffer.compare).slice(0, LEASE_KEYS_SHOWN).map(keyRef),
  }
}

function info(lease: LeaseDetails): LeaseInfo {
  return { id: lease.id, ttl: lease.ttl, grantedTtl: lease.grantedTtl, keyCount: lease.keyCount }
}

/** Every live lease (LeaseLeases, then TimeToLive each), sorted by ID; leases that expire meanwhile are left out. */
export async function listLeases(client: LeasesClient): Promise<LeaseInfo[]> {
  const ids = await client.lease.leases()
  ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const out: LeaseInfo[] = []
  for (const id of ids) {
    const lease = await details(client, id)
    if (lease) out.push(info(lease))
  }
  return out
}

/** One lease with its keys; ServiceError `not_found` when it does not exist (any more). */
export async function getLease(client: LeasesClient, hex: string): Promise<LeaseDetails> {
  const lease = await details(client, parseId(hex))
  if (!lease) throw new ServiceError('not_found', `lease ${hex} does not exist (expired or revoked)`)
  return lease
}

/** Grants, revokes or keeps alive once; resolves with the lease afterwards (null after a revoke). */
export async function leaseAction(client: LeasesClient, action: LeaseAction): Promise<LeaseInfo | null> {
  try {
    switch (action.kind) {
      case 'grant': {
        const granted = await client.lease.grant(action.ttl)
        return info(await getLease(client, leaseHex(granted.id)))
      }
      case 'revoke':
        await client.lease.revoke(parseId(action.id))
        return null
      case 'keepAlive':
        await client.lease.keepAliveOnce(parseId(action.id))
        return info(await getLease(client, action.id))
      default:
        return unreachable(action, 'lease action')
    }
  } catch (error) {
    if (error instanceof EtcdError && error.code === 'LEASE_NOT_FOUND') throw new ServiceError('not_found', `lease ${'id' in action ? action.id : ''} does not exist (expired or revoked)`)
    throw error
  }
}

