/**
 * What every SQL store module shares: mapping driver errors to `StoreError`, the few dialect differences,
 * loading many rows at once, and common decoders.
 *
 * @internal
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import { StoreError } from "@seatkeeper/core/StoreError"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { isSqliteWorkerClient } from "./sqliteClient.js"

// =============================================================================
// errors
// =============================================================================

const classify = (code: unknown): StoreError["reason"] => {
  if (typeof code !== "string") return "Internal"
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED") || code.startsWith("SQLITE_IOERR")) {
    return "Unavailable"
  }
  if (code === "SQLITE_FULL" || code === "SQLITE_CANTOPEN" || code === "SQLITE_READONLY") return "Unavailable"
  if (code.startsWith("SQLITE_CONSTRAINT") || code.startsWith("23")) return "Conflict"
  // PostgreSQL: connection exceptions, operator intervention, insufficient resources, serialization failures.
  if (/^(08|57|53|40)/.test(code) || code.startsWith("E")) return "Unavailable"
  return "Internal"
}

const hintOf = (reason: StoreError["reason"]): string =>
  reason === "Unavailable"
    ? "; the database is busy or unreachable: try again, and check the disk or the database server if it persists"
    : reason === "Conflict"
    ? "; another change got there first: read the current state and try again"
    : ""

/**
 * A driver error as a `StoreError`: what the store was doing, the driver's own message (never a value that
 * was bound: the drivers do not quote parameters) and what to do.
 *
 * @internal
 */
export const fromSqlError = (what: string, error: SqlError): StoreError => {
  const driver = error.cause as { readonly code?: unknown; readonly message?: unknown } | undefined
  const detail = typeof driver?.message === "string" && driver.message !== "" ? driver.message : error.message
  const reason = classify(driver?.code)
  return new StoreError({ reason, description: `${what}: ${detail}${hintOf(reason)}`, cause: error })
}

/** @internal */
export const corruptRow = (what: string, error: ParseResult.ParseError): StoreError =>
  new StoreError({
    reason: "Corrupt",
    description:
      `${what}: a stored row does not read as expected (${ParseResult.TreeFormatter.formatErrorSync(error)}); ` +
      `the database was changed by hand or by another version of Seatkeeper`,
    cause: error
  })

/**
 * Maps the driver's and the row decoders' errors of an operation to `StoreError`.
 *
 * @internal
 */
export const orStoreError = (what: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchIf(
    effect,
    (e): e is Extract<E, SqlError | ParseResult.ParseError> =>
      typeof e === "object" && e !== null && ((e as { _tag?: unknown })._tag === "SqlError" ||
        (e as { _tag?: unknown })._tag === "ParseError"),
    (e) =>
      Effect.fail(
        (e as { _tag: string })._tag === "ParseError"
          ? corruptRow(what, e as unknown as ParseResult.ParseError)
          : fromSqlError(what, e as unknown as SqlError)
      )
  ) as Effect.Effect<A, Exclude<E, SqlError | ParseResult.ParseError> | StoreError, R>

/** @internal */
export const notFound = (description: string) => new StoreError({ reason: "NotFound", description })

/** @internal */
export const conflict = (description: string) => new StoreError({ reason: "Conflict", description })

// =============================================================================
// values
// =============================================================================

/** PostgreSQL cannot store a NUL in text; neither store keeps one, so both read back the same. */
export const text = (value: string): string => (value.includes("\u0000") ? value.replaceAll("\u0000", "") : value)

/** @internal */
export const textOrNull = (value: string | null | undefined): string | null =>
  value === null || value === undefined ? null : text(value)

/** @internal */
export const flag = (value: boolean | null | undefined): number | null =>
  value === null || value === undefined ? null : value ? 1 : 0

/** @internal */
export const iso = (ms: number): string => new Date(ms).toISOString()

/** @internal */
export const clampLimit = (limit: number): number =>
  Number.isFinite(limit) ? Math.min(1_000, Math.max(1, Math.floor(limit))) : 50

/**
 * A count or a sum: PostgreSQL returns 64-bit integers and numerics as strings.
 *
 * @internal
 */
export const Count = Schema.Union(Schema.Number, Schema.NumberFromString)

/**
 * A boolean kept as an INTEGER 0/1 (the same on both databases).
 *
 * @internal
 */
export const Flag = Schema.transform(Schema.Union(Schema.Literal(0, 1), Schema.Boolean), Schema.Boolean, {
  strict: true,
  decode: (v) => v === 1 || v === true,
  encode: (b) => (b ? 1 : 0)
})

/** A column read from a differently named key. */
export const column = <A, I, R>(schema: Schema.Schema<A, I, R>, key: string) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(key))

