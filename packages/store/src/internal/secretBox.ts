/**
 * Encryption at rest for connection configs (DESIGN invariant 7): AES-256-GCM with a random 12-byte IV per
 * write, the row id as additional data (a ciphertext copied onto another row does not decrypt), and keys
 * derived from `SEATKEEPER_SECRET_KEY`.
 *
 * @internal
 */
import { StoreError } from "@seatkeeper/core/StoreError"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"

/**
 * The keys derived from the secret key: one encrypts configs, one signs paging cursors. Keeping them apart
 * means a cursor signature never says anything about the encryption key.
 *
 * @since 0.1.0
 * @category models
 */
export interface SecretKeys {
  readonly encryption: Buffer
  readonly cursor: Buffer
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/
// A fixed salt is enough here: the passphrase form exists for people who type a key by hand, and the
// derived key never leaves the process. Random keys (hex or base64) skip scrypt entirely.
const PASSPHRASE_SALT = "seatkeeper/secret-key/v1"
const MIN_PASSPHRASE_LENGTH = 12

const keyError = (description: string) =>
  new StoreError({
    reason: "Internal",
    description: `SEATKEEPER_SECRET_KEY is not usable: ${description}. Give 32 random bytes as base64 or hex ` +
      `(e.g. \`openssl rand -base64 32\`) or a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters`
  })

/**
 * Reads the master key: 32 bytes as hex (64 digits) or base64/base64url, or else a passphrase stretched
 * with scrypt. Sub-keys come from HKDF so that each use has its own key.
 *
 * @since 0.1.0
 * @category constructors
 */
export const deriveKeys = (secretKey: Redacted.Redacted<string>): Effect.Effect<SecretKeys, StoreError> =>
  Effect.suspend(() => {
    const value = Redacted.value(secretKey).trim()
    if (value === "") return Effect.fail(keyError("it is empty"))
    let master: Buffer
    if (HEX_KEY.test(value)) {
      master = Buffer.from(value, "hex")
    } else if (BASE64_KEY.test(value) && Buffer.from(value, "base64").length === 32) {
      master = Buffer.from(value, "base64")
    } else if (value.length >= MIN_PASSPHRASE_LENGTH) {
      master = Crypto.scryptSync(value, PASSPHRASE_SALT, 32, { N: 2 ** 14, r: 8, p: 1 })
    } else {
      return Effect.fail(keyError(`it is neither a 32-byte key nor a passphrase (too short)`))
    }
    const sub = (info: string) => Buffer.from(Crypto.hkdfSync("sha256", master, Buffer.alloc(0), info, 32))
    return Effect.succeed({
      encryption: sub("seatkeeper connection config v1"),
      cursor: sub("seatkeeper paging cursor v1")
    })
  })

const VERSION = "v1"

/**
 * Encrypts `plaintext` bound to `context` (e.g. the connection id). Output: `v1:<iv>:<ciphertext>:<tag>`,
 * each part base64url.
 *
 * @since 0.1.0
 * @category encryption
 */
export const encrypt = (keys: SecretKeys, context: string, plaintext: string): string => {
  const iv = Crypto.randomBytes(12)
  const cipher = Crypto.createCipheriv("aes-256-gcm", keys.encryption, iv)
  cipher.setAAD(Buffer.from(context, "utf8"))
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
  const tag = cipher.getAuthTag()
  return [VERSION, iv.toString("base64url"), body.toString("base64url"), tag.toString("base64url")].join(":")
}

/**
 * Decrypts what `encrypt` wrote for the same `context`. A wrong key, a tampered value or a value moved from
 * another row fails the GCM tag check and is reported as `Corrupt`, naming the likely cause.
 *
 * @since 0.1.0
 * @category encryption
 */
export const decrypt = (
  keys: SecretKeys,
  context: string,
  sealed: string,
  what: string
): Effect.Effect<string, StoreError> =>
  Effect.suspend(() => {
    const parts = sealed.split(":")
    if (parts.length !== 4 || parts[0] !== VERSION) {
      return Effect.fail(
        new StoreError({
          reason: "Corrupt",
          description: `${what} is not in a format this version of Seatkeeper can read`
        })
      )
    }
    try {
      const decipher = Crypto.createDecipheriv("aes-256-gcm", keys.encryption, Buffer.from(parts[1]!, "base64url"))
      decipher.setAAD(Buffer.from(context, "utf8"))
      decipher.setAuthTag(Buffer.from(parts[3]!, "base64url"))
      const plain = Buffer.concat([decipher.update(Buffer.from(parts[2]!, "base64url")), decipher.final()])
      return Effect.succeed(plain.toString("utf8"))
    } catch {
      return Effect.fail(
        new StoreError({
          reason: "Corrupt",
          description: `cannot decrypt ${what}: its authentication tag does not match. ` +
            `SEATKEEPER_SECRET_KEY has most likely changed since it was saved; start with the previous key, ` +
            `or delete the connection and add it again`
        })
      )
    }
  })

/**
 * HMAC-SHA256 of `data` with the cursor key, base64url, truncated to 128 bits.
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (keys: SecretKeys, data: string): string =>
  Crypto.createHmac("sha256", keys.cursor).update(data, "utf8").digest().subarray(0, 16).toString("base64url")

/**
 * Constant-time check of a `sign` signature.
 *
 * @since 0.1.0
 * @category signing
 */
export const verify = (keys: SecretKeys, data: string, signature: string): boolean => {
  // Compared as text, not as decoded bytes: base64url spells the same bytes several ways (the last
  // character's unused bits), so a decoded comparison would accept a cursor with a character changed.
  const expected = Buffer.from(sign(keys, data), "utf8")
  const given = Buffer.from(signature, "utf8")
  return given.length === expected.length && Crypto.timingSafeEqual(given, expected)
}
