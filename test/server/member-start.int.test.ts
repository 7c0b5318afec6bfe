// A member whose client port is taken fails to start with the listen error and leaves nothing running: its
// peer port is free again and its data dir can be opened by the next attempt in the same process.
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { buildMemberConfig } from '../../core/server/config'
import { Member } from '../../core/server/member'
import { freePorts } from '../support/ports'
import { tempDir } from '../support/temp-dir'

const servers: Server[] = []
const dirs: Array<{ remove: () => void }> = []
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve))
  for (const dir of dirs.splice(0)) dir.remove()
})

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve(server))
  })
}

it('a member whose client port is taken rejects with the listen error and releases its peer port and data dir', async () => {
  const [clientPort, peerPort] = await freePorts(2)
  const dir = tempDir('quorum-member-start-')
  dirs.push(dir)
  const peerUrl = `http://127.0.0.1:${peerPort}`
  const config = buildMemberConfig(
    new Map([
      ['name', 'm1'],
      ['data-dir', join(dir.path, 'm1')],
      ['listen-client-urls', `http://127.0.0.1:${clientPort}`],
      ['advertise-client-urls', `http://127.0.0.1:${clientPort}`],
      ['listen-peer-urls', peerUrl],
      ['initial-advertise-peer-urls', peerUrl],
      ['initial-cluster', `m1=${peerUrl}`],
    ]),
  )
  servers.push(await listen(clientPort))
  await expect(Member.start(config, { log: () => undefined })).rejects.toThrow(/EADDRINUSE/)
  servers.push(await listen(peerPort))
  await new Promise((resolve) => servers.pop()!.close(resolve))
  await new Promise((resolve) => servers.pop()!.close(resolve))
  const member = await Member.start(config, { log: () => undefined })
  await member.stop({ transferLeadership: false })
})
