import { readFileSync } from 'node:fs'

/**
 * Whether `pid` is a live process. A zombie (exited, not yet reaped by its parent) counts as dead: on Linux
 * its /proc state is 'Z', although signal 0 still succeeds.
 */
export function isAlive(pid: number): boolean {
  if (pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true // no /proc (macOS): trust signal 0
  }
}

/** Whether `pid` is stopped by SIGSTOP (Linux /proc state 'T'); false where unknown. */
export function isPaused(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T'
  } catch {
    return false
  }
}

/** Sends `signal` to `pid`, ignoring a process that is already gone. Returns whether it was delivered. */
export function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
    throw error
  }
}

/** Polls until `pid` is dead or `timeoutMs` passed; resolves with whether it died. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return !isAlive(pid)
}
