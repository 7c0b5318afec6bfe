import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { Clock } from '../../core/util/clock'
import { AppStore, DuplicateConnectionNameError, type StoredConnection } from '../../core/storage/app-store'
import type { ConnectionInput, ConnectionProfile, ImportReport, TlsSettings } from '../api/admin-api'
import type { ClusterClientOptions } from './cluster-client'
import { ServiceError } from './result'
import type { SecretCipher } from './secret-cipher'

// Connection profiles: the non-secret fields as JSON in the app database, the password and client key as one
// encrypted blob. Export/import never carries secrets.

interface ProfileFields {
  endpoints: string[]
  readOnly: boolean
  username: string
  tls: TlsSettings
}

interface Secrets {
  password?: string
  clientKey?: string
}

/** File format of exported profiles. */
export const EXPORT_FORMAT = 'quorum-connections'

const exportSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  version: z.literal(1),
  connections: z.array(
    z.object({
      name: z.string().trim().min(1).max(200),
      endpoints: z.array(z.string().regex(/^https?:\/\/[^\s/]+(:\d{1,5})?\/?$/)).min(1).max(32),
      readOnly: z.boolean().default(false),
      username: z.string().max(256).default(''),
      tls: z
        .object({ caCert: z.string().default(''), clientCert: z.string().default(''), serverName: z.string().default('') })
        .default({ caCert: '', clientCert: '', serverName: '' }),
    }),
  ),
})

function normaliseEndpoint(endpoint: string): string {
  return endpoint.trim().replace(/\/+$/, '')
}

/** CRUD, import/export and secret handling for connection profiles. */
export class ConnectionService {
  constructor(
    private readonly store: AppStore,
    private readonly cipher: SecretCipher,
    private readonly clock: Clock,
  ) {}

  list(): ConnectionProfile[] {
    return this.store.listConnections().map((record) => this.toProfile(record))
  }

  /** The profile with `id`; throws ServiceError not_found. */
  get(id: string): ConnectionProfile {
    return this.toProfile(this.getRecord(id))
  }

  private getRecord(id: string): StoredConnection {
    const record = this.store.getConnection(id)
    if (!record) throw new ServiceError('not_found', `no connection with id ${id}`)
    return record
  }

  /** Creates or updates a profile. Undefined secrets keep the stored value; empty strings remove it. */
  save(input: ConnectionInput): ConnectionProfile {
    const now = this.clock.now()
    const existing = input.id ? this.getRecord(input.id) : null
    const secrets: Secrets = existing ? this.readSecrets(existing) : {}
    if (input.password !== undefined) secrets.password = input.password || undefined
    if (input.clientKey !== undefined) secrets.clientKey = input.clientKey || undefined
    const fields: ProfileFields = {
      endpoints: input.endpoints.map(normaliseEndpoint),
      readOnly: input.readOnly,
      username: input.username.trim(),
      tls: { caCert: input.tls.caCert.trim(), clientCert: input.tls.clientCert.trim(), serverName: input.tls.serverName.trim() },
    }
    const record: StoredConnection = {
      id: existing?.id ?? randomUUID(),
      name: input.name.trim(),
      profileJson: JSON.stringify(fields),
      secret: secrets.password || secrets.clientKey ? this.cipher.encrypt(JSON.stringify(secrets)) : null,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    }
    try {
      this.store.putConnection(record)
    } catch (error) {
      if (error instanceof DuplicateConnectionNameError) throw new ServiceError('invalid_argument', error.message)
      throw error
    }
    return this.toProfile(record)
  }

  delete(id: string): void {
    if (!this.store.deleteConnection(id)) throw new ServiceError('not_found', `no connection with id ${id}`)
  }

  /**
   * Throws ServiceError `read_only` for a read-only profile. Every service that writes to a cluster (keys,
   * members, leases, alarms, snapshots restore) calls this first, so the flag holds whatever the UI shows.
   */
  assertWritable(id: string): void {
    const fields = JSON.parse(this.getRecord(id).profileJson) as ProfileFields
    if (fields.readOnly) throw new ServiceError('read_only', `connection ${id} is read-only`)
  }

