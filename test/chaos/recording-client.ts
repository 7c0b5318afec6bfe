import type { RequestDriver } from './drivers/types'
import type { HistoryRecorder, Outcome, Request, Response } from './history'

/** Options of a recording client. */
export interface RecordingClientOptions {
  /** Per-request deadline; a request that misses it has an unknown outcome. */
  timeoutMs: number
  /**
   * Negative control: send reads as serializable but record them as linearizable. A correct checker must
   * report violations for such a history during faults.
   */
  lieAboutSerializableReads?: boolean
}

/**
 * One sequential client that records every request into the history. Never call `send` twice at once: the
 * checkers rely on each client having one request in flight.
 */
export class RecordingClient {
  constructor(
    private readonly recorder: HistoryRecorder,
    readonly clientId: number,
    private readonly connection: RequestDriver,
    private readonly options: RecordingClientOptions,
    private readonly endpoint?: string,
  ) {}

  /** Sends one request, records invoke and completion, and returns the operation's outcome. */
  async send(request: Request): Promise<{ outcome: Outcome; response?: Response }> {
    const complete = this.recorder.invoke(this.clientId, request, this.endpoint)
    const serializable = request.kind === 'get' && (request.consistency === 'serializable' || this.options.lieAboutSerializableReads === true)
    try {
      const response = await this.connection.call(request, { timeoutMs: this.options.timeoutMs, serializable })
      complete({ outcome: 'ok', response })
      return { outcome: 'ok', response }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      // A read that failed had no effect. A write failed for sure only on etcd's "lease not found" (checked
      // in the applier before anything is written); anything else (timeout, unavailable, leader changed)
      // may have been applied.
      const definite = request.kind === 'get' || request.kind === 'leaseKeepAlive' || message.includes('requested lease not found')
      const outcome: Outcome = definite ? 'failed' : 'unknown'
      complete({ outcome, error: message })
      return { outcome }
    }
  }

  close(): void {
    this.connection.close()
  }
}
