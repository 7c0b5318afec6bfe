// Maintenance.Snapshot against a real `quorum node`: real `etcdctl snapshot save` succeeds, the file ends with
// the sha256 of the database bytes (etcd's trailer), and the database in it holds exactly the member's state
// (same HashKV at the same revision once installed into a data dir).
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Etcd3 } from 'etcd3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalCluster } from '../../core/cluster/launcher'
import { openMvcc } from '../../core/mvcc/mvcc'
import { MemberDb } from '../../core/storage/member-db'
import { installSnapshotFile } from '../../core/storage/snapshot-file'
import { FakeClock } from '../../core/util/clock'
import { etcdctl } from '../support/etcd'
import { tempDir } from '../support/temp-dir'

const QUORUM_COMMAND = { command: process.execPath, args: ['build/bin/quorum.mjs', 'node'] }

describe('Maintenance.Snapshot', () => {
  const dir = tempDir('quorum-snapshot-maintenance-')
  let cluster: LocalCluster

  beforeAll(async () => {
    cluster = await LocalCluster.up({ dir: join(dir.path, 'cluster'), size: 1, quorumCommand: QUORUM_COMMAND, healthTimeoutMs: 60_000 })
    const client = new Etcd3({ hosts: cluster.endpoints() })
    try {
      let next = 0
      const worker = async () => {
        while (next < 2000) {
          const i = next++
          await client.put(`key/${i}`).value(Buffer.alloc(300, i % 251))
        }
      }
      await Promise.all(Array.from({ length: 50 }, worker))
      await client.lease(600).put('leased').value('v')
      await client.delete().key('key/7')
    } finally {
      client.close()
    }
  }, 120_000)

  afterAll(async () => {
    for (const member of cluster?.manifest.members ?? []) await cluster.stopIfRunning(member.name)
    dir.remove()
  })

  it('real etcdctl snapshot save gets the database followed by its sha256, holding the member state', () => {
    const file = join(dir.path, 'saved.db')
    const saved = etcdctl(cluster.endpoints(), ['snapshot', 'save', file])
    expect(saved.status, saved.stderr).toBe(0)
    const hashkv = JSON.parse(etcdctl(cluster.endpoints(), ['endpoint', 'hashkv', '-w', 'json']).stdout) as Array<{ HashKV: { header: { revision: number }; hash: number } }>

    const bytes = readFileSync(file)
    expect(bytes.length % 512).toBe(32)
    const body = bytes.subarray(0, bytes.length - 32)
    expect(createHash('sha256').update(body).digest().equals(bytes.subarray(bytes.length - 32))).toBe(true)
    expect(body.subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0')

    const bodyFile = join(dir.path, 'body.db')
    writeFileSync(bodyFile, body)
    const dataDir = join(dir.path, 'installed')
    installSnapshotFile(dataDir, bodyFile)
    const db = MemberDb.open({ dataDir, create: 'never', integrityCheck: 'full' })
    try {
      const mvcc = openMvcc(db, { clock: new FakeClock() })
      expect(mvcc.kv.rev()).toBe(hashkv[0].HashKV.header.revision)
      expect(mvcc.kv.hashKv(0).hash).toBe(hashkv[0].HashKV.hash)
      expect(mvcc.kv.range({ key: Buffer.from('key/'), rangeEnd: Buffer.from('key0'), countOnly: true }).count).toBe(1999)
    } finally {
      db.close()
    }
  })
})
