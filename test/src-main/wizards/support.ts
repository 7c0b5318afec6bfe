import type { Result } from '../../../src-main/api/admin-api'

/** How the wizard tests run `quorum node`: the built CLI (see `npm run build`). */
export const QUORUM_COMMAND = { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] }

/** The value of a successful Result; a failed one throws with its code and message. */
export function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
  return result.value
}
