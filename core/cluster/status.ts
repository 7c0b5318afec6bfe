import { EtcdClient } from '../client'
import { formatId } from '../server/ids'
import { clusterTlsFiles, type LocalCluster } from './launcher'

/** What `quorum cluster status` shows for one member. */
export interface MemberStatusRow {
  name: string
  id: string
  clientURL: string
  pid: number
  /** 'leader' | 'follower' | 'learner' | 'stopped' | 'paused' | 'unreachable' */
  role: string
  healthy: boolean
  raftTerm: number | null
  raftIndex: number | null
  appliedIndex: number | null
  dbSizeBytes: number | null
  dbSizeInUseBytes: number | null
  version: string
  errors: string[]
}

/** Cluster-wide view: members plus quorum arithmetic. */
export interface ClusterStatus {
  members: MemberStatusRow[]
  voters: number
  /** Voters that are running and answer (whether or not they currently see a leader). */
  availableVoters: number
  healthyVoters: number
  /** Voters needed for quorum: floor(n/2)+1. */
  quorumSize: number
  hasQuorum: boolean
  /** How many more voters may fail before quorum is lost (negative when already lost), from available voters. */
  faultTolerance: number
  leader: string
}

/** Queries every active member (Status over gRPC, /health) and derives quorum and fault tolerance. */
export async function clusterStatus(cluster: LocalCluster, timeoutMs = 1500): Promise<ClusterStatus> {
  const health = await cluster.health()
  const rows = await Promise.all(
    cluster.activeMembers().map(async (member): Promise<MemberStatusRow> => {
      const processState = health.find((h) => h.name === member.name)
      const base: MemberStatusRow = {
        name: member.name,
        id: member.id,
        clientURL: member.clientURL,
        pid: processState?.pid ?? 0,
        role: !processState?.running ? 'stopped' : processState.paused ? 'paused' : 'unreachable',
        healthy: processState?.healthy ?? false,
        raftTerm: null,
        raftIndex: null,
        appliedIndex: null,
        dbSizeBytes: null,
        dbSizeInUseBytes: null,
        version: '',
        errors: [],
      }
      if (!processState?.running || processState.paused) return base
      const tls = cluster.manifest.tls ? clusterTlsFiles(cluster.manifest.tls) : undefined
      const client = new EtcdClient({ endpoints: [member.clientURL], callTimeoutMs: timeoutMs, retry: { maxAttempts: 1 }, ...(tls ? { tls } : {}) })
      try {
        const status = await client.maintenance.status()
        const id = formatId(status.header.memberId)
        return {
          ...base,
          id,
          role: status.isLearner ? 'learner' : status.leader === status.header.memberId ? 'leader' : 'follower',
          raftTerm: status.raftTerm,
          raftIndex: status.raftIndex,
          appliedIndex: status.raftAppliedIndex,
          dbSizeBytes: status.dbSize,
          dbSizeInUseBytes: status.dbSizeInUse,
          version: status.version,
          errors: status.errors,
        }
      } catch (error) {
        return { ...base, errors: [(error as Error).message] }
      } finally {
        client.close()
      }
    }),
  )
  const voters = rows.filter((row) => row.role !== 'learner')
  const availableVoters = voters.filter((row) => row.role === 'leader' || row.role === 'follower').length
  const healthyVoters = voters.filter((row) => row.healthy).length
  const quorumSize = Math.floor(voters.length / 2) + 1
  return {
    members: rows,
    voters: voters.length,
    availableVoters,
    healthyVoters,
    quorumSize,
    hasQuorum: availableVoters >= quorumSize && rows.some((row) => row.role === 'leader'),
    faultTolerance: availableVoters - quorumSize,
    leader: rows.find((row) => row.role === 'leader')?.name ?? '',
  }
}
