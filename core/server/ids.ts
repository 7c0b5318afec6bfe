import { createHash } from 'node:crypto'

/**
 * Member ID exactly as etcd derives it (server/etcdserver/api/membership/member.go computeMemberId): the first
 * 8 bytes, big-endian, of sha1(sorted peer URLs joined with "" + cluster token [+ unix seconds for members
 * added at run time]). Equal flags therefore give equal IDs on etcd and Quorum.
 */
export function computeMemberId(peerUrls: readonly string[], clusterToken: string, nowUnixSeconds?: number): bigint {
  const joined = [...peerUrls].sort().join('') + clusterToken + (nowUnixSeconds === undefined ? '' : String(nowUnixSeconds))
  return createHash('sha1').update(joined).digest().readBigUInt64BE(0)
}

/**
 * Cluster ID exactly as etcd derives it (membership/cluster.go genID): the first 8 bytes, big-endian, of
 * sha1 over the sorted member IDs, each as 8 big-endian bytes.
 */
export function computeClusterId(memberIds: readonly bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const bytes = Buffer.alloc(8 * sorted.length)
  sorted.forEach((id, i) => bytes.writeBigUInt64BE(id, 8 * i))
  return createHash('sha1').update(bytes).digest().readBigUInt64BE(0)
}

/** An ID as etcdctl prints it: lower-case hex without leading zeros. */
export function formatId(id: bigint): string {
  return id.toString(16)
}

/** Parses an ID printed by etcdctl (hex). */
export function parseId(hex: string): bigint {
  if (!/^[0-9a-fA-F]{1,16}$/.test(hex)) throw new Error(`invalid ID: ${hex}`)
  return BigInt(`0x${hex}`)
}
