/**
 * The `LicenseStore` over `@effect/sql`: SQLite (one file, WAL) by default and PostgreSQL when
 * `DATABASE_URL` is set, with the same migrations and the same behaviour.
 *
 * - A sync stages what it streams under its run id; `commitRun` applies the whole snapshot in one
 *   transaction, set-based in SQL so that memory stays bounded (invariants 1 and 2).
 * - The sync lock is a row per connection taken by one atomic upsert, with a lease renewed by heartbeats and
 *   recovered when it expires or its owner process is gone (invariant 8).
 * - Connection configs are encrypted with AES-256-GCM (invariant 7).
 *
 * @since 0.1.0
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import type * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import type { AccountStatus, ProviderAccount } from "@seatkeeper/core/Account"
import {
  type AccountQuery,
  type AppSummary,
  type AuditEvent,
  type ConnectionRecord,
  LicenseStore,
  type Page,
  type StatusCause,
  type StatusEvent,
  StoreError,
  type StoredAccount,
  type StoredEntitlement,
  SyncAlreadyRunning,
  type SyncRun,
  type SyncRunError,
  type SyncRunStatus
} from "@seatkeeper/core/LicenseStore"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Cursor from "./Cursor.js"
import { migrate } from "./Migrations.js"
import * as SecretBox from "./SecretBox.js"
import { isOwnerGone, processOwner, registerLocalOwner } from "./SyncOwner.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface SqlLicenseStoreOptions {
  /** `SEATKEEPER_SECRET_KEY`: 32 bytes as base64 or hex, or a passphrase. */
  readonly secretKey: Redacted.Redacted<string>
  /** How long a sync lock lives without a heartbeat. Default 30 seconds. */
  readonly leaseDuration?: Duration.DurationInput | undefined
}

/**
 * The most rows one multi-row statement binds, well under SQLite's and PostgreSQL's parameter limits.
 */
const MAX_PARAMS = 10_000

type Service = Context.Tag.Service<LicenseStore>
const MAX_LIMIT = 1_000
/** Accounts in a committed run from which PostgreSQL's statistics are refreshed. */
const MAINTENANCE_THRESHOLD = 5_000
const HISTORY_LIMIT = 500

// ---------------------------------------------------------------------------------------------------------
// rows

interface ConnectionRow {
  readonly id: string
  readonly provider: string
  readonly name: string
  readonly config_ciphertext: string
  readonly sync_interval_minutes: number | string
  readonly created_at: string
  readonly updated_at: string
}

interface AccountRow {
  readonly connection_id: string
  readonly external_id: string
  readonly email: string | null
  readonly display_name: string
  readonly account_type: string
  readonly status: AccountStatus
  readonly source_status: string
  readonly last_active_at: string | null
  readonly first_seen_at: string
  readonly last_seen_at: string
  readonly sort_key: string
}

interface EntitlementRow {
  readonly external_id: string
  readonly key: string
  readonly name: string
  readonly product: string
  readonly site: string | null
  readonly status: AccountStatus
  readonly last_active_at: string | null
  readonly first_seen_at: string
  readonly last_seen_at: string
}

interface RunRow {
  readonly id: string
  readonly connection_id: string
  readonly status: SyncRunStatus
  readonly owner: string
  readonly started_at: string
  readonly finished_at: string | null
  readonly accounts: number | string
  readonly created: number | string
  readonly updated: number | string
  readonly deprovisioned: number | string
  readonly entitlements_deprovisioned: number | string
  readonly requests: number | string
  readonly retries: number | string
  readonly rate_limited: number | string
  readonly error: string | null
}

interface EventRow {
  readonly external_id: string
  readonly entitlement_key: string | null
  readonly from_status: AccountStatus | null
  readonly to_status: AccountStatus
  readonly at: string
  readonly cause: StatusCause
  readonly run_id: string | null
}

interface AuditRow {
  readonly id: number | string
  readonly at: string
  readonly actor: string
  readonly action: string
  readonly connection_id: string | null
  readonly target: string | null
  readonly input: string | null
  readonly outcome: AuditEvent["outcome"]
  readonly detail: string | null
}

interface LockRow {
  readonly connection_id: string
  readonly run_id: string
  readonly owner: string
  readonly lease_expires_at: string
}

// PostgreSQL returns COUNT/SUM/BIGINT as strings.
const num = (value: number | string | null | undefined): number => (value === null || value === undefined ? 0 : Number(value))

const toRun = (row: RunRow): SyncRun => ({
  id: row.id,
  connectionId: row.connection_id,
  status: row.status,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  stats: {
    accounts: num(row.accounts),
    created: num(row.created),
    updated: num(row.updated),
    deprovisioned: num(row.deprovisioned),
    entitlementsDeprovisioned: num(row.entitlements_deprovisioned),
    requests: num(row.requests),
    retries: num(row.retries),
    rateLimited: num(row.rate_limited)
  },
  error: row.error === null ? null : parseRunError(row.error)
})

const parseRunError = (json: string): SyncRunError => {
  try {
    const value = JSON.parse(json)
    return {
      reason: String(value.reason ?? "Unknown"),
      message: String(value.message ?? ""),
      ...(typeof value.hint === "string" ? { hint: value.hint } : {})
    }
  } catch {
    return { reason: "Unknown", message: json }
  }
}

const toEntitlement = (row: EntitlementRow): StoredEntitlement => ({
  key: row.key,
  name: row.name,
  product: row.product,
  site: row.site,
  status: row.status,
  lastActiveAt: row.last_active_at,
  firstSeenAt: row.first_seen_at,
  lastSeenAt: row.last_seen_at
})

const toAccount = (row: AccountRow, entitlements: ReadonlyArray<EntitlementRow>): StoredAccount => ({
  connectionId: row.connection_id,
  externalId: row.external_id,
  email: row.email,
  displayName: row.display_name,
  accountType: row.account_type,
  status: row.status,
  sourceStatus: row.source_status,
  lastActiveAt: row.last_active_at,
  firstSeenAt: row.first_seen_at,
  lastSeenAt: row.last_seen_at,
  entitlements: entitlements.map(toEntitlement)
})

const toEvent = (row: EventRow): StatusEvent => ({
  at: row.at,
  externalId: row.external_id,
  entitlementKey: row.entitlement_key,
  from: row.from_status,
  to: row.to_status,
  cause: row.cause,
  runId: row.run_id
})

const toAudit = (row: AuditRow): AuditEvent => ({
  id: String(row.id),
  at: row.at,
  actor: row.actor,
  action: row.action,
  connectionId: row.connection_id,
  target: row.target,
  input: row.input === null ? null : JSON.parse(row.input),
  outcome: row.outcome,
  detail: row.detail
})

// ---------------------------------------------------------------------------------------------------------
// errors

