/**
 * Runs and locks as more than one store needs them: decoding a run, dropping a run's staging, and
 * recovering runs whose lease expired (the sync store's `start` and `recover`, the connection store's
 * `remove`).
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { SyncRun, SyncRunError } from "@seatkeeper/core/SyncRun"
import { SyncRun as SyncRunSchema } from "@seatkeeper/core/SyncRun"
import * as Effect from "effect/Effect"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { LockRow, runColumns, RunRow } from "./rows.js"
import { iso } from "./sql.js"

/**
 * A run from its row.
 *
 * @internal
 */
export const RunFromRow = Schema.transform(RunRow, Schema.typeSchema(SyncRunSchema), {
  strict: true,
  decode: (row) => ({
    id: row.id,
    connectionId: row.connectionId,
    status: row.status,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    stats: {
      accounts: row.accounts,
      created: row.created,
      updated: row.updated,
      unchanged: row.unchanged,
      deprovisioned: row.deprovisioned,
      entitlementsDeprovisioned: row.entitlementsDeprovisioned,
      absentConfirmed: row.absentConfirmed,
      absentButPresent: row.absentButPresent,
      absentPending: row.absentPending,
      lookups: row.lookups,
      adminActionsKept: row.adminActionsKept,
      totalAtStart: row.totalAtStart,
      totalAtEnd: row.totalAtEnd,
      rosterShifted: row.rosterShifted,
      licenses: row.licenses,
      requests: row.requests,
      retries: row.retries,
      rateLimited: row.rateLimited
    },
    error: row.error,
    hold: row.hold,
    decision: row.decision
  }),
  encode: (run) => ({
    id: run.id,
    connectionId: run.connectionId,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    ...run.stats,
    error: run.error,
    hold: run.hold,
    decision: run.decision
  })
})

/** @internal */
export const decodeRuns = Schema.decodeUnknown(Schema.Array(RunFromRow))

/** @internal */
export const selectRun = (sql: SqlClient.SqlClient, id: string) =>
  sql`SELECT ${sql.literal(runColumns)} FROM sync_runs WHERE id = ${id}`.pipe(
    Effect.flatMap(decodeRuns),
    Effect.map((runs) => runs[0])
  )

/** @internal */
export const interruptedError = (why: string): SyncRunError => ({
  reason: "Interrupted",
  message: `the process running this sync stopped before it finished (${why}); nothing was applied`
})

// =============================================================================
// a run's staging
// =============================================================================
//
// A run stages what it reads in two tables of its own, created when it starts and dropped when it ends (a DROP
// costs nothing next to deleting a roster's rows). Rows are keyed by their arrival (`seq`), so that a listing
// whose ids come in no order (Atlassian's) still appends at the end of each table; the index by account is
// built once the listing is complete. `run_staging` lists the runs that have such tables, with what their
// staging counted as it went.

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * The names of a run's staging tables and indexes.
 *
 * @internal
 */
export interface StagingTables {
  /** One row per reading (`listed`: from the listing; else a verdict's) or verdict, `seq` in arrival order. */
  readonly accounts: string
  /** The entitlements of the readings that changed, by their reading's `seq`. */
  readonly entitlements: string
  /** The rows applying writes something for (`work = 1`), by kind. */
  readonly work: string
  /** The rows by account, built when the staging is sealed. */
  readonly byAccount: string
}

/**
 * A run's staging tables. Only a run id as the store makes them (a UUID) names tables: anything else has none.
 *
 * @internal
 */
export const stagingTables = (runId: string): StagingTables | undefined => {
  if (!RUN_ID.test(runId)) return undefined
  const tag = runId.replaceAll("-", "")
  return {
    accounts: `run_${tag}_accounts`,
    entitlements: `run_${tag}_entitlements`,
    work: `run_${tag}_work`,
    byAccount: `run_${tag}_by_account`
  }
}

const isPgClient = (sql: SqlClient.SqlClient) => sql.onDialectOrElse({ pg: () => true, orElse: () => false })

/**
 * Creates a run's staging tables (in the transaction that records the run).
 *
 * @internal
 */
export const createStaging = (sql: SqlClient.SqlClient, runId: string) =>
  Effect.gen(function*() {
    const t = stagingTables(runId)
    if (t === undefined) return yield* Effect.dieMessage(`not a run id: ${runId}`)
    const pg = isPgClient(sql)
    // Scratch space: never in PostgreSQL's WAL (a crash drops it anyway); ids ordered byte-wise, as everywhere.
    const T = pg ? `TEXT COLLATE "C"` : "TEXT"
    const table = pg ? "CREATE UNLOGGED TABLE" : "CREATE TABLE"
    yield* sql.unsafe(`${table} ${t.accounts} (
      seq INTEGER PRIMARY KEY,
      external_id ${T} NOT NULL,
      reading INTEGER NOT NULL,
      listed INTEGER NOT NULL,
      verdict ${T},
      kind ${T},
      work INTEGER NOT NULL,
      source_hash ${T},
      status ${T},
      email ${T},
      display_name ${T},
      account_type ${T},
      source_status ${T},
      last_active_at ${T},
      activity_source ${T},
      billable INTEGER,
      managed INTEGER,
      added_at ${T},
      roles_json ${T},
      groups_json ${T},
      attributes_json ${T},
      has_entitlements INTEGER,
      sort_key ${T},
      email_key ${T},
      search_text ${T}
    )`)
    // Filled as rows arrive, in their order: appended, like the table.
    yield* sql.unsafe(`CREATE INDEX ${t.work} ON ${t.accounts} (work, kind) WHERE work = 1`)
    yield* sql.unsafe(`${table} ${t.entitlements} (
      seq INTEGER NOT NULL,
      key ${T} NOT NULL,
      name ${T} NOT NULL,
      product ${T} NOT NULL,
      site ${T},
      site_host ${T},
      status ${T} NOT NULL,
      last_active_at ${T},
      activity_source ${T},
      role ${T},
      billable INTEGER,
      PRIMARY KEY (seq, key)
    )${pg ? "" : " WITHOUT ROWID"}`)
    yield* sql`INSERT INTO run_staging (run_id) VALUES (${runId})`
  })

