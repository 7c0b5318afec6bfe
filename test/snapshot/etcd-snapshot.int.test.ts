import { spawnSync } from 'node:child_process'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Etcd3 } from 'etcd3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openEtcdSnapshot } from '../../core/snapshot/etcd-snapshot'
import { etcdctl, startEtcd, type EtcdCluster } from '../support/etcd'
import { tempDir } from '../support/temp-dir'
import { etcdctlLiveKeys, snapshotLiveKeys } from './fixtures/tiny'

// A real etcd 3.4 gets a mix of writes, `etcdctl snapshot save` takes the file, and everything we read from
// it is compared with what etcdctl itself reports. The CLI runs from the bundle `npm test` builds first.

let cluster: EtcdCluster
let client: Etcd3
let dir: ReturnType<typeof tempDir>
let mixed: string

function quorum(...args: string[]) {
  const result = spawnSync(process.execPath, ['build/bin/quorum.mjs', ...args], { encoding: 'utf8', timeout: 60_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function ctl(...args: string[]): string {
  const result = etcdctl(cluster.endpoints, args)
  if (result.status !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}

async function currentRevision(): Promise<number> {
  const response = await client.kv.range({ key: Buffer.from('\0'), limit: 1 })
  return Number(response.header.revision)
}

async function putMany(entries: [Buffer, Buffer][], perTxn = 100, inFlight = 8): Promise<void> {
  const batches: [Buffer, Buffer][][] = []
  for (let i = 0; i < entries.length; i += perTxn) batches.push(entries.slice(i, i + perTxn))
  let next = 0
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++]
      await client.kv.txn({ compare: [], success: batch.map(([key, value]) => ({ request_put: { key, value } })), failure: [] })
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
}

function saveSnapshot(name: string): string {
  const path = join(dir.path, name)
  ctl('snapshot', 'save', path)
  return path
}

beforeAll(async () => {
  dir = tempDir('quorum-snapshot-')
  cluster = await startEtcd({ size: 1 })
  client = new Etcd3({ hosts: cluster.endpoints })

  const key = (i: number) => Buffer.from(`mix/${String(i).padStart(5, '0')}`)
  // 3000 keys in transactions (many sub revisions); every 500th value spans overflow pages.
  await putMany(Array.from({ length: 3000 }, (_, i) => [key(i), Buffer.alloc(i % 500 === 0 ? 9000 : 40 + (i % 50), i % 251)]))
  // Binary keys and values, including NUL, 0xff and invalid UTF-8.
  for (let b = 0; b < 16; b++) await client.put(Buffer.from([0x00, b * 17, 0xff, 0xfe])).value(Buffer.from([b, 0, 0xff, 0x80]))
  // Overwrites: versions 2 and 3.
  for (let i = 0; i < 300; i++) await client.put(key(i)).value(`second-${i}`)
  for (let i = 0; i < 100; i++) await client.put(key(i)).value(`third-${i}`)
  // Deletes: a range and single keys.
  await client.kv.deleteRange({ key: key(1000), range_end: key(1200) })
  for (let i = 2000; i < 2010; i++) await client.delete().key(key(i))
  // Leases: two with keys; one is revoked, which deletes its keys.
  const kept = client.lease(3600, { autoKeepAlive: false })
  const revoked = client.lease(3600, { autoKeepAlive: false })
  for (let i = 0; i < 5; i++) await kept.put(`lease/kept/${i}`).value(`k${i}`)
  for (let i = 0; i < 5; i++) await revoked.put(`lease/revoked/${i}`).value(`r${i}`)
  await revoked.revoke()
  // Compaction in the middle of the history, then more writes on top.
  await client.kv.compact({ revision: (await currentRevision()) - 50, physical: true })
  for (let i = 2500; i < 2600; i++) await client.put(key(i)).value(`after-compaction-${i}`)
  await client.delete().key(key(2600))
  // A key deleted and put again: a new generation (version back to 1, new create revision).
  await client.delete().key(key(2700))
  await client.put(key(2700)).value('reborn')
  // Users and roles (auth stays disabled so the rest of the suite needs no credentials).
  ctl('user', 'add', 'root:root-password')
  ctl('role', 'add', 'reader')
  ctl('role', 'grant-permission', 'reader', 'read', 'mix/', '--prefix')
  ctl('role', 'grant-permission', 'reader', 'readwrite', 'lease/kept/0')
  ctl('user', 'add', 'alice:alice-password')
  ctl('user', 'grant-role', 'alice', 'reader')
  mixed = saveSnapshot('mixed.db')
}, 120_000)

afterAll(async () => {
  client?.close()
  await cluster?.stop()
  dir?.remove()
})

describe('etcd 3.4 snapshot read by Quorum', () => {
  it('status equals `etcdctl snapshot status -w json` (hash, revision, totalKey, totalSize)', () => {
    const expected = JSON.parse(ctl('snapshot', 'status', mixed, '-w', 'json'))
    const snapshot = openEtcdSnapshot(mixed)
    try {
      expect(snapshot.status()).toEqual(expected)
      expect(snapshot.hashVerified).toBe(true)
      expect(expected.totalKey).toBeGreaterThan(3000)
    } finally {
      snapshot.close()
    }
  })

  it('latest state equals `etcdctl get "" --from-key -w json` byte for byte', () => {
    const expected = etcdctlLiveKeys(ctl('get', '', '--from-key', '-w', 'json'))
    const snapshot = openEtcdSnapshot(mixed)
    try {
      const actual = snapshotLiveKeys(snapshot.latestState())
      expect(actual.length).toBe(expected.length)
      expect(actual).toEqual(expected)
      expect(actual.some((kv) => kv.version === 3)).toBe(true)
      expect(actual.filter((kv) => kv.lease !== '0').length).toBe(5)
      expect(snapshot.leases()).toHaveLength(1)
      expect(snapshot.meta().finishedCompactRevision).toBeGreaterThan(0)
    } finally {
      snapshot.close()
    }
  })

  it('decodes members, users and roles as etcdctl lists them', () => {
    const memberList = JSON.parse(ctl('member', 'list', '-w', 'json').replace(/"(ID|cluster_id|member_id)":(\d+)/g, '"$1":"$2"'))
    const snapshot = openEtcdSnapshot(mixed)
    try {
      const { members, removedIds } = snapshot.membership()
      expect(members.map((member) => ({ id: member.id.toString(), name: member.name, peerURLs: member.peerURLs }))).toEqual(
        memberList.members.map((member: { ID: string; name: string; peerURLs: string[] }) => ({
          id: member.ID,
          name: member.name,
          peerURLs: member.peerURLs,
        })),
      )
      expect(removedIds).toEqual([])
      const auth = snapshot.auth()
      expect(auth.enabled).toBe(false)
      expect(auth.users.map((user) => [user.name, user.roles])).toEqual([['alice', ['reader']], ['root', []]])
      expect(auth.users[0].password).toMatch(/^\$2[aby]\$/) // bcrypt hash, never the password
      expect(auth.roles).toEqual([
        {
          name: 'reader',
          keyPermissions: [
            { permType: 'READWRITE', key: Buffer.from('lease/kept/0'), rangeEnd: Buffer.alloc(0) },
            { permType: 'READ', key: Buffer.from('mix/'), rangeEnd: Buffer.from('mix0') },
          ],
        },
      ])
    } finally {
      snapshot.close()
    }
  })

  it('`quorum snapshot status` prints what etcdctl prints for -w simple, table, fields and json, plus the format', () => {
    const formatLine = { simple: 'format: etcd-bbolt\n', table: 'format: etcd-bbolt\n', fields: '"Format" : "etcd-bbolt"\n' }
    for (const [writeOut, line] of Object.entries(formatLine)) {
      const result = quorum('snapshot', 'status', mixed, '-w', writeOut)
      expect(result.stderr).toBe('')
      expect(result.status).toBe(0)
      expect(result.stdout).toBe(ctl('snapshot', 'status', mixed, '-w', writeOut) + line)
    }
    const json = quorum('snapshot', 'status', mixed, '-w', 'json')
    expect(json.status).toBe(0)
    expect(JSON.parse(json.stdout)).toEqual({ ...JSON.parse(ctl('snapshot', 'status', mixed, '-w', 'json')), format: 'etcd-bbolt' })
  })

  it('bad files exit 1 with a clear error: truncated, flipped byte (as etcd words it), not a snapshot, empty', () => {
    const bytes = readFileSync(mixed)
    const truncated = join(dir.path, 'truncated.db')
    writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)))
    const flipped = join(dir.path, 'flipped.db')
    const flippedBytes = Buffer.from(bytes)
    flippedBytes[Math.floor(bytes.length / 2)] ^= 0x20
    writeFileSync(flipped, flippedBytes)
    const text = join(dir.path, 'notes.txt')
    writeFileSync(text, 'these are not the bytes you are looking for\n'.repeat(200))
    const empty = join(dir.path, 'empty.db')
    writeFileSync(empty, '')

    const expectFailure = (file: string, message: RegExp) => {
      const result = quorum('snapshot', 'status', file)
      expect(result.status).toBe(1)
      expect(result.stdout).toBe('')
      expect(result.stderr).toMatch(message)
      return result.stderr
    }
    expectFailure(truncated, /^Error: bbolt file truncated: the meta page needs \d+ bytes/)
    expectFailure(text, /^Error: not an etcd snapshot/)
    expectFailure(empty, /^Error: snapshot file is empty\n$/)
    // Missing file and directory: etcdctl's words exactly.
    for (const path of [join(dir.path, 'missing.db'), dir.path]) {
      expect(expectFailure(path, /^Error: /)).toBe(etcdctl(cluster.endpoints, ['snapshot', 'status', path]).stderr)
    }
    const mismatch = expectFailure(flipped, /^Error: expected sha256 \[[\d ]+\], got \[[\d ]+\]\n$/)
    // etcdctl's restore checks the same trailer; its error line is the same, byte for byte.
    const restore = etcdctl(cluster.endpoints, ['snapshot', 'restore', flipped, '--data-dir', join(dir.path, 'restore-flipped')])
    expect(restore.status).not.toBe(0)
    expect(restore.stderr.split('\n')).toContain(mismatch.trimEnd())
  }, 120_000) // several CLI runs: slow on a loaded machine

  it('reads a 100k-key snapshot with bounded memory and the same status as etcdctl', async () => {
    const value = Buffer.alloc(256, 'v')
    await putMany(Array.from({ length: 100_000 }, (_, i) => [Buffer.from(`bulk/${String(i).padStart(6, '0')}`), value]))
    const big = saveSnapshot('big.db')
    const fileBytes = statSync(big).size
    const scan = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/snapshot/support/scan-memory.ts', big], {
      encoding: 'utf8',
      timeout: 120_000,
    })
    expect(scan.stderr).toBe('')
    const report = JSON.parse(scan.stdout)
    expect(report.status).toEqual(JSON.parse(ctl('snapshot', 'status', big, '-w', 'json')))
    expect(report.liveKeys).toBe(JSON.parse(ctl('get', '', '--from-key', '--limit', '1', '-w', 'json')).count) // count ignores the limit
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
    console.log(
      `100k-key snapshot ${mib(fileBytes)}: peak RSS growth status ${mib(report.statusRssGrowthBytes)}, ` +
        `revisions scan ${mib(report.revisionsRssGrowthBytes)} (${report.revisionCount} revisions, ` +
        `${mib(report.revisionValueBytes)} of values), latest state ${mib(report.latestStateRssGrowthBytes)}`,
    )
    // Streaming passes must not hold the file: well under half of it, whatever the machine's GC timing.
    expect(report.statusRssGrowthBytes).toBeLessThan(fileBytes / 2)
    expect(report.revisionsRssGrowthBytes).toBeLessThan(fileBytes / 2)
  }, 120_000)
})
