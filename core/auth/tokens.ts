import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { SignJWT, jwtVerify } from 'jose'
import { systemClock, type Clock } from '../util/clock'
import type { AuthInfo } from './auth-store'
import { AuthError } from './errors'

// Auth tokens, after etcd's auth/simple_token.go and auth/jwt.go (Apache-2.0): `--auth-token simple` (random
// strings registered on every member through the Authenticate apply, dropped after --auth-token-ttl seconds
// without use) or `--auth-token jwt,pub-key=P,priv-key=K,sign-method=M,ttl=D` (stateless signed claims
// {username, revision, exp}; a password change takes effect through the auth revision check).

/** A token provider; one per member. */
export interface TokenProvider {
  readonly type: 'simple' | 'jwt'
  /** Before proposing an Authenticate: the simple token to carry in the entry ('' for jwt). */
  prepare(): string
  /** In the Authenticate apply (every member, synchronous): makes a prepared simple token valid. No-op for jwt. */
  register(token: string, info: AuthInfo): void
  /** After the Authenticate applied, on the proposing member: the token to answer with. */
  issue(info: AuthInfo, prepared: string): Promise<string>
  /**
   * Who a token belongs to; undefined for an unknown, expired, malformed or forged one. Simple tokens answer
   * `currentRevision` (etcd simple_token.go info: they die with password changes instead), JWTs their claim.
   */
  info(token: string, currentRevision: number): Promise<AuthInfo | undefined>
  /** Drops the tokens of user `name` ('' = every token), e.g. after a password change or auth disable. */
  invalidateUser(name: string): void
}

/** etcd's default --auth-token-ttl, seconds. */
export const DEFAULT_SIMPLE_TOKEN_TTL_SECONDS = 300

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

/** Simple tokens: `<16 random letters>.<counter>` as etcd makes them, valid for `ttlSeconds` after last use. */
export class SimpleTokenProvider implements TokenProvider {
  readonly type = 'simple'
  private readonly tokens = new Map<string, { username: string; expiresAtMs: number }>()
  private counter = 0
  private pruneAtSize = 1024

  constructor(
    private readonly ttlSeconds = DEFAULT_SIMPLE_TOKEN_TTL_SECONDS,
    private readonly clock: Clock = systemClock,
  ) {}

  prepare(): string {
    const bytes = randomBytes(16)
    const letters = Array.from(bytes, (b) => TOKEN_ALPHABET[b % TOKEN_ALPHABET.length]).join('')
    this.counter += 1
    return `${letters}.${this.counter}`
  }

  register(token: string, info: AuthInfo): void {
    if (token === '') return
    this.tokens.set(token, { username: info.username, expiresAtMs: this.clock.now() + this.ttlSeconds * 1000 })
    if (this.tokens.size >= this.pruneAtSize) {
      const now = this.clock.now()
      for (const [key, entry] of this.tokens) if (entry.expiresAtMs <= now) this.tokens.delete(key)
      this.pruneAtSize = Math.max(1024, this.tokens.size * 2)
    }
  }

  issue(_info: AuthInfo, prepared: string): Promise<string> {
    return Promise.resolve(prepared)
  }

  info(token: string, currentRevision: number): Promise<AuthInfo | undefined> {
    const entry = this.tokens.get(token)
    const now = this.clock.now()
    if (!entry) return Promise.resolve(undefined)
    if (entry.expiresAtMs <= now) {
      this.tokens.delete(token)
      return Promise.resolve(undefined)
    }
    // etcd compat: simpleTokenTTLKeeper.resetSimpleToken: every use restarts the TTL.
    entry.expiresAtMs = now + this.ttlSeconds * 1000
    return Promise.resolve({ username: entry.username, revision: currentRevision })
  }

  invalidateUser(name: string): void {
    for (const [token, entry] of this.tokens) if (name === '' || entry.username === name) this.tokens.delete(token)
  }
}

/** JWT signing algorithms etcd accepts for `sign-method` (jwt.go: RS*, PS*, ES*; not HS*, never `none`). */
export const JWT_SIGN_METHODS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const
export type JwtSignMethod = (typeof JWT_SIGN_METHODS)[number]

/** Options of {@link JwtTokenProvider}: keys as node KeyObjects (the private one may be absent on a verify-only member). */
export interface JwtOptions {
  signMethod: JwtSignMethod
  publicKey: KeyObject
  privateKey?: KeyObject
  ttlSeconds: number
}

/** JWT tokens with claims {username, revision, exp}, as etcd's tokenJWT. */
export class JwtTokenProvider implements TokenProvider {
  readonly type = 'jwt'

