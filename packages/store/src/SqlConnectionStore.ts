/**
 * The `ConnectionStore` of `@seatkeeper/core` over `@effect/sql`. A connection's config (secrets included)
 * is kept encrypted with AES-256-GCM under a key derived from `SEATKEEPER_SECRET_KEY`, bound to the
 * connection's id (invariant 7); nothing of it is readable in the database.
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import {
  type ConnectionPatch,
  type ConnectionRecord,
  ConnectionStore,
  defaultSyncSettings,
  type NewConnection,
  type SyncSettings
} from "@seatkeeper/core/Connection"
import { StoreError } from "@seatkeeper/core/StoreError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as Keys from "./internal/keys.js"
import { ConnectionRow } from "./internal/rows.js"
import { recover } from "./internal/runs.js"
import * as SecretBox from "./internal/secretBox.js"
import { conflict, iso, orStoreError, text } from "./internal/sql.js"
import * as Migrations from "./Migrations.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface SqlConnectionStoreOptions {
  /** How long a sync lock lives without a heartbeat (the lock `remove` takes while it deletes). Default 30 s. */
  readonly leaseDuration?: Duration.DurationInput | undefined
}

const decodeRows = Schema.decodeUnknown(Schema.Array(ConnectionRow))
const decodeHolder = Schema.decodeUnknown(Schema.Array(Schema.Struct({ run_id: Schema.String })))

const columns = `id, provider, name, config_ciphertext, sync_interval_minutes, hold_threshold_percent, max_lookups,
  deadline_minutes, created_at, updated_at`

const defined = <A extends object>(value: A): Partial<A> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<A>

const settingsOf = (input: Partial<SyncSettings>): Partial<SyncSettings> =>
  defined({
    syncIntervalMinutes: input.syncIntervalMinutes,
    holdThresholdPercent: input.holdThresholdPercent,
    maxLookups: input.maxLookups,
    deadlineMinutes: input.deadlineMinutes
  })

/** What is read back later is the JSON form of the config, so that is what the caller gets now too. */
const jsonOf = (config: unknown): unknown => JSON.parse(JSON.stringify(config ?? null))

