import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { etcdctlFor, runEtcdctl, startBothClusters, type TestCluster } from './clusters'

// Differential test (issue 6): the same etcdctl 3.4 script against a real etcd 3.4 cluster and a Quorum cluster,
// both 3 members started by LocalCluster with the clustering guide's flags. Outputs must be equal after masking
// what legitimately differs: cluster/member IDs, raft terms, lease IDs, endpoint URLs, timings and log stamps.
// Both clusters are fresh, so revisions line up without an offset (Quorum's publish, like etcd's, writes no key).

type Step =
  | { args: string[]; input?: string }
  | { background: string[]; ms: number }
  | { sleep: number }
  | { collect: true }

const TXN_SUCCESS = 'value("zoo") = "z"\n\nput zoo z2\nput t1 v\nget zoo\n\nput zoo z3\n\n'
const TXN_FAILURE = 'value("zoo") = "nope"\nmod("t1") > "0"\n\nput zoo z4\n\nget zoo\ndel t1 --prev-kv\n\n'
const TXN_VERSION = 'version("zoo") = "3"\n\ndel zoo --prev-kv\nput t2 v2\n\n\n'

const SCRIPT: Step[] = [
  { background: ['watch', 'foo', '--prefix', '--prev-kv'], ms: 7000 },
  { sleep: 1500 },
  { args: ['put', 'foo', 'bar'] },
  { args: ['put', 'foo1', 'bar1'] },
  { args: ['put', 'foo2', 'bar2'] },
  { args: ['put', 'zoo', 'z'] },
  { args: ['put', 'foo', 'baz', '-w', 'json'] },
  { args: ['put', 'foo1', 'bar1b', '--prev-kv'] },
  { args: ['get', 'foo'] },
  { args: ['get', 'foo', '--prefix'] },
  { args: ['get', 'foo', '--from-key'] },
  { args: ['get', 'foo', '--prefix', '--limit', '2'] },
  { args: ['get', 'foo', '--prefix', '--limit', '2', '-w', 'json'] },
  { args: ['get', 'foo', '--prefix', '--keys-only'] },
  { args: ['get', 'foo', '--prefix', '--print-value-only'] },
  { args: ['get', 'foo', '--prefix', '-w', 'json'] },
  { args: ['get', 'foo', '--prefix', '--sort-by=VALUE', '--order=DESCEND'] },
  { args: ['get', 'foo', '--prefix', '--sort-by=MODIFY', '--order=ASCEND', '-w', 'json'] },
  { args: ['get', 'foo', '--prefix', '--sort-by=CREATE', '--order=DESCEND', '--limit', '1'] },
  { args: ['get', 'foo', '--rev', '2'] },
  { args: ['get', 'foo', '--rev', '2', '-w', 'json'] },
  { args: ['get', 'foo', '--rev', '1000'] },
  { args: ['get', 'a', 'b', '--consistency', 's'] },
  { args: ['get', 'nosuch', '-w', 'json'] },
  { args: ['get', 'foo', '--prefix', '--count-only', '-w', 'json'] },
  { args: ['get', ''] },
  { args: ['del', 'foo2', '--prev-kv'] },
  { args: ['del', 'foo1', '--prev-kv', '-w', 'json'] },
  { args: ['del', 'nosuch'] },
  { args: ['del', 'foo', '--prefix'] },
  { args: ['txn', '-i'], input: TXN_SUCCESS },
  { args: ['txn', '-i', '-w', 'json'], input: TXN_FAILURE },
  { args: ['txn', '-i', '-w', 'json'], input: TXN_VERSION },
  { args: ['lease', 'grant', '100'] },
  { args: ['put', 'lk', 'v', '--lease=$LEASE'] },
  { args: ['lease', 'timetolive', '$LEASE', '--keys'] },
  { args: ['lease', 'timetolive', '$LEASE', '--keys', '-w', 'json'] },
  { args: ['lease', 'list'] },
  { args: ['lease', 'keep-alive', '--once', '$LEASE'] },
  { args: ['lease', 'revoke', '$LEASE'] },
  { args: ['get', 'lk', '-w', 'json'] },
  { args: ['lease', 'timetolive', '$LEASE'] },
  { args: ['lease', 'revoke', '1234'] },
  { args: ['lease', 'keep-alive', '--once', '1234'] },
  { args: ['put', 'x', 'y', '--lease=1234'] },
  { collect: true },
  { background: ['watch', 'foo', '--prefix', '--rev', '2', '--prev-kv'], ms: 2500 },
  { background: ['watch', 'zoo', '--rev', '1', '-w', 'json'], ms: 2500 },
  { collect: true },
  { args: ['compaction', '3'] },
  { args: ['compaction', '3'] },
  { args: ['get', 'foo', '--rev', '2'] },
  { args: ['compaction', '100000'] },
  { background: ['watch', 'foo', '--rev', '2'], ms: 2500 },
  { collect: true },
  { args: ['endpoint', 'health'] },
]

