import { serviceMethods } from '../proto/services'
import { AlarmAction, AlarmType, ServingStatus } from '../proto/types'
import type * as pb from '../proto/types'
import { toClientError } from './errors'
import { fromHeader, idToWire, toBigInt, toNumber, type ResponseHeader } from './convert'
import type { CallOptions, Transport } from './transport'

/** One member's view of itself (etcdctl `endpoint status`). */
export interface MemberStatus {
  header: ResponseHeader
  /** The member's server version, e.g. `3.4.23`. */
  version: string
  /** Backend size on disk, in bytes. */
  dbSize: number
  /** Backend bytes logically in use (etcd 3.4+). */
  dbSizeInUse: number
  /** The leader this member believes in; 0n when it knows none. */
  leader: bigint
  raftIndex: number
  raftTerm: number
  raftAppliedIndex: number
  /** Alarm and health messages. */
  errors: string[]
  isLearner: boolean
}

/** An alarm's kind. */
export type AlarmName = 'none' | 'nospace' | 'corrupt'

/** An alarm raised on a member. */
export interface Alarm {
  memberId: bigint
  alarm: AlarmName
}

const ALARM_NAMES: Record<number, AlarmName> = {
  [AlarmType.NONE]: 'none',
  [AlarmType.NOSPACE]: 'nospace',
  [AlarmType.CORRUPT]: 'corrupt',
}
const ALARM_TYPES: Record<AlarmName, number> = { none: AlarmType.NONE, nospace: AlarmType.NOSPACE, corrupt: AlarmType.CORRUPT }

/** The gRPC health service's answer. */
export type ServingState = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN'

function fromAlarms(response: pb.AlarmResponse): Alarm[] {
  return response.alarms.map((alarm) => ({
    memberId: toBigInt(alarm.memberID),
    alarm: ALARM_NAMES[alarm.alarm] ?? 'none',
  }))
}

/**
 * The Maintenance service. Status, Defragment, Hash, HashKV and Snapshot describe ONE member: pass
 * `{ endpoint }` to choose which (otherwise the current endpoint answers). MoveLeader must reach the leader.
 */
export class MaintenanceClient {
  private readonly methods = serviceMethods('etcdserverpb.Maintenance')
  private readonly health = serviceMethods('grpc.health.v1.Health')

  constructor(private readonly transport: Transport) {}

  /** The status of the member behind the endpoint. */
  async status(call: CallOptions = {}): Promise<MemberStatus> {
    const response = await this.transport.unary(this.methods.Status, {}, call, { idempotent: true })
    return {
      header: fromHeader(response.header),
      version: response.version,
      dbSize: toNumber(response.dbSize, 'db size'),
      dbSizeInUse: toNumber(response.dbSizeInUse, 'db size in use'),
      leader: toBigInt(response.leader),
      raftIndex: toNumber(response.raftIndex, 'raft index'),
      raftTerm: toNumber(response.raftTerm, 'raft term'),
      raftAppliedIndex: toNumber(response.raftAppliedIndex, 'raft applied index'),
      errors: response.errors,
      isLearner: response.isLearner,
    }
  }

  /** Every alarm raised in the cluster. */
  async alarms(call: CallOptions = {}): Promise<Alarm[]> {
    const response = await this.transport.unary(
      this.methods.Alarm,
      { action: AlarmAction.GET, memberID: '0', alarm: AlarmType.NONE },
      call,
      { idempotent: true },
    )
    return fromAlarms(response)
  }

  /** Clears `alarm` on member `memberId` (etcdctl `alarm disarm` does this for each listed alarm). */
  async alarmDeactivate(memberId: bigint, alarm: AlarmName, call: CallOptions = {}): Promise<Alarm[]> {
    const response = await this.transport.unary(
      this.methods.Alarm,
      { action: AlarmAction.DEACTIVATE, memberID: idToWire(memberId), alarm: ALARM_TYPES[alarm] },
      call,
      { idempotent: true },
    )
    return fromAlarms(response)
  }

  /** Defragments the member's backend (blocks it while running). */
  async defragment(call: CallOptions = {}): Promise<{ header: ResponseHeader }> {
    const response = await this.transport.unary(this.methods.Defragment, {}, call, { idempotent: true })
    return { header: fromHeader(response.header) }
  }

  /** Hash of the member's whole backend (testing only, per etcd). */
  async hash(call: CallOptions = {}): Promise<{ header: ResponseHeader; hash: number }> {
    const response = await this.transport.unary(this.methods.Hash, {}, call, { idempotent: true })
    return { header: fromHeader(response.header), hash: response.hash }
  }

  /** Hash of the member's MVCC keys up to `revision` (0: the newest); equal across members that agree. */
  async hashKV(
    revision = 0,
    call: CallOptions = {},
  ): Promise<{ header: ResponseHeader; hash: number; compactRevision: number }> {
    const response = await this.transport.unary(this.methods.HashKV, { revision }, call, { idempotent: true })
    return {
      header: fromHeader(response.header),
      hash: response.hash,
      compactRevision: toNumber(response.compact_revision, 'compact revision'),
    }
  }

  /** Asks the leader to hand leadership to member `targetId`. Send it to the leader's endpoint. */
  async moveLeader(targetId: bigint, call: CallOptions = {}): Promise<{ header: ResponseHeader }> {
    const response = await this.transport.unary(this.methods.MoveLeader, { targetID: idToWire(targetId) }, call, {
      idempotent: false,
    })
    return { header: fromHeader(response.header) }
  }

  /**
   * Streams a snapshot of the member's backend, chunk by chunk (etcd sends the database, then its sha256).
   * Breaking out of the loop cancels the stream. Errors are mapped like unary calls.
   */
  async *snapshot(call: CallOptions = {}): AsyncGenerator<Buffer, void, undefined> {
    const stream = await this.transport.openServerStream(this.methods.Snapshot, {}, call)
    try {
      for await (const message of stream as AsyncIterable<pb.SnapshotResponse>) {
        if (message.blob.length > 0) yield message.blob
      }
    } catch (error) {
      throw toClientError(error)
    } finally {
      stream.cancel()
    }
  }

  /** The gRPC health service's status for `service` ('' means the server as a whole). */
  async healthCheck(service = '', call: CallOptions = {}): Promise<ServingState> {
    const response = await this.transport.unary(this.health.Check, { service }, call, { idempotent: true })
    const names: Record<number, ServingState> = {
      [ServingStatus.UNKNOWN]: 'UNKNOWN',
      [ServingStatus.SERVING]: 'SERVING',
      [ServingStatus.NOT_SERVING]: 'NOT_SERVING',
      [ServingStatus.SERVICE_UNKNOWN]: 'SERVICE_UNKNOWN',
    }
    return names[response.status] ?? 'UNKNOWN'
  }
}
