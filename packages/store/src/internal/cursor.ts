/**
 * Opaque paging cursors: base64url JSON of a boundary row's sort key, the list it belongs to and the
 * direction to page in, signed with an HMAC so that a client can neither forge a position nor move a
 * cursor to another list. A cursor that fails any check is `Corrupt`, with a description that says what to
 * do instead.
 *
 * @internal
 */
import { StoreError } from "@seatkeeper/core/StoreError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { SecretKeys } from "./secretBox.js"
import { sign, verify } from "./secretBox.js"

/**
 * A position in a list: `k` names the list (`accounts:name:asc`), `c` its scope (a connection id, or `*`),
 * `d` the direction, and `v` the boundary row's key in the list's order (sort value, then tie-breakers).
 *
 * @internal
 */
export const Position = Schema.Struct({
  k: Schema.String,
  c: Schema.String,
  d: Schema.Literal("next", "prev"),
  v: Schema.NonEmptyArray(Schema.Union(Schema.String, Schema.Number))
})

/** @internal */
export interface Position extends Schema.Schema.Type<typeof Position> {}

const decodePosition = Schema.decodeUnknownEither(Schema.parseJson(Position))

/** @internal */
export const encode = (keys: SecretKeys, position: Position): string => {
  const body = Buffer.from(JSON.stringify(position), "utf8").toString("base64url")
  return `${body}.${sign(keys, body)}`
}

/** @internal */
export const invalid = (why: string): StoreError =>
  new StoreError({
    reason: "Corrupt",
    description: `the paging cursor is invalid (${why}); it must be a nextCursor or prevCursor returned by a ` +
      `previous page of the same list. Request the first page again without a cursor`
  })

/**
 * The position a cursor holds, checked to be this store's and this list's (`kind` within `scope`).
 *
 * @internal
 */
export const decode = (
  keys: SecretKeys,
  cursor: string,
  kind: string,
  scope: string
): Effect.Effect<Position, StoreError> =>
  Effect.suspend(() => {
    const dot = cursor.indexOf(".")
    if (dot <= 0 || dot !== cursor.lastIndexOf(".")) return Effect.fail(invalid("it is garbled"))
    const body = cursor.slice(0, dot)
    if (!verify(keys, body, cursor.slice(dot + 1))) {
      return Effect.fail(invalid("its signature does not match: it was altered or issued by another server"))
    }
    return Either.match(decodePosition(Buffer.from(body, "base64url").toString("utf8")), {
      onLeft: () => Effect.fail(invalid("it is garbled")),
      onRight: (position) =>
        position.k !== kind || position.c !== scope
          ? Effect.fail(invalid("it belongs to another list, sort order or connection"))
          : Effect.succeed(position)
    })
  })