/** Runs SCRIPT against one cluster and returns the transcript, masked. */
async function transcript(target: TestCluster): Promise<string> {
  const out: string[] = []
  const background: Array<{ label: string; output: Promise<string> }> = []
  let lease = ''
  for (const step of SCRIPT) {
    if ('sleep' in step) {
      await new Promise((resolve) => setTimeout(resolve, step.sleep))
    } else if ('background' in step) {
      background.push({ label: step.background.join(' '), output: etcdctlFor(target.endpoints, step.background, step.ms).output })
    } else if ('collect' in step) {
      for (const job of background.splice(0)) out.push(`### (background) ${job.label}\n${await job.output}`)
    } else {
      const args = step.args.map((arg) => arg.replace('$LEASE', lease))
      const result = runEtcdctl(target.endpoints, args, step.input)
      lease = /^lease ([0-9a-f]+) granted/m.exec(result.output)?.[1] ?? lease
      out.push(`### ${step.args.join(' ')}\n${result.output}rc=${result.status}`)
    }
  }
  return mask(out.join('\n'), target, lease)
}

/** Masks what differs between two correct clusters (see the file comment). */
function mask(text: string, target: TestCluster, lease: string): string {
  let masked = text
  target.cluster.manifest.members.forEach((member, i) => (masked = masked.split(member.clientURL).join(`ENDPOINT${i + 1}`)))
  if (lease) masked = masked.split(lease).join('LEASE').split(BigInt(`0x${lease}`).toString()).join('LEASE')
  masked = masked
    // clientv3's retry warnings: keep only the gRPC status.
    .replace(/^\{"level":"warn".*?"error":"(.*?)"\}$/gm, 'WARN $1')
    .replace(/"(cluster_id|member_id|raft_term)":\d+/g, '"$1":X')
    .replace(/took = [\d.]+[µnm]?s/g, 'took = T')
    .replace(/"took":"[^"]*"/g, '"took":"T"')
    .replace(/remaining\(\d+s\)/g, 'remaining(R)')
    .replace(/"TTL":(9\d|100)\b/g, '"TTL":TTL')
  // endpoint health prints members in completion order.
  return masked.replace(/(### endpoint health\n)([\s\S]*?)(rc=)/, (_, head: string, body: string, tail: string) => head + body.split('\n').sort().join('\n') + tail)
}

describe('etcdctl 3.4 against Quorum and against etcd 3.4 (differential)', () => {
  let clusters: Awaited<ReturnType<typeof startBothClusters>>

  beforeAll(async () => {
    clusters = await startBothClusters()
  }, 120_000)
  afterAll(async () => clusters?.stop())

  it('the same etcdctl script gives the same masked output on both', async () => {
    const expected = await transcript(clusters.etcd)
    const actual = await transcript(clusters.quorum)
    expect(expected).toContain('lease LEASE granted with TTL(100s)') // the script really ran against etcd
    expect(actual).toBe(expected)
  }, 120_000)
})
