import type { EtcdClient } from '../client'
import { keySpaceFacts, type KeySpaceFacts } from './restore-drill'

/** What the member says about itself just before a snapshot (hex ids as etcdctl prints them). */
export interface SourceIdentity {
  memberId: string | null
  clusterId: string | null
  revision: number | null
}

/** Where backups come from: one member that can describe itself and stream a snapshot. */
export interface SnapshotSource {
  /** The endpoints as the user gave them (recorded in the sidecar). */
  readonly endpoints: string[]
  describe(): Promise<SourceIdentity>
  /** The snapshot stream: database chunks, then etcd's 32-byte sha256 trailer. */
  snapshot(): AsyncIterable<Buffer>
  /** Live keys and HashKV at `revision`, for restore drills to compare against; absent when unknown. */
  keySpaceAt?(revision: number): Promise<KeySpaceFacts>
}

/**
 * A source over an EtcdClient. Status and Snapshot both go to `endpoint` (default: the first endpoint) with no
 * failover, so the identity recorded is the member that streamed the file.
 */
export function clientSnapshotSource(client: EtcdClient, endpoints: string[], options: { endpoint?: string; statusTimeoutMs?: number } = {}): SnapshotSource {
  const endpoint = options.endpoint ?? endpoints[0]
  return {
    endpoints,
    async describe() {
      const status = await client.maintenance.status({ endpoint, timeoutMs: options.statusTimeoutMs ?? 5000 })
      return {
        memberId: status.header.memberId.toString(16),
        clusterId: status.header.clusterId.toString(16),
        revision: status.header.revision,
      }
    },
    snapshot: () => client.maintenance.snapshot({ endpoint }),
    keySpaceAt: (revision) => keySpaceFacts(client, endpoint!, revision),
  }
}
