/**
 * The `InventoryStore` of `@seatkeeper/core` over `@effect/sql`: accounts, seats, products and totals as
 * the last applied sync left them, and the admin's suspend and restore.
 *
 * Every list is keyset-paged in both directions on an index of its sort (the id, then the entitlement key,
 * break ties), with signed cursors; every count follows `Seats` exactly, in SQL. On SQLite these reads run
 * on the main thread against the last committed snapshot: an apply in the writer's thread never blocks
 * them and they never see half of it.
 *
 * A page is one statement: its rows' columns under the domain's names and each account's entitlements as
 * one JSON array, decoded by Schema with nothing to rename. A list's total is counted once per version of
 * the data and kept (see "counts" below: never reused once the inventory changed); an export asks for
 * none (`withTotal: false`), so that walking every page costs as much as the rows it reads.
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Fragment } from "@effect/sql/Statement"
import type { AccountStatus } from "@seatkeeper/core/Account"
import {
  type AccountQuery,
  type AccountSort,
  InventoryStore,
  type InventoryTotals,
  type Page,
  type ProductSnapshot,
  type ProductSummary,
  type Seat,
  type SeatQuery,
  type StatusCause,
  type StatusEvent,
  type StoredAccount
} from "@seatkeeper/core/Inventory"
import * as Seats from "@seatkeeper/core/Seats"
import { StoreError } from "@seatkeeper/core/StoreError"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Cursor from "./internal/cursor.js"
import * as Keys from "./internal/keys.js"
import {
  AccountListRow,
  EventRow,
  ProductRow,
  SeatListRow,
  SeatTotalsRow,
  SnapshotRow,
  StampedCountRow,
  TotalsRow
} from "./internal/rows.js"
import { clampLimit, contains, iso, isPg, lockConnection, orStoreError, text } from "./internal/sql.js"
import { OFFLOAD } from "./internal/sqliteClient.js"
import * as Migrations from "./Migrations.js"
import { productsQuery, seatCondition, seatOnEntitlement, unusedOnEntitlement } from "./SqlSyncStore.js"

const HISTORY_LIMIT = 500

const decodeAccounts = Schema.decodeUnknown(Schema.Array(AccountListRow))
const decodeSeats = Schema.decodeUnknown(Schema.Array(SeatListRow))
const decodeStamped = Schema.decodeUnknown(Schema.Array(StampedCountRow))
const decodeStamp = Schema.decodeUnknown(Schema.Array(Schema.Struct({ stamp: Schema.NullOr(Schema.String) })))
const decodeEvents = Schema.decodeUnknown(Schema.Array(EventRow))
const decodeProducts = Schema.decodeUnknown(Schema.Array(ProductRow))
const decodeSnapshots = Schema.decodeUnknown(Schema.Array(SnapshotRow))
const decodeTotals = Schema.decodeUnknown(Schema.Array(TotalsRow))
const decodeSeatTotals = Schema.decodeUnknown(Schema.Array(SeatTotalsRow))
const decodeStatus = Schema.decodeUnknown(Schema.Array(Schema.Struct({ status: Schema.String })))

/** The expression each account sort orders by; each has an index `(connection_id, <it>, external_id)`. */
const accountSort: Record<AccountSort, string> = {
  name: "a.sort_key",
  email: "a.email_key",
  // "" sorts before any instant: never active comes first in ascending order.
  lastActive: "COALESCE(a.last_active_at, '')",
  status: "a.status",
  firstSeen: "a.first_seen_at"
}

/** The same for seats: a seat's activity is its product's, the rest is its account's. */
const seatSort: Record<AccountSort, string> = { ...accountSort, lastActive: "COALESCE(e.last_active_at, '')" }

/** How many list counts are kept (each a few numbers), and for how long at most. */
const COUNTS_KEPT = 1_000
const COUNT_TTL_MS = 5 * 60_000

/** A list's count as of a version of the database (`stamp`), with the inactivity cutoff it was counted at. */
interface Counted {
  readonly stamp: string
  readonly cut: string | undefined
  readonly n: number
  readonly at: number
}

