import pino from 'pino'
import { DataDirError } from '../storage/errors'
import { ConfigError, type MemberConfig } from './config'
import { Member, type MemberLogger } from './member'

/** A zap-like JSON logger on the configured outputs (stderr, stdout or files). Secrets are never passed in. */
function createLogger(config: MemberConfig): MemberLogger {
  const destinations = config.logOutputs.map((output) =>
    output === 'stderr' || output === 'default' ? pino.destination(2) : output === 'stdout' ? pino.destination(1) : pino.destination({ dest: output, mkdir: true }),
  )
  const level = config.logLevel === 'panic' || config.logLevel === 'fatal' ? 'fatal' : config.logLevel
  const logger = pino(
    { level, base: { name: config.name }, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'msg', formatters: { level: (label) => ({ level: label }) } },
    destinations.length === 1 ? destinations[0] : pino.multistream(destinations.map((stream) => ({ stream, level }))),
  )
  return (severity, message, fields) => logger[severity](fields ?? {}, message)
}

/**
 * Runs one member until SIGTERM/SIGINT (graceful: leadership is transferred first) or until it stops by
 * itself (removed from the cluster, fatal storage error). Startup problems print one clear line and set
 * exit code 1, as etcd does.
 */
export async function runMember(config: MemberConfig): Promise<void> {
  const log = createLogger(config)
  let member: Member
  try {
    member = await Member.start(config, { log })
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DataDirError) {
      console.error(`quorum node: ${error.message}`)
      process.exitCode = 1
      return
    }
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`quorum node: listen failed: ${(error as Error).message}`)
      process.exitCode = 1
      return
    }
    throw error
  }
  const shutdown = (signal: string) => {
    log('info', 'received signal; shutting down', { signal })
    void member.stop()
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))
  await member.stopped
}
