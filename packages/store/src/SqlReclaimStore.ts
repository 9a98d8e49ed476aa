/**
 * The `ReclaimStore` of `@seatkeeper/core` over `@effect/sql`: versioned policies, prices, and plans with
 * their items, which are also the durable job that executes them.
 *
 * - A policy is a row and its versions rows of their own: an update adds a version, and a plan names the
 *   version it was made from (and keeps that policy as it was).
 * - A plan's items are rows in execution order, written in batches (one array per column on PostgreSQL, one
 *   prepared statement run per row in SQLite's writer thread), paged with signed cursors. Progress is counted
 *   from them by one grouped, index-only query.
 * - The execution lease is a row per plan (as the sync lock is per connection): `claim` takes it with one
 *   atomic upsert that succeeds only when the lease is free, expired or already the claimer's, across every
 *   process sharing the database; `renew` extends it only while it is held; `finishPlan` releases it only for
 *   its holder. `journal`, `finishItem` and `markUndone` are each one conditional `UPDATE`; the first two are
 *   fenced by the lease: they write only while their job holds the plan's unexpired lease, so a job that
 *   paused past its lease never writes an item while another job runs the plan.
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import type { Fragment } from "@effect/sql/Statement"
import type { Page } from "@seatkeeper/core/Inventory"
import { type Price, type ReclaimPolicy, ReclaimPolicy as ReclaimPolicySchema } from "@seatkeeper/core/Reclaim"
import {
  byExternalId,
  type ItemOutcome,
  ItemPreflight,
  Journal,
  type NewPlan,
  newPlan,
  type Plan,
  type PlanItem,
  type PlanItemState,
  type PlanProgress,
  ReclaimStore,
  type StoredPolicy
} from "@seatkeeper/core/ReclaimStore"
import type { StoreError } from "@seatkeeper/core/StoreError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as Cursor from "./internal/cursor.js"
import * as Keys from "./internal/keys.js"
import {
  itemColumns,
  planColumns,
  PlanItemRow,
  PlanRow,
  policyColumns,
  PolicyRow,
  PriceRow,
  StateCountRow
} from "./internal/rows.js"
import {
  clampLimit,
  column,
  conflict,
  Count,
  inIds,
  insertMany,
  iso,
  isPg,
  notFound,
  orStoreError,
  text
} from "./internal/sql.js"
import { OFFLOAD } from "./internal/sqliteClient.js"
import * as Migrations from "./Migrations.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface SqlReclaimStoreOptions {
  /** How long a plan's execution lease lives without renewal. Default 30 seconds (the engine renews every 10). */
  readonly leaseDuration?: Duration.DurationInput | undefined
}

const EXECUTABLE = "('approved', 'stopped', 'running')"

const itemSelect = itemColumns.map((c) => `i.${c.name}`).join(", ")
const decodeFreedSeatCounts = Schema.decodeUnknown(
  Schema.Array(
    Schema.Struct({ product: Schema.String, name: Schema.String, plan: Schema.NullOr(Schema.String), seats: Count })
  )
)
const decodeActedCosts = Schema.decodeUnknown(
  Schema.Array(Schema.Struct({ confirmed: Count, currency: Schema.String, amount: Count }))
)
const decodeExternalIds = Schema.decodeUnknown(Schema.Array(Schema.Struct({ external_id: Schema.String })))
const decodeNamedItems = Schema.decodeUnknown(
  Schema.Array(Schema.Struct({ external_id: Schema.String, display_name: Schema.String }))
)

const emptyProgress = (): { -readonly [K in keyof PlanProgress]: number } => ({
  pending: 0,
  acting: 0,
  done: 0,
  refused: 0,
  failed: 0,
  skipped: 0,
  undone: 0,
  unchecked: 0
})

/** Strings as both databases keep them (no NUL); JSON escapes a NUL, so JSON columns keep it. */
const scrub = <A>(value: A): A => (typeof value === "string" ? text(value) as A : value)
const scrubRow = <A extends Record<string, unknown>>(row: A): A =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, scrub(v)])) as A

const encodePlanRow = Schema.encode(PlanRow)
const encodeItemRow = Schema.encode(PlanItemRow)
const encodeJournal = Schema.encode(Schema.parseJson(Journal))
const encodePreflight = Schema.encode(Schema.NullOr(Schema.parseJson(ItemPreflight)))
const encodePolicy = Schema.encode(Schema.parseJson(ReclaimPolicySchema))

const Returned = Schema.Struct({ n: Count })
const LeaseRow = Schema.Struct({ owner: Schema.String, lease_expires_at: Schema.String })
const StateRow = Schema.Struct({ state: Schema.String })

const itemsKind = (state: PlanItemState | undefined) => `plan-items:${state ?? "*"}`

