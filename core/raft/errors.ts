// Expected outcomes of the RawNode API, as error classes with a `code` (STYLE §7).

/** Why a proposal was not appended; the host may retry later (etcd: ErrProposalDropped). */
export type ProposalDropReason =
  | 'no-leader'
  | 'leader-transfer'
  | 'not-in-config'
  | 'uncommitted-size-limit'
  | 'candidate'

/** A proposal (or conf change) was dropped and will never be committed. */
export class ProposalDroppedError extends Error {
  readonly code = 'RAFT_PROPOSAL_DROPPED'
  constructor(readonly reason: ProposalDropReason) {
    super(`raft proposal dropped: ${reason}`)
  }
}

/** A message that only the local node may generate (MsgHup, MsgBeat, ...) arrived through step(). */
export class StepLocalMessageError extends Error {
  readonly code = 'RAFT_STEP_LOCAL_MSG'
  constructor(type: string) {
    super(`raft: cannot step raft local message ${type}`)
  }
}

/** A response arrived from a node that is not in the configuration. */
export class StepPeerNotFoundError extends Error {
  readonly code = 'RAFT_STEP_PEER_NOT_FOUND'
  constructor(from: bigint) {
    super(`raft: cannot step as peer ${from.toString(16)} not found`)
  }
}

/** The Config is invalid. */
export class RaftConfigError extends Error {
  readonly code = 'RAFT_INVALID_CONFIG'
}