/**
 * Drops a run's staging. Whoever deletes its `run_staging` row drops its tables: two processes dropping the same
 * run's staging at once (an apply's clean-up, another's recovery) never both drop them.
 *
 * @internal
 */
export const dropStaging = (sql: SqlClient.SqlClient, runId: string) =>
  sql.withTransaction(Effect.gen(function*() {
    yield* sql`DELETE FROM run_licenses WHERE run_id = ${runId}`
    const t = stagingTables(runId)
    if (t === undefined) return
    const owned = yield* sql`DELETE FROM run_staging WHERE run_id = ${runId} RETURNING run_id`
    if (owned.length === 0) return
    yield* sql.unsafe(`DROP TABLE IF EXISTS ${t.entitlements}`)
    yield* sql.unsafe(`DROP TABLE IF EXISTS ${t.accounts}`)
  }))

const decodeStagedRuns = Schema.decodeUnknown(Schema.Array(Schema.Struct({ run_id: Schema.String })))

/**
 * Drops the staging of every run that is neither running nor held: left by a process that stopped between an
 * apply's commit and the drop that follows it, or by a connection removed with a held run.
 *
 * @internal
 */
export const dropEndedStaging = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    const ended = yield* sql`SELECT g.run_id FROM run_staging g WHERE NOT EXISTS (SELECT 1 FROM sync_runs r
      WHERE r.id = g.run_id AND r.status IN ('running', 'held'))`.pipe(Effect.flatMap(decodeStagedRuns))
    for (const row of ended) yield* dropStaging(sql, row.run_id)
  })

const decodeLocks = Schema.decodeUnknown(Schema.Array(LockRow))

/**
 * Frees the locks whose lease expired before `expiredBefore` (default `now`; of one connection, or all), marks
 * their runs `interrupted` at `now` and drops their staging; also closes runs left `running` without their
 * lock. Returns the runs it interrupted.
 *
 * @internal
 */
export const recover = (
  sql: SqlClient.SqlClient,
  now: number,
  connectionId: string | undefined,
  expiredBefore: number = now
): Effect.Effect<ReadonlyArray<SyncRun>, SqlError | ParseResult.ParseError> =>
  Effect.gen(function*() {
    const at = iso(now)
    const scope = connectionId === undefined ? sql`1 = 1` : sql`connection_id = ${connectionId}`
    const expired = yield* sql`SELECT connection_id, run_id, lease_expires_at FROM sync_locks
      WHERE lease_expires_at < ${iso(expiredBefore)} AND ${scope}`.pipe(Effect.flatMap(decodeLocks))
    const recovered: Array<SyncRun> = []
    for (const lock of expired) {
      // Conditional on the lease being unchanged: a heartbeat that renewed it in between keeps it.
      const freed = yield* sql`DELETE FROM sync_locks
        WHERE connection_id = ${lock.connectionId} AND run_id = ${lock.runId}
          AND lease_expires_at = ${lock.leaseExpiresAt}
        RETURNING run_id`
      if (freed.length === 0) continue
      const error = JSON.stringify(interruptedError(`its lock's lease expired at ${lock.leaseExpiresAt}`))
      const runs = yield* sql`UPDATE sync_runs SET status = 'interrupted', finished_at = ${at}, error = ${error}
        WHERE id = ${lock.runId} AND status = 'running'
        RETURNING ${sql.literal(runColumns)}`.pipe(Effect.flatMap(decodeRuns))
      yield* dropStaging(sql, lock.runId)
      recovered.push(...runs)
    }
    const orphaned = JSON.stringify(interruptedError("it no longer held its connection's sync lock"))
    const orphans = yield* sql`UPDATE sync_runs SET status = 'interrupted', finished_at = ${at}, error = ${orphaned}
      WHERE status = 'running' AND ${scope}
        AND NOT EXISTS (SELECT 1 FROM sync_locks l WHERE l.run_id = sync_runs.id)
      RETURNING ${sql.literal(runColumns)}`.pipe(Effect.flatMap(decodeRuns))
    for (const run of orphans) yield* dropStaging(sql, run.id)
    recovered.push(...orphans)
    // Staging of runs that ended (a small table: cheap at every start, so a removed connection's goes soon).
    yield* dropEndedStaging(sql)
    if (connectionId === undefined) {
      // Licences staged by runs that ended.
      yield* sql`DELETE FROM run_licenses WHERE NOT EXISTS (SELECT 1 FROM sync_runs r
        WHERE r.id = run_licenses.run_id AND r.status IN ('running', 'held'))`
    }
    return recovered
  })