/**
 * The reclaim store over the `SqlClient` in context; the schema must be migrated (the layers do it).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  options: SqlReclaimStoreOptions = {}
): Effect.Effect<ReclaimStore["Type"], never, SqlClient.SqlClient | Keys.StoreKeys> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const keys = yield* Keys.StoreKeys
    const leaseMs = Duration.toMillis(Duration.decode(options.leaseDuration ?? Duration.seconds(30)))
    const T = (value: string) => sql`CAST(${text(value)} AS TEXT)`

    // --- queries ------------------------------------------------------------------------------------------

    const findPolicy = SqlSchema.findOne({
      Request: Schema.Struct({ id: Schema.String, version: Schema.optional(Schema.Number) }),
      Result: PolicyRow,
      execute: ({ id, version }) =>
        sql`SELECT ${sql.literal(policyColumns)} FROM reclaim_policies p
          JOIN reclaim_policy_versions v ON v.policy_id = p.id
            AND v.version = ${version === undefined ? sql`p.version` : sql`${version}`}
          WHERE p.id = ${id}`
    })

    const findPolicies = SqlSchema.findAll({
      Request: Schema.String,
      Result: PolicyRow,
      execute: (connectionId) =>
        sql`SELECT ${sql.literal(policyColumns)} FROM reclaim_policies p
          JOIN reclaim_policy_versions v ON v.policy_id = p.id AND v.version = p.version
          WHERE p.connection_id = ${connectionId} AND v.archived = 0
          ORDER BY p.created_at, p.id`
    })

    const findPrices = SqlSchema.findAll({
      Request: Schema.String,
      Result: PriceRow,
      execute: (connectionId) =>
        sql`SELECT product, plan, amount, currency, period FROM reclaim_prices
          WHERE connection_id = ${connectionId} ORDER BY position`
    })

    const findPlanRow = SqlSchema.findOne({
      Request: Schema.String,
      Result: PlanRow,
      execute: (id) => sql`SELECT ${sql.literal(planColumns)} FROM reclaim_plans p WHERE p.id = ${id}`
    })

    const decodePlanRows = Schema.decodeUnknown(Schema.Array(PlanRow))
    const findPlanRows = (where: Fragment, order: "asc" | "desc", limit: number) =>
      sql`SELECT ${sql.literal(planColumns)} FROM reclaim_plans p WHERE ${where}
        ORDER BY p.created_at ${sql.literal(order)}, p.id ${sql.literal(order)} LIMIT ${limit}`.pipe(
        Effect.flatMap(decodePlanRows)
      )

    // One grouped scan of the state index (no table rows read) for any number of plans.
    const findStateCounts = SqlSchema.findAll({
      Request: Schema.Array(Schema.String),
      Result: StateCountRow,
      execute: (ids) =>
        sql`SELECT plan_id, state, COUNT(*) AS n FROM reclaim_plan_items
          WHERE ${ids.length === 1 ? sql`plan_id = ${ids[0]!}` : inIds(sql, sql`plan_id`, ids)}
          GROUP BY plan_id, state`
    })

    const findItem = SqlSchema.findOne({
      Request: Schema.Struct({ planId: Schema.String, externalId: Schema.String }),
      Result: PlanItemRow,
      execute: ({ externalId, planId }) =>
        sql`SELECT ${sql.literal(itemSelect)} FROM reclaim_plan_items i
          WHERE i.plan_id = ${planId} AND i.external_id = ${text(externalId)}`
    })

    const decodeItemRows = Schema.decodeUnknown(Schema.Array(PlanItemRow))
    const findItems = (where: Fragment, limit: number) =>
      sql`SELECT ${sql.literal(itemSelect)} FROM reclaim_plan_items i WHERE ${where}
        ORDER BY i.position LIMIT ${limit}`.pipe(Effect.flatMap(decodeItemRows))

    // Acting items first, then pending ones, each read in order from the state index (never sorted whole).
    const findNextItems = SqlSchema.findAll({
      Request: Schema.Struct({ planId: Schema.String, limit: Schema.Number }),
      Result: PlanItemRow,
      execute: ({ limit, planId }) =>
        sql`SELECT * FROM (SELECT ${sql.literal(itemSelect)}, 0 AS k FROM reclaim_plan_items i
            WHERE i.plan_id = ${planId} AND i.state = 'acting' ORDER BY i.position LIMIT ${limit}) acting
          UNION ALL
          SELECT * FROM (SELECT ${sql.literal(itemSelect)}, 1 AS k FROM reclaim_plan_items i
            WHERE i.plan_id = ${planId} AND i.state = 'pending' ORDER BY i.position LIMIT ${limit}) pending
          ORDER BY k, position LIMIT ${limit}`
    })

    const decodeCounts = Schema.decodeUnknown(Schema.Array(Returned))
    const countItems = (where: Fragment) =>
      sql`SELECT COUNT(*) AS n FROM reclaim_plan_items i WHERE ${where}`.pipe(Effect.flatMap(decodeCounts))

    const findLease = SqlSchema.findOne({
      Request: Schema.String,
      Result: LeaseRow,
      execute: (planId) => sql`SELECT owner, lease_expires_at FROM reclaim_plan_leases WHERE plan_id = ${planId}`
    })

    const findItemState = SqlSchema.findOne({
      Request: Schema.Struct({ planId: Schema.String, externalId: Schema.String }),
      Result: StateRow,
      execute: ({ externalId, planId }) =>
        sql`SELECT state FROM reclaim_plan_items WHERE plan_id = ${planId} AND external_id = ${text(externalId)}`
    })

    // --- plans with their progress ------------------------------------------------------------------------

    // The unchecked items of the checking plans among them (few), by the partial index of unchecked items.
    const findUncheckedCounts = SqlSchema.findAll({
      Request: Schema.Array(Schema.String),
      Result: Schema.Struct({ planId: column(Schema.String, "plan_id"), n: Count }),
      execute: (ids) =>
        sql`SELECT plan_id, COUNT(*) AS n FROM reclaim_plan_items
          WHERE ${inIds(sql, sql`plan_id`, ids)} AND preflight_json IS NULL GROUP BY plan_id`
    })

    const withProgress = (rows: ReadonlyArray<PlanRow>) => {
      if (rows.length === 0) return Effect.succeed<ReadonlyArray<Plan>>([])
      const checking = rows.filter((r) => r.status === "checking").map((r) => r.id)
      return Effect.map(
        Effect.all([
          findStateCounts(rows.map((r) => r.id)),
          checking.length === 0 ? Effect.succeed([]) : findUncheckedCounts(checking)
        ]),
        ([counts, unchecked]) => {
          const byPlan = new Map<string, ReturnType<typeof emptyProgress>>()
          const progressOf = (planId: string) => {
            let progress = byPlan.get(planId)
            if (progress === undefined) byPlan.set(planId, progress = emptyProgress())
            return progress
          }
          for (const { n, planId, state } of counts) progressOf(planId)[state] = n
          for (const { n, planId } of unchecked) progressOf(planId).unchecked = n
          return rows.map((row): Plan => ({
            ...row,
            progress: byPlan.get(row.id) ?? emptyProgress()
          })) as ReadonlyArray<Plan>
        }
      )
    }

    const planOf = (id: string) =>
      Effect.flatMap(findPlanRow(id), (row) =>
        Option.isNone(row)
          ? Effect.succeedNone
          : Effect.map(withProgress([row.value]), (plans) => Option.some(plans[0]!)))

    const requirePlan = (id: string) =>
      Effect.flatMap(
        planOf(id),
        (plan) => Option.isNone(plan) ? Effect.fail(notFound(`plan ${id} does not exist`)) : Effect.succeed(plan.value)
      )

    const noItem = (planId: string, externalId: string) => notFound(`plan ${planId} has no account ${externalId}`)

    // --- policies ---------------------------------------------------------------------------------------

    const createPolicy = Effect.fn("SqlReclaimStore.createPolicy")(
      function*(connectionId: string, policy: ReclaimPolicy, actor: string) {
        const at = iso(yield* Clock.currentTimeMillis)
        const id = Crypto.randomUUID()
        return yield* Effect.gen(function*() {
          const json = yield* encodePolicy(policy)
          yield* sql.withTransaction(Effect.gen(function*() {
            yield* sql`INSERT INTO reclaim_policies (id, connection_id, version, created_at)
              VALUES (${id}, ${connectionId}, 1, ${at})`
            yield* sql`INSERT INTO reclaim_policy_versions (policy_id, version, policy_json, created_by, updated_at,
                archived)
              VALUES (${id}, 1, ${json}, ${text(actor)}, ${at}, 0)`
          }))
          return Option.getOrThrow(yield* findPolicy({ id }))
        }).pipe(orStoreError("cannot save the policy"))
      }
    )

    const updatePolicy = Effect.fn("SqlReclaimStore.updatePolicy")(
      function*(id: string, policy: ReclaimPolicy, actor: string) {
        const at = iso(yield* Clock.currentTimeMillis)
        return yield* Effect.gen(function*() {
          const json = yield* encodePolicy(policy)
          const version = yield* sql.withTransaction(Effect.gen(function*() {
            // Taking the row's next version number serialises concurrent updates of one policy.
            const [bumped] = yield* sql`UPDATE reclaim_policies SET version = version + 1 WHERE id = ${id}
              RETURNING version AS n`.pipe(Effect.flatMap(Schema.decodeUnknown(Schema.Array(Returned))))
            if (bumped === undefined) return undefined
            yield* sql`INSERT INTO reclaim_policy_versions (policy_id, version, policy_json, created_by, updated_at,
                archived)
              SELECT v.policy_id, ${bumped.n}, ${json}, ${T(actor)}, ${at}, v.archived FROM reclaim_policy_versions v
              WHERE v.policy_id = ${id} AND v.version = ${bumped.n - 1}`
            return bumped.n
          }))
          return version === undefined ? Option.none<StoredPolicy>() : yield* findPolicy({ id, version })
        }).pipe(orStoreError("cannot update the policy"))
      }
    )

    const archivePolicy = Effect.fn("SqlReclaimStore.archivePolicy")(function*(id: string) {
      const rows = yield* sql`UPDATE reclaim_policy_versions SET archived = 1
        WHERE policy_id = ${id} AND version = (SELECT p.version FROM reclaim_policies p WHERE p.id = ${id})
        RETURNING policy_id`.pipe(orStoreError("cannot archive the policy"))
      return rows.length > 0
    })

    const getPolicy = (id: string, version?: number) =>
      findPolicy(version === undefined ? { id } : { id, version }).pipe(
        orStoreError("cannot read the policy"),
        Effect.withSpan("SqlReclaimStore.getPolicy")
      )

    const listPolicies = (connectionId: string) =>
      findPolicies(connectionId).pipe(
        orStoreError("cannot list the policies"),
        Effect.withSpan("SqlReclaimStore.listPolicies")
      )

    // --- prices -------------------------------------------------------------------------------------------

    const setPrices = Effect.fn("SqlReclaimStore.setPrices")(
      function*(connectionId: string, prices: ReadonlyArray<Price>) {
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`DELETE FROM reclaim_prices WHERE connection_id = ${connectionId}`
          if (prices.length === 0) return
          yield* sql`INSERT INTO reclaim_prices ${
            sql.insert(prices.map((p, position) => ({
              connection_id: connectionId,
              position,
              product: text(p.product),
              plan: p.plan === undefined ? null : text(p.plan),
              amount: p.amount,
              currency: p.currency,
              period: p.period
            })))
          }`
        })).pipe(orStoreError("cannot save the prices"))
      }
    )

    const listPrices = (connectionId: string) =>
      findPrices(connectionId).pipe(
        Effect.map((rows): ReadonlyArray<Price> => rows),
        orStoreError("cannot read the prices"),
        Effect.withSpan("SqlReclaimStore.listPrices")
      )

    // --- plans --------------------------------------------------------------------------------------------

    const createPlan = Effect.fn("SqlReclaimStore.createPlan")(function*(input: NewPlan) {
      const at = iso(yield* Clock.currentTimeMillis)
      const id = Crypto.randomUUID()
      // An account is acted on once (the items are looked up by its id; the index would refuse it too).
      const seen = new Set<string>()
      const twice = input.items.find((i) => seen.size === seen.add(text(i.externalId)).size)
      if (twice !== undefined) return yield* conflict(`account ${twice.externalId} is in the plan twice`)
      return yield* Effect.gen(function*() {
        const row = scrubRow(
          yield* encodePlanRow(newPlan(input, id, at))
        )
        const items = yield* Effect.forEach(input.items, (item, position) =>
          Effect.map(
            encodeItemRow({
              ...item,
              // A checking plan's preflights are asked after it is saved.
              preflight: input.checking === true ? null : item.preflight,
              planId: id,
              position,
              state: "pending",
              journal: null,
              result: null,
              doneAt: null,
              undoneAt: null
            }),
            (encoded) =>
              itemColumns.map((c) => scrub((encoded as Record<string, string | number | null>)[c.name] ?? null))
          ))
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO reclaim_plans ${sql.insert(row)}`
          yield* insertMany(sql, "reclaim_plan_items", itemColumns, items)
        }))
        return yield* requirePlan(id)
      }).pipe(orStoreError("cannot save the plan"))
    })

    const getPlan = (id: string) =>
      planOf(id).pipe(orStoreError("cannot read the plan"), Effect.withSpan("SqlReclaimStore.getPlan"))

    // Each side walks one plan's index by account and looks each id up in the other's: no plan is read whole.
    const onlyIn = (planId: string, otherId: string | null) =>
      sql`SELECT i.external_id, i.display_name FROM reclaim_plan_items i WHERE i.plan_id = ${planId}
        ${
        otherId === null ? sql`` : sql`AND NOT EXISTS (SELECT 1 FROM reclaim_plan_items o WHERE o.plan_id = ${otherId}
          AND o.external_id = i.external_id)`
      }`.pipe(
        Effect.flatMap(decodeNamedItems),
        Effect.map((rows) =>
          rows.map((r) => ({ externalId: r.external_id, displayName: r.display_name })).sort(byExternalId)
        )
      )

    // Every seat of the plan, grouped in the database (off SQLite's main thread): no item is decoded.
    const freedSeats: ReclaimStore["Type"]["freedSeats"] = (planId) =>
      (isPg(sql)
        ? sql`SELECT s->>'product' AS product, MIN(s->>'name') AS name, s->>'plan' AS plan, COUNT(*) AS seats
          FROM reclaim_plan_items i, jsonb_array_elements(CAST(i.seats_json AS jsonb)) s
          WHERE i.plan_id = ${planId} GROUP BY s->>'product', s->>'plan'`
        : sql`${sql.literal(OFFLOAD)}SELECT json_extract(s.value, '$.product') AS product,
            MIN(json_extract(s.value, '$.name')) AS name, json_extract(s.value, '$.plan') AS plan, COUNT(*) AS seats
          FROM reclaim_plan_items i, json_each(i.seats_json) s
          WHERE i.plan_id = ${planId} GROUP BY 1, 3`).pipe(
          Effect.flatMap(decodeFreedSeatCounts),
          orStoreError("cannot count the plan's seats"),
          Effect.withSpan("SqlReclaimStore.freedSeats")
        )

    // One aggregate: the connection's done items by the plans' connection index and the items' state index,
    // the newest per account by a window, its account by primary key, its money by currency.
    const actedCost: ReclaimStore["Type"]["actedCost"] = (connectionId, confirmedBy) => {
      const newest = sql`SELECT i.external_id, i.done_at, i.monthly_json, ROW_NUMBER() OVER (
          PARTITION BY i.external_id ORDER BY i.done_at DESC, p.created_at DESC, p.id DESC) AS newest
        FROM reclaim_plans p JOIN reclaim_plan_items i ON i.plan_id = p.id
        WHERE p.connection_id = ${connectionId} AND i.state = 'done'`
      const confirmed = sql`CASE WHEN d.done_at < ${confirmedBy} AND (a.status IS NULL OR a.status <> 'active')
        THEN 1 ELSE 0 END`
      const rows = isPg(sql)
        ? sql`WITH done AS (${newest})
          SELECT ${confirmed} AS confirmed, m.key AS currency,
            CAST(SUM(CAST(m.value AS DOUBLE PRECISION)) AS DOUBLE PRECISION) AS amount
          FROM done d
          LEFT JOIN accounts a ON a.connection_id = ${connectionId} AND a.external_id = d.external_id
          CROSS JOIN LATERAL jsonb_each_text(CAST(d.monthly_json AS jsonb)) m
          WHERE d.newest = 1 GROUP BY 1, 2`
        : sql`${sql.literal(OFFLOAD)}WITH done AS (${newest})
          SELECT ${confirmed} AS confirmed, m.key AS currency, SUM(m.value) AS amount
          FROM done d
          LEFT JOIN accounts a ON a.connection_id = ${connectionId} AND a.external_id = d.external_id
          JOIN json_each(d.monthly_json) m
          WHERE d.newest = 1 GROUP BY 1, 2`
      return rows.pipe(
        Effect.flatMap(decodeActedCosts),
        Effect.map((costs) => {
          const cost = { confirmed: {} as Record<string, number>, awaiting: {} as Record<string, number> }
          for (const row of costs) {
            cost[row.confirmed === 1 ? "confirmed" : "awaiting"][row.currency] = Math.round(row.amount * 100) / 100
          }
          return cost
        }),
        orStoreError("cannot add up what the plans' actions saved"),
        Effect.withSpan("SqlReclaimStore.actedCost")
      )
    }

    const compareItems: ReclaimStore["Type"]["compareItems"] = (planId, otherId) =>
      Effect.all({
        added: onlyIn(planId, otherId),
        dropped: otherId === null ? Effect.succeed([]) : onlyIn(otherId, planId)
      }).pipe(
        orStoreError("cannot compare the plans"),
        Effect.withSpan("SqlReclaimStore.compareItems")
      )

    const listPlans: ReclaimStore["Type"]["listPlans"] = (query) => {
      const parts: Array<Fragment> = []
      if (query.connectionId !== undefined) parts.push(sql`p.connection_id = ${query.connectionId}`)
      if (query.policyId !== undefined) parts.push(sql`p.policy_id = ${query.policyId}`)
      if (query.before !== undefined) {
        // The plans' indexes end in (created_at, id): a row-value bound starts the walk at the given plan.
        parts.push(sql`(p.created_at, p.id) < (${query.before.createdAt}, ${query.before.id})`)
      }
      return findPlanRows(parts.length === 0 ? sql`1 = 1` : sql.and(parts), "desc", clampLimit(query.limit)).pipe(
        Effect.flatMap(withProgress),
        orStoreError("cannot list the plans"),
        Effect.withSpan("SqlReclaimStore.listPlans")
      ) as Effect.Effect<ReadonlyArray<Plan>, StoreError>
    }

    const listItems = Effect.fn("SqlReclaimStore.listItems")(function*(query: {
      readonly planId: string
      readonly state?: PlanItemState | undefined
      readonly limit: number
      readonly cursor?: string | undefined
    }) {
      const kind = itemsKind(query.state)
      const position = query.cursor === undefined || query.cursor === ""
        ? undefined
        : yield* Cursor.decode(keys, query.cursor, kind, query.planId)
      const after = position?.v[0]
      if (position !== undefined && (position.d !== "next" || typeof after !== "number")) {
        return yield* Cursor.invalid("it is garbled")
      }
      const limit = clampLimit(query.limit)
      return yield* Effect.gen(function*() {
        const filter = query.state === undefined
          ? sql`i.plan_id = ${query.planId}`
          : sql`i.plan_id = ${query.planId} AND i.state = ${query.state}`
        const fetched = yield* findItems(
          after === undefined ? filter : sql`${filter} AND i.position > ${after}`,
          limit + 1
        )
        const [count] = yield* countItems(filter)
        const data: ReadonlyArray<PlanItem> = fetched.slice(0, limit)
        const last = data[data.length - 1]
        return {
          data,
          nextCursor: fetched.length > limit && last !== undefined
            ? Cursor.encode(keys, { k: kind, c: query.planId, d: "next", v: [last.position] })
            : null,
          prevCursor: null,
          total: count?.n ?? 0
        } satisfies Page<PlanItem>
      }).pipe(orStoreError("cannot list the plan's accounts"))
    })

    const getItem = (planId: string, externalId: string) =>
      findItem({ planId, externalId }).pipe(
        Effect.map((item): Option.Option<PlanItem> => item),
        orStoreError("cannot read the plan's account"),
        Effect.withSpan("SqlReclaimStore.getItem")
      )

    // --- review ---------------------------------------------------------------------------------------

    /** Why a plan did not move: it does not exist, or its status is not one `allowed`. */
    const refusal = (planId: string, why: (plan: PlanRow) => string) =>
      Effect.flatMap(
        findPlanRow(planId),
        (row) => Effect.fail(Option.isNone(row) ? notFound(`plan ${planId} does not exist`) : conflict(why(row.value)))
      )

    const approve = Effect.fn("SqlReclaimStore.approve")(function*(planId: string, actor: string) {
      const at = iso(yield* Clock.currentTimeMillis)
      return yield* Effect.gen(function*() {
        const moved = yield* sql`UPDATE reclaim_plans SET status = 'approved', approved_by = ${text(actor)},
            approved_at = ${at}
          WHERE id = ${planId} AND status = 'review' RETURNING id`
        if (moved.length === 0) {
          return yield* refusal(planId, (p) => `plan ${planId} is ${p.status}, not waiting for approval`)
        }
        return yield* requirePlan(planId)
      }).pipe(orStoreError("cannot approve the plan"))
    })

    const cancel = Effect.fn("SqlReclaimStore.cancel")(function*(planId: string, actor: string) {
      const at = iso(yield* Clock.currentTimeMillis)
      return yield* Effect.gen(function*() {
        yield* sql.withTransaction(Effect.gen(function*() {
          // A checking plan's job loses its lease with it: its next write is refused. The lease's row first, as
          // `claim`, `claimChecking` and `finishChecking` lock them (a refusal below rolls the delete back).
          yield* sql`DELETE FROM reclaim_plan_leases WHERE plan_id = ${planId}`
          const moved = yield* sql`UPDATE reclaim_plans SET status = 'cancelled', cancelled_by = ${text(actor)},
              finished_at = ${at}
            WHERE id = ${planId} AND status IN ('checking', 'review', 'approved') RETURNING id`
          if (moved.length === 0) return yield* refusal(planId, (p) => `plan ${planId} is ${p.status}`)
        }))
        return yield* requirePlan(planId)
      }).pipe(orStoreError("cannot cancel the plan"))
    })

    // --- the execution lease ------------------------------------------------------------------------------

    // The one statement that decides: the lease is taken when it is free, expired or the claimer's own, and only
    // for a plan that is `eligible` (for the job claiming it). Concurrent claims meet on the lease's row.
    const takeLease = (planId: string, owner: string, now: number, eligible: Fragment) => {
      const at = iso(now)
      return sql`INSERT INTO reclaim_plan_leases (plan_id, owner, acquired_at, lease_expires_at)
        SELECT p.id, ${T(owner)}, ${T(at)}, ${T(iso(now + leaseMs))} FROM reclaim_plans p
        WHERE p.id = ${planId} AND ${eligible}
        ON CONFLICT (plan_id) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at,
          lease_expires_at = excluded.lease_expires_at
        WHERE reclaim_plan_leases.lease_expires_at < ${at} OR reclaim_plan_leases.owner = excluded.owner
        RETURNING plan_id`
    }

    const claim = Effect.fn("SqlReclaimStore.claim")(function*(planId: string, owner: string) {
      const now = yield* Clock.currentTimeMillis
      const at = iso(now)
      return yield* Effect.gen(function*() {
        yield* sql.withTransaction(Effect.gen(function*() {
          // Only a plan that may be executed.
          const taken = yield* takeLease(
            planId,
            owner,
            now,
            sql`p.blocked_because IS NULL AND p.status IN ${sql.literal(EXECUTABLE)}`
          )
          if (taken.length === 0) {
            const plan = yield* findPlanRow(planId)
            if (Option.isNone(plan)) return yield* notFound(`plan ${planId} does not exist`)
            const lease = yield* findLease(planId)
            if (Option.isSome(lease) && lease.value.lease_expires_at >= at && lease.value.owner !== text(owner)) {
              return yield* conflict(`plan ${planId} is being executed by another job`)
            }
            if (plan.value.blockedBecause !== null) {
              return yield* conflict(`plan ${planId} cannot be executed: ${plan.value.blockedBecause}`)
            }
            return yield* conflict(`plan ${planId} is ${plan.value.status}: only an approved plan is executed`)
          }
          // In the same transaction: a plan cancelled meanwhile is not started (and the lease goes back).
          const started = yield* sql`UPDATE reclaim_plans
            SET status = 'running', stopped_because = NULL, started_at = COALESCE(started_at, ${at})
            WHERE id = ${planId} AND blocked_because IS NULL AND status IN ${sql.literal(EXECUTABLE)} RETURNING id`
          if (started.length === 0) return yield* conflict(`plan ${planId} changed while it was claimed; try again`)
        }))
        return yield* requirePlan(planId)
      }).pipe(orStoreError("cannot take the plan's execution lease"))
    })

    // --- the check of a plan's accounts with the provider --------------------------------------------

    const claimChecking = Effect.fn("SqlReclaimStore.claimChecking")(function*(planId: string, owner: string) {
      const now = yield* Clock.currentTimeMillis
      return yield* Effect.gen(function*() {
        yield* sql.withTransaction(Effect.gen(function*() {
          // As `claim`, for a checking plan.
          const taken = yield* takeLease(planId, owner, now, sql`p.status = 'checking'`)
          if (taken.length === 0) {
            const plan = yield* findPlanRow(planId)
            if (Option.isNone(plan)) return yield* notFound(`plan ${planId} does not exist`)
            if (plan.value.status !== "checking") {
              return yield* conflict(`plan ${planId} is ${plan.value.status}, not checking`)
            }
            return yield* conflict(`plan ${planId} is being checked by another job`)
          }
          // In the same transaction: a check finished or a plan cancelled meanwhile keeps no lease.
          const still = yield* sql`UPDATE reclaim_plans SET status = status WHERE id = ${planId} AND status = 'checking'
            RETURNING id`
          if (still.length === 0) return yield* conflict(`plan ${planId} changed while it was claimed; try again`)
        }))
        return yield* requirePlan(planId)
      }).pipe(orStoreError("cannot take the plan's lease"))
    })

    const findUncheckedItems = SqlSchema.findAll({
      Request: Schema.Struct({ planId: Schema.String, limit: Schema.Number }),
      Result: PlanItemRow,
      execute: ({ limit, planId }) =>
        sql`SELECT ${sql.literal(itemSelect)} FROM reclaim_plan_items i
          WHERE i.plan_id = ${planId} AND i.preflight_json IS NULL
            AND EXISTS (SELECT 1 FROM reclaim_plans p WHERE p.id = ${planId} AND p.status = 'checking')
          ORDER BY i.position LIMIT ${limit}`
    })

    const uncheckedItems = (planId: string, limit: number) => {
      const n = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : 0
      return (n === 0 ? Effect.succeed([]) : findUncheckedItems({ planId, limit: n })).pipe(
        Effect.map((items): ReadonlyArray<PlanItem> => items),
        orStoreError("cannot read the plan's accounts still to be checked"),
        Effect.withSpan("SqlReclaimStore.uncheckedItems")
      )
    }

    const checkItems = Effect.fn("SqlReclaimStore.checkItems")(function*(
      planId: string,
      owner: string,
      checked: ReadonlyArray<{ readonly externalId: string; readonly preflight: PlanItem["preflight"] }>
    ) {
      const at = iso(yield* Clock.currentTimeMillis)
      return yield* Effect.gen(function*() {
        if (checked.length === 0) return
        const encoded = yield* Effect.forEach(checked, (c) => encodePreflight(c.preflight))
        const ids = checked.map((c) => text(c.externalId))
        // One statement per batch, each of its accounts looked up by the items' index by account.
        const update = isPg(sql)
          ? sql`UPDATE reclaim_plan_items SET preflight_json = j.preflight_json
            FROM unnest(CAST(${ids} AS TEXT[]), CAST(${encoded} AS TEXT[])) AS j (external_id, preflight_json)
            WHERE reclaim_plan_items.plan_id = ${planId} AND reclaim_plan_items.external_id = j.external_id`
          : sql`UPDATE reclaim_plan_items SET preflight_json = (SELECT json_extract(j.value, '$[1]')
              FROM json_each(${JSON.stringify(ids.map((id, i) => [id, encoded[i]]))}) j
              WHERE json_extract(j.value, '$[0]') = reclaim_plan_items.external_id)
            WHERE reclaim_plan_items.plan_id = ${planId}
              AND reclaim_plan_items.external_id IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`
        yield* sql.withTransaction(Effect.gen(function*() {
          const written = yield* sql`${update} AND ${leaseHeld(planId, owner, at)}
              AND EXISTS (SELECT 1 FROM reclaim_plans p WHERE p.id = ${planId} AND p.status = 'checking')
            RETURNING reclaim_plan_items.external_id`.pipe(Effect.flatMap(decodeExternalIds))
          const done = new Set(written.map((r) => r.external_id))
          const missed = ids.find((id) => !done.has(id))
          if (missed === undefined) return
          // All or none: the transaction is rolled back, and the error says why.
          return yield* unwritten(planId, owner, missed, "check")
        }))
      }).pipe(orStoreError("cannot record the accounts' preflights"))
    })

    const finishChecking = Effect.fn("SqlReclaimStore.finishChecking")(function*(
      planId: string,
      owner: string,
      outcome: { readonly status: "review" } | { readonly status: "cancelled"; readonly reason: string }
    ) {
      const at = iso(yield* Clock.currentTimeMillis)
      return yield* Effect.gen(function*() {
        yield* sql.withTransaction(Effect.gen(function*() {
          if (outcome.status === "review") {
            const [left] = yield* countItems(sql`i.plan_id = ${planId} AND i.preflight_json IS NULL`)
            if ((left?.n ?? 0) > 0) return yield* conflict(`plan ${planId} has accounts still to be checked`)
          }
          // Each statement carries its own condition: a cancel committed meanwhile leaves nothing to end.
          const released = yield* sql`DELETE FROM reclaim_plan_leases
            WHERE plan_id = ${planId} AND owner = ${text(owner)} AND lease_expires_at >= ${at} RETURNING plan_id`
          const ended = released.length === 0 ? [] : yield* (outcome.status === "review"
            ? sql`UPDATE reclaim_plans SET status = 'review' WHERE id = ${planId} AND status = 'checking'
              RETURNING id`
            : sql`UPDATE reclaim_plans SET status = 'cancelled', cancelled_by = 'system',
                stopped_because = ${text(outcome.reason)}, finished_at = ${at}
              WHERE id = ${planId} AND status = 'checking' RETURNING id`)
          if (ended.length === 0) return yield* refusal(planId, () => `the check of plan ${planId} lost its lease`)
        }))
        return yield* requirePlan(planId)
      }).pipe(orStoreError("cannot finish the check of the plan"))
    })

    const renew = Effect.fn("SqlReclaimStore.renew")(function*(planId: string, owner: string) {
      const now = yield* Clock.currentTimeMillis
      const renewed = yield* sql`UPDATE reclaim_plan_leases SET lease_expires_at = ${iso(now + leaseMs)}
        WHERE plan_id = ${planId} AND owner = ${text(owner)} AND lease_expires_at >= ${iso(now)}
        RETURNING plan_id`.pipe(orStoreError("cannot renew the plan's execution lease"))
      if (renewed.length === 0) return yield* conflict(`the execution of plan ${planId} lost its lease`)
    })

    const finishPlan = Effect.fn("SqlReclaimStore.finishPlan")(function*(
      planId: string,
      owner: string,
      outcome: { readonly status: "done" } | { readonly status: "stopped"; readonly reason: string }
    ) {
      const at = iso(yield* Clock.currentTimeMillis)
      return yield* Effect.gen(function*() {
        yield* sql.withTransaction(Effect.gen(function*() {
          // Only the lease's holder ends the execution (its lease may have lapsed, if no one took it over).
          const released = yield* sql`DELETE FROM reclaim_plan_leases WHERE plan_id = ${planId} AND owner = ${
            text(owner)
          } RETURNING plan_id`
          const ended = released.length === 0 ? [] : yield* sql`UPDATE reclaim_plans
            SET status = ${outcome.status},
              stopped_because = ${outcome.status === "stopped" ? text(outcome.reason) : null},
              finished_at = ${at}
            WHERE id = ${planId} AND status = 'running' RETURNING id`
          if (ended.length === 0) {
            return yield* refusal(planId, () => `the execution of plan ${planId} lost its lease`)
          }
        }))
        return yield* requirePlan(planId)
      }).pipe(orStoreError("cannot finish the plan's execution"))
    })

    const abandonedPlans = Effect.gen(function*() {
      const at = iso(yield* Clock.currentTimeMillis)
      const abandoned = sql`p.status IN ('running', 'checking') AND NOT EXISTS (SELECT 1 FROM reclaim_plan_leases l
        WHERE l.plan_id = p.id AND l.lease_expires_at >= ${at})`
      return yield* findPlanRows(abandoned, "asc", 1_000).pipe(
        Effect.flatMap(withProgress),
        orStoreError("cannot list the abandoned plans")
      )
    }).pipe(Effect.withSpan("SqlReclaimStore.abandonedPlans")) as Effect.Effect<ReadonlyArray<Plan>, StoreError>

    // --- items ----------------------------------------------------------------------------------------

    const nextItems = (planId: string, limit: number) => {
      const n = Number.isFinite(limit) ? Math.max(0, Math.floor(limit)) : 0
      return (n === 0 ? Effect.succeed([]) : findNextItems({ planId, limit: n })).pipe(
        Effect.map((items): ReadonlyArray<PlanItem> => items),
        orStoreError("cannot read the plan's next accounts"),
        Effect.withSpan("SqlReclaimStore.nextItems")
      )
    }

    // The fence of an item's write, in the same statement: the writer holds the plan's unexpired lease.
    const leaseHeld = (planId: string, owner: string, at: string) =>
      sql`EXISTS (SELECT 1 FROM reclaim_plan_leases l
        WHERE l.plan_id = ${planId} AND l.owner = ${text(owner)} AND l.lease_expires_at >= ${at})`

    /** Why a fenced write wrote nothing: the plan has no such account, or the lease is not the writer's. */
    const unwritten = (planId: string, owner: string, externalId: string, job: "execution" | "check" = "execution") =>
      Effect.flatMap(findItemState({ planId, externalId }), (item) =>
        Effect.fail(
          Option.isNone(item)
            ? noItem(planId, externalId)
            : conflict(`the ${job} of plan ${planId} lost its lease: ${owner} may no longer write its accounts`)
        ))

    const journal = Effect.fn("SqlReclaimStore.journal")(
      function*(planId: string, owner: string, externalId: string, entry: Journal) {
        const at = iso(yield* Clock.currentTimeMillis)
        return yield* Effect.gen(function*() {
          const json = yield* encodeJournal(entry)
          const written = yield* sql`UPDATE reclaim_plan_items SET journal_json = ${json}, state = 'acting'
            WHERE plan_id = ${planId} AND external_id = ${text(externalId)} AND ${leaseHeld(planId, owner, at)}
            RETURNING position`
          if (written.length === 0) return yield* unwritten(planId, owner, externalId)
        }).pipe(orStoreError("cannot write the account's journal"))
      }
    )

    const finishItem = Effect.fn("SqlReclaimStore.finishItem")(
      function*(planId: string, owner: string, externalId: string, outcome: ItemOutcome) {
        const at = iso(yield* Clock.currentTimeMillis)
        return yield* Effect.gen(function*() {
          const written = yield* sql`UPDATE reclaim_plan_items
            SET state = ${outcome.state}, result = ${outcome.result === null ? null : text(outcome.result)},
              done_at = ${outcome.state === "done" ? sql`${at}` : sql`done_at`}
            WHERE plan_id = ${planId} AND external_id = ${text(externalId)} AND ${leaseHeld(planId, owner, at)}
            RETURNING position`
          if (written.length === 0) return yield* unwritten(planId, owner, externalId)
        }).pipe(orStoreError("cannot record what was done to the account"))
      }
    )

    const markUndone = Effect.fn("SqlReclaimStore.markUndone")(function*(planId: string, externalId: string) {
      const at = iso(yield* Clock.currentTimeMillis)
      return yield* Effect.gen(function*() {
        const undone = yield* sql`UPDATE reclaim_plan_items SET state = 'undone', undone_at = ${at}
          WHERE plan_id = ${planId} AND external_id = ${text(externalId)} AND state = 'done' RETURNING position`
        if (undone.length > 0) return
        const item = yield* findItemState({ planId, externalId })
        if (Option.isNone(item)) return yield* noItem(planId, externalId)
        return yield* conflict(`account ${externalId} of plan ${planId} is ${item.value.state}, not done`)
      }).pipe(orStoreError("cannot mark the account undone"))
    })

    return ReclaimStore.of({
      leaseDuration: Duration.millis(leaseMs),
      createPolicy,
      updatePolicy,
      archivePolicy,
      getPolicy,
      listPolicies,
      setPrices,
      listPrices,
      createPlan,
      getPlan,
      listPlans,
      compareItems,
      freedSeats,
      actedCost,
      listItems,
      getItem,
      approve,
      cancel,
      claimChecking,
      uncheckedItems,
      checkItems,
      finishChecking,
      claim,
      renew,
      nextItems,
      journal,
      finishItem,
      finishPlan,
      abandonedPlans,
      markUndone
    })
  })

/**
 * The reclaim store over the `SqlClient` in context, with the schema migrated.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: SqlReclaimStoreOptions & { readonly secretKey: Redacted.Redacted<string> }
): Layer.Layer<ReclaimStore, StoreError, SqlClient.SqlClient> =>
  Layer.effect(ReclaimStore, make(options)).pipe(
    Layer.provide(Layer.merge(Keys.layer(options.secretKey), Migrations.layer))
  )
