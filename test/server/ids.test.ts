import { describe, expect, it } from 'vitest'
import { computeClusterId, computeMemberId, formatId, parseId } from '../../core/server/ids'

describe('member and cluster IDs', () => {
  // Reference values printed by real etcd 3.4.23 for
  // --initial-cluster a=http://127.0.0.1:24380,b=http://127.0.0.1:24381 --initial-cluster-token tok1:
  // "added member df9e12470f1e5568 [http://127.0.0.1:24380] to cluster 60a57a85f1b6cb12"
  it('derives member IDs from peer URLs and token exactly as etcd does', () => {
    expect(formatId(computeMemberId(['http://127.0.0.1:24380'], 'tok1'))).toBe('df9e12470f1e5568')
    expect(formatId(computeMemberId(['http://127.0.0.1:24381'], 'tok1'))).toBe('1fcfdbb73019296f')
  })

  it('derives the cluster ID from the sorted member IDs exactly as etcd does', () => {
    const ids = [parseId('df9e12470f1e5568'), parseId('1fcfdbb73019296f')]
    expect(formatId(computeClusterId(ids))).toBe('60a57a85f1b6cb12')
    expect(computeClusterId([...ids].reverse())).toBe(computeClusterId(ids))
  })

  it('sorts peer URLs before hashing, so their order does not matter', () => {
    const urls = ['http://127.0.0.1:2', 'http://127.0.0.1:1']
    expect(computeMemberId(urls, 't')).toBe(computeMemberId([...urls].reverse(), 't'))
    expect(computeMemberId(urls, 't')).not.toBe(computeMemberId(urls, 'other-token'))
  })
})
