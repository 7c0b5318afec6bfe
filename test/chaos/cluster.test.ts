import { describe, expect, it } from 'vitest'
import { etcdKnownIssues } from './cluster'

describe('known upstream bugs of the etcd reference target', () => {
  it('excuses early lease revocation by a stale leader only on etcd releases without the fix (3.4.31, 3.5.13)', () => {
    expect(etcdKnownIssues('3.4.23').map((i) => i.code)).toEqual(['lease-expired-early'])
    expect(etcdKnownIssues('3.5.12').map((i) => i.code)).toEqual(['lease-expired-early'])
    expect(etcdKnownIssues('3.4.31')).toEqual([])
    expect(etcdKnownIssues('3.5.13')).toEqual([])
    expect(etcdKnownIssues('3.6.0')).toEqual([])
  })
})