/**
 * The connection store over the `SqlClient` in context; the schema must be migrated (the layers do it).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  options: SqlConnectionStoreOptions = {}
): Effect.Effect<ConnectionStore["Type"], never, SqlClient.SqlClient | Keys.StoreKeys> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const keys = yield* Keys.StoreKeys
    const leaseMs = Duration.toMillis(Duration.decode(options.leaseDuration ?? Duration.seconds(30)))

    const seal = (id: string, config: unknown) => SecretBox.encrypt(keys, `connection:${id}`, JSON.stringify(config))

    const open = (row: typeof ConnectionRow.Type): Effect.Effect<ConnectionRecord, StoreError> =>
      SecretBox.decrypt(keys, `connection:${row.id}`, row.sealed, `the config of connection ${row.id}`).pipe(
        Effect.flatMap((json) =>
          Effect.try({
            try: () => JSON.parse(json) as unknown,
            catch: () =>
              new StoreError({
                reason: "Corrupt",
                description:
                  `the config of connection ${row.id} is not valid JSON; enter the connection's settings again`
              })
          })
        ),
        Effect.map((config): ConnectionRecord => ({
          id: row.id,
          provider: row.provider,
          name: row.name,
          config,
          syncIntervalMinutes: row.syncIntervalMinutes,
          holdThresholdPercent: row.holdThresholdPercent,
          maxLookups: row.maxLookups,
          deadlineMinutes: row.deadlineMinutes,
          createdAt: row.createdAt,
          updatedAt: row.updatedAt
        }))
      )

    const rowOf = (id: string) =>
      sql`SELECT ${sql.literal(columns)} FROM connections WHERE id = ${id}`.pipe(
        Effect.flatMap(decodeRows),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )

    const create = Effect.fn("SqlConnectionStore.create")(function*(input: NewConnection) {
      const now = iso(yield* Clock.currentTimeMillis)
      const record: ConnectionRecord = {
        ...defaultSyncSettings,
        ...settingsOf(input),
        id: Crypto.randomUUID(),
        provider: text(input.provider),
        name: text(input.name),
        config: jsonOf(input.config),
        createdAt: now,
        updatedAt: now
      }
      yield* sql`INSERT INTO connections ${
        sql.insert({
          id: record.id,
          provider: record.provider,
          name: record.name,
          config_ciphertext: seal(record.id, record.config),
          sync_interval_minutes: record.syncIntervalMinutes,
          hold_threshold_percent: record.holdThresholdPercent,
          max_lookups: record.maxLookups,
          deadline_minutes: record.deadlineMinutes,
          created_at: now,
          updated_at: now
        })
      }`.pipe(orStoreError("cannot save the connection"))
      return record
    })

    const get = (id: string) =>
      rowOf(id).pipe(
        orStoreError("cannot read the connection"),
        Effect.flatMap(Option.match({ onNone: () => Effect.succeedNone, onSome: (row) => Effect.asSome(open(row)) })),
        Effect.withSpan("SqlConnectionStore.get")
      )

    const list = sql`SELECT ${sql.literal(columns)} FROM connections ORDER BY created_at, id`.pipe(
      Effect.flatMap(decodeRows),
      orStoreError("cannot list the connections"),
      Effect.flatMap((rows) => Effect.forEach(rows, open)),
      Effect.withSpan("SqlConnectionStore.list")
    )

    const update = Effect.fn("SqlConnectionStore.update")(function*(id: string, patch: ConnectionPatch) {
      const row = yield* rowOf(id).pipe(orStoreError("cannot read the connection"))
      if (Option.isNone(row)) return Option.none()
      const current = yield* open(row.value)
      const now = iso(yield* Clock.currentTimeMillis)
      const next: ConnectionRecord = {
        ...current,
        ...settingsOf(patch),
        ...(patch.name === undefined ? {} : { name: text(patch.name) }),
        config: patch.config === undefined ? current.config : jsonOf(patch.config),
        updatedAt: now
      }
      yield* sql`UPDATE connections SET ${
        sql.update({
          name: next.name,
          // A fresh IV on every write.
          config_ciphertext: seal(id, next.config),
          sync_interval_minutes: next.syncIntervalMinutes,
          hold_threshold_percent: next.holdThresholdPercent,
          max_lookups: next.maxLookups,
          deadline_minutes: next.deadlineMinutes,
          updated_at: now
        })
      } WHERE id = ${id}`.pipe(orStoreError("cannot update the connection"))
      return Option.some(next)
    })

    const remove = Effect.fn("SqlConnectionStore.remove")(function*(id: string) {
      const now = yield* Clock.currentTimeMillis
      return yield* Effect.gen(function*() {
        yield* recover(sql, now, id)
        // Holding the connection's sync lock while deleting keeps a sync from starting on a half-deleted
        // connection; a running sync keeps the connection.
        const token = `delete:${Crypto.randomUUID()}`
        const taken = yield* sql`INSERT INTO sync_locks (connection_id, run_id, owner, acquired_at, lease_expires_at)
          VALUES (${id}, ${token}, ${token}, ${iso(now)}, ${iso(now + leaseMs)})
          ON CONFLICT (connection_id) DO NOTHING
          RETURNING run_id`
        if (taken.length === 0) {
          const holder = yield* sql`SELECT run_id FROM sync_locks WHERE connection_id = ${id}`.pipe(
            Effect.flatMap(decodeHolder)
          )
          return yield* conflict(
            `connection ${id} cannot be deleted while a sync of it runs (run ${holder[0]?.run_id ?? "unknown"}); ` +
              `wait for the sync to finish and try again`
          )
        }
        return yield* sql.withTransaction(Effect.gen(function*() {
          // A plan being executed keeps the connection. Its plans' rows are locked first: a claim meeting
          // them waits, then finds its plan gone; a claim before them is seen by the check that follows.
          yield* sql`UPDATE reclaim_plans SET status = status WHERE connection_id = ${id}`
          const executing = yield* sql`SELECT p.id FROM reclaim_plans p
            JOIN reclaim_plan_leases l ON l.plan_id = p.id
            WHERE p.connection_id = ${id} AND p.status = 'running' AND l.lease_expires_at >= ${iso(now)}
            LIMIT 1`.pipe(Effect.flatMap(Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: Schema.String })))))
          const plan = executing[0]
          if (plan !== undefined) {
            return yield* conflict(
              `connection ${id} cannot be deleted while a reclaim plan of it is executing (plan ${plan.id}); ` +
                `wait for its job to finish or stop, and try again (a running plan cannot be cancelled)`
            )
          }
          const runs = sql`SELECT r.id FROM sync_runs r WHERE r.connection_id = ${id}`
          yield* sql`DELETE FROM run_licenses WHERE run_id IN (${runs})`
          for (
            const table of ["status_events", "entitlements", "accounts", "licenses", "product_snapshots", "sync_runs"]
          ) {
            yield* sql`DELETE FROM ${sql(table)} WHERE connection_id = ${id}`
          }
          // Its reclaim policies (every version), prices and plans (their items and leases) go with it.
          const plans = sql`SELECT p.id FROM reclaim_plans p WHERE p.connection_id = ${id}`
          for (const table of ["reclaim_plan_items", "reclaim_plan_leases"]) {
            yield* sql`DELETE FROM ${sql(table)} WHERE plan_id IN (${plans})`
          }
          const policies = sql`SELECT p.id FROM reclaim_policies p WHERE p.connection_id = ${id}`
          yield* sql`DELETE FROM reclaim_policy_versions WHERE policy_id IN (${policies})`
          for (const table of ["reclaim_plans", "reclaim_policies", "reclaim_prices"]) {
            yield* sql`DELETE FROM ${sql(table)} WHERE connection_id = ${id}`
          }
          yield* sql`DELETE FROM sync_locks WHERE connection_id = ${id}`
          const deleted = yield* sql`DELETE FROM connections WHERE id = ${id} RETURNING id`
          return deleted.length > 0
        })).pipe(Effect.tapError(() => sql`DELETE FROM sync_locks WHERE run_id = ${token}`.pipe(Effect.ignore)))
      }).pipe(orStoreError("cannot delete the connection"))
    })

    return ConnectionStore.of({ create, get, list, update, remove })
  })

/**
 * The connection store over the `SqlClient` in context, with the schema migrated.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: SqlConnectionStoreOptions & { readonly secretKey: Redacted.Redacted<string> }
): Layer.Layer<ConnectionStore, StoreError, SqlClient.SqlClient> =>
  Layer.effect(ConnectionStore, make(options)).pipe(
    Layer.provide(Layer.merge(Keys.layer(options.secretKey), Migrations.layer))
  )
