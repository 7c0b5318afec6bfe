import { applyDrill, drillReport, drillsEnabled, enableDrills, type DrillReport } from '../../core/cluster/drills'
import { ClusterOperationError, LocalCluster, type MemberCommand } from '../../core/cluster/launcher'
import { LinkProxyError } from '../../core/cluster/link-proxy'
import type { DrillInput, DrillOutcome, DrillState } from '../api/admin-api'
import type { LocalClusterService } from './local-clusters'
import { ServiceError } from './result'

// Failure drills for the app's local clusters (issue 15): core/cluster/drills.ts plus the watching the page
// needs: after a drill the service waits (a few election timeouts at most) until the side holding quorum
// agrees on a leader, then probes who can write.

/** What the drill service needs. */
export interface DrillServiceDeps {
  localClusters: LocalClusterService
  quorumCommand: MemberCommand
  /** Deadline of each probe write in ms (default 3,000). */
  probeTimeoutMs?: number
}

/** The leader followed by most members of `names` (or of every member when `names` is null). */
function commonLeader(report: DrillReport, names: readonly string[] | null): string {
  const counts = new Map<string, number>()
  for (const member of report.members) {
    if (!member.leader || (names !== null && !names.includes(member.name))) continue
    counts.set(member.leader, (counts.get(member.leader) ?? 0) + 1)
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? ''
}

/** Drill operations on local clusters. */
export class DrillService {
  constructor(private readonly deps: DrillServiceDeps) {}

  /** The cluster's members, faults and quorum maths (with a probe write through each member when asked). */
  async state(name: string, probeWrites: boolean): Promise<DrillState> {
    const cluster = this.open(name)
    return this.toState(name, cluster, await this.report(cluster, probeWrites))
  }

  /** Enables network drills (link proxies; each running member restarts once). */
  async enable(name: string): Promise<DrillState> {
    const cluster = this.open(name)
    await this.guard(() => enableDrills(cluster))
    return this.state(name, false)
  }

  /** Applies a drill, waits for the leader to settle on the side holding quorum, then probes writes. */
  async run(name: string, input: DrillInput): Promise<DrillOutcome> {
    const cluster = this.open(name)
    if (!drillsEnabled(cluster)) throw new ServiceError('invalid_argument', `network drills are not enabled on "${name}" yet`)
    const before = commonLeader(await this.report(cluster, false), null)
    const members = input.members.length > 0 ? input.members : input.kind === 'partition' || input.kind === 'split' ? (before ? [before] : []) : []
    const analysis = await this.guard(() =>
      applyDrill(cluster, { kind: input.kind, members, direction: input.direction, ms: input.ms, jitterMs: input.jitterMs, rate: input.rate }),
    )
    const started = Date.now()
    const waitMs = cluster.manifest.electionMs * 15
    let leader = before
    if (analysis.majoritySide) {
      while (Date.now() - started < waitMs) {
        const report = await this.report(cluster, false)
        const side = analysis.majoritySide
        const views = report.members.filter((member) => side.includes(member.name))
        leader = commonLeader(report, side)
        if (leader && side.includes(leader) && views.every((member) => member.leader === leader)) break
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
    const waitedMs = Date.now() - started
    const state = this.toState(name, cluster, await this.report(cluster, true))
    return { leaderBefore: before, leaderAfter: state.leader, leaderChanged: state.leader !== '' && state.leader !== before, waitedMs, state }
  }

  private open(name: string): LocalCluster {
    if (!this.deps.localClusters.exists(name)) throw new ServiceError('not_found', `no local cluster named "${name}"`)
    return LocalCluster.open(this.deps.localClusters.dir(name), this.deps.quorumCommand)
  }

  private report(cluster: LocalCluster, probeWrites: boolean): Promise<DrillReport> {
    return this.guard(() => drillReport(cluster, { probeWrites, timeoutMs: this.deps.probeTimeoutMs ?? 3000 }))
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (error instanceof ClusterOperationError || error instanceof LinkProxyError) throw new ServiceError('unavailable', error.message)
      throw error
    }
  }

  private toState(name: string, cluster: LocalCluster, report: DrillReport): DrillState {
    const { analysis } = report
    const majority = analysis.majoritySide
    return {
      cluster: name,
      enabled: drillsEnabled(cluster),
      leader: commonLeader(report, majority),
      members: report.members.map((member) => ({ ...member, side: majority?.includes(member.name) ? 'majority' : 'minority' })),
      faults: Object.entries(report.faults).map(([key, fault]) => {
        const [from, to] = key.split('>')
        return { from, to, ...fault }
      }),
      voters: analysis.voters,
      quorumSize: analysis.quorumSize,
      majoritySide: majority,
      explanation: analysis.explanation,
      takenAt: Date.now(),
    }
  }
}
