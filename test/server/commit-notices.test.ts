import { describe, expect, it } from 'vitest'
import { newMessage } from '../../core/raft/raft'
import { EntryType, MessageType, type Message, type NodeId } from '../../core/raft/types'
import { CommitNoticeDelay } from '../../core/server/commit-notices'

// A leader's entry-less appends (commit notices) wait a moment for a later message that carries the same
// commit index, and are never lost or sent out of order with the other messages to their member.

const message = ({ type, ...fields }: Partial<Message> & Pick<Message, 'type' | 'to'>): Message => newMessage(type, { from: 1n, term: 2, ...fields })
const notice = (to: NodeId, commit: number, term = 2) => message({ type: MessageType.MsgApp, to, index: 20, logTerm: 2, entries: [], commit, term })
const append = (to: NodeId, commit: number) =>
  message({ type: MessageType.MsgApp, to, index: 20, logTerm: 2, entries: [{ index: 21, term: 2, type: EntryType.Normal, data: new Uint8Array(1) }], commit })
const heartbeat = (to: NodeId, commit: number) => message({ type: MessageType.MsgHeartbeat, to, commit })
const describeSent = (m: Message) => `${m.to}:${MessageType[m.type]}${m.type === MessageType.MsgApp ? `(${m.entries.length})` : ''}@${m.commit}`

function recorder(delayMs = 5) {
  const sent: string[][] = []
  const delay = new CommitNoticeDelay(delayMs, (messages) => sent.push(messages.map(describeSent)))
  return { sent, delay }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('CommitNoticeDelay', () => {
  it('sends a held notice after the delay when nothing follows it, and everything else at once', async () => {
    const { sent, delay } = recorder()
    delay.route([append(2n, 20), notice(3n, 21), heartbeat(2n, 21)], true)
    expect(sent).toEqual([['2:MsgApp(1)@20', '2:MsgHeartbeat@21']])
    await wait(20)
    expect(sent).toEqual([['2:MsgApp(1)@20', '2:MsgHeartbeat@21'], ['3:MsgApp(0)@21']])
  })

  it('a later append or heartbeat to the same member with a commit index as high replaces the notice', async () => {
    const { sent, delay } = recorder()
    delay.route([notice(2n, 21), notice(3n, 21)], true)
    delay.route([append(2n, 22)], true)
    delay.route([heartbeat(3n, 21)], true)
    await wait(20)
    expect(sent).toEqual([['2:MsgApp(1)@22'], ['3:MsgHeartbeat@21']])
  })

  it('a later notice replaces the earlier one; any other message goes out after the notice, keeping each member in order', async () => {
    const { sent, delay } = recorder()
    delay.route([notice(2n, 21)], true)
    delay.route([notice(2n, 22)], true)
    delay.route([heartbeat(2n, 20)], true) // a lower commit index (min(match, commit)) does not say what the notice says
    delay.route([notice(3n, 22)], true)
    delay.route([message({ type: MessageType.MsgTimeoutNow, to: 3n })], true)
    expect(sent).toEqual([
      ['2:MsgApp(0)@22', '2:MsgHeartbeat@20'],
      ['3:MsgApp(0)@22', '3:MsgTimeoutNow@0'],
    ])
    await wait(20)
    expect(sent).toHaveLength(2)
  })

  it('a notice from an older term is sent, not replaced by a newer term message', () => {
    const { sent, delay } = recorder()
    delay.route([notice(2n, 21, 2)], true)
    delay.route([message({ type: MessageType.MsgHeartbeat, to: 2n, commit: 30, term: 3 })], true)
    expect(sent).toEqual([['2:MsgApp(0)@21', '2:MsgHeartbeat@30']])
  })

  it('holds nothing when told not to (a follower or candidate), and stop drops what is held', async () => {
    const { sent, delay } = recorder()
    delay.route([notice(2n, 21)], false)
    expect(sent).toEqual([['2:MsgApp(0)@21']])
    delay.route([notice(3n, 21)], true)
    delay.stop()
    await wait(20)
    expect(sent).toHaveLength(1)
  })
})