interface Paging {
  readonly keys: ReadonlyArray<string>
  readonly order: "asc" | "desc"
  readonly position: Cursor.Position | undefined
}

/**
 * The inventory store over the `SqlClient` in context; the schema must be migrated (the layers do it).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: Effect.Effect<InventoryStore["Type"], never, SqlClient.SqlClient | Keys.StoreKeys> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const keys = yield* Keys.StoreKeys
    // Aggregates over a whole connection run off the main thread (SQLite's offload reader).
    const offload = sql.literal(OFFLOAD)

    const nowOf = (now: string | undefined) =>
      now === undefined
        ? Clock.currentTimeMillis
        : Number.isNaN(Date.parse(now))
        ? Effect.fail(new StoreError({ reason: "Internal", description: `"now" is not an ISO-8601 date-time: ${now}` }))
        : Effect.succeed(Date.parse(now))

    const positionOf = (cursor: string | undefined, kind: string, scope: string) =>
      cursor === undefined || cursor === ""
        ? Effect.succeed(undefined)
        : Cursor.decode(keys, cursor, kind, scope)

    // --- keyset paging ------------------------------------------------------------------------------

    const tuple = (exprs: ReadonlyArray<string>) => sql.literal(`(${exprs.join(", ")})`)
    const values = (vs: ReadonlyArray<string | number>) => sql`(${sql.csv(vs.map((v) => sql`${v}`))})`
    const orderBy = (exprs: ReadonlyArray<string>, dir: "asc" | "desc") =>
      sql.literal(exprs.map((e) => `${e} ${dir.toUpperCase()}`).join(", "))
    const flip = (dir: "asc" | "desc") => (dir === "asc" ? "desc" : "asc")
    /**
     * Rows after (`after`) or before a key, in the list's order. The row value comparison alone is not what
     * an index seeks to when the sort is an expression (`COALESCE(last_active_at, '')`: SQLite walks the index
     * from its start instead, every page further in costing more) or when the key spans two tables (a seat's:
     * the account's sort value and id, then the entitlement's key). So the key's first value bounds the sort
     * expression on its own too, and a seat's first two values the account's part of it. (A sort by a column
     * seeks by the whole row value, exactly to the cursor, however many rows share its first value.)
     */
    const beyond = (paging: Paging, key: ReadonlyArray<string | number>, after: boolean) => {
      const up = (paging.order === "asc") === after
      const bounds: Array<Fragment> = /^\w+\.\w+$/.test(paging.keys[0]!)
        ? []
        : [sql`${sql.literal(paging.keys[0]!)} ${sql.literal(up ? ">=" : "<=")} ${key[0]!}`]
      const n = paging.keys.length - 1
      if (n >= 2) {
        bounds.push(sql`${tuple(paging.keys.slice(0, n))} ${sql.literal(up ? ">=" : "<=")} ${values(key.slice(0, n))}`)
      }
      bounds.push(sql`${tuple(paging.keys)} ${sql.literal(up ? ">" : "<")} ${values(key)}`)
      return sql.and(bounds)
    }

    /** The fetch for one page: which rows, in which order, and whether they come back reversed. */
    const fetchPlan = (paging: Paging) => {
      const back = paging.position?.d === "prev"
      return {
        back,
        where: paging.position === undefined ? sql`1 = 1` : beyond(paging, paging.position.v, !back),
        order: orderBy(paging.keys, back ? flip(paging.order) : paging.order)
      }
    }

    /**
     * Cuts a fetched list (one more than `limit`, in fetch order) into a page, and finds out whether there
     * are rows on the other side with a one-row probe.
     */
    const pageOf = <A>(
      paging: Paging,
      limit: number,
      fetched: ReadonlyArray<A>,
      keyOf: (a: A) => ReadonlyArray<string | number>,
      kind: string,
      scope: string,
      exists: (where: Fragment) => Effect.Effect<boolean, SqlError>,
      total: number
    ) =>
      Effect.gen(function*() {
        const back = paging.position?.d === "prev"
        const more = fetched.length > limit
        const kept = fetched.slice(0, limit)
        const data = back ? [...kept].reverse() : kept
        const at = (row: A, d: "next" | "prev") => Cursor.encode(keys, { k: kind, c: scope, d, v: keyOf(row) as any })
        const first = data[0]
        const last = data[data.length - 1]
        if (first === undefined || last === undefined) return { data, nextCursor: null, prevCursor: null, total }
        const hasNext = back ? yield* exists(beyond(paging, keyOf(last), true)) : more
        const hasPrev = back
          ? more
          : paging.position === undefined
          ? false
          : yield* exists(beyond(paging, keyOf(first), false))
        return {
          data,
          nextCursor: hasNext ? at(last, "next") : null,
          prevCursor: hasPrev ? at(first, "prev") : null,
          total
        }
      })

    // --- counts -------------------------------------------------------------------------------------

    // A list's total is counted once per version of the data, not on every page: each count is kept with a
    // stamp that any committed change of the connection's inventory changes, and is reused only while a
    // fresh reading of the stamp is the same (so a kept count is never stale, whoever made the change: this
    // process, its SQLite writer thread, or another host on the same PostgreSQL).
    //   - SQLite: the reading connection's `data_version` (changed by every commit of any other
    //     connection), its own `total_changes()` and whether it is the read-only one (a read that fell back
    //     to the writer reads the writer's counters, which must not match the reader's).
    //   - PostgreSQL: the transaction id that last wrote the connection's row (`xmin`). Every transaction
    //     that changes a connection's accounts or entitlements writes that row too: an apply sets
    //     `applied_at`, `recordAction` touches it, removing the connection deletes it (no stamp: no count
    //     is kept).
    // An inactivity filter's cutoff moves with the clock: a count kept at one cutoff gives the count at
    // another from the accounts whose activity lies between the two (one short range of the activity index).
    const pg = isPg(sql)
    const counted = new Map<string, Counted>()
    const stampOf = (connectionId: string): Fragment =>
      pg
        ? sql`(SELECT CAST(c.xmin AS TEXT) FROM connections c WHERE c.id = ${connectionId})`
        : sql.literal(
          "((SELECT data_version FROM pragma_data_version) || ':' || total_changes() || ':' || " +
            "(SELECT query_only FROM pragma_query_only))"
        )

    const remember = (key: string, entry: Counted) => {
      counted.delete(key)
      counted.set(key, entry)
      if (counted.size > COUNTS_KEPT) counted.delete(counted.keys().next().value!)
    }

    /** Forgets the counts of a connection's lists (the stamps would catch the change anyway). */
    const forget = (connectionId: string) => {
      for (const key of counted.keys()) if (key.startsWith(`${connectionId}\u0000`)) counted.delete(key)
    }

    interface CountPlan {
      /** Identifies the list's filters but for the inactivity cutoff; `undefined`: never kept. */
      readonly key: string | undefined
      readonly connectionId: string
      /** `OFFLOAD` or nothing: the count and its stamp are read on the same connection. */
      readonly lane: Fragment
      readonly from: Fragment
      /** The filters, with the inactivity cutoff `cut` and, for a difference, activity at least `atLeast`. */
      readonly where: (cut: string | undefined, atLeast?: string) => Fragment
      readonly cut: string | undefined
    }

    const stamped = (plan: CountPlan, where: Fragment) =>
      sql`${plan.lane}SELECT ${stampOf(plan.connectionId)} AS stamp, COUNT(*) AS n FROM ${plan.from} WHERE ${where}`
        .pipe(
          Effect.flatMap(decodeStamped),
          Effect.map((rows) => rows[0] ?? { stamp: null, n: 0 })
        )

    const countOf = (plan: CountPlan) =>
      Effect.gen(function*() {
        if (plan.key === undefined) return (yield* stamped(plan, plan.where(plan.cut))).n
        const now = yield* Clock.currentTimeMillis
        const kept = counted.get(plan.key)
        if (kept !== undefined && now >= kept.at && now - kept.at < COUNT_TTL_MS) {
          if (kept.cut === plan.cut) {
            const [current] = yield* sql`${plan.lane}SELECT ${stampOf(plan.connectionId)} AS stamp`.pipe(
              Effect.flatMap(decodeStamp)
            )
            if (current?.stamp != null && current.stamp === kept.stamp) return kept.n
          } else if (kept.cut !== undefined && plan.cut !== undefined) {
            const later = plan.cut > kept.cut
            const [lo, hi] = later ? [kept.cut, plan.cut] : [plan.cut, kept.cut]
            const between = yield* stamped(plan, plan.where(hi, lo))
            if (between.stamp !== null && between.stamp === kept.stamp) {
              const n = later ? kept.n + between.n : kept.n - between.n
              remember(plan.key, { ...kept, cut: plan.cut, n })
              return n
            }
          }
        }
        const fresh = yield* stamped(plan, plan.where(plan.cut))
        if (fresh.stamp !== null) remember(plan.key, { stamp: fresh.stamp, cut: plan.cut, n: fresh.n, at: now })
        return fresh.n
      })

    // --- what a list reads --------------------------------------------------------------------------

    // Columns under the domain's names and entitlements as JSON built by the database, so that a row
    // decodes with nothing to rename and a page of accounts is one row per account, in one statement (one
    // snapshot). An account the last applied run read was last seen by that run (the connection's
    // `applied_at`, read once per statement).
    const appliedAt = (connectionId: string) =>
      sql`(SELECT c.applied_at FROM connections c WHERE c.id = ${connectionId})`
    const accountSelect = (connectionId: string) =>
      sql`a.connection_id AS "connectionId", a.external_id AS "externalId", a.email AS "email",
        a.display_name AS "displayName", a.account_type AS "accountType", a.status AS "status",
        a.source_status AS "sourceStatus", a.last_active_at AS "lastActiveAt", a.activity_source AS "activitySource",
        a.billable AS "billable", a.managed AS "managed", a.added_at AS "addedAt", a.roles_json AS "roles",
        a.groups_json AS "groups", a.attributes_json AS "attributes", a.first_seen_at AS "firstSeenAt",
        a.admin_action_at AS "adminActionAt",
        CASE WHEN a.seen_last = 1 THEN COALESCE(${appliedAt(connectionId)}, a.last_seen_at) ELSE a.last_seen_at END
          AS "lastSeenAt"`
    const entitlementObject = (connectionId: string) =>
      sql`${sql.literal(pg ? "json_build_object" : "json_object")}('key', e.key, 'name', e.name,
        'product', e.product, 'site', e.site, 'siteHost', e.site_host, 'status', e.status,
        'lastActiveAt', e.last_active_at, 'activitySource', e.activity_source, 'role', e.role,
        'billable', e.billable, 'firstSeenAt', e.first_seen_at,
        'lastSeenAt', CASE WHEN a.seen_last = 1 AND e.status <> 'deprovisioned'
          THEN COALESCE(${appliedAt(connectionId)}, e.last_seen_at) ELSE e.last_seen_at END)`
    /** The entitlements of account `a`, by name then key, as a JSON array. */
    const entitlementsOf = (connectionId: string) => {
      const of = sql`FROM entitlements e WHERE e.connection_id = a.connection_id AND e.external_id = a.external_id`
      return pg
        ? sql`(SELECT CAST(COALESCE(json_agg(${entitlementObject(connectionId)} ORDER BY e.name, e.key), '[]') AS TEXT)
          ${of})`
        : sql`(SELECT json_group_array(${entitlementObject(connectionId)} ORDER BY e.name, e.key) ${of})`
    }
    const entitlementOf = (connectionId: string) =>
      pg ? sql`CAST(${entitlementObject(connectionId)} AS TEXT)` : entitlementObject(connectionId)

    const accountsOf = (rows: ReadonlyArray<unknown>) =>
      Effect.map(
        decodeAccounts(rows),
        (decoded) =>
          decoded.map(({ sortValue, ...account }): { account: StoredAccount; sortValue: string } => ({
            account,
            sortValue
          }))
      )

    // --- accounts -----------------------------------------------------------------------------------

    /**
     * The filters of an accounts list, with the inactivity cutoff `cut` (when the query has one) and, for
     * the difference between two cutoffs, activity at least `atLeast`.
     */
    const accountFilters = (query: AccountQuery, cut: string | undefined, atLeast?: string): Fragment => {
      const parts: Array<Fragment> = [sql`a.connection_id = ${query.connectionId}`]
      if (query.status !== undefined) parts.push(sql`a.status = ${query.status}`)
      if (query.product !== undefined && query.product !== "") {
        // An entitlement key (`confluence:acme.atlassian.net`) or a product key (`confluence`, every site).
        parts.push(sql`EXISTS (SELECT 1 FROM entitlements e WHERE e.connection_id = a.connection_id
          AND e.external_id = a.external_id AND e.status = 'active'
          AND (e.key = ${text(query.product)} OR e.product = ${text(query.product)}))`)
      }
      if (cut !== undefined) {
        // Never active counts as inactive: "" is below every cutoff.
        parts.push(sql`COALESCE(a.last_active_at, '') < ${cut}`)
        if (atLeast !== undefined) parts.push(sql`COALESCE(a.last_active_at, '') >= ${atLeast}`)
      }
      const needle = query.q?.trim().toLowerCase() ?? ""
      if (needle !== "") parts.push(contains(sql, sql`a.search_text`, needle))
      if (query.accountType !== undefined) parts.push(sql`a.account_type = ${text(query.accountType)}`)
      if (query.billable === true) parts.push(sql`(a.billable IS NULL OR a.billable <> 0)`)
      if (query.billable === false) parts.push(sql`a.billable = 0`)
      if (query.managed !== undefined) parts.push(sql`a.managed = ${query.managed ? 1 : 0}`)
      return sql.and(parts)
    }

    /** What identifies an accounts list's count: every filter but the inactivity cutoff. */
    const accountsKey = (query: AccountQuery) =>
      `${query.connectionId}\u0000accounts\u0000${
        JSON.stringify([
          query.status ?? null,
          query.product === undefined || query.product === "" ? null : text(query.product),
          query.inactiveDays !== undefined,
          query.q?.trim().toLowerCase() ?? "",
          query.accountType ?? null,
          query.billable ?? null,
          query.managed ?? null
        ])
      }`

    const listAccounts = Effect.fn("SqlInventoryStore.listAccounts")(function*(query: AccountQuery) {
      return yield* Effect.gen(function*() {
        const now = yield* nowOf(query.now)
        const sort = query.sort ?? "name"
        const order = query.order ?? "asc"
        const kind = `accounts:${sort}:${order}`
        const C = query.connectionId
        const position = yield* positionOf(query.cursor, kind, C)
        const limit = clampLimit(query.limit)
        const paging: Paging = { keys: [accountSort[sort], "a.external_id"], order, position }
        const cut = query.inactiveDays === undefined ? undefined : Seats.cutoff(now, query.inactiveDays)
        const where = accountFilters(query, cut)
        const plan = fetchPlan(paging)
        // A search reads every account of the connection: off the main thread.
        const heavy = query.q !== undefined && query.q.trim() !== "" ? offload : sql.literal("")
        // The page (its accounts first, then their entitlements, for those only) and the count at once: on
        // PostgreSQL two connections of the pool answer them together.
        const [rows, total] = yield* Effect.all([
          sql`${heavy}WITH page AS (
            SELECT a.connection_id, a.external_id, a.email, a.display_name, a.account_type, a.status,
              a.source_status, a.last_active_at, a.activity_source, a.billable, a.managed, a.added_at, a.roles_json,
              a.groups_json, a.attributes_json, a.first_seen_at, a.last_seen_at, a.admin_action_at, a.seen_last,
              ${sql.literal(accountSort[sort])} AS sort_value
            FROM accounts a
            WHERE ${where} AND ${plan.where} ORDER BY ${plan.order} LIMIT ${limit + 1}
          )
          SELECT ${accountSelect(C)}, ${entitlementsOf(C)} AS "entitlements", a.sort_value AS "sortValue"
          FROM page a
          ORDER BY ${orderBy(["a.sort_value", "a.external_id"], plan.back ? flip(order) : order)}`.pipe(
            Effect.flatMap(accountsOf)
          ),
          query.withTotal === false ? Effect.succeed(-1) : countOf({
            key: accountsKey(query),
            connectionId: C,
            lane: heavy,
            from: sql`accounts a`,
            where: (at, atLeast) => accountFilters(query, at, atLeast),
            cut
          })
        ], { concurrency: "unbounded" })
        const page = yield* pageOf(
          paging,
          limit,
          rows,
          (a) => [a.sortValue, a.account.externalId],
          kind,
          C,
          (beyondWhere) =>
            Effect.map(
              sql`SELECT 1 AS n FROM accounts a WHERE ${where} AND ${beyondWhere} LIMIT 1`,
              (r) => r.length > 0
            ),
          total
        )
        return { ...page, data: page.data.map((a) => a.account) } satisfies Page<StoredAccount>
      }).pipe(orStoreError("cannot list accounts"))
    })

    const accountById = (connectionId: string, externalId: string) =>
      sql`SELECT ${accountSelect(connectionId)}, ${entitlementsOf(connectionId)} AS "entitlements", '' AS "sortValue"
        FROM accounts a WHERE a.connection_id = ${connectionId} AND a.external_id = ${text(externalId)}`.pipe(
        Effect.flatMap(accountsOf),
        Effect.map((found) => Option.fromNullable(found[0]?.account))
      )

    const getAccount = Effect.fn("SqlInventoryStore.getAccount")(function*(connectionId: string, externalId: string) {
      return yield* Effect.gen(function*() {
        const account = yield* accountById(connectionId, externalId)
        if (Option.isNone(account)) return Option.none()
        const history: ReadonlyArray<StatusEvent> = yield* sql`SELECT at, external_id, entitlement_key, from_status,
            to_status, cause, run_id
          FROM status_events WHERE connection_id = ${connectionId} AND external_id = ${text(externalId)}
          ORDER BY id DESC LIMIT ${HISTORY_LIMIT}`.pipe(Effect.flatMap(decodeEvents))
        return Option.some({ account: account.value, history })
      }).pipe(orStoreError("cannot read the account"))
    })

    const recordAction = Effect.fn("SqlInventoryStore.recordAction")(
      function*(connectionId: string, externalId: string, status: AccountStatus, cause: Exclude<StatusCause, "sync">) {
        const at = iso(yield* Clock.currentTimeMillis)
        const id = text(externalId)
        return yield* Effect.gen(function*() {
          const found = yield* sql.withTransaction(Effect.gen(function*() {
            // Serialised with an apply of the connection, so that the apply sees the action or precedes it.
            yield* lockConnection(sql, connectionId)
            const [current] = yield* sql`SELECT status FROM accounts
              WHERE connection_id = ${connectionId} AND external_id = ${id}`.pipe(Effect.flatMap(decodeStatus))
            if (current === undefined) return false
            if (current.status !== status) {
              yield* sql`INSERT INTO status_events ${
                sql.insert({
                  connection_id: connectionId,
                  external_id: id,
                  entitlement_key: null,
                  from_status: current.status,
                  to_status: status,
                  at,
                  cause,
                  run_id: null
                })
              }`
            }
            // The next apply of a run that started before `at` keeps this status; no digest, so that the
            // next reading is applied in full (and confirms or corrects it).
            yield* sql`UPDATE accounts SET status = ${status}, admin_action_at = ${at}, source_hash = NULL
              WHERE connection_id = ${connectionId} AND external_id = ${id}`
            yield* sql`UPDATE entitlements SET account_status = ${status}
              WHERE connection_id = ${connectionId} AND external_id = ${id}`
            // A new version of the connection's row (PostgreSQL's count stamp, see the counts above); last, as
            // removing a connection deletes its accounts before its row.
            yield* sql`UPDATE connections SET applied_seq = applied_seq WHERE id = ${connectionId}`
            return true
          })).pipe(Effect.ensuring(Effect.sync(() => forget(connectionId))))
          return found ? yield* accountById(connectionId, id) : Option.none()
        }).pipe(orStoreError("cannot record the account's status"))
      }
    )

    // --- seats --------------------------------------------------------------------------------------

    const seatFilters = (query: SeatQuery, now: number): Fragment => {
      const parts: Array<Fragment> = [
        sql`e.connection_id = ${query.connectionId}`,
        sql`a.connection_id = e.connection_id`,
        sql`a.external_id = e.external_id`,
        sql.literal(seatCondition)
      ]
      if (query.license !== undefined) parts.push(sql`e.key = ${text(query.license)}`)
      if (query.product !== undefined) parts.push(sql`e.product = ${text(query.product)}`)
      if (query.plan !== undefined) {
        parts.push(sql`EXISTS (SELECT 1 FROM licenses l WHERE l.connection_id = e.connection_id AND l.key = e.key
          AND LOWER(l.plan) = LOWER(${text(query.plan)}))`)
      }
      if (query.unusedDays !== undefined) {
        const cut = Seats.cutoff(now, query.unusedDays)
        parts.push(sql`(e.last_active_at < ${cut}
          OR (e.last_active_at IS NULL AND COALESCE(a.added_at, a.first_seen_at) < ${cut}))`)
      }
      if (query.usedDays !== undefined) parts.push(sql`e.last_active_at >= ${Seats.cutoff(now, query.usedDays)}`)
      const needle = query.q?.trim().toLowerCase() ?? ""
      if (needle !== "") parts.push(contains(sql, sql`a.search_text`, needle))
      return sql.and(parts)
    }

    /** What identifies a seats list's count; a list filtered by use moves with the clock: not kept. */
    const seatsKey = (query: SeatQuery) =>
      query.unusedDays !== undefined || query.usedDays !== undefined
        ? undefined
        : `${query.connectionId}\u0000seats\u0000${
          JSON.stringify([
            query.license === undefined ? null : text(query.license),
            query.product === undefined ? null : text(query.product),
            query.plan === undefined ? null : text(query.plan).toLowerCase(),
            query.q?.trim().toLowerCase() ?? ""
          ])
        }`

    const listSeats = Effect.fn("SqlInventoryStore.listSeats")(function*(query: SeatQuery) {
      return yield* Effect.gen(function*() {
        const now = yield* nowOf(query.now)
        const sort = query.sort ?? "name"
        const order = query.order ?? "asc"
        const kind = `seats:${sort}:${order}`
        const C = query.connectionId
        const position = yield* positionOf(query.cursor, kind, C)
        const limit = clampLimit(query.limit)
        const paging: Paging = { keys: [seatSort[sort], "a.external_id", "e.key"], order, position }
        const where = seatFilters(query, now)
        const plan = fetchPlan(paging)
        // The page's seats first (an index walk of the sort's accounts, each account's entitlements by its
        // key), then the columns of those only.
        const [rows, total] = yield* Effect.all([
          sql`WITH page AS (
            SELECT a.external_id AS external_id, e.key AS key, ${sql.literal(seatSort[sort])} AS sort_value
            FROM accounts a, entitlements e
            WHERE ${where} AND ${plan.where} ORDER BY ${plan.order} LIMIT ${limit + 1}
          )
          SELECT ${accountSelect(C)}, ${entitlementOf(C)} AS "entitlement", p.sort_value AS "sortValue"
          FROM page p
          JOIN accounts a ON a.connection_id = ${C} AND a.external_id = p.external_id
          JOIN entitlements e ON e.connection_id = ${C} AND e.external_id = p.external_id AND e.key = p.key
          ORDER BY ${orderBy(["p.sort_value", "p.external_id", "p.key"], plan.back ? flip(order) : order)}`.pipe(
            Effect.flatMap(decodeSeats)
          ),
          query.withTotal === false ? Effect.succeed(-1) : countOf({
            key: seatsKey(query),
            connectionId: C,
            lane: offload,
            from: sql`accounts a, entitlements e`,
            where: () => where,
            cut: undefined
          })
        ], { concurrency: "unbounded" })
        const page = yield* pageOf(
          paging,
          limit,
          rows,
          (s) => [s.sortValue, s.externalId, s.entitlement.key],
          kind,
          C,
          (beyondWhere) =>
            Effect.map(
              sql`SELECT 1 AS n FROM accounts a, entitlements e WHERE ${where} AND ${beyondWhere} LIMIT 1`,
              (r) => r.length > 0
            ),
          total
        )
        return {
          ...page,
          data: page.data.map(({ entitlement, sortValue: _, ...account }): Seat => ({ account, entitlement }))
        } satisfies Page<Seat>
      }).pipe(orStoreError("cannot list seats"))
    })

    // --- products and totals ------------------------------------------------------------------------

    const listProducts = Effect.fn("SqlInventoryStore.listProducts")(function*(connectionId: string, now?: string) {
      return yield* Effect.gen(function*() {
        const at = yield* nowOf(now)
        const rows: ReadonlyArray<ProductSummary> = yield* sql`${offload}${productsQuery(sql, connectionId, at)}
          ORDER BY name, key`.pipe(Effect.flatMap(decodeProducts))
        return rows
      }).pipe(orStoreError("cannot list products"))
    })

    const productTrend = Effect.fn("SqlInventoryStore.productTrend")(function*(connectionId: string, runs: number) {
      if (!(runs >= 1)) return [] as ReadonlyArray<ProductSnapshot>
      return yield* sql`SELECT run_id, at, key, seats_purchased, assigned, seats, used30, unused90
        FROM product_snapshots
        WHERE connection_id = ${connectionId} AND run_seq IN (
          SELECT DISTINCT run_seq FROM product_snapshots WHERE connection_id = ${connectionId}
          ORDER BY run_seq DESC LIMIT ${Math.floor(runs)})
        ORDER BY run_seq, position`.pipe(
        Effect.flatMap(decodeSnapshots),
        orStoreError("cannot read the product trend")
      )
    })

    const totals = Effect.fn("SqlInventoryStore.totals")(function*(connectionId: string, now?: string) {
      return yield* Effect.gen(function*() {
        const at = yield* nowOf(now)
        const [counts] = yield* sql`${offload}SELECT COUNT(*) AS accounts,
            COUNT(*) FILTER (WHERE status = 'active') AS active,
            COUNT(*) FILTER (WHERE status = 'suspended') AS suspended,
            COUNT(*) FILTER (WHERE status = 'deprovisioned') AS deprovisioned,
            COUNT(*) FILTER (WHERE status = 'unknown') AS unknown,
            COUNT(*) FILTER (WHERE billable IS NULL OR billable <> 0) AS billable
          FROM accounts WHERE connection_id = ${connectionId}`.pipe(Effect.flatMap(decodeTotals))
        const unused = (days: number) =>
          sql`COUNT(*) FILTER (WHERE ${unusedOnEntitlement(sql, Seats.cutoff(at, days))})`
        const [seats] = yield* sql`${offload}SELECT COUNT(*) AS seats, ${unused(30)} AS unused30, ${
          unused(60)
        } AS unused60,
            ${unused(90)} AS unused90
          FROM entitlements e
          WHERE e.connection_id = ${connectionId} AND ${sql.literal(seatOnEntitlement)}`.pipe(
          Effect.flatMap(decodeSeatTotals)
        )
        return {
          accounts: counts?.accounts ?? 0,
          byStatus: {
            active: counts?.active ?? 0,
            suspended: counts?.suspended ?? 0,
            deprovisioned: counts?.deprovisioned ?? 0,
            unknown: counts?.unknown ?? 0
          },
          billableAccounts: counts?.billable ?? 0,
          seats: seats?.seats ?? 0,
          unused30: seats?.unused30 ?? 0,
          unused60: seats?.unused60 ?? 0,
          unused90: seats?.unused90 ?? 0
        } satisfies InventoryTotals
      }).pipe(orStoreError("cannot count the inventory"))
    })

    return InventoryStore.of({
      listAccounts,
      getAccount,
      recordAction,
      listSeats,
      listProducts,
      productTrend,
      totals
    })
  }
)

/**
 * The inventory store over the `SqlClient` in context, with the schema migrated.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: { readonly secretKey: Redacted.Redacted<string> }
): Layer.Layer<InventoryStore, StoreError, SqlClient.SqlClient> =>
  Layer.effect(InventoryStore, make).pipe(Layer.provide(Layer.merge(Keys.layer(options.secretKey), Migrations.layer)))
