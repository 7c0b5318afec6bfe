// Failure drills on local clusters and the best-practice advisor (issue 15). DTOs follow admin-api.ts's
// rules; re-exported by admin-api.ts.

import type { Result } from './admin-api'
import type { Finding, FixTarget, Severity } from '../../core/advisor/types'
import type { DrillMemberView } from '../../core/cluster/drills'

export type { Finding as AdvisorFinding, FixTarget as AdvisorFixTarget, Severity as AdvisorSeverity }

/** Network drills: cut members off, split the cluster, slow or lossy links, heal everything. */
export type DrillKind = 'partition' | 'split' | 'latency' | 'loss' | 'heal'

/** What the drills page sends. Fields a kind does not use are ignored. */
export interface DrillInput {
  kind: DrillKind
  /** partition/split: the members cut off (empty: the leader); latency/loss: whose links (empty: all). */
  members: string[]
  /** partition/split: `both`; `out` their messages are lost; `in` nothing reaches them. */
  direction: 'both' | 'in' | 'out'
  /** latency: added round trip in ms. */
  ms: number
  /** latency: added round-trip jitter in ms. */
  jitterMs: number
  /** loss: probability in [0, 1]. */
  rate: number
}

/** The fault on the bytes from one member to another. */
export interface DrillLinkFault {
  from: string
  to: string
  blocked: boolean
  delayMs: number
  jitterMs: number
  lossRate: number
}

/** One member during a drill: what it reports (core/cluster/drills.ts DrillMemberView) and its side. */
export interface DrillMemberState extends DrillMemberView {
  /** Which side of a partition the quorum maths puts it on. */
  side: 'majority' | 'minority'
}

/** A local cluster under drill: members, link faults and the quorum maths in plain words. */
export interface DrillState {
  cluster: string
  /** Whether peer traffic goes through the link proxies (network drills possible). */
  enabled: boolean
  /** The leader most answering members follow; empty when none. */
  leader: string
  members: DrillMemberState[]
  faults: DrillLinkFault[]
  voters: number
  quorumSize: number
  /** Members of the side holding quorum, or null when no side does. */
  majoritySide: string[] | null
  explanation: string
  takenAt: number
}

/** What a drill did: the leader before and after (waiting up to 15 election timeouts for the quorum side to agree), and the new state. */
export interface DrillOutcome {
  leaderBefore: string
  leaderAfter: string
  leaderChanged: boolean
  /** How long the service watched for a new leader, in ms. */
  waitedMs: number
  state: DrillState
}

/** The advisor's grading of one connected cluster. */
export interface AdvisorReportDto {
  connectionId: string
  /** 100 minus 20 per critical and 6 per warning finding, at least 0. */
  score: number
  /** Worst first. */
  findings: Finding[]
  clusterId: string
  members: number
  takenAt: number
}

/** The drills and advisor part of the admin contract. */
export interface DrillsApi {
  /** Members, faults and quorum maths of a local cluster; with `probeWrites` one write goes through each member. */
  getDrillState(cluster: string, probeWrites: boolean): Promise<Result<DrillState>>
  /** Routes the cluster's peer traffic through link proxies (restarts each running member once). */
  enableDrills(cluster: string): Promise<Result<DrillState>>
  /** Applies a network drill, watches for a leader change and probes who can write. */
  runDrill(cluster: string, input: DrillInput): Promise<Result<DrillOutcome>>
  /** Grades a connected cluster against etcd's HA best practices. */
  adviseConnection(connectionId: string): Promise<Result<AdvisorReportDto>>
}

/** Methods of DrillsApi, spread into the contract's method list. */
export const DRILL_METHOD_FLAGS = {
  getDrillState: true,
  enableDrills: true,
  runDrill: true,
  adviseConnection: true,
} as const satisfies Record<keyof DrillsApi, true>
