import { createServer } from 'node:net'

/**
 * Returns `count` distinct TCP ports on 127.0.0.1 that were free a moment ago (the OS picked them). Tests
 * always allocate ports this way, so suites running side by side never collide.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<import('node:net').Server>((resolve, reject) => {
        const server = createServer()
        server.once('error', reject)
        server.listen(0, '127.0.0.1', () => resolve(server))
      }),
    ),
  )
  const ports = servers.map((server) => {
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('no TCP address')
    return address.port
  })
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
  return ports
}

/** One free port. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1)
  return port
}
