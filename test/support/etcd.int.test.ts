import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { etcdctl, startEtcd, type EtcdCluster } from './etcd'

// The reference server itself: if this fails, every differential test would be comparing against nothing.
describe('real etcd 3.4 reference cluster', () => {
  let cluster: EtcdCluster
  beforeAll(async () => {
    cluster = await startEtcd({ size: 3 })
  })
  afterAll(async () => {
    await cluster?.stop()
  })

  it('starts 3 members that agree on membership and serve etcdctl', () => {
    const members = etcdctl(cluster.endpoints, ['member', 'list', '-w', 'json'])
    expect(members.status).toBe(0)
    expect(JSON.parse(members.stdout).members).toHaveLength(3)
    expect(etcdctl(cluster.endpoints, ['put', 'k', 'v']).stdout.trim()).toBe('OK')
    expect(etcdctl(cluster.members[2].clientUrl, ['get', 'k', '--print-value-only']).stdout.trim()).toBe('v')
  })
})
