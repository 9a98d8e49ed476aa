/**
 * Opaque paging cursors: base64url JSON of the last row's sort key, signed with an HMAC so that a client
 * cannot forge a position, and checked against a schema so that a garbled cursor is a clear error rather
 * than a failed query.
 *
 * @since 0.1.0
 */
import { StoreError } from "@seatkeeper/core/LicenseStore"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { SecretKeys } from "./SecretBox.js"
import { sign, verify } from "./SecretBox.js"

/**
 * Position after an account in the `(sort_key, external_id)` order, within one connection.
 *
 * @since 0.1.0
 * @category models
 */
export const AccountCursor = Schema.Struct({
  k: Schema.Literal("accounts"),
  c: Schema.String,
  s: Schema.String,
  id: Schema.String
})

/**
 * Position after an audit event in newest-first order.
 *
 * @since 0.1.0
 * @category models
 */
export const AuditCursor = Schema.Struct({
  k: Schema.Literal("audit"),
  id: Schema.Int
})

/**
 * @since 0.1.0
 * @category encoding
 */
export const encode = <A, I>(keys: SecretKeys, schema: Schema.Schema<A, I>, value: NoInfer<A>): string => {
  const body = Buffer.from(JSON.stringify(Schema.encodeSync(schema)(value)), "utf8").toString("base64url")
  return `${body}.${sign(keys, body)}`
}

/**
 * The error for a cursor that cannot be used, saying what to do instead.
 *
 * @since 0.1.0
 * @category errors
 */
export const invalid = (why: string): StoreError =>
  new StoreError({
    reason: "Corrupt",
    description: `the paging cursor is invalid (${why}); it must be a nextCursor returned by a previous ` +
      `page of the same list. Request the first page again without a cursor`
  })

/**
 * @since 0.1.0
 * @category decoding
 */
export const decode = <A>(keys: SecretKeys, schema: Schema.Schema<A, any>, cursor: string): Effect.Effect<A, StoreError> =>
  Effect.suspend(() => {
    const dot = cursor.indexOf(".")
    if (dot <= 0 || dot !== cursor.lastIndexOf(".")) return Effect.fail(invalid("it is garbled"))
    const body = cursor.slice(0, dot)
    if (!verify(keys, body, cursor.slice(dot + 1))) {
      return Effect.fail(invalid("its signature does not match: it was altered or issued by another server"))
    }
    let json: unknown
    try {
      json = JSON.parse(Buffer.from(body, "base64url").toString("utf8"))
    } catch {
      return Effect.fail(invalid("it is garbled"))
    }
    return Either.match(Schema.decodeUnknownEither(schema)(json), {
      onLeft: () => Effect.fail(invalid("it belongs to another list")),
      onRight: Effect.succeed
    })
  })
