/**
 * The `AuditStore` of `@seatkeeper/core` over `@effect/sql`: who did what, when, with which input and
 * outcome (invariant 9), newest first, keyset-paged both ways with signed cursors.
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import { type AuditEvent, type AuditQuery, AuditStore } from "@seatkeeper/core/Audit"
import type { Page } from "@seatkeeper/core/Inventory"
import type { StoreError } from "@seatkeeper/core/StoreError"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Cursor from "./internal/cursor.js"
import * as Keys from "./internal/keys.js"
import { AuditRow } from "./internal/rows.js"
import { clampLimit, iso, orStoreError, text, textOrNull } from "./internal/sql.js"
import * as Migrations from "./Migrations.js"

const decodeRows = Schema.decodeUnknown(Schema.Array(AuditRow))
const decodeCount = Schema.decodeUnknown(
  Schema.Array(Schema.Struct({ n: Schema.Union(Schema.Number, Schema.NumberFromString) }))
)
const decodeId = Schema.decodeUnknown(
  Schema.Array(Schema.Struct({ id: Schema.Union(Schema.Number, Schema.NumberFromString) }))
)

const KIND = "audit"

/**
 * The audit store over the `SqlClient` in context; the schema must be migrated (the layers do it).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: Effect.Effect<AuditStore["Type"], never, SqlClient.SqlClient | Keys.StoreKeys> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const keys = yield* Keys.StoreKeys

    const append = Effect.fn("SqlAuditStore.append")(function*(event: Omit<AuditEvent, "id" | "at">) {
      const at = iso(yield* Clock.currentTimeMillis)
      // Stored as JSON text; JSON escapes a NUL, so PostgreSQL keeps it.
      const input = event.input === undefined ? null : JSON.stringify(event.input)
      const [row] = yield* sql`INSERT INTO audit_events ${
        sql.insert({
          at,
          actor: text(event.actor),
          action: text(event.action),
          connection_id: textOrNull(event.connectionId),
          target: textOrNull(event.target),
          input,
          outcome: event.outcome,
          detail: textOrNull(event.detail)
        })
      } RETURNING id`.pipe(Effect.flatMap(decodeId), orStoreError("cannot write the audit log"))
      return {
        ...event,
        id: String(row!.id),
        at,
        input: input === null ? null : JSON.parse(input)
      } satisfies AuditEvent
    })

    const list = Effect.fn("SqlAuditStore.list")(function*(query: AuditQuery) {
      const scope = query.connectionId ?? "*"
      const position = query.cursor === undefined || query.cursor === ""
        ? undefined
        : yield* Cursor.decode(keys, query.cursor, KIND, scope)
      const limit = clampLimit(query.limit)
      return yield* Effect.gen(function*() {
        const parts: Array<Fragment> = []
        if (query.connectionId !== undefined) parts.push(sql`connection_id = ${query.connectionId}`)
        if (query.action !== undefined) parts.push(sql`action = ${text(query.action)}`)
        const where = parts.length === 0 ? sql`1 = 1` : sql.and(parts)
        const back = position?.d === "prev"
        const from = position === undefined
          ? sql`1 = 1`
          : back
          ? sql`id > ${position.v[0]}`
          : sql`id < ${position.v[0]}`
        const fetched = yield* sql`SELECT id, at, actor, action, connection_id, target, input, outcome, detail
          FROM audit_events WHERE ${where} AND ${from}
          ORDER BY id ${sql.literal(back ? "ASC" : "DESC")} LIMIT ${limit + 1}`.pipe(Effect.flatMap(decodeRows))
        const [count] = yield* sql`SELECT COUNT(*) AS n FROM audit_events WHERE ${where}`.pipe(
          Effect.flatMap(decodeCount)
        )
        const more = fetched.length > limit
        const kept = fetched.slice(0, limit)
        const data: ReadonlyArray<AuditEvent> = back ? [...kept].reverse() : kept
        const first = data[0]
        const last = data[data.length - 1]
        const exists = (condition: Fragment) =>
          Effect.map(sql`SELECT 1 AS n FROM audit_events WHERE ${where} AND ${condition} LIMIT 1`, (r) => r.length > 0)
        const at = (event: AuditEvent, d: "next" | "prev") =>
          Cursor.encode(keys, { k: KIND, c: scope, d, v: [Number(event.id)] })
        const total = Number(count?.n ?? 0)
        if (first === undefined || last === undefined) return { data, nextCursor: null, prevCursor: null, total }
        const hasNext = back ? yield* exists(sql`id < ${Number(last.id)}`) : more
        const hasPrev = back ? more : position === undefined ? false : yield* exists(sql`id > ${Number(first.id)}`)
        return {
          data,
          nextCursor: hasNext ? at(last, "next") : null,
          prevCursor: hasPrev ? at(first, "prev") : null,
          total
        } satisfies Page<AuditEvent>
      }).pipe(orStoreError("cannot read the audit log"))
    })

    return AuditStore.of({ append, list })
  }
)

/**
 * The audit store over the `SqlClient` in context, with the schema migrated.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: { readonly secretKey: Redacted.Redacted<string> }
): Layer.Layer<AuditStore, StoreError, SqlClient.SqlClient> =>
  Layer.effect(AuditStore, make).pipe(Layer.provide(Layer.merge(Keys.layer(options.secretKey), Migrations.layer)))
