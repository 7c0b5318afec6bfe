import type { HistoryRecorder, Request, Response, WatchStream } from '../history'

/**
 * How the harness talks to the cluster. Two drivers exist: the npm `etcd3` client (an independent oracle,
 * the default) and Quorum's own `core/client` EtcdClient (so the chaos suite also exercises it). A driver
 * sends each request exactly once (no retries, no circuit breakers) and reports the server's answer.
 */
export interface ClientDriver {
  readonly name: ClientName
  /** A connection for one sequential client; `hosts` is one member (pinned) or all of them. */
  connect(hosts: string[]): RequestDriver
  /** A watcher on `[key, rangeEnd)` of one member, from revision 1 with prev_kv, recording into `recorder`. */
  watch(recorder: HistoryRecorder, watcherId: number, host: string, key: string, rangeEnd: string): WatchRecorder
}

/** The drivers `--client` accepts. */
export type ClientName = 'etcd3' | 'core'

/** One connection. `call` rejects on any error (the caller classifies it). */
export interface RequestDriver {
  /**
   * Sends `request` once. `serializable` overrides the request's consistency for gets (the negative control
   * sends serializable reads while recording them as linearizable).
   */
  call(request: Request, options: { timeoutMs: number; serializable: boolean }): Promise<Response>
  close(): void
}

/** A recording watcher: every event lands in `stream`, a new segment each time the watch is (re)created. */
export interface WatchRecorder {
  readonly stream: WatchStream
  /** Highest revision delivered so far (0 if none). */
  readonly lastRevision: number
  start(): Promise<void>
  stop(): Promise<void>
}
