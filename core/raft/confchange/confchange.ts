// Single-step membership changes. Ported from etcd-io/raft confchange/confchange.go and restore.go
// (Apache-2.0), without joint consensus: like etcd's default ConfChangeV1, at most one voter changes at a time.
import { ConfChangeType, type ConfChange, type ConfState, type NodeId } from '../types'
import { cloneConfig, type TrackerConfig } from '../tracker/tracker'
import { Progress } from '../tracker/progress'

/** A membership change was rejected; the active configuration is left untouched. */
export class ConfChangeError extends Error {
  readonly code = 'RAFT_CONF_CHANGE_REJECTED'
}

/** The configuration and progress map a change produces; swap them in only as a whole. */
export interface ChangeResult {
  config: TrackerConfig
  progress: Map<NodeId, Progress>
}

/** Parameters for new Progress entries. */
export interface ChangerContext {
  lastIndex: number
  maxInflight: number
  maxInflightBytes: number
}

/**
 * Applies one change to copies of `config` and `progress` (the originals are never modified). Throws
 * ConfChangeError if the result would change more than one voter or leave no voter.
 */
export function applySimple(
  config: TrackerConfig,
  progress: ReadonlyMap<NodeId, Progress>,
  cc: ConfChange,
  ctx: ChangerContext,
): ChangeResult {
  const cfg = cloneConfig(config)
  const prs = cloneProgress(progress)
  if (cc.nodeId === 0n) return { config: cfg, progress: prs } // etcd compat: a change for node 0 is a no-op
  switch (cc.type) {
    case ConfChangeType.AddNode:
      makeVoter(cfg, prs, cc.nodeId, ctx)
      break
    case ConfChangeType.AddLearnerNode:
      makeLearner(cfg, prs, cc.nodeId, ctx)
      break
    case ConfChangeType.RemoveNode:
      cfg.voters.delete(cc.nodeId)
      cfg.learners.delete(cc.nodeId)
      prs.delete(cc.nodeId)
      break
    case ConfChangeType.UpdateNode:
      break
  }
  if (cfg.voters.size === 0) throw new ConfChangeError('removed all voters')
  let changed = 0
  for (const id of cfg.voters) if (!config.voters.has(id)) changed++
  for (const id of config.voters) if (!cfg.voters.has(id)) changed++
  if (changed > 1) throw new ConfChangeError('more than one voter changed without entering joint config')
  return { config: cfg, progress: prs }
}

/** Builds the configuration described by a snapshot's ConfState, one single-step change at a time. */
export function restoreConfState(cs: ConfState, ctx: ChangerContext): ChangeResult {
  let result: ChangeResult = { config: { voters: new Set(), learners: new Set() }, progress: new Map() }
  for (const id of cs.voters) {
    result = applySimple(result.config, result.progress, { type: ConfChangeType.AddNode, nodeId: id, context: new Uint8Array(0) }, ctx)
  }
  for (const id of cs.learners) {
    result = applySimple(result.config, result.progress, { type: ConfChangeType.AddLearnerNode, nodeId: id, context: new Uint8Array(0) }, ctx)
  }
  return result
}

function newProgress(ctx: ChangerContext, isLearner: boolean): Progress {
  // etcd: Next = max(lastIndex, 1) so a new follower is probed at the last index; RecentActive = true so a
  // CheckQuorum right after the add does not count the new node as dead.
  const pr = new Progress(Math.max(ctx.lastIndex, 1), ctx.maxInflight, ctx.maxInflightBytes, isLearner)
  pr.recentActive = true
  return pr
}

function makeVoter(cfg: TrackerConfig, prs: Map<NodeId, Progress>, id: NodeId, ctx: ChangerContext): void {
  const pr = prs.get(id)
  if (!pr) prs.set(id, newProgress(ctx, false))
  else pr.isLearner = false
  cfg.learners.delete(id)
  cfg.voters.add(id)
}

function makeLearner(cfg: TrackerConfig, prs: Map<NodeId, Progress>, id: NodeId, ctx: ChangerContext): void {
  const pr = prs.get(id)
  if (!pr) prs.set(id, newProgress(ctx, true))
  else if (pr.isLearner) return
  else pr.isLearner = true
  cfg.voters.delete(id)
  cfg.learners.add(id)
}

function cloneProgress(progress: ReadonlyMap<NodeId, Progress>): Map<NodeId, Progress> {
  const out = new Map<NodeId, Progress>()
  for (const [id, pr] of progress) out.set(id, pr.clone())
  return out
}