  /** Every profile as JSON text, without passwords or client keys. */
  exportAll(): string {
    const connections = this.list().map(({ name, endpoints, readOnly, username, tls }) => ({ name, endpoints, readOnly, username, tls }))
    return JSON.stringify({ format: EXPORT_FORMAT, version: 1, connections }, null, 2)
  }

  /** Adds the profiles in `json`; names that already exist are skipped and reported. */
  importAll(json: string): ImportReport {
    let data: unknown
    try {
      data = JSON.parse(json)
    } catch (error) {
      throw new ServiceError('invalid_argument', `not JSON: ${(error as Error).message}`)
    }
    const parsed = exportSchema.safeParse(data)
    if (!parsed.success) throw new ServiceError('invalid_argument', `not a Quorum connections file: ${parsed.error.issues[0]?.message ?? ''}`)
    const existing = new Set(this.store.listConnections().map((record) => record.name.toLowerCase()))
    const report: ImportReport = { imported: 0, skipped: [] }
    for (const connection of parsed.data.connections) {
      if (existing.has(connection.name.toLowerCase())) {
        report.skipped.push(connection.name)
        continue
      }
      this.save({ ...connection })
      existing.add(connection.name.toLowerCase())
      report.imported++
    }
    return report
  }

  /**
   * The client options for a profile, secrets decrypted. With `input`, unsaved form values win and a stored
   * profile (`input.id`) fills in the secrets the form left undefined.
   */
  clientOptions(idOrInput: string | ConnectionInput, callTimeoutMs: number): ClusterClientOptions {
    let fields: ProfileFields
    let secrets: Secrets = {}
    if (typeof idOrInput === 'string') {
      const record = this.getRecord(idOrInput)
      fields = JSON.parse(record.profileJson) as ProfileFields
      secrets = this.readSecrets(record)
    } else {
      const input = idOrInput
      const stored = input.id ? this.store.getConnection(input.id) : null
      if (stored) secrets = this.readSecrets(stored)
      if (input.password !== undefined) secrets.password = input.password || undefined
      if (input.clientKey !== undefined) secrets.clientKey = input.clientKey || undefined
      fields = { endpoints: input.endpoints.map(normaliseEndpoint), readOnly: input.readOnly, username: input.username.trim(), tls: input.tls }
    }
    const tls = fields.tls
    const usesTls = fields.endpoints.some((endpoint) => endpoint.startsWith('https://'))
    return {
      endpoints: fields.endpoints,
      username: fields.username || undefined,
      password: fields.username ? (secrets.password ?? '') : undefined,
      tls: usesTls
        ? {
            caCert: tls.caCert || undefined,
            clientCert: tls.clientCert || undefined,
            clientKey: secrets.clientKey,
            serverName: tls.serverName || undefined,
          }
        : undefined,
      callTimeoutMs,
    }
  }

  private readSecrets(record: StoredConnection): Secrets {
    if (!record.secret) return {}
    return JSON.parse(this.cipher.decrypt(record.secret)) as Secrets
  }

  private toProfile(record: StoredConnection): ConnectionProfile {
    const fields = JSON.parse(record.profileJson) as ProfileFields
    const secrets = this.readSecretsLenient(record)
    return {
      id: record.id,
      name: record.name,
      endpoints: fields.endpoints,
      readOnly: fields.readOnly,
      username: fields.username,
      hasPassword: Boolean(secrets.password),
      tls: fields.tls,
      hasClientKey: Boolean(secrets.clientKey),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    }
  }

  // Listing must not fail because one secret was encrypted on another machine: the profile then simply
  // shows no stored secrets, and the user re-enters them.
  private readSecretsLenient(record: StoredConnection): Secrets {
    try {
      return this.readSecrets(record)
    } catch (error) {
      if ((error as { code?: string }).code === 'secret_decrypt_failed') return {}
      throw error
    }
  }
}
