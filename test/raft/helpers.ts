// Helpers for unit tests that drive RawNodes by hand (STYLE §8).
import { Cluster, type NodeOptions } from './sim/cluster'
import { MessageType, StateType, type Message, type NodeId } from '../../core/raft/types'

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/** A bootstrapped cluster of `ids` with a stable leader `leader` elected by campaign + stabilize. */
export function clusterWithLeader(ids: NodeId[], leader: NodeId, options: NodeOptions = {}, learners: NodeId[] = []): Cluster {
  const c = Cluster.bootstrap(ids, options, 7, learners)
  c.get(leader).node.campaign()
  c.stabilize()
  return c
}

/** The in-flight messages of one type (optionally to one node). */
export function inflightOf(c: Cluster, type: MessageType, to?: NodeId): Message[] {
  return c.inflight.filter((m) => m.type === type && (to === undefined || m.to === to))
}

/** Runs Ready cycles (without delivering) on every node so their outgoing messages land in the queue. */
export function flush(c: Cluster): void {
  for (const id of c.nodes.keys()) c.handleReady(id)
}

export function stateOf(c: Cluster, id: NodeId): StateType {
  return c.get(id).node.raft.state
}

/** Ticks `id` until it campaigns (its randomized timeout is at most 2*electionTick). */
export function tickUntilCampaign(c: Cluster, id: NodeId, electionTick = 10): void {
  for (let i = 0; i < 2 * electionTick + 1; i++) {
    if (c.get(id).node.raft.state !== StateType.Follower) return
    c.tick(id)
  }
}
