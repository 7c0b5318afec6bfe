// Readable text for Raft values, for logs and transcript tests. Modelled on etcd-io/raft util.go
// (DescribeMessage, DescribeEntry, DescribeReady; Apache-2.0). Node ids are printed in hex, as etcd does.
import { decodeConfChange } from './confchange/codec'
import type { Status } from './raft'
import { ProgressState } from './tracker/progress'
import {
  ConfChangeType,
  EntryType,
  MessageType,
  StateType,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type Ready,
  type Snapshot,
  type SoftState,
} from './types'

/** A node id as etcd prints it (hex). */
export function describeId(id: NodeId): string {
  return id.toString(16)
}

/** Bytes as a quoted string when printable ASCII, else hex. */
export function describeBytes(b: Uint8Array): string {
  let printable = true
  for (const c of b) if (c < 0x20 || c > 0x7e) printable = false
  if (printable) return JSON.stringify(String.fromCharCode(...b))
  return '0x' + Array.from(b, (c) => c.toString(16).padStart(2, '0')).join('')
}

const confChangeLetter: Record<ConfChangeType, string> = {
  [ConfChangeType.AddNode]: 'v',
  [ConfChangeType.RemoveNode]: 'r',
  [ConfChangeType.UpdateNode]: 'u',
  [ConfChangeType.AddLearnerNode]: 'l',
}

/** `term/index EntryNormal "data"`; conf changes as etcd's short form (`v2` add voter, `l3` learner, `r2` remove). */
export function describeEntry(e: Entry): string {
  if (e.type === EntryType.ConfChange) {
    const cc = decodeConfChange(e.data)
    return `${e.term}/${e.index} EntryConfChange ${confChangeLetter[cc.type]}${describeId(cc.nodeId)}`
  }
  return `${e.term}/${e.index} EntryNormal ${describeBytes(e.data)}`
}

/** One line per entry (describeEntry). */
export function describeEntries(entries: readonly Entry[]): string {
  return entries.map(describeEntry).join('\n')
}

/** `Voters:[1 2 3] Learners:[4]` (learners only when present). */
export function describeConfState(cs: ConfState): string {
  let s = `Voters:[${cs.voters.map(describeId).join(' ')}]`
  if (cs.learners.length > 0) s += ` Learners:[${cs.learners.map(describeId).join(' ')}]`
  return s
}

/** The snapshot's metadata: index, term and ConfState (not its data). */
export function describeSnapshot(s: Snapshot): string {
  const m = s.metadata
  return `Index:${m.index} Term:${m.term} ConfState:${describeConfState(m.confState)}`
}

/** One line: `1->2 MsgApp Term:1 Log:1/3 Commit:3 Entries:[1/4 EntryNormal "x"]`. */
export function describeMessage(m: Message): string {
  let s = `${describeId(m.from)}->${describeId(m.to)} ${MessageType[m.type]} Term:${m.term} Log:${m.logTerm}/${m.index}`
  if (m.reject) s += ` Rejected (Hint: ${m.rejectHint})`
  if (m.commit !== 0) s += ` Commit:${m.commit}`
  if (m.entries.length > 0) s += ` Entries:[${m.entries.map(describeEntry).join(', ')}]`
  if (m.context.length > 0) s += ` Context:${describeBytes(m.context)}`
  if (m.snapshot) s += ` Snapshot: ${describeSnapshot(m.snapshot)}`
  return s
}

/** `Term:2 Vote:1 Commit:4`. */
export function describeHardState(hs: HardState): string {
  return `Term:${hs.term} Vote:${describeId(hs.vote)} Commit:${hs.commit}`
}

/** `StateLeader`, `StateFollower`, ... as etcd prints StateType. */
export function describeRaftState(s: StateType): string {
  return `State${StateType[s]}`
}

/** `Lead:1 State:StateLeader`. */
export function describeSoftState(ss: SoftState): string {
  return `Lead:${describeId(ss.lead)} State:${describeRaftState(ss.raftState)}`
}

/** A multi-line description of a Ready, sections in the order the host handles them. */
export function describeReady(rd: Ready): string {
  const lines: string[] = []
  if (rd.softState) lines.push(describeSoftState(rd.softState))
  if (rd.hardState) lines.push(`HardState ${describeHardState(rd.hardState)}`)
  if (rd.readStates.length > 0) {
    lines.push(`ReadStates: ${rd.readStates.map((r) => `${describeBytes(r.requestCtx)}@${r.index}`).join(' ')}`)
  }
  if (rd.entries.length > 0) lines.push('Entries:', ...rd.entries.map(describeEntry))
  if (rd.snapshot) lines.push(`Snapshot ${describeSnapshot(rd.snapshot)}`)
  if (rd.committedEntries.length > 0) lines.push('CommittedEntries:', ...rd.committedEntries.map(describeEntry))
  if (rd.messages.length > 0) lines.push('Messages:', ...rd.messages.map(describeMessage))
  return lines.length > 0 ? lines.join('\n') : '<empty Ready>'
}

/** Node state plus, on a leader, one line per tracked node's progress. */
export function describeStatus(st: Status): string {
  const lines = [
    `${describeId(st.id)} ${describeRaftState(st.raftState)} term=${st.term} vote=${describeId(st.vote)} lead=${describeId(st.lead)} commit=${st.commit} applied=${st.applied}`,
  ]
  for (const [id, pr] of st.progress) {
    let s = `${describeId(id)}: State${ProgressState[pr.state]} match=${pr.match} next=${pr.next}`
    if (pr.isLearner) s += ' learner'
    if (pr.paused) s += ' paused'
    lines.push(s)
  }
  if (st.leadTransferee !== 0n) lines.push(`leadTransferee=${describeId(st.leadTransferee)}`)
  return lines.join('\n')
}
