/**
 * The `UserStore` of `@seatkeeper/core` over `@effect/sql`: people with a role and a token of their own.
 * A token is never stored, only its SHA-256 (`tokenHash`, unique and indexed: it is how a request finds its
 * user); a name is unique whatever its case (a lower-cased key, computed the same way for both databases).
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import type { Fragment } from "@effect/sql/Statement"
import type { StoreError } from "@seatkeeper/core/StoreError"
import { type Role, type User, UserStore } from "@seatkeeper/core/User"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import { UserRow } from "./internal/rows.js"
import { conflict, iso, orStoreError, text } from "./internal/sql.js"
import * as Migrations from "./Migrations.js"

const columns = "id, name, role, created_by, created_at, disabled_at"

const nameKey = (name: string) => text(name).toLowerCase()

/**
 * The user store over the `SqlClient` in context; the schema must be migrated (the layers do it).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: Effect.Effect<UserStore["Type"], never, SqlClient.SqlClient> = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  const findById = SqlSchema.findOne({
    Request: Schema.String,
    Result: UserRow,
    execute: (id) => sql`SELECT ${sql.literal(columns)} FROM users WHERE id = ${id}`
  })

  const findByToken = SqlSchema.findOne({
    Request: Schema.String,
    Result: UserRow,
    execute: (hash) =>
      sql`SELECT ${sql.literal(columns)} FROM users WHERE token_hash = ${text(hash)} AND disabled_at IS NULL`
  })

  const findAll = SqlSchema.findAll({
    Request: Schema.Void,
    Result: UserRow,
    execute: () => sql`SELECT ${sql.literal(columns)} FROM users`
  })

  /** Why a user could not be saved: its name (any case) is another's, or its token is. */
  const taken = (name: string | undefined) =>
    Effect.gen(function*() {
      if (name !== undefined) {
        const named = yield* sql`SELECT id FROM users WHERE name_key = ${nameKey(name)}`
        if (named.length > 0) return yield* conflict(`a user named ${name} exists`)
      }
      return yield* conflict("that token is another user's")
    })

  const create = Effect.fn("SqlUserStore.create")(function*(input: {
    readonly name: string
    readonly role: Role
    readonly tokenHash: string
    readonly createdBy: string
  }) {
    const at = iso(yield* Clock.currentTimeMillis)
    const id = Crypto.randomUUID()
    return yield* Effect.gen(function*() {
      // Both unique keys checked by the insert itself: a name or token taken by a concurrent create too.
      const inserted = yield* sql`INSERT INTO users ${
        sql.insert({
          id,
          name: text(input.name),
          name_key: nameKey(input.name),
          role: input.role,
          token_hash: text(input.tokenHash),
          created_by: text(input.createdBy),
          created_at: at,
          disabled_at: null
        })
      } ON CONFLICT DO NOTHING RETURNING id`
      if (inserted.length === 0) return yield* taken(input.name)
      return Option.getOrThrow(yield* findById(id))
    }).pipe(orStoreError("cannot save the user"))
  })

  const list = findAll(undefined).pipe(
    // Few rows; ordered as the reference orders them (by name, in the locale's order).
    Effect.map((users): ReadonlyArray<User> => [...users].sort((a, b) => a.name.localeCompare(b.name))),
    orStoreError("cannot list the users"),
    Effect.withSpan("SqlUserStore.list")
  )

  const get = (id: string) =>
    findById(id).pipe(
      Effect.map((user): Option.Option<User> => user),
      orStoreError("cannot read the user"),
      Effect.withSpan("SqlUserStore.get")
    )

  const byTokenHash = (hash: string) =>
    findByToken(hash).pipe(
      Effect.map((user): Option.Option<User> => user),
      orStoreError("cannot read the user"),
      Effect.withSpan("SqlUserStore.byTokenHash")
    )

  const update = Effect.fn("SqlUserStore.update")(function*(
    id: string,
    patch: {
      readonly role?: Role | undefined
      readonly disabled?: boolean | undefined
      readonly tokenHash?: string | undefined
    }
  ) {
    const at = iso(yield* Clock.currentTimeMillis)
    return yield* Effect.gen(function*() {
      const sets: Array<Fragment> = []
      if (patch.role !== undefined) sets.push(sql`role = ${patch.role}`)
      if (patch.tokenHash !== undefined) sets.push(sql`token_hash = ${text(patch.tokenHash)}`)
      if (patch.disabled !== undefined) sets.push(sql`disabled_at = ${patch.disabled ? at : null}`)
      if (sets.length > 0) {
        if (patch.tokenHash !== undefined) {
          const other = yield* sql`SELECT id FROM users WHERE token_hash = ${text(patch.tokenHash)} AND id <> ${id}`
          if (other.length > 0) return yield* taken(undefined)
        }
        yield* sql`UPDATE users SET ${sql.csv(sets)} WHERE id = ${id}`
      }
      return yield* findById(id)
    }).pipe(orStoreError("cannot update the user"))
  })

  return UserStore.of({ create, list, get, byTokenHash, update })
})

/**
 * The user store over the `SqlClient` in context, with the schema migrated.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer: Layer.Layer<UserStore, StoreError, SqlClient.SqlClient> = Layer.effect(UserStore, make).pipe(
  Layer.provide(Migrations.layer)
)
