// Pending ReadIndex requests awaiting heartbeat quorum. Ported from etcd-io/raft read_only.go (Apache-2.0).
import { assert } from '../util/assert'
import type { Message, NodeId } from './types'
import { bytesKey } from './util'

/**
 * 'safe': the leader confirms leadership with a heartbeat round before answering (Raft thesis §6.4).
 * 'lease-based': the leader answers from its lease (requires CheckQuorum; unsafe under unbounded clock drift).
 */
export type ReadOnlyOption = 'safe' | 'lease-based'

/** A ReadIndex request, the commit index when it arrived, and who has acknowledged the leader since. */
export interface ReadIndexStatus {
  req: Message
  index: number
  acks: Map<NodeId, boolean>
}

/** FIFO of pending ReadIndex requests keyed by their context. */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>()
  private queue: string[] = []

  constructor(readonly option: ReadOnlyOption) {}

  /** Registers request `m` (its context in m.context) at read index `index`. Duplicate contexts are ignored. */
  addRequest(index: number, m: Message): void {
    const key = bytesKey(m.context)
    if (this.pending.has(key)) return
    this.pending.set(key, { index, req: m, acks: new Map() })
    this.queue.push(key)
  }

  /** Records a heartbeat ack from `id` for `context`; returns the acks so far, or undefined if unknown. */
  recvAck(id: NodeId, context: Uint8Array): Map<NodeId, boolean> | undefined {
    const rs = this.pending.get(bytesKey(context))
    if (!rs) return undefined
    rs.acks.set(id, true)
    return rs.acks
  }

  /**
   * Removes and returns every request up to and including the one with `context`: once a quorum acked a
   * later heartbeat, all earlier requests are confirmed too.
   */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = bytesKey(context)
    const i = this.queue.indexOf(key)
    if (i < 0) return []
    const done = this.queue.slice(0, i + 1)
    this.queue = this.queue.slice(i + 1)
    return done.map((k) => {
      const rs = this.pending.get(k)
      assert(rs !== undefined, 'cannot find corresponding read state from pending map')
      this.pending.delete(k)
      return rs
    })
  }

  /** The context of the newest pending request (piggybacked on heartbeats), if any. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined
    return this.pending.get(this.queue[this.queue.length - 1])?.req.context
  }

  pendingCount(): number {
    return this.queue.length
  }
}
