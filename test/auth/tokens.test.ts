import { generateKeyPairSync } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SignJWT, UnsecuredJWT } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { AuthStore, ROOT, type AuthBackend, type AuthState } from '../../core/auth/auth-store'
import {
  authInfoFromToken,
  createTokenProvider,
  JwtTokenProvider,
  parseAuthTokenSpec,
  parseDurationSeconds,
  SimpleTokenProvider,
  type TokenProvider,
} from '../../core/auth/tokens'
import { FakeClock } from '../../core/util/clock'
import { tempDir } from '../support/temp-dir'

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

class NullBackend implements AuthBackend<null> {
  load(): AuthState | undefined {
    return undefined
  }
  save(): void {}
}

describe('simple tokens (etcd simple_token.go)', () => {
  it('a registered token names its user at the current revision and lives --auth-token-ttl seconds after its last use', async () => {
    const clock = new FakeClock()
    const tokens = new SimpleTokenProvider(2, clock)
    const token = tokens.prepare()
    expect(token).toMatch(/^[a-zA-Z]{16}\.\d+$/)
    expect(await tokens.info(token, 5)).toBeUndefined()
    tokens.register(token, { username: 'alice', revision: 3 })
    expect(await tokens.info(token, 5)).toEqual({ username: 'alice', revision: 5 })
    clock.advance(1500)
    expect(await tokens.info(token, 5)).toBeDefined()
    clock.advance(1500)
    expect(await tokens.info(token, 5)).toBeDefined()
    clock.advance(2001)
    expect(await tokens.info(token, 5)).toBeUndefined()
  })

  it('invalidating a user drops only their tokens; "" drops all', async () => {
    const tokens = new SimpleTokenProvider()
    const [a, b, c] = [tokens.prepare(), tokens.prepare(), tokens.prepare()]
    expect(new Set([a, b, c]).size).toBe(3)
    tokens.register(a, { username: 'alice', revision: 1 })
    tokens.register(b, { username: 'bob', revision: 1 })
    tokens.register(c, { username: 'bob', revision: 1 })
    tokens.invalidateUser('bob')
    expect(await tokens.info(a, 1)).toBeDefined()
    expect(await tokens.info(b, 1)).toBeUndefined()
    tokens.invalidateUser('')
    expect(await tokens.info(a, 1)).toBeUndefined()
  })
})

describe('caller identity from the token metadata (etcd AuthInfoFromCtx)', () => {
  const store = new AuthStore(new NullBackend())
  store.userAdd(null, ROOT, 'h', false)
  store.userGrantRole(null, ROOT, ROOT)
  const tokens = new SimpleTokenProvider()
  const token = tokens.prepare()
  tokens.register(token, { username: ROOT, revision: 1 })

  it('auth off: tokens are ignored, even garbage', async () => {
    expect(await authInfoFromToken(tokens, store, ['garbage'])).toBeUndefined()
  })

  it('auth on: no token → no identity; a valid one → its user; garbage, several or a 1 MB token → INVALID_AUTH_TOKEN', async () => {
    store.enable(null)
    expect(await authInfoFromToken(tokens, store, [])).toBeUndefined()
    expect(await authInfoFromToken(tokens, store, [token])).toEqual({ username: ROOT, revision: store.revision() })
    expect(await codeOf(authInfoFromToken(tokens, store, ['garbage']))).toBe('INVALID_AUTH_TOKEN')
    expect(await codeOf(authInfoFromToken(tokens, store, [token, token]))).toBe('INVALID_AUTH_TOKEN')
    expect(await codeOf(authInfoFromToken(tokens, store, ['x'.repeat(1 << 20)]))).toBe('INVALID_AUTH_TOKEN')
  })
})

describe('JWT tokens (etcd jwt.go)', () => {
  const dir = tempDir('quorum-auth-jwt-')
  afterAll(() => dir.remove())
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })

  it('parses --auth-token like etcd: simple, jwt with keys, sign-method and a Go duration ttl (default 5m)', () => {
    expect(parseAuthTokenSpec('simple')).toEqual({ type: 'simple' })
    expect(parseAuthTokenSpec('jwt,pub-key=/p,priv-key=/k,sign-method=ES256,ttl=10m')).toEqual({
      type: 'jwt', signMethod: 'ES256', publicKeyPath: '/p', privateKeyPath: '/k', ttlSeconds: 600,
    })
    expect(parseAuthTokenSpec('jwt,pub-key=/p,sign-method=RS256').type === 'jwt' && parseAuthTokenSpec('jwt,pub-key=/p,sign-method=RS256')).toMatchObject({ ttlSeconds: 300 })
    expect(parseDurationSeconds('1h')).toBe(3600)
    for (const bad of ['jwt,pub-key=/p,sign-method=none', 'jwt,pub-key=/p,sign-method=HS256', 'jwt,sign-method=RS256', 'magic', 'jwt,pub-key=/p,sign-method=RS256,ttl=5 minutes']) {
      expect(() => parseAuthTokenSpec(bad), bad).toThrow(/auth token/)
    }
  })

  it('RS256 and ES256 tokens from PEM files verify to {username, revision}', async () => {
    for (const [method, pair] of [['RS256', rsa], ['ES256', ec]] as const) {
      const pub = join(dir.path, `${method}.pub`)
      const priv = join(dir.path, `${method}.key`)
      writeFileSync(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }))
      writeFileSync(priv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }))
      const tokens = createTokenProvider(parseAuthTokenSpec(`jwt,pub-key=${pub},priv-key=${priv},sign-method=${method},ttl=5m`))
      const token = await tokens.issue({ username: 'alice', revision: 9 }, tokens.prepare())
      expect(await tokens.info(token, 100)).toEqual({ username: 'alice', revision: 9 })
    }
  })

  it('rejects alg none, a tampered payload, a foreign key, another algorithm and an expired token', async () => {
    const clock = new FakeClock()
    const tokens: TokenProvider = new JwtTokenProvider({ signMethod: 'RS256', publicKey: rsa.publicKey, privateKey: rsa.privateKey, ttlSeconds: 60 }, clock)
    const token = await tokens.issue({ username: 'alice', revision: 2 }, '')
    const [head, , signature] = token.split('.')
    const forgedPayload = Buffer.from(JSON.stringify({ username: ROOT, revision: 2, exp: 9_999_999_999 })).toString('base64url')
    const unsecured = new UnsecuredJWT({ username: ROOT, revision: 2 }).setExpirationTime('1h').encode()
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const foreign = await new SignJWT({ username: ROOT, revision: 2 }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('1h').sign(other.privateKey)
    const ps256 = await new SignJWT({ username: ROOT, revision: 2 }).setProtectedHeader({ alg: 'PS256' }).setExpirationTime('1h').sign(rsa.privateKey)
    for (const bad of [unsecured, `${head}.${forgedPayload}.${signature}`, foreign, ps256, 'not.a.jwt', '']) {
      expect(await tokens.info(bad, 1), bad).toBeUndefined()
    }
    expect(await tokens.info(token, 1)).toBeDefined()
    clock.advance(61_000)
    expect(await tokens.info(token, 1)).toBeUndefined()
  })
})
