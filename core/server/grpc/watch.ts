import type { Server, ServerDuplexStream } from '@grpc/grpc-js'
import { addService } from '../../proto/services'
import type * as pb from '../../proto/types'
import type { WatchFilter, WatchResponse } from '../../mvcc/watchable-store'
import type { KvEvent } from '../../mvcc/types'
import type { Member } from '../member'
import { int64, keyValueToWire } from './convert'
import { ETCD_ERRORS, etcdStatusError } from './errors'

const SERVICE = 'etcdserverpb.Watch'
const FILTERS: Record<number, WatchFilter> = { 0: 'NOPUT', 1: 'NODELETE' }

function eventToWire(event: KvEvent): pb.Encodable<pb.Event> {
  return {
    type: event.type === 'PUT' ? 0 : 1,
    kv: keyValueToWire(event.kv),
    prev_kv: event.prevKv ? keyValueToWire(event.prevKv) : null,
  }
}

/** Go's `status.Error(...).Error()` text, which etcd puts in a watch's cancel_reason. */
function goStatusText(error: unknown): string {
  const code = (error as { code?: unknown }).code
  const known = code === 'INVALID_AUTH_TOKEN' || code === 'AUTH_OLD_REVISION' || code === 'USER_EMPTY' ? code : 'PERMISSION_DENIED'
  const status = etcdStatusError(known)
  return `rpc error: code = ${GO_CODE_NAMES[status.code]} desc = ${status.details}`
}

const GO_CODE_NAMES: Record<number, string> = { 3: 'InvalidArgument', 7: 'PermissionDenied', 16: 'Unauthenticated' }

/**
 * etcd's Watch service: one bidi stream carries many watchers. Events come from the member's watchable
 * store; a stream that cannot keep up never slows writers (its watchers become victims and catch up later).
 */
export function registerWatchService(server: Server, member: Member): void {
  addService(server, SERVICE, {
    Watch: (call: ServerDuplexStream<pb.WatchRequest, pb.Encodable<pb.WatchResponse>>) => {
      member.metrics.grpcStarted(SERVICE, 'Watch', 'bidi_stream')
      member.metrics.debuggingWatchStreams.inc()
      const stream = member.watchable.newWatchStream()
      let closed = false
      const send = (response: pb.Encodable<pb.WatchResponse>) => {
        if (closed) return
        member.metrics.grpcMsgSent(SERVICE, 'Watch', 'bidi_stream')
        call.write(response)
      }
      const toWire = (response: WatchResponse): pb.Encodable<pb.WatchResponse> => ({
        header: member.header(response.revision),
        watch_id: String(response.watchId),
        created: false,
        canceled: response.canceled,
        compact_revision: String(response.compactRevision),
        cancel_reason: response.compactRevision !== 0 ? ETCD_ERRORS.COMPACTED.message : '',
        fragment: false,
        events: response.events.map(eventToWire),
      })
      let draining = false
      const drain = () => {
        draining = false
        for (const response of stream.poll()) send(toWire(response))
      }
      // The store fills the buffer synchronously inside a commit; write on the next turn, outside it.
      stream.onAvailable = () => {
        if (draining) return
        draining = true
        setImmediate(drain)
      }
      const progressTimer = setInterval(() => stream.progressTick(), member.config.watchProgressNotifyIntervalMs)
      progressTimer.unref()

      /**
       * etcd compat (v3rpc/watch.go recvLoop → isWatchPermitted, with the later fixes): creating a watcher needs
       * read permission on its whole range, checked with the range_end as sent, so a from-key watch (`\0`) by a
       * user allowed one key is refused (GHSA-xg4h-6gfc-h4m8); refused watchers are answered created+canceled,
       * watch ID -1, with the reason by error (invalid token, old revision, user empty, permission denied).
       */
      const watchDenial = async (create: pb.WatchCreateRequest): Promise<string | undefined> => {
        try {
          await member.auth.check(call, { kind: 'watch', body: { key: create.key.length === 0 ? Buffer.from([0]) : create.key, range_end: create.range_end } })
          return undefined
        } catch (error) {
          return goStatusText(error)
        }
      }

      // Requests are handled one at a time, in arrival order (the permission check of a create is async).
      let queue: Promise<void> = Promise.resolve()
      call.on('data', (request: pb.WatchRequest) => {
        member.metrics.grpcMsgReceived(SERVICE, 'Watch', 'bidi_stream')
        queue = queue.then(() => handleRequest(request)).catch((error: unknown) => member.log('warn', 'watch request failed', { error: (error as Error).message }))
      })
      const handleRequest = async (request: pb.WatchRequest): Promise<void> => {
        if (closed) return
        if (request.create_request) {
          const create = request.create_request
          const denied = await watchDenial(create)
          if (denied !== undefined) {
            send({ header: member.header(), watch_id: '-1', created: true, canceled: true, compact_revision: '0', cancel_reason: denied, fragment: false, events: [] })
            return
          }
          let id: number
          try {
            id = stream.watch({
              key: create.key,
              rangeEnd: create.range_end,
              startRevision: int64(create.start_revision),
              prevKv: create.prev_kv,
              filters: create.filters.map((filter) => FILTERS[filter]).filter((filter) => filter !== undefined),
              progressNotify: create.progress_notify,
              watchId: int64(create.watch_id),
            })
          } catch (error) {
            // etcd compat: an invalid watcher is answered as created and canceled with watch ID -1.
            send({ header: member.header(), watch_id: '-1', created: true, canceled: true, compact_revision: '0', cancel_reason: (error as Error).message, fragment: false, events: [] })
            return
          }
          member.metrics.debuggingWatchers.inc()
          send({ header: member.header(), watch_id: String(id), created: true, canceled: false, compact_revision: '0', cancel_reason: '', fragment: false, events: [] })
          stream.onAvailable?.()
        } else if (request.cancel_request) {
          const id = int64(request.cancel_request.watch_id)
          if (stream.cancel(id)) {
            member.metrics.debuggingWatchers.dec()
            send({ header: member.header(), watch_id: String(id), created: false, canceled: true, compact_revision: '0', cancel_reason: '', fragment: false, events: [] })
          }
        } else if (request.progress_request) {
          const revision = stream.progressAllRevision()
          if (revision !== undefined) {
            send({ header: member.header(revision), watch_id: '-1', created: false, canceled: false, compact_revision: '0', cancel_reason: '', fragment: false, events: [] })
          }
        }
      }
      const close = () => {
        if (closed) return
        closed = true
        clearInterval(progressTimer)
        member.metrics.debuggingWatchers.dec(stream.watchIds().length)
        member.metrics.debuggingWatchStreams.dec()
        stream.close()
      }
      call.on('end', () => {
        close()
        call.end()
      })
      call.on('cancelled', close)
      call.on('error', close)
    },
  })
}
