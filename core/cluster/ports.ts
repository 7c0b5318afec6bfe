import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'

/**
 * Where listening ports are picked: below the OS's ephemeral range (Linux: ip_local_port_range, 32768+ by
 * default; macOS and Windows: 49152+). A member keeps its ports across restarts (stop/start, TLS conversion,
 * failover drills); a port from the ephemeral range can meanwhile be taken as the source port of any outgoing
 * connection on the machine, and the member then cannot start again. etcd's own 2379/2380 sit below it too.
 */
const LISTEN_RANGE_START = 10_000
const LISTEN_RANGE_END_DEFAULT = 32_767

/** The last port below the ephemeral range (read once per process). */
let listenRangeEndCache: number | undefined

function listenRangeEnd(): number {
  if (listenRangeEndCache !== undefined) return listenRangeEndCache
  listenRangeEndCache = LISTEN_RANGE_END_DEFAULT
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    if (Number.isInteger(low) && low > LISTEN_RANGE_START + 1_000) listenRangeEndCache = low - 1
  } catch {
    // not Linux: the default end is below macOS's and Windows' ephemeral ranges
  }
  return listenRangeEndCache
}

/** Ports this process handed out recently, so concurrent allocations in one process never share one. */
const recentlyHandedOut: number[] = []
const RECENT_LIMIT = 4_096

function bindable(port: number): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(null))
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

/**
 * Returns `count` distinct TCP ports on 127.0.0.1 that were free a moment ago, picked at random below the
 * ephemeral range (see LISTEN_RANGE_START). Local clusters and tests allocate ports this way, so clusters
 * started side by side never collide and a stopped member finds its ports again.
 */
export async function freePorts(count: number): Promise<number[]> {
  const end = listenRangeEnd()
  const held: Server[] = []
  const ports: number[] = []
  try {
    for (let attempt = 0; ports.length < count && attempt < count * 200; attempt++) {
      const port = LISTEN_RANGE_START + Math.floor(Math.random() * (end - LISTEN_RANGE_START + 1))
      if (ports.includes(port) || recentlyHandedOut.includes(port)) continue
      const server = await bindable(port)
      if (!server) continue
      held.push(server)
      ports.push(port)
    }
    if (ports.length < count) throw new Error(`no ${count} free TCP ports between ${LISTEN_RANGE_START} and ${end} on 127.0.0.1`)
  } finally {
    await Promise.all(held.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
  }
  recentlyHandedOut.push(...ports)
  recentlyHandedOut.splice(0, Math.max(0, recentlyHandedOut.length - RECENT_LIMIT))
  return ports
}

/** True if nothing listens on 127.0.0.1:port right now. */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}