const BUSY = new Set(["SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_SNAPSHOT", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN"])

const classify = (code: unknown): StoreError["reason"] => {
  if (typeof code !== "string") return "Internal"
  if (BUSY.has(code) || code.startsWith("SQLITE_IOERR") || code.startsWith("SQLITE_BUSY")) return "Unavailable"
  if (code.startsWith("SQLITE_CONSTRAINT") || code.startsWith("23")) return "Conflict"
  // PostgreSQL: connection exceptions, operator intervention, insufficient resources, serialization.
  if (/^(08|57|53|40)/.test(code) || code.startsWith("E")) return "Unavailable"
  return "Internal"
}

const fromSqlError = (what: string) => (error: SqlError): StoreError => {
  const driver = error.cause as { readonly code?: unknown; readonly message?: unknown } | undefined
  const detail = typeof driver?.message === "string" && driver.message !== "" ? driver.message : error.message
  return new StoreError({ reason: classify(driver?.code), description: `${what}: ${detail}`, cause: error })
}

const withErrors = (what: string) => <A, E, R>(effect: Effect.Effect<A, E | SqlError, R>) =>
  Effect.catchIf(
    effect,
    (e): e is SqlError => typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "SqlError",
    (e) => Effect.fail(fromSqlError(what)(e))
  ) as Effect.Effect<A, Exclude<E, SqlError> | StoreError, R>

const notFound = (description: string) => new StoreError({ reason: "NotFound", description })

const lockLost = (runId: string) =>
  new StoreError({
    reason: "Conflict",
    description: `sync run ${runId} no longer holds its connection's sync lock (its lease expired and the run was ` +
      `recovered as interrupted); nothing more of it is applied`
  })

// ---------------------------------------------------------------------------------------------------------
// staging rows

const toIso = (value: string | undefined): string | null => {
  if (value === undefined) return null
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? null : new Date(ms).toISOString()
}

const chunksOf = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const stagedRows = (runId: string, accounts: ReadonlyArray<ProviderAccount>) => {
  // The last occurrence wins, so that an account repeated in a chunk stages once.
  const byId = new Map<string, ProviderAccount>()
  for (const account of accounts) byId.set(account.externalId, account)
  const accountRows: Array<Record<string, unknown>> = []
  const entitlementRows: Array<Record<string, unknown>> = []
  for (const account of byId.values()) {
    const email = account.email ?? null
    accountRows.push({
      run_id: runId,
      external_id: account.externalId,
      email,
      display_name: account.displayName,
      account_type: account.accountType,
      status: account.status,
      source_status: account.sourceStatus,
      last_active_at: toIso(account.lastActiveAt),
      sort_key: (account.displayName || email || account.externalId).toLowerCase(),
      search_text: [email ?? "", account.displayName, account.externalId].join("\n").toLowerCase()
    })
    const byKey = new Map(account.entitlements.map((e) => [e.key, e] as const))
    for (const e of byKey.values()) {
      entitlementRows.push({
        run_id: runId,
        external_id: account.externalId,
        key: e.key,
        name: e.displayName,
        product: e.product,
        site: e.site ?? null,
        status: e.status,
        last_active_at: toIso(e.lastActiveAt)
      })
    }
  }
  return { ids: [...byId.keys()], accountRows, entitlementRows }
}

const escapeLike = (value: string): string => value.replace(/[\\%_]/g, (c) => `\\${c}`)

// ---------------------------------------------------------------------------------------------------------
// the store

/**
 * Builds the store over the `SqlClient` in context. The schema must be migrated (`Migrations.migrate`);
 * the layers below do it. Fails only when the secret key is unusable.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: SqlLicenseStoreOptions
): Effect.Effect<Service, StoreError, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const keys = yield* SecretBox.deriveKeys(options.secretKey)
    const leaseMs = Duration.toMillis(Duration.decode(options.leaseDuration ?? Duration.seconds(30)))

    const nowMs = Clock.currentTimeMillis
    const iso = (ms: number) => new Date(ms).toISOString()
    const text = (value: string | null) => sql`CAST(${value} AS TEXT)`

    // --- connections ------------------------------------------------------------------------------------

    const toConnection = (row: ConnectionRow): Effect.Effect<ConnectionRecord, StoreError> =>
      SecretBox.decrypt(keys, `connection:${row.id}`, row.config_ciphertext, `the config of connection ${row.id}`).pipe(
        Effect.flatMap((json) =>
          Effect.try({
            try: () => JSON.parse(json) as unknown,
            catch: () =>
              new StoreError({ reason: "Corrupt", description: `the config of connection ${row.id} is not valid JSON` })
          })
        ),
        Effect.map((config) => ({
          id: row.id,
          provider: row.provider,
          name: row.name,
          config,
          syncIntervalMinutes: num(row.sync_interval_minutes),
          createdAt: row.created_at,
          updatedAt: row.updated_at
        }))
      )

    const seal = (id: string, config: unknown) =>
      SecretBox.encrypt(keys, `connection:${id}`, JSON.stringify(config ?? null))

    const connectionRow = (id: string) =>
      sql<ConnectionRow>`SELECT * FROM connections WHERE id = ${id}`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])))

    const createConnection: Service["createConnection"] = (input) =>
      Effect.gen(function*() {
        const id = Crypto.randomUUID()
        const now = iso(yield* nowMs)
        // What is read back later is the JSON form, so that is what the caller gets now too.
        const config: unknown = JSON.parse(JSON.stringify(input.config ?? null))
        yield* sql`INSERT INTO connections ${
          sql.insert({
            id,
            provider: input.provider,
            name: input.name,
            config_ciphertext: seal(id, config),
            sync_interval_minutes: input.syncIntervalMinutes,
            created_at: now,
            updated_at: now
          })
        }`
        return {
          id,
          provider: input.provider,
          name: input.name,
          config,
          syncIntervalMinutes: input.syncIntervalMinutes,
          createdAt: now,
          updatedAt: now
        }
      }).pipe(withErrors("cannot save the connection"))

    const getConnection: Service["getConnection"] = (id) =>
      connectionRow(id).pipe(
        Effect.flatMap(Option.match({ onNone: () => Effect.succeedNone, onSome: (row) => Effect.asSome(toConnection(row)) })),
        withErrors("cannot read the connection")
      )

    const listConnections: Service["listConnections"] = sql<ConnectionRow>`
      SELECT * FROM connections ORDER BY created_at, id`.pipe(
      Effect.flatMap((rows) => Effect.forEach(rows, toConnection)),
      withErrors("cannot list the connections")
    )

    const updateConnection: Service["updateConnection"] = (id, patch) =>
      Effect.gen(function*() {
        const row = yield* connectionRow(id)
        if (Option.isNone(row)) return Option.none()
        const current = yield* toConnection(row.value)
        const now = iso(yield* nowMs)
        const next: ConnectionRecord = {
          ...current,
          name: patch.name ?? current.name,
          config: patch.config === undefined ? current.config : patch.config,
          syncIntervalMinutes: patch.syncIntervalMinutes ?? current.syncIntervalMinutes,
          updatedAt: now
        }
        yield* sql`UPDATE connections SET ${
          sql.update({
            name: next.name,
            // A fresh IV on every write, even when the config did not change.
            config_ciphertext: seal(id, next.config),
            sync_interval_minutes: next.syncIntervalMinutes,
            updated_at: now
          })
        } WHERE id = ${id}`
        return Option.some(next)
      }).pipe(withErrors("cannot update the connection"))

    const deleteConnection: Service["deleteConnection"] = (id) =>
      Effect.gen(function*() {
        yield* recover(Option.some(id))
        const now = yield* nowMs
        // Holding the sync lock while deleting keeps a sync from starting on a half-deleted connection.
        const token = `delete:${Crypto.randomUUID()}`
        const taken = yield* sql<{ run_id: string }>`
          INSERT INTO sync_locks (connection_id, run_id, owner, acquired_at, lease_expires_at)
          VALUES (${id}, ${token}, ${processOwner}, ${iso(now)}, ${iso(now + leaseMs)})
          ON CONFLICT (connection_id) DO NOTHING
          RETURNING run_id`
        if (taken.length === 0) {
          const holder = yield* sql<{ run_id: string }>`SELECT run_id FROM sync_locks WHERE connection_id = ${id}`
          return yield* new StoreError({
            reason: "Conflict",
            description: `connection ${id} cannot be deleted while a sync of it runs (run ${holder[0]?.run_id ?? "?"}); ` +
              `wait for the sync to finish and try again`
          })
        }
        return yield* sql.withTransaction(Effect.gen(function*() {
          const deleted = yield* sql<{ id: string }>`DELETE FROM connections WHERE id = ${id} RETURNING id`
          yield* sql`DELETE FROM staged_entitlements WHERE run_id IN (SELECT id FROM sync_runs WHERE connection_id = ${id})`
          yield* sql`DELETE FROM staged_accounts WHERE run_id IN (SELECT id FROM sync_runs WHERE connection_id = ${id})`
          yield* sql`DELETE FROM status_events WHERE connection_id = ${id}`
          yield* sql`DELETE FROM entitlements WHERE connection_id = ${id}`
          yield* sql`DELETE FROM accounts WHERE connection_id = ${id}`
          yield* sql`DELETE FROM sync_runs WHERE connection_id = ${id}`
          yield* sql`DELETE FROM sync_locks WHERE connection_id = ${id}`
          return deleted.length > 0
        })).pipe(
          Effect.tapError(() => sql`DELETE FROM sync_locks WHERE run_id = ${token}`.pipe(Effect.ignore))
        )
      }).pipe(withErrors("cannot delete the connection"))

    // --- runs and the lock --------------------------------------------------------------------------------

    const runRow = (id: string) =>
      sql<RunRow>`SELECT * FROM sync_runs WHERE id = ${id}`.pipe(Effect.map((rows) => Option.fromNullable(rows[0])))

    const requireRun = (id: string) =>
      runRow(id).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(notFound(`sync run ${id} does not exist`)),
          onSome: (row) => Effect.succeed(toRun(row))
        }))
      )

    const interruptedError = (why: string) =>
      JSON.stringify({
        reason: "Interrupted",
        message: `the process running this sync stopped before it finished (${why}); nothing was applied`
      })

    // Releases abandoned locks (expired lease, or an owner process of this host that is gone), marks their
    // runs interrupted and drops their staging; also closes runs left `running` without a lock.
    const recover = (connectionId: Option.Option<string>) =>
      Effect.gen(function*() {
        const now = iso(yield* nowMs)
        const scope = Option.match(connectionId, {
          onNone: () => sql`1 = 1`,
          onSome: (id) => sql`connection_id = ${id}`
        })
        const locks = yield* sql<LockRow>`SELECT connection_id, run_id, owner, lease_expires_at FROM sync_locks WHERE ${scope}`
        const recovered: Array<SyncRun> = []
        for (const lock of locks) {
          const expired = lock.lease_expires_at < now
          if (!expired && !isOwnerGone(lock.owner)) continue
          const why = expired ? `its lock's lease expired at ${lock.lease_expires_at}` : `process ${lock.owner} is gone`
          // Conditional on the row being unchanged: a heartbeat that renewed it in between keeps it.
          const released = yield* sql<{ run_id: string }>`
            DELETE FROM sync_locks
            WHERE connection_id = ${lock.connection_id} AND run_id = ${lock.run_id}
              AND lease_expires_at = ${lock.lease_expires_at}
            RETURNING run_id`
          if (released.length === 0) continue
          const runs = yield* sql<RunRow>`
            UPDATE sync_runs SET status = 'interrupted', finished_at = ${now}, error = ${interruptedError(why)}
            WHERE id = ${lock.run_id} AND status = 'running'
            RETURNING *`
          yield* sql`DELETE FROM staged_entitlements WHERE run_id = ${lock.run_id}`
          yield* sql`DELETE FROM staged_accounts WHERE run_id = ${lock.run_id}`
          recovered.push(...runs.map(toRun))
        }
        const orphans = yield* sql<RunRow>`
          UPDATE sync_runs SET status = 'interrupted', finished_at = ${now},
            error = ${interruptedError("it no longer held its connection's sync lock")}
          WHERE status = 'running' AND ${scope}
            AND NOT EXISTS (SELECT 1 FROM sync_locks l WHERE l.run_id = sync_runs.id)
          RETURNING *`
        recovered.push(...orphans.map(toRun))
        if (Option.isNone(connectionId)) {
          yield* sql`DELETE FROM staged_entitlements WHERE NOT EXISTS (
            SELECT 1 FROM sync_runs r WHERE r.id = staged_entitlements.run_id AND r.status = 'running')`
          yield* sql`DELETE FROM staged_accounts WHERE NOT EXISTS (
            SELECT 1 FROM sync_runs r WHERE r.id = staged_accounts.run_id AND r.status = 'running')`
        }
        return recovered as ReadonlyArray<SyncRun>
      })

    const recoverAbandonedRuns: Service["recoverAbandonedRuns"] = recover(Option.none()).pipe(
      withErrors("cannot recover abandoned sync runs")
    )

    const startRun: Service["startRun"] = (connectionId, owner) =>
      Effect.gen(function*() {
        yield* recover(Option.some(connectionId))
        const exists = yield* connectionRow(connectionId)
        if (Option.isNone(exists)) return yield* notFound(`connection ${connectionId} does not exist`)
        const runId = Crypto.randomUUID()
        for (let attempt = 0; attempt < 3; attempt++) {
          const now = yield* nowMs
          // The lock is one atomic statement (no transaction held open), so that it is correct across
          // processes on PostgreSQL and on one SQLite file alike. An expired lease is taken over in place.
          const taken = yield* sql<{ run_id: string }>`
            INSERT INTO sync_locks (connection_id, run_id, owner, acquired_at, lease_expires_at)
            VALUES (${connectionId}, ${runId}, ${owner}, ${iso(now)}, ${iso(now + leaseMs)})
            ON CONFLICT (connection_id) DO UPDATE SET
              run_id = excluded.run_id, owner = excluded.owner,
              acquired_at = excluded.acquired_at, lease_expires_at = excluded.lease_expires_at
            WHERE sync_locks.lease_expires_at < ${iso(now)}
            RETURNING run_id`
          if (taken[0]?.run_id === runId) {
            registerLocalOwner(owner)
            // The insert may have waited for the previous holder's commit to release the row: the run
            // starts now, after that commit, not when we first asked.
            const startedAt = Math.max(now, yield* nowMs)
            return yield* Effect.gen(function*() {
              yield* sql`INSERT INTO sync_runs ${
                sql.insert({
                  id: runId,
                  connection_id: connectionId,
                  status: "running",
                  owner,
                  started_at: iso(startedAt),
                  heartbeat_at: iso(startedAt)
                })
              }`
              // Runs of a lease that was taken over are over.
              yield* sql`
                UPDATE sync_runs SET status = 'interrupted', finished_at = ${iso(now)},
                  error = ${interruptedError("its lock's lease expired and another run took it over")}
                WHERE connection_id = ${connectionId} AND status = 'running' AND id <> ${runId}`
              // The connection may have been deleted between the check and the lock.
              if (Option.isNone(yield* connectionRow(connectionId))) {
                return yield* notFound(`connection ${connectionId} does not exist`)
              }
              return yield* requireRun(runId)
            }).pipe(
              Effect.tapError(() =>
                Effect.all([
                  sql`DELETE FROM sync_runs WHERE id = ${runId}`,
                  sql`DELETE FROM sync_locks WHERE run_id = ${runId}`
                ]).pipe(Effect.ignore)
              )
            )
          }
          const holder = yield* sql<{ run_id: string }>`SELECT run_id FROM sync_locks WHERE connection_id = ${connectionId}`
          if (holder[0] !== undefined) {
            if (holder[0].run_id.startsWith("delete:")) {
              return yield* notFound(`connection ${connectionId} is being deleted`)
            }
            return yield* new SyncAlreadyRunning({ connectionId, runId: holder[0].run_id })
          }
          // The holder released the lock between our two statements: try again.
        }
        return yield* new StoreError({
          reason: "Conflict",
          description: `the sync lock of connection ${connectionId} is changing hands too fast; try again`
        })
      }).pipe(withErrors("cannot start a sync run"))

    // Many rows at once: on PostgreSQL one array parameter per column (`unnest`), which parses and plans
    // in constant time; on SQLite multi-row VALUES in batches under its parameter limit. Every staged
    // column is text.
    const insertRows = (table: string, rows: ReadonlyArray<Record<string, unknown>>) =>
      Effect.suspend(() => {
        if (rows.length === 0) return Effect.void
        const columns = Object.keys(rows[0]!)
        return sql.onDialectOrElse({
          pg: () =>
            sql`INSERT INTO ${sql(table)} (${sql.literal(columns.join(", "))})
              SELECT * FROM unnest(${
              sql.csv(columns.map((c) => sql`CAST(${rows.map((row) => row[c] ?? null)} AS TEXT[])`))
            })`.pipe(Effect.asVoid),
          orElse: () =>
            Effect.forEach(
              chunksOf(rows, Math.max(1, Math.floor(MAX_PARAMS / columns.length))),
              (batch) => sql`INSERT INTO ${sql(table)} ${sql.insert(batch)}`,
              { discard: true }
            )
        })
      })

    const renewLease = (runId: string) =>
      Effect.gen(function*() {
        const now = yield* nowMs
        const held = yield* sql<{ connection_id: string }>`
          UPDATE sync_locks SET lease_expires_at = ${iso(now + leaseMs)}
          WHERE run_id = ${runId}
          RETURNING connection_id`
        if (held[0] === undefined) return yield* lockLost(runId)
        return { connectionId: held[0].connection_id, now }
      })

    const heartbeat: Service["heartbeat"] = (runId) =>
      Effect.gen(function*() {
        const { now } = yield* renewLease(runId)
        yield* sql`UPDATE sync_runs SET heartbeat_at = ${iso(now)} WHERE id = ${runId}`
      }).pipe(withErrors("cannot renew the sync lock"))

    const stage: Service["stage"] = (runId, accounts) =>
      Effect.gen(function*() {
        if (accounts.length === 0) return
        const { accountRows, entitlementRows, ids } = stagedRows(runId, accounts)
        yield* sql.withTransaction(Effect.gen(function*() {
          // The lease renewal comes first: on SQLite a transaction that writes first waits for the write
          // lock instead of failing, and a run that lost its lock stages nothing.
          const { now } = yield* renewLease(runId)
          let replaced = 0
          for (const batch of chunksOf(ids, 500)) {
            yield* sql`DELETE FROM staged_entitlements WHERE run_id = ${runId} AND external_id IN ${sql.in(batch)}`
            const gone = yield* sql<{ external_id: string }>`
              DELETE FROM staged_accounts WHERE run_id = ${runId} AND external_id IN ${sql.in(batch)}
              RETURNING external_id`
            replaced += gone.length
          }
          yield* insertRows("staged_accounts", accountRows)
          yield* insertRows("staged_entitlements", entitlementRows)
          // Progress for readers of a running run; commit sets the final count.
          yield* sql`UPDATE sync_runs SET accounts = accounts + ${ids.length - replaced}, heartbeat_at = ${iso(now)}
            WHERE id = ${runId}`
        }))
      }).pipe(withErrors("cannot stage synced accounts"))

    // After a large commit, PostgreSQL gets fresh statistics (good plans for the filters) and a vacuum
    // (index-only counts, no bloat from the rows every sync rewrites), in case autovacuum is off or slow.
    // Best effort: a failure here changes nothing that was committed.
    const maintain = sql.onDialectOrElse({
      pg: () =>
        sql.unsafe("VACUUM (ANALYZE) accounts, entitlements").pipe(
          Effect.catchAll((error) => Effect.logDebug("store maintenance after a sync failed", error.message))
        ),
      orElse: () => Effect.void
    })

    const commitRun: Service["commitRun"] = (runId, requestStats) =>
      Effect.gen(function*() {
        const applied = yield* sql.withTransaction(Effect.gen(function*() {
          const { connectionId: C, now: nowMillis } = yield* renewLease(runId)
          const now = iso(nowMillis)
          const R = runId
          const current = yield* runRow(runId)
          if (Option.isNone(current) || current.value.status !== "running") return yield* lockLost(runId)

          const stagedHas = (alias: string) =>
            sql`EXISTS (SELECT 1 FROM staged_accounts s WHERE s.run_id = ${R} AND s.external_id = ${sql.literal(alias)}.external_id)`
          const stagedEntitlementHas = (alias: string) =>
            sql`EXISTS (SELECT 1 FROM staged_entitlements se WHERE se.run_id = ${R}
              AND se.external_id = ${sql.literal(alias)}.external_id AND se.key = ${sql.literal(alias)}.key)`

          // 1. Statistics, from the state before anything changes.
          const [counts] = yield* sql<Record<string, number | string>>`SELECT
            (SELECT COUNT(*) FROM staged_accounts s WHERE s.run_id = ${R}) AS accounts,
            (SELECT COUNT(*) FROM staged_accounts s WHERE s.run_id = ${R} AND NOT EXISTS (
              SELECT 1 FROM accounts a WHERE a.connection_id = ${C} AND a.external_id = s.external_id)) AS created,
            (SELECT COUNT(*) FROM staged_accounts s
              JOIN accounts a ON a.connection_id = ${C} AND a.external_id = s.external_id
              WHERE s.run_id = ${R} AND (
                a.email IS DISTINCT FROM s.email OR a.display_name <> s.display_name
                OR a.account_type <> s.account_type OR a.status <> s.status OR a.source_status <> s.source_status
                OR (s.last_active_at IS NOT NULL AND a.last_active_at IS DISTINCT FROM s.last_active_at)
                OR EXISTS (SELECT 1 FROM staged_entitlements se WHERE se.run_id = ${R} AND se.external_id = s.external_id
                  AND NOT EXISTS (SELECT 1 FROM entitlements e WHERE e.connection_id = ${C}
                    AND e.external_id = se.external_id AND e.key = se.key AND e.status = se.status AND e.name = se.name
                    AND (se.last_active_at IS NULL OR e.last_active_at = se.last_active_at)))
                OR EXISTS (SELECT 1 FROM entitlements e WHERE e.connection_id = ${C} AND e.external_id = s.external_id
                  AND e.status <> 'deprovisioned' AND NOT ${stagedEntitlementHas("e")}))) AS updated,
            (SELECT COUNT(*) FROM accounts a WHERE a.connection_id = ${C} AND a.status <> 'deprovisioned'
              AND NOT ${stagedHas("a")}) AS deprovisioned,
            (SELECT COUNT(*) FROM entitlements e WHERE e.connection_id = ${C} AND e.status <> 'deprovisioned'
              AND NOT ${stagedEntitlementHas("e")}) AS entitlements_deprovisioned`

          // 2. Status events, before the rows change so that `from` is the old status.
          const event = (select: Fragment) =>
            sql`INSERT INTO status_events (connection_id, external_id, entitlement_key, from_status, to_status, at, cause, run_id)
              ${select}`
          const meta = sql`${text(now)}, 'sync', ${text(R)}`
          // An account seen for the first time.
          yield* event(sql`SELECT ${text(C)}, s.external_id, NULL, NULL, s.status, ${meta}
            FROM staged_accounts s WHERE s.run_id = ${R} AND NOT EXISTS (
              SELECT 1 FROM accounts a WHERE a.connection_id = ${C} AND a.external_id = s.external_id)`)
          // An account whose status changed, including one that comes back after being deprovisioned.
          yield* event(sql`SELECT a.connection_id, a.external_id, NULL, a.status, s.status, ${meta}
            FROM staged_accounts s JOIN accounts a ON a.connection_id = ${C} AND a.external_id = s.external_id
            WHERE s.run_id = ${R} AND a.status <> s.status`)
          // An account the source no longer returns.
          yield* event(sql`SELECT a.connection_id, a.external_id, NULL, a.status, 'deprovisioned', ${meta}
            FROM accounts a WHERE a.connection_id = ${C} AND a.status <> 'deprovisioned' AND NOT ${stagedHas("a")}`)
          // An entitlement newly assigned to an account already known (a new account's first entitlements
          // are dated by their firstSeenAt; recording them all would double the first sync's writes).
          yield* event(sql`SELECT ${text(C)}, se.external_id, se.key, NULL, se.status, ${meta}
            FROM staged_entitlements se
            WHERE se.run_id = ${R}
              AND EXISTS (SELECT 1 FROM accounts a WHERE a.connection_id = ${C} AND a.external_id = se.external_id)
              AND NOT EXISTS (SELECT 1 FROM entitlements e WHERE e.connection_id = ${C}
                AND e.external_id = se.external_id AND e.key = se.key)`)
          // An entitlement whose status changed.
          yield* event(sql`SELECT e.connection_id, e.external_id, e.key, e.status, se.status, ${meta}
            FROM staged_entitlements se
            JOIN entitlements e ON e.connection_id = ${C} AND e.external_id = se.external_id AND e.key = se.key
            WHERE se.run_id = ${R} AND e.status <> se.status`)
          // An entitlement no longer returned.
          yield* event(sql`SELECT e.connection_id, e.external_id, e.key, e.status, 'deprovisioned', ${meta}
            FROM entitlements e WHERE e.connection_id = ${C} AND e.status <> 'deprovisioned'
              AND NOT ${stagedEntitlementHas("e")}`)

          // 3. Apply the snapshot: changed rows get the source's fields, new rows are inserted, and every
          // returned row is marked seen. Unchanged rows only have their (unindexed) last_seen_at written,
          // which keeps a steady-state sync of a large org cheap. A source that stops reporting activity
          // keeps the last known value: a missing field must not make an active user look inactive.
          yield* sql`UPDATE accounts SET email = s.email, display_name = s.display_name,
              account_type = s.account_type, status = s.status, source_status = s.source_status,
              last_active_at = COALESCE(s.last_active_at, accounts.last_active_at),
              sort_key = s.sort_key, search_text = s.search_text
            FROM staged_accounts s
            WHERE s.run_id = ${R} AND accounts.connection_id = ${C} AND accounts.external_id = s.external_id
              AND (accounts.email IS DISTINCT FROM s.email OR accounts.display_name <> s.display_name
                OR accounts.account_type <> s.account_type OR accounts.status <> s.status
                OR accounts.source_status <> s.source_status OR accounts.sort_key <> s.sort_key
                OR accounts.search_text <> s.search_text
                OR (s.last_active_at IS NOT NULL AND accounts.last_active_at IS DISTINCT FROM s.last_active_at))`
          yield* sql`INSERT INTO accounts (connection_id, external_id, email, display_name, account_type, status,
              source_status, last_active_at, first_seen_at, last_seen_at, sort_key, search_text)
            SELECT ${text(C)}, s.external_id, s.email, s.display_name, s.account_type, s.status, s.source_status,
              s.last_active_at, ${text(now)}, ${text(now)}, s.sort_key, s.search_text
            FROM staged_accounts s WHERE s.run_id = ${R} AND NOT EXISTS (
              SELECT 1 FROM accounts a WHERE a.connection_id = ${C} AND a.external_id = s.external_id)`
          yield* sql`UPDATE accounts SET last_seen_at = ${now}
            WHERE connection_id = ${C} AND last_seen_at <> ${now} AND ${stagedHas("accounts")}`
          yield* sql`UPDATE entitlements SET name = se.name, product = se.product, site = se.site,
              status = se.status, last_active_at = COALESCE(se.last_active_at, entitlements.last_active_at)
            FROM staged_entitlements se
            WHERE se.run_id = ${R} AND entitlements.connection_id = ${C}
              AND entitlements.external_id = se.external_id AND entitlements.key = se.key
              AND (entitlements.name <> se.name OR entitlements.product <> se.product
                OR entitlements.site IS DISTINCT FROM se.site OR entitlements.status <> se.status
                OR (se.last_active_at IS NOT NULL AND entitlements.last_active_at IS DISTINCT FROM se.last_active_at))`
          yield* sql`INSERT INTO entitlements (connection_id, external_id, key, name, product, site, status,
              last_active_at, first_seen_at, last_seen_at)
            SELECT ${text(C)}, se.external_id, se.key, se.name, se.product, se.site, se.status, se.last_active_at,
              ${text(now)}, ${text(now)}
            FROM staged_entitlements se WHERE se.run_id = ${R} AND NOT EXISTS (
              SELECT 1 FROM entitlements e WHERE e.connection_id = ${C} AND e.external_id = se.external_id
                AND e.key = se.key)`
          yield* sql`UPDATE entitlements SET last_seen_at = ${now}
            WHERE connection_id = ${C} AND last_seen_at <> ${now} AND ${stagedEntitlementHas("entitlements")}`
          yield* sql`UPDATE accounts SET status = 'deprovisioned'
            WHERE connection_id = ${C} AND status <> 'deprovisioned' AND NOT ${stagedHas("accounts")}`
          yield* sql`UPDATE entitlements SET status = 'deprovisioned'
            WHERE connection_id = ${C} AND status <> 'deprovisioned' AND NOT ${stagedEntitlementHas("entitlements")}`

          // 4. Close the run, release the lock, drop the staging.
          yield* sql`UPDATE sync_runs SET ${
            sql.update({
              status: "succeeded",
              finished_at: now,
              heartbeat_at: now,
              accounts: num(counts?.accounts),
              created: num(counts?.created),
              updated: num(counts?.updated),
              deprovisioned: num(counts?.deprovisioned),
              entitlements_deprovisioned: num(counts?.entitlements_deprovisioned),
              requests: requestStats.requests,
              retries: requestStats.retries,
              rate_limited: requestStats.rateLimited,
              error: null
            })
          } WHERE id = ${R}`
          yield* sql`DELETE FROM sync_locks WHERE run_id = ${R}`
          yield* sql`DELETE FROM staged_entitlements WHERE run_id = ${R}`
          yield* sql`DELETE FROM staged_accounts WHERE run_id = ${R}`
          return num(counts?.accounts)
        }))
        if (applied >= MAINTENANCE_THRESHOLD) yield* maintain
        return yield* requireRun(runId)
      }).pipe(withErrors("cannot apply the sync"))

    const abortRun: Service["abortRun"] = (runId, status, error, requestStats) =>
      Effect.gen(function*() {
        const now = iso(yield* nowMs)
        yield* sql.withTransaction(Effect.gen(function*() {
          // Only a running run changes: a run already recovered as interrupted keeps its outcome.
          yield* sql`UPDATE sync_runs SET ${
            sql.update({
              status,
              finished_at: now,
              heartbeat_at: now,
              requests: requestStats.requests,
              retries: requestStats.retries,
              rate_limited: requestStats.rateLimited,
              error: JSON.stringify({
                reason: error.reason,
                message: error.message,
                ...(error.hint === undefined ? {} : { hint: error.hint })
              })
            })
          } WHERE id = ${runId} AND status = 'running'`
          yield* sql`DELETE FROM sync_locks WHERE run_id = ${runId}`
          yield* sql`DELETE FROM staged_entitlements WHERE run_id = ${runId}`
          yield* sql`DELETE FROM staged_accounts WHERE run_id = ${runId}`
        }))
        return yield* requireRun(runId)
      }).pipe(withErrors("cannot record the end of the sync"))

    const getRun: Service["getRun"] = (id) =>
      runRow(id).pipe(Effect.map(Option.map(toRun)), withErrors("cannot read the sync run"))

    const listRuns: Service["listRuns"] = (connectionId, limit) =>
      sql<RunRow>`SELECT * FROM sync_runs WHERE connection_id = ${connectionId}
        ORDER BY started_at DESC, id DESC LIMIT ${clampLimit(limit)}`.pipe(
        Effect.map((rows) => rows.map(toRun)),
        withErrors("cannot list sync runs")
      )

    // --- accounts -------------------------------------------------------------------------------------------

    const nowOf = (now: string | undefined) =>
      now === undefined
        ? nowMs
        : Number.isNaN(Date.parse(now))
        ? Effect.fail(new StoreError({ reason: "Internal", description: `"now" is not an ISO-8601 date-time: ${now}` }))
        : Effect.succeed(Date.parse(now))

    const cutoff = (nowMillis: number, days: number) => iso(nowMillis - days * 86_400_000)

    const entitlementsOf = (connectionId: string, ids: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const byAccount = new Map<string, Array<EntitlementRow>>()
        for (const batch of chunksOf(ids, 500)) {
          const rows = yield* sql<EntitlementRow>`SELECT external_id, key, name, product, site, status, last_active_at,
              first_seen_at, last_seen_at
            FROM entitlements WHERE connection_id = ${connectionId} AND external_id IN ${sql.in(batch)}
            ORDER BY external_id, name, key`
          for (const row of rows) {
            const list = byAccount.get(row.external_id)
            if (list === undefined) byAccount.set(row.external_id, [row])
            else list.push(row)
          }
        }
        return byAccount
      })

    const pageOfAccounts = (query: AccountQuery, entitlementKey: string | undefined) =>
      Effect.gen(function*() {
        const limit = clampLimit(query.limit)
        const now = yield* nowOf(query.now)
        const C = query.connectionId
        const filters: Array<Fragment> = [sql`a.connection_id = ${C}`]
        if (query.status !== undefined) filters.push(sql`a.status = ${query.status}`)
        if (query.product !== undefined && query.product !== "") {
          const p = query.product
          // An entitlement key (`confluence:acme`) or a product key (`confluence`, every site).
          filters.push(sql`EXISTS (SELECT 1 FROM entitlements e WHERE e.connection_id = a.connection_id
            AND e.external_id = a.external_id AND e.status = 'active' AND (e.key = ${p} OR e.product = ${p}))`)
        }
        if (entitlementKey !== undefined) {
          // In an app's list, inactivity is the app's: the assignment's last activity, else the account's.
          const inactive = query.inactiveDays === undefined
            ? sql`1 = 1`
            : sql`(COALESCE(e.last_active_at, a.last_active_at) IS NULL
                OR COALESCE(e.last_active_at, a.last_active_at) < ${cutoff(now, query.inactiveDays)})`
          filters.push(sql`EXISTS (SELECT 1 FROM entitlements e WHERE e.connection_id = a.connection_id
            AND e.external_id = a.external_id AND e.key = ${entitlementKey} AND e.status = 'active' AND ${inactive})`)
        } else if (query.inactiveDays !== undefined) {
          filters.push(sql`(a.last_active_at IS NULL OR a.last_active_at < ${cutoff(now, query.inactiveDays)})`)
        }
        if (query.q !== undefined && query.q.trim() !== "") {
          filters.push(sql`a.search_text LIKE ${`%${escapeLike(query.q.trim().toLowerCase())}%`} ESCAPE '\\'`)
        }
        const where = sql.and(filters)
        let after: Fragment = sql`1 = 1`
        if (query.cursor !== undefined && query.cursor !== "") {
          const position = yield* Cursor.decode(keys, Cursor.AccountCursor, query.cursor)
          if (position.c !== C) return yield* Cursor.invalid("it belongs to another connection's list")
          after = sql`(a.sort_key > ${position.s} OR (a.sort_key = ${position.s} AND a.external_id > ${position.id}))`
        }
        const rows = yield* sql<AccountRow>`SELECT a.connection_id, a.external_id, a.email, a.display_name,
            a.account_type, a.status, a.source_status, a.last_active_at, a.first_seen_at, a.last_seen_at, a.sort_key
          FROM accounts a WHERE ${where} AND ${after}
          ORDER BY a.sort_key, a.external_id LIMIT ${limit + 1}`
        const [count] = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM accounts a WHERE ${where}`
        const page = rows.slice(0, limit)
        const entitlements = yield* entitlementsOf(C, page.map((row) => row.external_id))
        const last = page[page.length - 1]
        return {
          data: page.map((row) => toAccount(row, entitlements.get(row.external_id) ?? [])),
          nextCursor: rows.length > limit && last !== undefined
            ? Cursor.encode(keys, Cursor.AccountCursor, { k: "accounts", c: C, s: last.sort_key, id: last.external_id })
            : null,
          total: num(count?.n)
        } satisfies Page<StoredAccount>
      })

    const listAccounts: Service["listAccounts"] = (query) =>
      pageOfAccounts(query, undefined).pipe(withErrors("cannot list accounts"))

    const listAppAccounts: Service["listAppAccounts"] = (query) =>
      pageOfAccounts(query, query.entitlementKey).pipe(withErrors("cannot list the app's accounts"))

    const accountRow = (connectionId: string, externalId: string) =>
      sql<AccountRow>`SELECT * FROM accounts WHERE connection_id = ${connectionId} AND external_id = ${externalId}`.pipe(
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )

    const storedAccount = (connectionId: string, externalId: string) =>
      Effect.gen(function*() {
        const row = yield* accountRow(connectionId, externalId)
        if (Option.isNone(row)) return Option.none<StoredAccount>()
        const entitlements = yield* entitlementsOf(connectionId, [externalId])
        return Option.some(toAccount(row.value, entitlements.get(externalId) ?? []))
      })

    const getAccount: Service["getAccount"] = (connectionId, externalId) =>
      Effect.gen(function*() {
        const account = yield* storedAccount(connectionId, externalId)
        if (Option.isNone(account)) return Option.none()
        const events = yield* sql<EventRow>`SELECT external_id, entitlement_key, from_status, to_status, at, cause, run_id
          FROM status_events WHERE connection_id = ${connectionId} AND external_id = ${externalId}
          ORDER BY id DESC LIMIT ${HISTORY_LIMIT}`
        return Option.some({ account: account.value, history: events.map(toEvent) })
      }).pipe(withErrors("cannot read the account"))

    const setAccountStatus: Service["setAccountStatus"] = (connectionId, externalId, status, cause) =>
      Effect.gen(function*() {
        const now = iso(yield* nowMs)
        yield* sql.withTransaction(Effect.gen(function*() {
          // The event is written first, from the row as it is, so that `from` is the old status.
          yield* sql`INSERT INTO status_events (connection_id, external_id, entitlement_key, from_status, to_status, at, cause, run_id)
            SELECT a.connection_id, a.external_id, NULL, a.status, ${text(status)}, ${text(now)}, ${text(cause)}, NULL
            FROM accounts a WHERE a.connection_id = ${connectionId} AND a.external_id = ${externalId} AND a.status <> ${status}`
          yield* sql`UPDATE accounts SET status = ${status} WHERE connection_id = ${connectionId} AND external_id = ${externalId}`
        }))
        return yield* storedAccount(connectionId, externalId)
      }).pipe(withErrors("cannot record the account's status"))

    const listApps: Service["listApps"] = (connectionId, nowIso) =>
      Effect.gen(function*() {
        const now = yield* nowOf(nowIso)
        const activity = sql`COALESCE(e.last_active_at, a.last_active_at)`
        const inactive = (days: number) =>
          sql`SUM(CASE WHEN e.status = 'active' AND (${activity} IS NULL OR ${activity} < ${cutoff(now, days)})
            THEN 1 ELSE 0 END)`
        const rows = yield* sql<{
          key: string
          name: string
          product: string
          site: string | null
          active: number | string
          deprovisioned: number | string
          inactive30: number | string
          inactive60: number | string
          inactive90: number | string
          last_active_at: string | null
        }>`SELECT e.key AS key, MAX(e.name) AS name, MAX(e.product) AS product, MAX(e.site) AS site,
            SUM(CASE WHEN e.status = 'active' THEN 1 ELSE 0 END) AS active,
            SUM(CASE WHEN e.status = 'deprovisioned' THEN 1 ELSE 0 END) AS deprovisioned,
            ${inactive(30)} AS inactive30, ${inactive(60)} AS inactive60, ${inactive(90)} AS inactive90,
            MAX(${activity}) AS last_active_at
          FROM entitlements e
          JOIN accounts a ON a.connection_id = e.connection_id AND a.external_id = e.external_id
          WHERE e.connection_id = ${connectionId}
          GROUP BY e.key
          ORDER BY MAX(e.name), e.key`
        return rows.map((row): AppSummary => ({
          key: row.key,
          name: row.name,
          product: row.product,
          site: row.site,
          active: num(row.active),
          deprovisioned: num(row.deprovisioned),
          inactive30: num(row.inactive30),
          inactive60: num(row.inactive60),
          inactive90: num(row.inactive90),
          lastActiveAt: row.last_active_at
        }))
      }).pipe(withErrors("cannot list apps"))

    // --- audit ------------------------------------------------------------------------------------------------

    const appendAudit: Service["appendAudit"] = (event) =>
      Effect.gen(function*() {
        const at = iso(yield* nowMs)
        const input = event.input === undefined ? null : JSON.stringify(event.input)
        const [row] = yield* sql<{ id: number | string }>`INSERT INTO audit_events ${
          sql.insert({
            at,
            actor: event.actor,
            action: event.action,
            connection_id: event.connectionId,
            target: event.target,
            input,
            outcome: event.outcome,
            detail: event.detail
          })
        } RETURNING id`
        return { ...event, id: String(row!.id), at, input: input === null ? null : JSON.parse(input) }
      }).pipe(withErrors("cannot write the audit log"))

    const listAudit: Service["listAudit"] = (query) =>
      Effect.gen(function*() {
        const limit = clampLimit(query.limit)
        const where = query.connectionId === undefined ? sql`1 = 1` : sql`connection_id = ${query.connectionId}`
        let after: Fragment = sql`1 = 1`
        if (query.cursor !== undefined && query.cursor !== "") {
          const position = yield* Cursor.decode(keys, Cursor.AuditCursor, query.cursor)
          after = sql`id < ${position.id}`
        }
        const rows = yield* sql<AuditRow>`SELECT * FROM audit_events WHERE ${where} AND ${after}
          ORDER BY id DESC LIMIT ${limit + 1}`
        const [count] = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM audit_events WHERE ${where}`
        const page = rows.slice(0, limit)
        const last = page[page.length - 1]
        return {
          data: page.map(toAudit),
          nextCursor: rows.length > limit && last !== undefined
            ? Cursor.encode(keys, Cursor.AuditCursor, { k: "audit", id: num(last.id) })
            : null,
          total: num(count?.n)
        }
      }).pipe(withErrors("cannot read the audit log"))

    return LicenseStore.of({
      createConnection,
      getConnection,
      listConnections,
      updateConnection,
      deleteConnection,
      startRun,
      heartbeat,
      stage,
      commitRun,
      abortRun,
      recoverAbandonedRuns,
      getRun,
      listRuns,
      listAccounts,
      getAccount,
      setAccountStatus,
      listApps,
      listAppAccounts,
      appendAudit,
      listAudit
    })
  })

const clampLimit = (limit: number): number =>
  Number.isFinite(limit) ? Math.min(MAX_LIMIT, Math.max(1, Math.floor(limit))) : 50

// ---------------------------------------------------------------------------------------------------------
// layers

const sqlitePragmas = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.onDialectOrElse({
    sqlite: () =>
      Effect.all([
        // Another process writing (a second host, a migration) makes us wait rather than fail.
        sql.unsafe("PRAGMA busy_timeout = 15000"),
        // Durable across a process crash with WAL; only an OS crash can lose the last transactions.
        sql.unsafe("PRAGMA synchronous = NORMAL")
      ]),
    orElse: () => Effect.void
  })
}).pipe(withErrors("cannot configure the database"))

/**
 * The store over the `SqlClient` in context: sets SQLite's pragmas, migrates, then builds the store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: SqlLicenseStoreOptions): Layer.Layer<LicenseStore, StoreError, SqlClient.SqlClient> =>
  Layer.effect(
    LicenseStore,
    // An unusable key is reported before the database is touched.
    SecretBox.deriveKeys(options.secretKey).pipe(
      Effect.zipRight(sqlitePragmas),
      Effect.zipRight(migrate),
      Effect.zipRight(make(options))
    )
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface SqliteOptions extends SqlLicenseStoreOptions {
  /** The database file; its directory is created when missing. */
  readonly filename: string
}

/**
 * A SQLite client on one file in WAL mode, with a clear error when the file cannot be opened. The driver is
 * loaded when the layer is built, so that a PostgreSQL deployment never loads it (and vice versa).
 *
 * @since 0.1.0
 * @category layers
 */
export const sqliteClientLayer = (
  filename: string
): Layer.Layer<SqliteClient.SqliteClient | SqlClient.SqlClient, StoreError> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const cannotOpen = (cause: unknown) =>
        new StoreError({
          reason: "Unavailable",
          description: `cannot open the SQLite database ${filename}: ${
            cause instanceof Error ? cause.message : String(cause)
          }; check that the data directory exists and is writable (SEATKEEPER_DATA_DIR)`,
          cause
        })
      yield* Effect.try({
        try: () => Fs.mkdirSync(Path.dirname(Path.resolve(filename)), { recursive: true }),
        catch: cannotOpen
      })
      const Sqlite = yield* Effect.tryPromise({ try: () => import("@effect/sql-sqlite-node/SqliteClient"), catch: cannotOpen })
      const client = yield* Sqlite.make({ filename }).pipe(
        Effect.catchAllDefect((defect) => Effect.fail(cannotOpen(defect)))
      )
      return Context.make(Sqlite.SqliteClient, client).pipe(Context.add(SqlClient.SqlClient, client))
    })
  ).pipe(Layer.provide(Reactivity.layer))

