import { afterAll, beforeAll } from 'vitest'
import { EtcdClient } from '../../core/client'
import { startEtcd, type EtcdCluster, type StartEtcdOptions } from '../support/etcd'

/** A real etcd cluster and an EtcdClient on all its endpoints, for one test file. */
export interface EtcdFixture {
  readonly etcd: EtcdCluster
  readonly client: EtcdClient
}

/**
 * Starts a real etcd 3.4 cluster (test/support/etcd.ts) before the file's tests and a client on its endpoints;
 * closes the client and stops the cluster after them. Read `etcd` and `client` inside tests and hooks only.
 */
export function useEtcd(options: StartEtcdOptions = {}): EtcdFixture {
  let etcd: EtcdCluster | undefined
  let client: EtcdClient | undefined
  beforeAll(async () => {
    etcd = await startEtcd(options)
    client = new EtcdClient({ endpoints: etcd.members.map((member) => member.clientUrl) })
  })
  afterAll(async () => {
    client?.close()
    await etcd?.stop()
  })
  return {
    get etcd() {
      if (!etcd) throw new Error('etcd fixture used outside a test')
      return etcd
    },
    get client() {
      if (!client) throw new Error('etcd fixture used outside a test')
      return client
    },
  }
}
