// Benchmark (not a test): proposals per second through a 3-node simulated cluster (MemoryStorage, in-process
// message delivery), with batching: each round the leader takes `batch` proposals, then the cluster runs Ready
// cycles until they are committed and applied on every node. Run: npm run bench:raft
import { Cluster } from './../raft/sim/cluster'

/**
 * `batch` proposals per round; `oneMessage` hands them to Raft as one MsgProp (RawNode.proposeBatch, as a
 * host that batches client requests does) instead of one propose() each.
 */
function run(total: number, batch: number, payloadBytes: number, oneMessage: boolean): { perSecond: number; ms: number } {
  const c = Cluster.bootstrap([1n, 2n, 3n], { maxSizePerMsg: 1024 * 1024, maxInflightMsgs: 256 })
  c.get(1n).node.campaign()
  c.stabilize()
  const leader = c.get(1n)
  const payload = new Uint8Array(payloadBytes).fill(7)
  const start = performance.now()
  for (let sent = 0; sent < total; sent += batch) {
    if (oneMessage) leader.node.proposeBatch(Array.from({ length: batch }, () => payload))
    else for (let i = 0; i < batch; i++) leader.node.propose(payload)
    c.stabilize()
    // Keep the logs short, as a real host compacts behind snapshots.
    if ((sent / batch) % 20 === 19) for (const id of [1n, 2n, 3n]) c.compact(id, 100)
  }
  const ms = performance.now() - start
  const target = leader.node.raft.raftLog.lastIndex()
  for (const id of [2n, 3n]) {
    if (c.get(id).sm.applied !== target) throw new Error(`node ${id} applied ${c.get(id).sm.applied}, expected ${target}`)
  }
  return { perSecond: Math.round((total / ms) * 1000), ms: Math.round(ms) }
}

run(20_000, 100, 100, true) // warm-up (JIT)
for (const [batch, oneMessage] of [[1, false], [100, false], [10, true], [100, true], [1000, true]] as const) {
  const total = batch === 1 ? 20_000 : 200_000
  const r = run(total, batch, 100, oneMessage)
  const how = oneMessage ? 'proposeBatch' : 'propose x N'
  console.log(`raft 3-node sim: ${batch} per Ready (${how}), 100 B payload: ${r.perSecond.toLocaleString('en-US')} proposals/s (${total} in ${r.ms} ms)`)
}
