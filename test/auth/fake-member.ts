import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js'
import { applyAuthRequest, isAuthRequestKind, type AuthRequestBodies } from '../../core/auth/apply'
import { AuthStore } from '../../core/auth/auth-store'
import { MemberMetaAuthBackend } from '../../core/auth/member-meta-backend'
import { checkApply, checkRequest, proposalAuthHeader } from '../../core/auth/permissions'
import { SimpleTokenProvider, type TokenProvider } from '../../core/auth/tokens'
import { registerAuthService, callerAuthInfo, type ProposalAuth } from '../../core/server/grpc/auth'
import { toGrpcStatusError } from '../../core/server/grpc/errors'
import { addService } from '../../core/proto/services'
import type * as pb from '../../core/proto/types'
import { MemberDb, type MemberTx } from '../../core/storage/member-db'

/**
 * A single in-process "member" for the auth tests: the real AuthStore on a real member database (auth state in
 * member_meta, changed only inside a transaction), the real Auth gRPC service, and a minimal KV service
 * (Range/Put of single keys over a Map) that calls the permission hooks exactly where the integrator must:
 * at the gRPC layer for reads, at apply for writes. `propose` applies at once, in one transaction, like a
 * one-member Raft group would, so this is the dependency interface without the consensus.
 */
export class FakeMember {
  readonly store: AuthStore<MemberTx>
  readonly tokens: TokenProvider
  readonly kv = new Map<string, { value: Buffer; createRevision: number; modRevision: number; version: number }>()
  private revision = 1
  private readonly server = new Server()
  url = ''

  constructor(
    readonly db: MemberDb,
    options: { bcryptCost?: number; tokens?: TokenProvider } = {},
  ) {
    this.store = new AuthStore<MemberTx>(new MemberMetaAuthBackend(db))
    this.tokens = options.tokens ?? new SimpleTokenProvider()
    this.store.onInvalidateUser = (name) => this.tokens.invalidateUser(name)
    registerAuthService(this.server, {
      authStore: this.store,
      tokens: this.tokens,
      bcryptCost: options.bcryptCost ?? 10,
      clientCertAuth: false,
      header: () => this.header(),
      propose: (kind, body, auth) => Promise.resolve(this.apply(kind, body, auth)),
    })
    const unary = <Req, Res>(fn: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) => (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      fn(call.request, call).then((response) => callback(null, response), (error: unknown) => callback(toGrpcStatusError(error)))
    }
    addService(this.server, 'etcdserverpb.KV', {
      Range: unary(async (request: pb.RangeRequest, call) => {
        checkRequest(this.store, await callerAuthInfo(call, this.store, this.tokens, false), { kind: 'range', body: request })
        const entry = this.kv.get(request.key.toString('latin1'))
        const kvs = entry
          ? [{ key: request.key, value: entry.value, create_revision: String(entry.createRevision), mod_revision: String(entry.modRevision), version: String(entry.version), lease: '0' }]
          : []
        return { header: this.header(), kvs, more: false, count: String(kvs.length) }
      }),
      Put: unary(async (request: pb.PutRequest, call) => {
        const info = await callerAuthInfo(call, this.store, this.tokens, false)
        checkRequest(this.store, info, { kind: 'put', body: request })
        this.apply('put', request, proposalAuthHeader(this.store, info))
        return { header: this.header(), prev_kv: null }
      }),
    })
  }

  header(): pb.ResponseHeader {
    return { cluster_id: '1', member_id: '2', revision: String(this.revision), raft_term: '2' }
  }

  /** The apply path: the auth check on the proposal's header, then the state change, in one transaction. */
  apply(kind: string, body: unknown, auth: ProposalAuth): unknown {
    return this.db.transaction((tx) => {
      checkApply(this.store, auth, kind, body)
      if (isAuthRequestKind(kind)) return applyAuthRequest(tx, this.store, this.tokens, kind, body as AuthRequestBodies[typeof kind])
      const put = body as pb.PutRequest
      const key = put.key.toString('latin1')
      const previous = this.kv.get(key)
      this.revision += 1
      this.kv.set(key, { value: put.value, createRevision: previous?.createRevision ?? this.revision, modRevision: this.revision, version: (previous?.version ?? 0) + 1 })
      return undefined
    })
  }

  async listen(): Promise<string> {
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    )
    this.url = `http://127.0.0.1:${port}`
    return this.url
  }

  close(): void {
    this.server.forceShutdown()
    this.db.close()
  }
}

/** Opens a member database in `dataDir` (created if missing). */
export function openDb(dataDir: string): MemberDb {
  return MemberDb.open({ dataDir })
}