/**
 * The store on a SQLite file (WAL, busy timeout). Also provides the `SqlClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSqlite = (options: SqliteOptions): Layer.Layer<LicenseStore | SqlClient.SqlClient, StoreError> =>
  layer(options).pipe(Layer.provideMerge(sqliteClientLayer(options.filename)))

/**
 * @since 0.1.0
 * @category models
 */
export interface PgOptions extends SqlLicenseStoreOptions {
  /** A `postgres://` URL (`DATABASE_URL`). */
  readonly url: Redacted.Redacted<string>
  readonly maxConnections?: number | undefined
}

const describeUrl = (url: Redacted.Redacted<string>): string => {
  try {
    const parsed = new URL(Redacted.value(url))
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`
  } catch {
    return "DATABASE_URL (not a valid URL)"
  }
}

/**
 * A PostgreSQL client pool, with a clear error (never the URL's password) when it cannot connect.
 *
 * @since 0.1.0
 * @category layers
 */
export const pgClientLayer = (
  options: Pick<PgOptions, "url" | "maxConnections">
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, StoreError> => {
  const cannotConnect = (cause: unknown) =>
    new StoreError({
      reason: "Unavailable",
      description: `cannot connect to PostgreSQL at ${describeUrl(options.url)}: ${
        (cause as { cause?: { message?: string } } | undefined)?.cause?.message ??
          (cause instanceof Error ? cause.message : String(cause))
      }; check DATABASE_URL and that the server accepts connections`
    })
  return Layer.unwrapEffect(
    Effect.tryPromise({ try: () => import("@effect/sql-pg/PgClient"), catch: cannotConnect }).pipe(
      Effect.map((Pg) =>
        Pg.layer({ url: options.url, maxConnections: options.maxConnections ?? 10, applicationName: "seatkeeper" }).pipe(
          Layer.mapError(cannotConnect)
        )
      )
    )
  )
}

/**
 * The store on PostgreSQL. Also provides the `SqlClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPg = (options: PgOptions): Layer.Layer<LicenseStore | SqlClient.SqlClient, StoreError> =>
  layer(options).pipe(Layer.provideMerge(pgClientLayer(options)))

/**
 * Where the store lives: PostgreSQL when `databaseUrl` is set, else SQLite at `${dataDir}/seatkeeper.db`.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoreConfig {
  readonly dataDir: string
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly secretKey: Redacted.Redacted<string>
}

/**
 * The store chosen from a config: PostgreSQL when a database URL is set, else SQLite in the data dir.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<StoreConfig>
): Layer.Layer<LicenseStore | SqlClient.SqlClient, StoreError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(Config.unwrap(config), (c) =>
      Option.match(Option.filter(c.databaseUrl, (url) => Redacted.value(url).trim() !== ""), {
        onNone: () => layerSqlite({ filename: Path.join(c.dataDir, "seatkeeper.db"), secretKey: c.secretKey }),
        onSome: (url) => layerPg({ url, secretKey: c.secretKey })
      }))
  )

/**
 * The store from the environment: `DATABASE_URL`, `SEATKEEPER_DATA_DIR` (default `./.seatkeeper`) and
 * `SEATKEEPER_SECRET_KEY`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromEnv: Layer.Layer<LicenseStore | SqlClient.SqlClient, StoreError | ConfigError.ConfigError> =
  layerConfig({
    dataDir: Config.string("SEATKEEPER_DATA_DIR").pipe(Config.withDefault("./.seatkeeper")),
    databaseUrl: Config.option(Config.redacted("DATABASE_URL")),
    secretKey: Config.redacted("SEATKEEPER_SECRET_KEY")
  })
