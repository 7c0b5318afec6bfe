// Randomised schedules over the simulated cluster: one seed = one reproducible run.
import { describeStatus } from '../../../core/raft/describe'
import { ProposalDroppedError } from '../../../core/raft/errors'
import { ConfChangeType, NONE, StateType, type NodeId } from '../../../core/raft/types'
import { seededRand, type Rand } from '../../../core/util/rand'
import { Cluster, type CrashPoint } from './cluster'
import { Invariants } from './invariants'

const CRASH_POINTS: CrashPoint[] = ['before-persist', 'after-persist', 'after-send', 'after-apply']
const encoder = new TextEncoder()

/** What a run did, for sanity checks that the schedules actually exercise things. */
export interface RunStats {
  seed: number
  leaders: number
  committed: number
  readsServed: number
  crashes: number
  confChanges: number
  compactions: number
  livenessTicks: number
}

/** A weighted choice table, flattened once so that picking is one random draw. */
function table<T extends string>(weights: Record<T, number>): T[] {
  return (Object.entries(weights) as [T, number][]).flatMap(([k, w]) => Array<T>(w).fill(k))
}

function choose<T>(rand: Rand, items: T[]): T | undefined {
  return items.length === 0 ? undefined : items[rand.int(items.length)]
}

type Action =
  | 'round'
  | 'tick' | 'ready' | 'deliver' | 'drop' | 'duplicate' | 'propose' | 'read'
  | 'partition' | 'heal' | 'crash' | 'restart' | 'compact' | 'conf' | 'transfer'

const MIXED = table<Action>({
  round: 8, tick: 22, ready: 26, deliver: 26, drop: 3, duplicate: 2, propose: 10, read: 4,
  partition: 2, heal: 3, crash: 1, restart: 3, compact: 2, conf: 1, transfer: 1,
})

const STORMY = table<Action>({
  round: 12, tick: 24, ready: 24, deliver: 24, drop: 4, duplicate: 2, propose: 8, read: 6,
  partition: 5, heal: 5, crash: 2, restart: 4, compact: 1, conf: 1, transfer: 2,
})

/** Max ticks a healed cluster with all members up may need to elect a leader and commit (liveness bound). */
export const LIVENESS_TICKS = 300

/**
 * Runs one randomised schedule of `steps` steps and then a liveness phase. Throws (with the seed in the
 * message) on any violated invariant.
 */
