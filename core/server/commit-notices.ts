import { MessageType, type Message, type NodeId } from '../raft/types'

/**
 * A leader's outgoing messages with its commit notices held back for a moment. Raft answers every commit
 * advance with an append to each follower (etcd raft bcastAppend), which carries no entries when the follower
 * already has them all: it only tells the follower the new commit index. Each one costs a send, a Ready on the
 * follower (apply) and an answer back, and under a client that writes one key after the other it comes between
 * two writes that would carry the same commit index a moment later anyway.
 *
 * So an entry-less MsgApp is held for `delayMs`; a later message to the same member that carries a commit index
 * at least as high (an append or a heartbeat) replaces it, any other message to that member sends it first
 * (each member still receives its messages in order), and the timer sends what is left. A held message is
 * only late, never lost, so followers apply at most `delayMs` later than they would have, and Raft does not
 * depend on when an append arrives (the network may delay it as much).
 */
export class CommitNoticeDelay {
  private readonly held = new Map<NodeId, Message>()
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly delayMs: number,
    private readonly send: (messages: Message[]) => void,
  ) {}

  /** Sends `messages` (one Ready's, in order), holding back entry-less appends when `hold` is set. */
  route(messages: readonly Message[], hold: boolean): void {
    const out: Message[] = []
    for (const message of messages) {
      const held = this.held.get(message.to)
      if (held) {
        this.held.delete(message.to)
        const carriesCommit = message.type === MessageType.MsgApp || message.type === MessageType.MsgHeartbeat
        if (!(carriesCommit && message.term === held.term && message.commit >= held.commit)) out.push(held)
      }
      if (hold && message.type === MessageType.MsgApp && message.entries.length === 0) this.held.set(message.to, message)
      else out.push(message)
    }
    if (out.length > 0) this.send(out)
    if (this.held.size > 0 && !this.timer) this.timer = setTimeout(() => this.flush(), this.delayMs)
  }

  /** Sends every held message now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (this.held.size === 0) return
    const out = [...this.held.values()]
    this.held.clear()
    this.send(out)
  }

  /** Drops the held messages and the timer (the host stopped). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.held.clear()
  }
}