// =============================================================================
// dialect
// =============================================================================

/** @internal */
export const isPg = (sql: SqlClient.SqlClient): boolean => sql.onDialectOrElse({ pg: () => true, orElse: () => false })

/**
 * `column IN ids`, with one bound value whatever the number of ids (one prepared statement for every
 * chunk size): a JSON array on SQLite, an array on PostgreSQL.
 *
 * @internal
 */
export const inIds = (sql: SqlClient.SqlClient, columnRef: Fragment, ids: ReadonlyArray<string>): Fragment =>
  isPg(sql)
    ? sql`${columnRef} = ANY(CAST(${ids.map(text)} AS TEXT[]))`
    : sql`${columnRef} IN (SELECT value FROM json_each(${JSON.stringify(ids.map(text))}))`

/**
 * Whether `haystack` holds `needle` as a substring: no pattern characters, so `%` and `_` are literal.
 *
 * @internal
 */
export const contains = (sql: SqlClient.SqlClient, haystack: Fragment, needle: string): Fragment =>
  isPg(sql) ? sql`strpos(${haystack}, ${text(needle)}) > 0` : sql`instr(${haystack}, ${text(needle)}) > 0`

/**
 * PostgreSQL serialises an apply with the admin actions on the same connection (SQLite has one writer).
 *
 * @internal
 */
export const lockConnection = (sql: SqlClient.SqlClient, connectionId: string) =>
  isPg(sql) ? Effect.asVoid(sql`SELECT pg_advisory_xact_lock(hashtextextended(${connectionId}, 0))`) : Effect.void

// =============================================================================
// many rows at once
// =============================================================================

/** @internal */
export type ColumnType = "text" | "int"

/** @internal */
export interface BulkColumn {
  readonly name: string
  readonly type: ColumnType
}

const PG_BATCH = 5_000
const SQLITE_PARAMS = 30_000

/**
 * Inserts rows (positional, in `columns` order). SQLite's worker runs one prepared statement per row in its
 * own thread; PostgreSQL gets one array per column (`unnest`), which parses and plans in constant time; any
 * other SQLite client multi-row `VALUES` in batches under the parameter limit.
 *
 * @internal
 */
export const insertMany = (
  sql: SqlClient.SqlClient,
  table: string,
  columns: ReadonlyArray<BulkColumn>,
  rows: ReadonlyArray<ReadonlyArray<string | number | null>>,
  onConflict = ""
): Effect.Effect<void, SqlError> =>
  Effect.suspend(() => {
    if (rows.length === 0) return Effect.void
    const names = columns.map((c) => c.name).join(", ")
    if (isSqliteWorkerClient(sql)) {
      const placeholders = columns.map(() => "?").join(", ")
      return Effect.asVoid(
        sql.executeMany(`INSERT INTO ${table} (${names}) VALUES (${placeholders}) ${onConflict}`, rows)
      )
    }
    if (isPg(sql)) {
      const batches: Array<ReadonlyArray<ReadonlyArray<string | number | null>>> = []
      for (let i = 0; i < rows.length; i += PG_BATCH) batches.push(rows.slice(i, i + PG_BATCH))
      return Effect.forEach(batches, (batch) => {
        const arrays = columns.map((c, i) =>
          sql`CAST(${
            batch.map((row) => {
              const value = row[i] ?? null
              return typeof value === "string" ? text(value) : value
            })
          } AS ${sql.literal(c.type === "text" ? "TEXT[]" : "INT[]")})`
        )
        return sql`INSERT INTO ${sql.literal(table)} (${sql.literal(names)})
          SELECT * FROM unnest(${sql.csv(arrays)}) ${sql.literal(onConflict)}`
      }, { discard: true })
    }
    const per = Math.max(1, Math.floor(SQLITE_PARAMS / columns.length))
    const batches: Array<ReadonlyArray<ReadonlyArray<string | number | null>>> = []
    for (let i = 0; i < rows.length; i += per) batches.push(rows.slice(i, i + per))
    return Effect.forEach(batches, (batch) => {
      const values = sql.csv(batch.map((row) => sql`(${sql.csv(row.map((v) => sql`${v}`))})`))
      return sql`INSERT INTO ${sql.literal(table)} (${sql.literal(names)}) VALUES ${values} ${sql.literal(onConflict)}`
    }, { discard: true })
  })
