import { describe, expect, it } from 'vitest'
import { hexId, leaseHex } from '../../../src-main/services/cluster-client'

// IDs are shown as etcdctl prints them, so that an ID copied from etcdctl output finds its row in the app and the
// other way round: member and cluster IDs with %x, lease IDs with %016x (lease grant, list, timetolive).
describe('ID formats', () => {
  it('lease IDs are 16 zero-padded hex digits, member IDs are not padded', () => {
    expect(leaseHex(0x019ca21694813448n)).toBe('019ca21694813448')
    expect(leaseHex(0x694d7d4a1c3e5f01n)).toBe('694d7d4a1c3e5f01')
    expect(leaseHex(1n)).toBe('0000000000000001')
    expect(hexId(0x0e9e05c52164694dn)).toBe('e9e05c52164694d')
  })
})