  constructor(
    private readonly options: JwtOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  prepare(): string {
    return ''
  }

  register(): void {}

  async issue(info: AuthInfo): Promise<string> {
    const { privateKey, signMethod, ttlSeconds } = this.options
    if (!privateKey) throw new Error('auth: jwt provider has no private key, cannot sign tokens')
    const nowSeconds = Math.floor(this.clock.now() / 1000)
    return new SignJWT({ username: info.username, revision: info.revision })
      .setProtectedHeader({ alg: signMethod })
      .setExpirationTime(nowSeconds + ttlSeconds)
      .sign(privateKey)
  }

  async info(token: string): Promise<AuthInfo | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.options.publicKey, {
        algorithms: [this.options.signMethod],
        currentDate: new Date(this.clock.now()),
        requiredClaims: ['exp'],
      })
      const { username, revision } = payload as { username?: unknown; revision?: unknown }
      if (typeof username !== 'string' || typeof revision !== 'number' || !Number.isSafeInteger(revision)) return undefined
      return { username, revision }
    } catch {
      // Malformed, forged, wrong algorithm (incl. `none`) or expired: all are "invalid auth token".
      return undefined
    }
  }

  invalidateUser(): void {}
}

/** `--auth-token` parsed. */
export type AuthTokenSpec =
  | { type: 'simple' }
  | { type: 'jwt'; signMethod: JwtSignMethod; publicKeyPath: string; privateKeyPath?: string; ttlSeconds: number }

/** Thrown for a malformed `--auth-token` value. */
export class AuthTokenSpecError extends Error {
  readonly code = 'AUTH_TOKEN_SPEC'
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 }

/** Parses a Go duration as etcd's jwt `ttl=` takes it (`5m`, `300s`, `1h`) into seconds. */
export function parseDurationSeconds(text: string): number {
  const match = DURATION.exec(text)
  if (!match) throw new AuthTokenSpecError(`auth token: invalid duration ${JSON.stringify(text)}`)
  return Number(match[1]) * UNIT_SECONDS[match[2]]
}

/** Parses `--auth-token` (etcd embed/config.go: `simple` or `jwt,key=value,...`; jwt ttl defaults to 5m). */
export function parseAuthTokenSpec(value: string): AuthTokenSpec {
  const [type, ...options] = value.split(',')
  if (type === 'simple' && options.length === 0) return { type: 'simple' }
  if (type !== 'jwt') throw new AuthTokenSpecError(`auth token: unknown token type ${JSON.stringify(type)}`)
  const fields = new Map<string, string>()
  for (const option of options) {
    const at = option.indexOf('=')
    if (at <= 0) throw new AuthTokenSpecError(`auth token: malformed option ${JSON.stringify(option)}`)
    fields.set(option.slice(0, at), option.slice(at + 1))
  }
  const signMethod = fields.get('sign-method') as JwtSignMethod | undefined
  if (!signMethod || !JWT_SIGN_METHODS.includes(signMethod)) {
    throw new AuthTokenSpecError(`auth token: sign-method must be one of ${JWT_SIGN_METHODS.join(', ')}`)
  }
  const publicKeyPath = fields.get('pub-key')
  if (!publicKeyPath) throw new AuthTokenSpecError('auth token: jwt needs pub-key')
  return { type: 'jwt', signMethod, publicKeyPath, privateKeyPath: fields.get('priv-key'), ttlSeconds: parseDurationSeconds(fields.get('ttl') ?? '5m') }
}

/** Builds the provider for `spec` (reading jwt keys from disk now, so a bad key fails at start-up). */
export function createTokenProvider(spec: AuthTokenSpec, options: { simpleTtlSeconds?: number; clock?: Clock } = {}): TokenProvider {
  if (spec.type === 'simple') return new SimpleTokenProvider(options.simpleTtlSeconds, options.clock)
  const publicKey = createPublicKey(readFileSync(spec.publicKeyPath))
  const privateKey = spec.privateKeyPath ? createPrivateKey(readFileSync(spec.privateKeyPath)) : undefined
  return new JwtTokenProvider({ signMethod: spec.signMethod, publicKey, privateKey, ttlSeconds: spec.ttlSeconds }, options.clock)
}

/**
 * The caller's AuthInfo from the `token` metadata value(s) of a call (etcd AuthInfoFromCtx). No token →
 * undefined (a later check answers USER_EMPTY); several tokens, an oversized or unknown token →
 * INVALID_AUTH_TOKEN. Auth off → undefined: tokens are ignored while auth is off.
 */
export async function authInfoFromToken(
  provider: TokenProvider,
  store: { isEnabled(): boolean; revision(): number },
  values: readonly unknown[],
): Promise<AuthInfo | undefined> {
  if (!store.isEnabled() || values.length === 0) return undefined
  const [token] = values
  if (values.length > 1 || typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw new AuthError('INVALID_AUTH_TOKEN')
  const info = await provider.info(token, store.revision())
  if (!info) throw new AuthError('INVALID_AUTH_TOKEN')
  return info
}

/** Tokens longer than this are refused without a lookup (a JWT of ours is under 1 KiB). */
export const MAX_TOKEN_LENGTH = 4096
