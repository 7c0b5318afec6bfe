import type { Server, ServerDuplexStream } from '@grpc/grpc-js'
import { addService } from '../../proto/services'
import type * as pb from '../../proto/types'
import type { WatchFilter, WatchResponse } from '../../mvcc/watchable-store'
import type { KvEvent } from '../../mvcc/types'
import type { Member } from '../member'
import { int64, keyValueToWire } from './convert'
import { ETCD_ERRORS } from './errors'

const SERVICE = 'etcdserverpb.Watch'
const FILTERS: Record<number, WatchFilter> = { 0: 'NOPUT', 1: 'NODELETE' }

function eventToWire(event: KvEvent): pb.Event {
  return {
    type: event.type === 'PUT' ? 0 : 1,
    kv: keyValueToWire(event.kv),
    prev_kv: event.prevKv ? keyValueToWire(event.prevKv) : null,
  }
}

/**
 * etcd's Watch service: one bidi stream carries many watchers. Events come from the member's watchable
 * store; a stream that cannot keep up never slows writers (its watchers become victims and catch up later).
 */
export function registerWatchService(server: Server, member: Member): void {
  addService(server, SERVICE, {
    Watch: (call: ServerDuplexStream<pb.WatchRequest, pb.WatchResponse>) => {
      member.metrics.grpcStarted(SERVICE, 'Watch', 'bidi_stream')
      member.metrics.debuggingWatchStreams.inc()
      const stream = member.watchable.newWatchStream()
      let closed = false
      const send = (response: pb.WatchResponse) => {
        if (closed) return
        member.metrics.grpcMsgSent(SERVICE, 'Watch', 'bidi_stream')
        call.write(response)
      }
      const toWire = (response: WatchResponse): pb.WatchResponse => ({
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

      call.on('data', (request: pb.WatchRequest) => {
        member.metrics.grpcMsgReceived(SERVICE, 'Watch', 'bidi_stream')
        if (request.create_request) {
          const create = request.create_request
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
      })
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
