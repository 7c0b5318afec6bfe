import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs'
import { dirname } from 'node:path'

/** Encrypts connection secrets at rest. Electron uses safeStorage (the OS keychain); web mode a key file. */
export interface SecretCipher {
  readonly kind: 'safe-storage' | 'key-file'
  encrypt(plain: string): Buffer
  /** Throws SecretDecryptError when the data was not made by this cipher (another machine, a changed key). */
  decrypt(data: Buffer): string
}

/** The stored secret cannot be decrypted with this machine's key. */
export class SecretDecryptError extends Error {
  readonly code = 'secret_decrypt_failed'
}

const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const FORMAT_VERSION = 1

/**
 * AES-256-GCM with a random 32-byte key kept in `keyPath`, created with mode 0600 on first use (and
 * tightened to 0600 if it was looser). Layout of a ciphertext: version(1) | iv(12) | tag(16) | data.
 */
export class KeyFileCipher implements SecretCipher {
  readonly kind = 'key-file'
  private readonly key: Buffer

  constructor(readonly keyPath: string) {
    this.key = KeyFileCipher.loadOrCreateKey(keyPath)
  }

  private static loadOrCreateKey(keyPath: string): Buffer {
    mkdirSync(dirname(keyPath), { recursive: true, mode: 0o700 })
    try {
      const fd = openSync(keyPath, 'wx', 0o600)
      try {
        writeSync(fd, randomBytes(KEY_BYTES))
      } finally {
        closeSync(fd)
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    if ((statSync(keyPath).mode & 0o077) !== 0) chmodSync(keyPath, 0o600)
    const key = readFileSync(keyPath)
    if (key.length !== KEY_BYTES) throw new SecretDecryptError(`key file ${keyPath} has ${key.length} bytes, expected ${KEY_BYTES}`)
    return key
  }

  encrypt(plain: string): Buffer {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.key, iv)
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return Buffer.concat([Buffer.from([FORMAT_VERSION]), iv, cipher.getAuthTag(), data])
  }

  decrypt(blob: Buffer): string {
    if (blob.length < 1 + IV_BYTES + TAG_BYTES || blob[0] !== FORMAT_VERSION) {
      throw new SecretDecryptError('secret has an unknown format')
    }
    const iv = blob.subarray(1, 1 + IV_BYTES)
    const tag = blob.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES)
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv)
    decipher.setAuthTag(tag)
    try {
      return Buffer.concat([decipher.update(blob.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')
    } catch (error) {
      throw new SecretDecryptError(`secret cannot be decrypted with ${this.keyPath}: ${(error as Error).message}`)
    }
  }
}

/** The slice of Electron's `safeStorage` used here (passed in, so this file never imports electron). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean
  encryptString(plain: string): Buffer
  decryptString(data: Buffer): string
}

/** Electron safeStorage (Keychain, DPAPI, libsecret/kwallet) behind the SecretCipher interface. */
export class SafeStorageCipher implements SecretCipher {
  readonly kind = 'safe-storage'
  constructor(private readonly safeStorage: SafeStorageLike) {}

  encrypt(plain: string): Buffer {
    return this.safeStorage.encryptString(plain)
  }

  decrypt(data: Buffer): string {
    try {
      return this.safeStorage.decryptString(data)
    } catch (error) {
      throw new SecretDecryptError(`secret cannot be decrypted by the OS keychain: ${(error as Error).message}`)
    }
  }
}
