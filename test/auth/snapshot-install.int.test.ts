// A member brought up to date by a Raft snapshot (state transfer) takes the leader's auth state with it: the
// image carries member_meta's auth row, and MemberStore reloads the auth store right after installing it, inside
// the same transaction (etcd applySnapshot → authStore.Recover). Tokens issued before are dropped, as etcd's
// Recover does when it rebuilds the token provider.
import { afterEach, describe, expect, it } from 'vitest'
import bcrypt from 'bcryptjs'
import { openMvcc } from '../../core/mvcc/mvcc'
import type { ConfState } from '../../core/raft/types'
import { MemberAuth } from '../../core/server/member-auth'
import { MemberStore } from '../../core/server/member-store'
import { Membership } from '../../core/server/membership'
import type { InternalRaftRequest } from '../../core/server/raft-request'
import { MemberDb } from '../../core/storage/member-db'
import { setAppliedIndex, setIdentity } from '../../core/storage/metadata'
import { exportStateImage } from '../../core/storage/state-snapshot'
import { FakeClock } from '../../core/util/clock'
import { tempDir } from '../support/temp-dir'

const CONF: ConfState = { voters: [1n, 2n, 3n], learners: [] }
const OPTIONS = { authToken: 'simple', authTokenTtlSeconds: 300, bcryptCost: 4, clientCertAuth: false }

describe('auth state through a Raft snapshot install', () => {
  const cleanups: (() => void)[] = []
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup()
  })

  function member(memberId: bigint) {
    const dir = tempDir('quorum-auth-install-')
    const db = MemberDb.open({ dataDir: dir.path })
    cleanups.push(dir.remove, () => db.close())
    db.transaction((tx) => setIdentity(tx, { clusterId: 9n, memberId }))
    const clock = new FakeClock()
    const mvcc = openMvcc(db, { clock })
    const auth = new MemberAuth(db, mvcc.lessor, { ...OPTIONS, clock })
    return { db, mvcc, auth }
  }

  let nextId = 1
  /** An auth request as a committed entry of the member itself (auth revision 0). */
  const request = (kind: string, body: object) => ({ header: { id: String(nextId++), username: '', auth_revision: '0' }, request: kind, [kind]: body }) as unknown as InternalRaftRequest

  it('the follower installing the image has the leader users, roles and auth flag; its old tokens are gone', async () => {
    const leader = member(1n)
    const hash = bcrypt.hashSync('alicepw', 4)
    leader.db.transaction((tx) => {
      for (const r of [
        request('auth_user_add', { name: 'root', password: bcrypt.hashSync('rootpw', 4), options: { no_password: false } }),
        request('auth_user_grant_role', { user: 'root', role: 'root' }),
        request('auth_role_add', { name: 'ro' }),
        request('auth_role_grant_permission', { name: 'ro', perm: { permType: 2, key: Buffer.from('p/'), range_end: Buffer.from('p0') } }),
        request('auth_user_add', { name: 'alice', password: hash, options: { no_password: false } }),
        request('auth_user_grant_role', { user: 'alice', role: 'ro' }),
        request('auth_enable', {}),
      ]) {
        expect(leader.auth.apply(tx, r)).toMatchObject({ handled: true })
      }
      setAppliedIndex(tx, 20)
    })
    const image = leader.db.transaction((tx) => exportStateImage(tx, 20))

    const follower = member(3n)
    // Before: auth off, one user, and a token registered by an earlier Authenticate apply.
    follower.db.transaction((tx) => follower.auth.apply(tx, request('auth_user_add', { name: 'old', password: hash, options: { no_password: false } })))
    follower.auth.tokens.register('oldtoken.1', { username: 'old', revision: 2 })
    const membership = new Membership()
    for (const id of CONF.voters) membership.add({ id, name: `m${id}`, peerURLs: [`http://127.0.0.1:${1000 + Number(id)}`], clientURLs: [], isLearner: false })
    const store = new MemberStore({
      db: follower.db,
      kv: follower.mvcc.kv,
      lessor: follower.mvcc.lessor,
      watchable: follower.mvcc.watchable,
      alarms: follower.mvcc.alarms,
      membership,
      auth: follower.auth,
      maxTxnOps: 128,
      onResults: () => undefined,
      onConfChanges: () => undefined,
    })
    store.commitReady({ entries: [], committedEntries: [], snapshot: { data: image, metadata: { index: 20, term: 2, confState: CONF } } }, () => CONF)

    const auth = follower.auth.store
    expect(auth.isEnabled()).toBe(true)
    expect(auth.revision()).toBe(leader.auth.store.revision())
    expect(auth.userList()).toEqual(['alice', 'root'])
    expect(auth.roleGet('ro').map((p) => [p.type, p.key.toString(), p.rangeEnd.toString()])).toEqual([[2, 'p/', 'p0']])
    await expect(auth.checkPassword('alice', 'alicepw')).resolves.toMatchObject({ username: 'alice' })
    expect(await follower.auth.tokens.info('oldtoken.1', auth.revision())).toBeUndefined()
    // And the checks at apply use the installed state: alice writes under p/ only.
    const put = (key: string) => ({ ...request('put', { key: Buffer.from(key), value: Buffer.from('v'), lease: '0', prev_kv: false, ignore_value: false, ignore_lease: false }), header: { id: String(nextId++), username: 'alice', auth_revision: String(auth.revision()) } }) as InternalRaftRequest
    follower.db.transaction((tx) => {
      expect(() => follower.auth.apply(tx, put('x'))).toThrow(expect.objectContaining({ code: 'PERMISSION_DENIED' }))
      expect(follower.auth.apply(tx, put('p/1'))).toEqual({ handled: false })
    })
  })
})
