import { EventEmitter } from 'node:events'
import { EtcdError, GrpcError, type EtcdClient } from '../../core/client'
import type {
  AuthAction,
  ExportKeysRequest,
  ImportPolicy,
  KeyPageRequest,
  KeysApi,
  KeyTransferProgress,
  KeyWatchEvent,
  KeyWatchRequest,
  LeaseAction,
  SaveKeyRequest,
  TransferKeysRequest,
} from '../api/keys-api'
import type { Unsubscribe } from '../api/admin-api'
import type { ClusterClientOptions } from './cluster-client'
import * as keys from './keys'
import { KeyWatches } from './keys-watch'
import * as leases from './leases'
import * as users from './users'
import { ServiceError, toResult } from './result'

/** What the key service needs from the connection store. */
export interface KeyServiceConnections {
  clientOptions(id: string, callTimeoutMs: number): ClusterClientOptions
  /** Throws ServiceError `read_only` for a read-only profile. */
  assertWritable(id: string): void
}

/** How the key service is built; `openClient` is `createEtcdClient` in the app. */
export interface KeyServiceDeps {
  connections: KeyServiceConnections
  openClient: (options: ClusterClientOptions) => EtcdClient
  callTimeoutMs?: number
}

/**
 * The KeysApi over src-main/services/keys.ts (keys), keys-watch.ts (watch panel), leases.ts and users.ts.
 * Keeps one EtcdClient per connection (reopened when the profile's settings change) and checks
 * `assertWritable` before every write.
 */
export class KeyService implements KeysApi {
  private readonly clients = new Map<string, { settings: string; client: EtcdClient }>()
  private readonly events = new EventEmitter()
  private readonly callTimeoutMs: number
  private readonly watches = new KeyWatches((event) => this.events.emit('watch', event))

  constructor(private readonly deps: KeyServiceDeps) {
    this.callTimeoutMs = deps.callTimeoutMs ?? 10_000
    this.events.setMaxListeners(100)
  }

  listKeys(request: KeyPageRequest) {
    return this.read(request.connectionId, (client) => keys.listKeys(client, request))
  }

  countKeys(connectionId: string, prefix: string, revision: number) {
    return this.read(connectionId, (client) => keys.countKeys(client, prefix, revision))
  }

  getKey(connectionId: string, key: string, revision: number, maxValueBytes: number) {
    return this.read(connectionId, (client) => keys.getKey(client, key, revision, maxValueBytes || keys.MAX_VALUE_BYTES))
  }

  getKeyHistory(connectionId: string, key: string) {
    return this.read(connectionId, (client) => keys.keyHistory(client, key))
  }

  exportKeys(request: ExportKeysRequest) {
    return this.read(request.connectionId, (client) => keys.exportKeys(client, request))
  }

  saveKey(request: SaveKeyRequest) {
    return this.write(request.connectionId, (client) => keys.saveKey(client, request))
  }

  deleteKey(connectionId: string, key: string, expectedModRevision: number) {
    return this.write(connectionId, (client) => keys.deleteKey(client, key, expectedModRevision))
  }

  deleteKeyPrefix(connectionId: string, prefix: string, confirmation: string, expectedCount: number) {
    return this.write(connectionId, (client) => keys.deletePrefix(client, prefix, confirmation, expectedCount))
  }

  transferKeys(request: TransferKeysRequest) {
    return this.write(request.connectionId, (client) =>
      keys.transferKeys(client, request, (progress) =>
        this.events.emit('progress', { connectionId: request.connectionId, operationId: request.operationId, ...progress } satisfies KeyTransferProgress),
      ),
    )
  }

  importKeys(connectionId: string, json: string, policy: ImportPolicy, preview: boolean) {
    return preview
      ? this.read(connectionId, (client) => keys.importKeys(client, json, policy, true))
      : this.write(connectionId, (client) => keys.importKeys(client, json, policy, false))
  }

  onKeyTransferProgress(listener: (event: KeyTransferProgress) => void): Unsubscribe {
    this.events.on('progress', listener)
    return () => this.events.off('progress', listener)
  }

  startKeyWatch(request: KeyWatchRequest) {
    return this.read(request.connectionId, async (client) => {
      await this.watches.start(client, request)
      return null
    })
  }

  stopKeyWatch(watchId: string) {
    return toResult(async () => {
      await this.watches.stop(watchId)
      return null
    })
  }

  onKeyWatch(listener: (event: KeyWatchEvent) => void): Unsubscribe {
    this.events.on('watch', listener)
    return () => this.events.off('watch', listener)
  }

  listLeases(connectionId: string) {
    return this.read(connectionId, (client) => leases.listLeases(client))
  }

  getLease(connectionId: string, id: string) {
    return this.read(connectionId, (client) => leases.getLease(client, id))
  }

  leaseAction(connectionId: string, action: LeaseAction) {
    return this.write(connectionId, (client) => leases.leaseAction(client, action))
  }

  getAuthOverview(connectionId: string) {
    return this.read(connectionId, (client) => users.authOverview(client, this.username(connectionId)))
  }

  authAction(connectionId: string, action: AuthAction) {
    return this.write(connectionId, (client) => users.authAction(client, this.username(connectionId), action))
  }

  /** Closes every cached client. */
  close(): void {
    void this.watches.close()
    for (const { client } of this.clients.values()) client.close()
    this.clients.clear()
    this.events.removeAllListeners()
  }

  private username(connectionId: string): string {
    return this.deps.connections.clientOptions(connectionId, this.callTimeoutMs).username ?? ''
  }

  private client(connectionId: string): EtcdClient {
    const options = this.deps.connections.clientOptions(connectionId, this.callTimeoutMs)
    const settings = JSON.stringify(options)
    const cached = this.clients.get(connectionId)
    if (cached?.settings === settings) return cached.client
    cached?.client.close()
    const client = this.deps.openClient(options)
    this.clients.set(connectionId, { settings, client })
    return client
  }

  private read<T>(connectionId: string, work: (client: EtcdClient) => Promise<T>, writes = false) {
    return toResult(async () => {
      if (writes) this.deps.connections.assertWritable(connectionId)
      try {
        return await work(this.client(connectionId))
      } catch (error) {
        if (error instanceof GrpcError) throw new ServiceError('unavailable', `cluster did not answer: ${error.message}`)
        if (error instanceof EtcdError) throw new ServiceError(error.code === 'PERMISSION_DENIED' ? 'forbidden' : 'invalid_argument', error.message)
        throw error
      }
    })
  }

  private write<T>(connectionId: string, work: (client: EtcdClient) => Promise<T>) {
    return this.read(connectionId, work, true)
  }
}