export function runSchedule(seed: number, steps?: number, hostBug = false): RunStats {
  const rand = seededRand(seed)
  // Odd seeds: 5 voters, short timeouts and heavy partitioning, many leader changes (the Figure 8 kind of
  // history, Raft §5.4.2); even seeds: a mixed profile with more replication, membership and reads.
  const stormy = seed % 2 === 1
  const totalSteps = steps ?? (stormy ? 400 : 250)
  const voters: NodeId[] = stormy || rand.int(4) === 0 ? [1n, 2n, 3n, 4n, 5n] : [1n, 2n, 3n]
  const preVote = rand.int(2) === 0
  const checkQuorum = rand.int(2) === 0
  const cluster = Cluster.bootstrap(
    voters,
    {
      preVote,
      checkQuorum,
      electionTick: stormy ? 6 : choose(rand, [3, 5, 10]),
      heartbeatTick: 1,
      maxSizePerMsg: choose(rand, [0, 64, 4096]),
      maxInflightMsgs: choose(rand, [1, 4, 256]),
      logger: undefined,
    },
    seed,
  )
  cluster.sendBeforePersist = hostBug
  const inv = new Invariants(cluster)
  const stats: RunStats = { seed, leaders: 0, committed: 0, readsServed: 0, crashes: 0, confChanges: 0, compactions: 0, livenessTicks: 0 }
  let nextId = 10n
  let proposals = 0
  let reads = 0
  try {
    for (let step = 0; step < totalSteps; step++) {
      const ids = [...cluster.nodes.keys()].filter((id) => !cluster.removed.has(id))
      const live = ids.filter((id) => cluster.isLive(id))
      const actions = stormy ? STORMY : MIXED
      const action = actions[rand.int(actions.length)]
      switch (action) {
        case 'round':
          // One synchronous round: every live node handles its Ready, then everything in flight is delivered.
          for (const id of live) cluster.handleReady(id)
          cluster.deliverAll()
          break
        case 'tick': {
          if (rand.int(3) !== 0) cluster.tickAll()
          else cluster.tick(choose(rand, live) ?? NONE)
          break
        }
        case 'ready': {
          // One node, or every node in turn.
          for (const id of rand.int(2) === 0 ? live : [choose(rand, live)]) {
            if (id === undefined) break
            const crashAt = rand.int(100) === 0 ? choose(rand, CRASH_POINTS) : undefined
            if (cluster.handleReady(id, crashAt) && crashAt) stats.crashes++
          }
          break
        }
        case 'deliver': {
          if (cluster.inflight.length === 0) break
          const mode = rand.int(4)
          if (mode === 0) cluster.deliverAt(rand.int(cluster.inflight.length)) // reordering
          else if (mode === 1) cluster.deliverAt(0)
          else cluster.deliverAll(choose(rand, ids)) // a burst to one node, in order
          break
        }
        case 'drop':
          if (cluster.inflight.length > 0) cluster.dropAt(rand.int(cluster.inflight.length))
          break
        case 'duplicate':
          if (cluster.inflight.length > 0) cluster.deliver(cluster.inflight[rand.int(cluster.inflight.length)])
          break
        case 'propose': {
          const id = choose(rand, live)
          // Mostly propose where a leader is known (dropped proposals throw, which is slow); sometimes anywhere.
          if (id === undefined || (cluster.get(id).node.raft.lead === NONE && rand.int(4) !== 0)) break
          try {
            cluster.get(id).node.propose(encoder.encode(`p${seed}-${proposals++}`))
          } catch (e) {
            if (!(e instanceof ProposalDroppedError)) throw e
          }
          break
        }
        case 'read': {
          // Half of the reads go to a node that believes it leads (possibly a deposed leader in a minority:
          // the dangerous case for linearizability).
          const leaders = live.filter((x) => cluster.get(x).node.raft.state === StateType.Leader)
          const id = rand.int(2) === 0 && leaders.length > 0 ? choose(rand, leaders) : choose(rand, live)
          if (id === undefined) break
          const ctx = encoder.encode(`r${reads++}`)
          inv.readStarted(ctx)
          cluster.get(id).node.readIndex(ctx)
          break
        }
        case 'partition': {
          const shuffled = [...ids].sort(() => rand.next() - 0.5)
          const cut = 1 + rand.int(Math.max(1, shuffled.length - 1))
          cluster.heal()
          if (rand.int(2) === 0) cluster.isolate(shuffled[0])
          else cluster.partition(shuffled.slice(0, cut), shuffled.slice(cut))
          break
        }
        case 'heal':
          cluster.heal()
          break
        case 'crash': {
          const id = choose(rand, live)
          // Keep a majority up so that schedules make progress.
          if (id !== undefined && cluster.down.size < (stormy ? 2 : 1)) {
            cluster.crash(id)
            stats.crashes++
          }
          break
        }
        case 'restart': {
          const id = choose(rand, [...cluster.down])
          if (id !== undefined) cluster.restart(id)
          break
        }
        case 'compact': {
          const id = choose(rand, live)
          if (id !== undefined && cluster.compact(id, rand.int(3))) stats.compactions++
          break
        }
        case 'conf': {
          const leader = cluster.leader()
          if (!leader) break
          const cs = leader.node.raft.status().config
          const kind = rand.int(4)
          try {
            if (kind === 0 && cluster.nodes.size < 7) {
              const id = nextId++
              cluster.addNode(id)
              leader.node.proposeConfChange({ type: rand.int(2) === 0 ? ConfChangeType.AddLearnerNode : ConfChangeType.AddNode, nodeId: id, context: new Uint8Array(0) })
            } else if (kind === 1 && cs.learners.length > 0) {
              leader.node.proposeConfChange({ type: ConfChangeType.AddNode, nodeId: choose(rand, cs.learners) as NodeId, context: new Uint8Array(0) })
            } else if (kind === 2 && cs.voters.length > 3) {
              leader.node.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: choose(rand, cs.voters) as NodeId, context: new Uint8Array(0) })
            } else if (kind === 3 && cs.learners.length > 0) {
              leader.node.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId: choose(rand, cs.learners) as NodeId, context: new Uint8Array(0) })
            } else break
            stats.confChanges++
          } catch (e) {
            if (!(e instanceof ProposalDroppedError)) throw e
          }
          break
        }
        case 'transfer': {
          const leader = cluster.leader()
          const to = leader ? choose(rand, leader.node.raft.status().config.voters) : undefined
          if (leader && to !== undefined) leader.node.transferLeader(to)
          break
        }
      }
      inv.check(step % 16 === 0)
    }
    inv.check(true)
    stats.livenessTicks = checkLiveness(cluster, inv)
    inv.check(true)
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e))
    err.message = `seed ${seed} (preVote=${preVote} checkQuorum=${checkQuorum} voters=${voters.length}): ${err.message}`
    throw err
  }
  stats.leaders = inv.leadersSeen
  stats.committed = inv.globalCommit
  stats.readsServed = inv.readsServed
  return stats
}

/**
 * Liveness: heal the network and restart every crashed member. With a stable majority, a leader that every
 * live voter follows must emerge and commit a new proposal within LIVENESS_TICKS ticks. Returns the ticks used.
 */
function checkLiveness(cluster: Cluster, inv: Invariants): number {
  cluster.heal()
  for (const id of [...cluster.down]) cluster.restart(id)
  cluster.stabilize()
  let proposed = false
  let target = 0
  for (let t = 0; t < LIVENESS_TICKS; t++) {
    cluster.tickAll()
    cluster.stabilize()
    inv.check(false)
    const leaderId = cluster.agreedLeader()
    if (leaderId === NONE) continue
    const leader = cluster.get(leaderId)
    if (!proposed) {
      try {
        leader.node.propose(encoder.encode('liveness'))
        proposed = true
        target = leader.node.raft.raftLog.lastIndex()
      } catch (e) {
        if (!(e instanceof ProposalDroppedError)) throw e
      }
      cluster.stabilize()
    }
    if (proposed && cluster.liveNodes().every((n) => n.sm.applied >= target || !leader.node.raft.trk.progress.has(n.id))) return t
  }
  const states = cluster.liveNodes().map((n) => `${n.id}:${n.node.raft.state}/t${n.node.raft.term}/lead${n.node.raft.lead}/applied${n.sm.applied}`)
  const leader = cluster.leader()
  if (leader) states.push(describeStatus(leader.node.status()), `target=${target}`)
  throw new Error(`liveness: no leader committed a proposal within ${LIVENESS_TICKS} ticks after healing [${states.join(' ')}]`)
}
