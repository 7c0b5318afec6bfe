import { join } from 'node:path'
import protobuf from 'protobufjs'
import { describe, expect, test } from 'vitest'
import { loadServices, parseProtoRoot } from '../../core/proto/loader'
import { serviceMethods, type EtcdServices, type ServiceName } from '../../core/proto/services'
import { CompareTarget, SortOrder } from '../../core/proto/types'

// The method list of every service, checked against EtcdServices at compile time (`satisfies` + the exact key
// set) and against the loaded protos at run time, so the typed view and the protos cannot drift apart.
const METHODS = {
  'etcdserverpb.KV': ['Range', 'Put', 'DeleteRange', 'Txn', 'Compact'],
  'etcdserverpb.Watch': ['Watch'],
  'etcdserverpb.Lease': ['LeaseGrant', 'LeaseRevoke', 'LeaseKeepAlive', 'LeaseTimeToLive', 'LeaseLeases'],
  'etcdserverpb.Cluster': ['MemberAdd', 'MemberRemove', 'MemberUpdate', 'MemberList', 'MemberPromote'],
  'etcdserverpb.Maintenance': [
    'Alarm', 'Status', 'Defragment', 'Hash', 'HashKV', 'Snapshot', 'MoveLeader', 'Downgrade',
  ],
  'etcdserverpb.Auth': [
    'AuthEnable', 'AuthDisable', 'AuthStatus', 'Authenticate', 'UserAdd', 'UserGet', 'UserList', 'UserDelete',
    'UserChangePassword', 'UserGrantRole', 'UserRevokeRole', 'RoleAdd', 'RoleGet', 'RoleList', 'RoleDelete',
    'RoleGrantPermission', 'RoleRevokePermission',
  ],
  'grpc.health.v1.Health': ['Check', 'Watch'],
} satisfies { [Name in ServiceName]: Array<keyof EtcdServices[Name]> }

type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const allMethodsListed: { [Name in ServiceName]: Exact<(typeof METHODS)[Name][number], keyof EtcdServices[Name]> } = {
  'etcdserverpb.KV': true,
  'etcdserverpb.Watch': true,
  'etcdserverpb.Lease': true,
  'etcdserverpb.Cluster': true,
  'etcdserverpb.Maintenance': true,
  'etcdserverpb.Auth': true,
  'grpc.health.v1.Health': true,
}

describe('proto loader', () => {
  test('the loaded services are exactly the typed ones, with the right streaming kinds', () => {
    const services = loadServices()
    expect(Object.keys(services).sort()).toEqual(Object.keys(METHODS).sort())
    for (const [name, methods] of Object.entries(METHODS)) {
      expect(Object.keys(services[name]).sort(), name).toEqual([...methods].sort())
    }
    expect(Object.values(allMethodsListed).every(Boolean)).toBe(true)
    const kv = services['etcdserverpb.KV']
    expect(kv.Range.path).toBe('/etcdserverpb.KV/Range')
    expect([kv.Range.requestStream, kv.Range.responseStream]).toEqual([false, false])
    const watch = services['etcdserverpb.Watch'].Watch
    expect([watch.requestStream, watch.responseStream]).toEqual([true, true])
    const snapshot = services['etcdserverpb.Maintenance'].Snapshot
    expect([snapshot.requestStream, snapshot.responseStream]).toEqual([false, true])
    expect(services['grpc.health.v1.Health'].Check.path).toBe('/grpc.health.v1.Health/Check')
  })

  test('field names keep the wire spelling (keepCase), so range_end survives a round trip', () => {
    const range = serviceMethods('etcdserverpb.KV').Range
    const request = loadServices()['etcdserverpb.KV'].Range.requestDeserialize(
      range.requestSerialize({ key: Buffer.from('a'), range_end: Buffer.from('b'), limit: 3, sort_order: SortOrder.DESCEND }),
    )
    expect(request).toMatchObject({ key: Buffer.from('a'), range_end: Buffer.from('b'), limit: '3', sort_order: 2 })
    expect(Object.keys(request)).toContain('max_create_revision')
    expect(Object.keys(request)).not.toContain('rangeEnd')
  })

  test('bytes are binary-safe and 64-bit integers decode as exact decimal strings', () => {
    const range = serviceMethods('etcdserverpb.KV').Range
    const key = Buffer.from([0xff, 0xfe, 0x00, 0x80])
    const value = Buffer.from([0xc3, 0x28])
    const response = range.responseDeserialize(
      loadServices()['etcdserverpb.KV'].Range.responseSerialize({
        header: { cluster_id: '18446744073709551615', revision: '9007199254740993' },
        kvs: [{ key, value, mod_revision: '12' }],
        count: 1,
      }),
    )
    expect(response.kvs[0].key.equals(key)).toBe(true)
    expect(response.kvs[0].value.equals(value)).toBe(true)
    expect(response.header?.cluster_id).toBe('18446744073709551615')
    expect(response.header?.revision).toBe('9007199254740993')
    expect(response).toMatchObject({ more: false, count: '1' })
    expect(response.kvs[0]).toMatchObject({ create_revision: '0', lease: '0', version: '0', mod_revision: '12' })
  })

  test('absent sub-messages decode to null and a oneof names its set member, even when it holds zero', () => {
    const txn = loadServices()['etcdserverpb.KV'].Txn
    const request = txn.requestDeserialize(
      txn.requestSerialize({
        compare: [{ key: Buffer.from('k'), target: CompareTarget.MOD, mod_revision: 0 }],
        success: [{ request_put: { key: Buffer.from('k'), value: Buffer.from('v') } }],
      }),
    )
    // etcd compat: "mod_revision == 0" is how clients test that a key does not exist; the zero must be kept.
    expect(request.compare[0]).toMatchObject({ target_union: 'mod_revision', mod_revision: '0' })
    expect(request.success[0].request).toBe('request_put')
    expect(request.success[0].request_range).toBeUndefined()
    expect(request.failure).toEqual([])
    const response = txn.responseDeserialize(txn.responseSerialize({ succeeded: true }))
    expect(response).toEqual({ header: null, succeeded: true, responses: [] })
  })

  test('every message is wire-identical to the etcd3 package protos (same field numbers, types and labels)', () => {
    const ours = parseProtoRoot()
    const reference = new protobuf.Root()
    reference.resolvePath = (_origin, target) => join('node_modules/etcd3/proto', target.replace(/^\.\//, ''))
    reference.loadSync(['rpc.proto'], { keepCase: true })
    reference.resolveAll()
    let compared = 0
    const visit = (namespace: protobuf.NamespaceBase) => {
      for (const nested of namespace.nestedArray) {
        if (nested instanceof protobuf.Type) {
          const mine = ours.lookupType(nested.fullName)
          const describe = (type: protobuf.Type) =>
            type.fieldsArray.map((f) => `${f.id}:${f.name}:${f.type}:${f.repeated ? 'repeated' : 'single'}`).sort()
          expect(describe(mine), nested.fullName).toEqual(describe(nested))
          compared++
        }
        if (nested instanceof protobuf.Enum) {
          expect(Object.values(ours.lookupEnum(nested.fullName).values), nested.fullName).toEqual(Object.values(nested.values))
        }
        if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) visit(nested)
      }
    }
    visit(reference)
    expect(compared).toBeGreaterThan(100)
  })
})
