// Raft data types, modelled on etcd-io/raft's raftpb. Terms and indexes are `number` (safe integers);
// node IDs are `bigint` (etcd member IDs are uint64). Payloads are opaque bytes.

/** A node (member) ID. 0n means "none". */
export type NodeId = bigint
export const NONE: NodeId = 0n

export enum EntryType {
  Normal = 0,
  /** data is an encoded ConfChange (single-step membership change). */
  ConfChange = 1,
}

/** One log entry. Invariant: within a log, index increases by 1 and term never decreases. */
export interface Entry {
  term: number
  index: number
  type: EntryType
  /** Opaque payload; empty for the leader's no-op entry. Never mutated after creation. */
  data: Uint8Array
}

/** Persistent state that must be durable before any message that depends on it is sent (Raft §5, Figure 2). */
export interface HardState {
  term: number
  /** The node voted for in `term`, or NONE. */
  vote: NodeId
  commit: number
}

export enum StateType {
  Follower = 0,
  Candidate = 1,
  Leader = 2,
  PreCandidate = 3,
}

/** Volatile state for the UI and logs; never persisted. */
export interface SoftState {
  lead: NodeId
  raftState: StateType
}

/** The membership of the cluster. Learners never vote and never count toward quorum. */
export interface ConfState {
  voters: NodeId[]
  learners: NodeId[]
}

export interface SnapshotMetadata {
  confState: ConfState
  /** The last log index the snapshot covers. */
  index: number
  term: number
}

/** A state-machine snapshot plus the Raft metadata needed to continue the log after it. */
export interface Snapshot {
  /** Opaque state-machine image (the host decides the format; may be a reference such as a file id). */
  data: Uint8Array
  metadata: SnapshotMetadata
}

export enum ConfChangeType {
  AddNode = 0,
  RemoveNode = 1,
  UpdateNode = 2,
  AddLearnerNode = 3,
}

/** A single-step membership change. `context` carries host data (e.g. the member's peer URLs). */
export interface ConfChange {
  type: ConfChangeType
  nodeId: NodeId
  context: Uint8Array
}

export enum MessageType {
  MsgHup = 0,
  MsgBeat = 1,
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
}

/** A Raft message. Fields not used by a message type are 0 / empty. */
export interface Message {
  type: MessageType
  to: NodeId
  from: NodeId
  term: number
  /** Term of the entry at `index` (MsgApp: the entry before `entries`). */
  logTerm: number
  index: number
  entries: Entry[]
  commit: number
  snapshot?: Snapshot
  reject: boolean
  /** On rejection: the follower's hint for the next index to probe (fast back-off). */
  rejectHint: number
  /** ReadIndex request context, or a leadership-transfer marker on MsgVote. */
  context: Uint8Array
}

/** The result of a ReadIndex request: once `index` is applied, a read for `requestCtx` is linearizable. */
export interface ReadState {
  index: number
  requestCtx: Uint8Array
}

/**
 * Everything the host must do, in this order: persist `snapshot`, `hardState` and `entries` in one durable
 * write; then send `messages`; then apply `snapshot` (if any) and `committedEntries`; then call `advance()`.
 */
export interface Ready {
  softState?: SoftState
  hardState?: HardState
  snapshot?: Snapshot
  entries: Entry[]
  committedEntries: Entry[]
  messages: Message[]
  readStates: ReadState[]
  /** False when only the commit index moved, so the write may skip fsync. */
  mustSync: boolean
}
