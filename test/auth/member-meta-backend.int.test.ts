import { afterEach, describe, expect, it } from 'vitest'
import { AuthStore, PermissionType } from '../../core/auth/auth-store'
import { AUTH_META_KEY, MemberMetaAuthBackend } from '../../core/auth/member-meta-backend'
import { MemberDb, type MemberTx } from '../../core/storage/member-db'
import { tempDir } from '../support/temp-dir'

describe('auth state in the member database (member_meta row "auth")', () => {
  const dir = tempDir('quorum-auth-meta-')
  afterEach(() => dir.remove())

  it('survives closing and reopening the database, byte keys included', () => {
    let db = MemberDb.open({ dataDir: dir.path })
    const store = new AuthStore<MemberTx>(new MemberMetaAuthBackend(db))
    db.transaction((tx) => {
      store.userAdd(tx, 'root', 'hash', false)
      store.userGrantRole(tx, 'root', 'root')
      store.roleAdd(tx, 'r')
      store.roleGrantPermission(tx, 'r', { type: PermissionType.WRITE, key: Buffer.from([0xff, 0]), rangeEnd: Buffer.from([0]) })
      store.enable(tx)
    })
    db.close()
    db = MemberDb.open({ dataDir: dir.path })
    const reopened = new AuthStore<MemberTx>(new MemberMetaAuthBackend(db))
    expect(reopened.isEnabled()).toBe(true)
    expect(reopened.revision()).toBe(store.revision())
    expect(reopened.userGet('root')).toEqual(['root'])
    expect(reopened.roleGet('r')).toEqual([{ type: PermissionType.WRITE, key: Buffer.from([0xff, 0]), rangeEnd: Buffer.from([0]) }])
    db.close()
  })

  it('a rolled-back apply transaction leaves the stored state unchanged', () => {
    const db = MemberDb.open({ dataDir: dir.path })
    const store = new AuthStore<MemberTx>(new MemberMetaAuthBackend(db))
    db.transaction((tx) => store.roleAdd(tx, 'kept'))
    const before = db.getMemberMeta(AUTH_META_KEY)
    expect(() =>
      db.transaction((tx) => {
        store.roleAdd(tx, 'lost')
        throw new Error('apply failed')
      }),
    ).toThrow('apply failed')
    expect(db.getMemberMeta(AUTH_META_KEY)).toBe(before)
    expect(new AuthStore<MemberTx>(new MemberMetaAuthBackend(db)).roleList()).toEqual(['kept'])
    db.close()
  })
})
