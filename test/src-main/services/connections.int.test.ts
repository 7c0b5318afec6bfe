import { chmodSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AppStore } from '../../../core/storage/app-store'
import { FakeClock } from '../../../core/util/clock'
import type { ConnectionInput } from '../../../src-main/api/admin-api'
import { ConnectionService } from '../../../src-main/services/connections'
import { KeyFileCipher, SecretDecryptError } from '../../../src-main/services/secret-cipher'
import { ServiceError } from '../../../src-main/services/result'
import { tempDir } from '../../support/temp-dir'

const input = (overrides: Partial<ConnectionInput> = {}): ConnectionInput => ({
  name: 'production',
  endpoints: ['https://10.0.0.1:2379/', 'https://10.0.0.2:2379'],
  readOnly: true,
  username: 'root',
  password: 'hunter2-secret',
  tls: { caCert: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----', clientCert: '', serverName: '' },
  clientKey: '-----BEGIN PRIVATE KEY-----\nKEYMATERIAL\n-----END PRIVATE KEY-----',
  ...overrides,
})

describe('connection profiles in the app database', () => {
  let dir: ReturnType<typeof tempDir>
  let store: AppStore
  let service: ConnectionService
  const clock = new FakeClock()

  beforeEach(() => {
    dir = tempDir('quorum-app-store-')
    store = new AppStore(join(dir.path, 'quorum.db'))
    service = new ConnectionService(store, new KeyFileCipher(join(dir.path, 'keys', 'secret.key')), clock)
  })
  afterEach(() => {
    store.close()
    dir.remove()
  })

  it('saves a profile with its read-only flag and reports secrets only as present/absent', () => {
    const saved = service.save(input())
    expect(saved).toMatchObject({ name: 'production', readOnly: true, hasPassword: true, hasClientKey: true })
    expect(saved.endpoints).toEqual(['https://10.0.0.1:2379', 'https://10.0.0.2:2379'])
    expect(JSON.stringify(service.list())).not.toContain('hunter2')
    expect(service.list()).toEqual([saved])
  })

  it('a read-only profile refuses writes; a read-write one allows them', () => {
    const readOnly = service.save(input())
    const readWrite = service.save(input({ name: 'staging', readOnly: false }))
    expect(() => service.assertWritable(readOnly.id)).toThrow(expect.objectContaining({ code: 'read_only' }))
    expect(() => service.assertWritable(readWrite.id)).not.toThrow()
    service.save({ ...input({ id: readOnly.id, readOnly: false }), password: undefined, clientKey: undefined })
    expect(() => service.assertWritable(readOnly.id)).not.toThrow()
  })

  it('never writes a secret to the database file in clear text', () => {
    service.save(input())
    store.close()
    const bytes = Buffer.concat([join(dir.path, 'quorum.db'), join(dir.path, 'quorum.db-wal')].flatMap((path) => {
      try {
        return [readFileSync(path)]
      } catch {
        return []
      }
    }))
    expect(bytes.includes('production')).toBe(true)
    expect(bytes.includes('hunter2-secret')).toBe(false)
    expect(bytes.includes('KEYMATERIAL')).toBe(false)
    store = new AppStore(join(dir.path, 'quorum.db'))
  })

  it('creates the key file with mode 0600 and tightens a looser one', () => {
    const keyPath = join(dir.path, 'keys', 'secret.key')
    expect(statSync(keyPath).mode & 0o777).toBe(0o600)
    expect(readFileSync(keyPath)).toHaveLength(32)
    chmodSync(keyPath, 0o644)
    const again = new KeyFileCipher(keyPath)
    expect(statSync(keyPath).mode & 0o777).toBe(0o600)
    expect(again.decrypt(new KeyFileCipher(keyPath).encrypt('same key'))).toBe('same key')
  })

  it('a secret encrypted with another key file cannot be read, and the profile then shows no secrets', () => {
    const saved = service.save(input())
    const other = new ConnectionService(store, new KeyFileCipher(join(dir.path, 'other.key')), clock)
    expect(other.get(saved.id)).toMatchObject({ hasPassword: false, hasClientKey: false })
    expect(() => other.clientOptions(saved.id, 1000)).toThrow(SecretDecryptError)
  })

  it('an update with undefined secrets keeps them; an empty string removes them', () => {
    const saved = service.save(input())
    clock.advance(1000)
    const renamed = service.save({ ...input({ id: saved.id, name: 'prod-eu' }), password: undefined, clientKey: undefined })
    expect(renamed).toMatchObject({ id: saved.id, name: 'prod-eu', hasPassword: true, hasClientKey: true, createdAt: saved.createdAt })
    expect(renamed.updatedAt).toBe(saved.createdAt + 1000)
    expect(service.clientOptions(saved.id, 1000)).toMatchObject({ username: 'root', password: 'hunter2-secret' })
    const cleared = service.save({ ...input({ id: saved.id }), password: '', clientKey: undefined })
    expect(cleared).toMatchObject({ hasPassword: false, hasClientKey: true })
  })

  it('unsaved form values win over the stored profile when testing, stored secrets fill the gaps', () => {
    const saved = service.save(input())
    const options = service.clientOptions({ ...input({ id: saved.id, endpoints: ['https://10.9.9.9:2379'] }), password: undefined }, 1500)
    expect(options).toMatchObject({ endpoints: ['https://10.9.9.9:2379'], password: 'hunter2-secret', callTimeoutMs: 1500 })
    expect(options.tls?.clientKey).toContain('KEYMATERIAL')
  })

  it('rejects a second profile with the same name and a delete of a missing id', () => {
    service.save(input())
    expect(() => service.save(input())).toThrow(ServiceError)
    expect(() => service.delete('nope')).toThrow(expect.objectContaining({ code: 'not_found' }))
  })

  it('exports without secrets and imports into another database, skipping names that exist', () => {
    service.save(input())
    service.save(input({ name: 'staging', readOnly: false, endpoints: ['http://127.0.0.1:2379'] }))
    const exported = service.exportAll()
    expect(exported).not.toContain('hunter2')
    expect(exported).not.toContain('KEYMATERIAL')

    const otherStore = new AppStore(':memory:')
    const other = new ConnectionService(otherStore, new KeyFileCipher(join(dir.path, 'k2')), clock)
    other.save(input({ name: 'STAGING' }))
    expect(other.importAll(exported)).toEqual({ imported: 1, skipped: ['staging'] })
    const imported = other.list().find((profile) => profile.name === 'production')
    expect(imported).toMatchObject({ readOnly: true, username: 'root', hasPassword: false, hasClientKey: false })
    expect(imported?.tls.caCert).toContain('BEGIN CERTIFICATE')
    expect(() => other.importAll('{"format":"something-else"}')).toThrow(expect.objectContaining({ code: 'invalid_argument' }))
    otherStore.close()
  })
})
