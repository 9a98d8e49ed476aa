/**
 * The query plans of every statement the store runs in a sync and in the inventory's lists, on SQLite with
 * a realistic organisation: each join must be a lookup, each list an index walk. A statement that starts
 * scanning a table it should look up in (a missing index, a join order gone wrong) fails here, long before
 * it shows as a slow sync.
 */
import * as Statement from "@effect/sql/Statement"
import { assert, describe, it } from "@effect/vitest"
import { AccountSort } from "@seatkeeper/core/Inventory"
import { License } from "@seatkeeper/core/License"
import { ReclaimPolicy } from "@seatkeeper/core/Reclaim"
import { noCounters } from "@seatkeeper/core/SyncRun"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { createRequire } from "node:module"
import { createStaging, stagingTables } from "../src/internal/runs.js"
import { account, entitlement, openStore, roster, sqliteTarget, targets, type TestDatabase } from "./fixtures.js"

interface Database {
  prepare(sql: string): {
    all(...params: Array<unknown>): Array<{ readonly id: number; readonly parent: number; readonly detail: string }>
  }
  close(): void
}

/** The plan lines under the node of a list's page (`WITH page AS (...)`): how the page's rows are found. */
const pageLinesOf = (
  rows: ReadonlyArray<{ readonly id: number; readonly parent: number; readonly detail: string }>
): ReadonlyArray<string> => {
  const ids = new Set(rows.filter((r) => /^(CO-ROUTINE|MATERIALIZE) page$/.test(r.detail)).map((r) => r.id))
  const lines: Array<string> = []
  for (const r of rows) {
    if (ids.has(r.parent)) {
      ids.add(r.id)
      lines.push(r.detail)
    }
  }
  return lines
}
const Sqlite = createRequire(import.meta.url)("better-sqlite3") as new(file: string, options: object) => Database

const ACCOUNTS = 6_000

/** Tables that grow with the organisation: reading one whole is a scan to look for. */
const large = new Set([
  "accounts",
  "entitlements",
  "status_events",
  "run_accounts",
  "run_entitlements",
  "product_snapshots"
])
/** A run's own staging tables (internal/runs.ts) grow with the organisation too. */
const runTable = /^run_[0-9a-f]{32}_(accounts|entitlements)$/

/**
 * Statements that read a whole table on purpose, and why.
 */
const expectedScans: ReadonlyArray<readonly [RegExp, string]> = [
  // Recovery at start-up drops the staged licences of every run that ended: all of them, by definition.
  [/^DELETE FROM run_licenses WHERE NOT EXISTS/, "staging left by ended runs"],
  // An account listed twice (a roster that shifted under the cursor): before the staging's index by account
  // exists, the chunk's repeated ids are looked for in the run's staging; when the staging is sealed, every row
  // is compared with the account's others once. Rare, and the price of appending rows in arrival order.
  [/^SELECT external_id FROM run_[0-9a-f]{32}_accounts\s+WHERE listed = 1 AND external_id IN/, "repeated listings"],
  [/^DELETE FROM run_[0-9a-f]{32}_(accounts|entitlements) WHERE seq IN \(SELECT s\.seq FROM/, "repeated listings"],
  [
    /^UPDATE sync_runs SET accounts = \(SELECT COUNT\(\*\) FROM run_[0-9a-f]{32}_accounts WHERE listed = 1\)/,
    "repeated listings"
  ]
]

// Plan lines name tables by their alias; these are the aliases the store gives large tables.
const aliases: Record<string, string> = {
  a: "accounts",
  e: "entitlements",
  f: "entitlements",
  n: "entitlements",
  s: "run_accounts",
  l: "run_accounts",
  se: "run_entitlements"
}

const scannedTable = (detail: string): string | undefined => {
  const m = /^SCAN (\w+)/.exec(detail)
  if (m === null) return undefined
  const table = aliases[m[1]!] ?? m[1]!
  return large.has(table) || runTable.test(table) ? table : undefined
}

type OpenedStore = Effect.Effect.Success<ReturnType<typeof openStore>>

/**
 * A sync's statements and the inventory's, as the store runs them: two organisations synced,
 * then a resync with every kind of reading and every list, recorded (the last parameters of each text).
 */
const recordSync = ({ audit, connections, inventory, syncs }: OpenedStore) =>
  Effect.gen(function*() {
    // Two realistic organisations (so that a connection is a small part of each table, as in a host with
    // several), with statistics: a large apply refreshes them.
    const other = yield* connections.create({ provider: "atlassian", name: "Other", config: {} })
    const c = yield* connections.create({ provider: "atlassian", name: "Plans", config: {} })
    for (const connection of [other, c]) {
      const first = yield* syncs.start(connection.id, "me")
      for (let i = 0; i < ACCOUNTS; i += 500) yield* syncs.stage(first.id, roster(500, i))
      yield* syncs.stageLicenses(first.id, [
        new License({
          key: "confluence:acme.atlassian.net",
          product: "confluence",
          productName: "Confluence",
          plan: "Standard"
        })
      ])
      yield* syncs.apply(first.id, noCounters)
    }
    yield* inventory.recordAction(c.id, "user-0000002", "suspended", "suspend")
    yield* connections.update(c.id, { name: "Plans" })

    const recorded = new Map<string, ReadonlyArray<unknown>>()
    const record: Statement.Statement.Transformer = (self) =>
      Effect.sync(() => {
        const [sql, params] = self.compile()
        recorded.set(sql, params)
        return self
      })
    const t0 = Date.parse("2026-03-01T00:00:00.000Z")
    const now = new Date(t0).toISOString()
    yield* Effect.gen(function*() {
      // A resync with every kind of reading: changed, new, gone, present, pending, an admin's action.
      const run = yield* syncs.start(c.id, "me")
      for (let i = 0; i < ACCOUNTS - 100; i += 500) {
        const chunk = roster(Math.min(500, ACCOUNTS - 100 - i), i, i === 0 ? " (renamed)" : "")
        yield* syncs.stage(run.id, chunk)
      }
      yield* syncs.stage(run.id, [account("new-1", { entitlements: [entitlement("trello")] })])
      yield* syncs.stage(run.id, roster(1, 1))
      yield* inventory.recordAction(c.id, "user-0000004", "suspended", "suspend")
      const absent = yield* syncs.absentees(run.id, 1_000)
      yield* syncs.confirm(run.id, [
        { externalId: absent.first[0]!.externalId, verdict: "gone" },
        { externalId: absent.first[1]!.externalId, verdict: "present", account: account(absent.first[1]!.externalId) }
      ])
      yield* syncs.settle(run.id, "streak")
      yield* syncs.summarize(run.id)
      yield* syncs.apply(run.id, noCounters)
      yield* syncs.list(c.id, 10)
      // The inventory's lists, every sort both ways, with and without filters.
      for (const sort of AccountSort.literals) {
        for (const order of ["asc", "desc"] as const) {
          const page = yield* inventory.listAccounts({ connectionId: c.id, limit: 50, sort, order, now })
          yield* inventory.listAccounts({ connectionId: c.id, limit: 50, sort, order, now, cursor: page.nextCursor! })
          const seats = yield* inventory.listSeats({ connectionId: c.id, limit: 50, sort, order, now })
          yield* inventory.listSeats({ connectionId: c.id, limit: 50, sort, order, now, cursor: seats.nextCursor! })
        }
        yield* inventory.listAccounts({ connectionId: c.id, limit: 50, sort, inactiveDays: 30, now })
        yield* inventory.listAccounts({ connectionId: c.id, limit: 50, sort, status: "suspended", now })
      }
      // A kept count: checked by its stamp, moved to a later cutoff by the accounts in between; none at all.
      const later = new Date(t0 + 3_600_000).toISOString()
      yield* inventory.listAccounts({ connectionId: c.id, limit: 50, inactiveDays: 30, now })
      yield* inventory.listAccounts({ connectionId: c.id, limit: 50, inactiveDays: 30, now: later })
      yield* inventory.listSeats({ connectionId: c.id, limit: 50, now, withTotal: false })
      yield* inventory.listAccounts({ connectionId: c.id, limit: 50, product: "confluence", now })
      yield* inventory.listAccounts({ connectionId: c.id, limit: 50, q: "person 12", now })
      yield* inventory.listAccounts({ connectionId: c.id, limit: 50, billable: false, accountType: "atlassian", now })
      yield* inventory.listSeats({
        connectionId: c.id,
        limit: 50,
        license: "jira-software:acme.atlassian.net",
        unusedDays: 30,
        now
      })
      yield* inventory.listSeats({ connectionId: c.id, limit: 50, product: "confluence", usedDays: 30, now })
      yield* inventory.listSeats({ connectionId: c.id, limit: 50, plan: "Standard", now })
      yield* inventory.getAccount(c.id, "user-0000010")
      yield* inventory.listProducts(c.id, now)
      yield* inventory.productTrend(c.id, 5)
      yield* inventory.totals(c.id, now)
      yield* audit.list({ connectionId: c.id, limit: 20 })
      yield* syncs.recover
      // Let the background work of the apply (dropping its staging) run under the recorder too.
      yield* connections.update(c.id, { name: "Plans" })
    }).pipe(Statement.withTransformer(record))
    return recorded
  })

/**
 * The runs' staging tables are dropped when they end: made again (empty, with the index by account their seal
 * built) for every run the recorded statements name, so that their statements can be explained. Returns how
 * many runs that was.
 */
const remakeStaging = (sql: OpenedStore["sql"], recorded: ReadonlyMap<string, unknown>) =>
  Effect.gen(function*() {
    const runIds = new Set<string>()
    for (const text of recorded.keys()) {
      for (const m of text.matchAll(/run_([0-9a-f]{32})_/g)) {
        const tag = m[1]!
        runIds.add(`${tag.slice(0, 8)}-${tag.slice(8, 12)}-${tag.slice(12, 16)}-${tag.slice(16, 20)}-${tag.slice(20)}`)
      }
    }
    for (const runId of runIds) {
      const t = stagingTables(runId)!
      yield* sql.withTransaction(Effect.gen(function*() {
        yield* createStaging(sql, runId)
        yield* sql.unsafe(`CREATE INDEX ${t.byAccount} ON ${t.accounts} (external_id)`)
      }))
    }
    return runIds.size
  })

/**
 * The workload's statements (`recordSync`) on a new store of `db`, with the staging they name made again so
 * that every one of them can be explained.
 */
const recordWorkload = (db: TestDatabase) =>
  Effect.gen(function*() {
    const opened = yield* openStore(db)
    const recorded = yield* recordSync(opened)
    assert.isAbove(yield* remakeStaging(opened.sql, recorded), 0, "the recorder saw statements of a run's staging")
    return { recorded, sql: opened.sql }
  })

/** A statement EXPLAIN can plan (a leading comment, such as the offload lane's, aside). */
const explainable = (text: string) =>
  /^\s*(SELECT|WITH|UPDATE|INSERT|DELETE)/i.test(text.replace(/^\/\*.*?\*\/\s*/, ""))

describe("query plans on SQLite", () => {
  it.scopedLive("every join is a lookup and every list an index walk", () =>
    Effect.gen(function*() {
      const db = yield* sqliteTarget.database
      // SQLite plans a run's staging statements the same without statistics.
      const { recorded } = yield* recordWorkload(db)

      const reader = new Sqlite(db.filename!, { readonly: true })
      const problems: Array<string> = []
      const plans: Array<string> = []
      try {
        for (const [sql, params] of recorded) {
          if (!explainable(sql)) continue
          const planRows = reader.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params)
          const lines = planRows.map((r) => r.detail)
          plans.push(`${sql.replace(/\s+/g, " ").slice(0, 160)}\n    ${lines.join("\n    ")}`)
          const allowed = expectedScans.some(([pattern]) => pattern.test(sql.trim()))
          // A page's rows are read back from the page itself (its alias is `a` too).
          const fromPage = /FROM page a/.test(sql)
          for (const line of lines) {
            if (fromPage && line === "SCAN a") continue
            const table = scannedTable(line)
            if (table !== undefined && !allowed) {
              problems.push(`${line} (${table}) in: ${sql.replace(/\s+/g, " ").slice(0, 200)}`)
            }
          }
          // A page of a list comes out of an index in order (a page read as `WITH page AS (...)`: the rows
          // of its first part); only the seat list's activity sort is sorted. The planner may sort what a
          // search, an inactivity or a status filter leaves (few rows, or no better index).
          const pageLines = /^\s*(\/\*.*?\*\/\s*)?WITH page AS/.test(sql) ? pageLinesOf(planRows) : lines
          if (
            (/LIMIT \?$/.test(sql.trim()) || pageLines !== lines) && /FROM (accounts a|page a)/.test(sql) &&
            !/COALESCE\(e\.last_active_at/.test(sql)
          ) {
            if (pageLines !== lines && pageLines.length === 0) {
              problems.push(`no page in the plan of: ${sql.slice(0, 200)}`)
            }
            // A page after a cursor starts at it: the index walk is bounded by the cursor's values, not filtered
            // from the connection's first row (each page further in would cost more: an export would grow with
            // the square of the list). A seat's status sort is one value (seats are of active accounts).
            if (
              pageLines !== lines && /\) [<>] \(/.test(sql) &&
              !/a\.search_text|COALESCE\(a\.last_active_at, ''\) <|a\.status = \?/.test(sql) &&
              !/a\.status AS sort_value\s+FROM accounts a, entitlements e/.test(sql) &&
              !pageLines.some((l) => /^SEARCH a USING (COVERING )?INDEX \S+ \(connection_id=\? AND .*[<>]/.test(l))
            ) {
              problems.push(
                `a page after a cursor walks from the start: ${sql.replace(/\s+/g, " ").slice(0, 300)}\n    ${
                  pageLines.join("\n    ")
                }`
              )
            }
            if (
              pageLines.some((l) => /USE TEMP B-TREE FOR ORDER BY/.test(l)) &&
              !/a\.search_text|COALESCE\(a\.last_active_at, ''\) <|a\.status = \?/.test(sql)
            ) {
              problems.push(
                `sorted instead of walking an index: ${sql.replace(/\s+/g, " ").slice(0, 200)}\n    ${
                  lines.join("\n    ")
                }`
              )
            }
          }
        }
        // The staging's lookups and writes the writer thread runs itself (not statements of the client).
        for (
          const sql of [
            `SELECT (CASE WHEN a.source_hash = k.hash THEN 1 ELSE 0 END) FROM (SELECT ? AS connection_id, ? AS id, ? AS hash) k
            CROSS JOIN accounts a WHERE a.connection_id = k.connection_id AND a.external_id = k.id`,
            `UPDATE sync_locks SET lease_expires_at = ? WHERE run_id = ?
            AND EXISTS (SELECT 1 FROM sync_runs r WHERE r.id = ? AND r.status = 'running') RETURNING connection_id`,
            "UPDATE run_staging SET live = live + ?, seen = seen + ?, repeats = repeats + ? + sealed, sealed = 0 WHERE run_id = ?"
          ]
        ) {
          const lines = reader.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...sql.split("?").slice(1).map(() => "x")).map((
            r
          ) => r.detail)
          for (const line of lines) if (scannedTable(line) !== undefined) problems.push(`${line} in: ${sql}`)
        }
      } finally {
        reader.close()
      }
      if (process.env.SEATKEEPER_PRINT_PLANS === "1") console.log(plans.join("\n"))
      assert.isAbove(recorded.size, 40, "the recorder saw the store's statements")
      assert.deepStrictEqual(problems, [])
    }), 120_000)
})

/** A node of PostgreSQL's `EXPLAIN (FORMAT JSON)`. */
interface PgPlanNode {
  readonly "Node Type": string
  readonly "Relation Name"?: string
  readonly "Index Name"?: string
  readonly "Index Cond"?: string
  readonly Plans?: ReadonlyArray<PgPlanNode>
}
const PgExplained = Schema.Array(Schema.Struct({ "QUERY PLAN": Schema.Unknown }))

/** Every node of a plan, depth first. */
const pgNodes = (node: PgPlanNode): ReadonlyArray<PgPlanNode> => [node, ...(node.Plans ?? []).flatMap(pgNodes)]

/** The final tables that grow with the organisation. A run's staging is the driving side of its statements. */
const pgLarge = new Set(["accounts", "entitlements", "status_events", "product_snapshots"])

const pgTargets = targets("query plans").filter((target) => target.name === "PostgreSQL")

for (const target of pgTargets) {
  describe("query plans on PostgreSQL", () => {
    // A regression: the apply planned its statements from statistics that did not know of the accounts it had
    // just inserted, so the first sync of a second organisation nested loops over its thousands of rows and
    // did not finish (hours at 6,000 accounts). It takes seconds; the timeout is a hang's, not a measure.
    it.scopedLive("a second organisation's first sync applies", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { connections, inventory, sql, syncs } = yield* openStore(db)
        for (const name of ["First", "Second"]) {
          const c = yield* connections.create({ provider: "atlassian", name, config: {} })
          const run = yield* syncs.start(c.id, "me")
          for (let i = 0; i < 3_000; i += 500) yield* syncs.stage(run.id, roster(500, i))
          const applied = yield* syncs.apply(run.id, noCounters)
          assert.strictEqual(applied.status, "succeeded")
          assert.strictEqual(applied.stats.created, 3_000)
          const page = yield* inventory.listAccounts({ connectionId: c.id, limit: 1 })
          assert.strictEqual(page.total, 3_000)
          // Statistics of the first organisation alone, as autovacuum (or the store after a large apply) leaves.
          yield* sql.unsafe("ANALYZE accounts, entitlements")
        }
      }), 90_000)

    // PostgreSQL chooses by statistics, and a test's tables are small enough that a sequential scan is often
    // the cheapest plan: with sequential scans priced out, what is left shows whether an index can serve
    // each read. A large table read with no index condition (a sequential scan, or a whole index walked) is a
    // statement that would scan the organisation on a large host.
    it.scopedLive("every read of a large table is bounded by an index", () =>
      Effect.gen(function*() {
        const { recorded, sql } = yield* recordWorkload(yield* target.database)
        const problems: Array<string> = []
        const plans: Array<string> = []
        let explained = 0
        for (const [text, params] of recorded) {
          if (!explainable(text)) continue
          const [row] = yield* sql.withTransaction(
            sql.unsafe("SET LOCAL enable_seqscan = off").pipe(
              Effect.zipRight(sql.unsafe(`EXPLAIN (FORMAT JSON) ${text}`, params)),
              Effect.flatMap(Schema.decodeUnknown(PgExplained))
            )
          )
          const root = (row?.["QUERY PLAN"] as ReadonlyArray<{ readonly Plan: PgPlanNode }> | undefined)?.[0]?.Plan
          assert.isDefined(root, `a plan for: ${text.slice(0, 120)}`)
          explained++
          const nodes = pgNodes(root!)
          const brief = `${text.replace(/\s+/g, " ").slice(0, 160)}\n    ${
            nodes.map((n) => `${n["Node Type"]} ${n["Relation Name"] ?? ""} ${n["Index Name"] ?? ""}`.trim())
              .join("\n    ")
          }`
          plans.push(brief)
          if (expectedScans.some(([pattern]) => pattern.test(text.trim()))) continue
          for (const node of nodes) {
            const table = node["Relation Name"]
            if (table === undefined || !pgLarge.has(table)) continue
            const unbounded = node["Node Type"] === "Seq Scan" ||
              (/^Index (Only )?Scan$/.test(node["Node Type"]) && node["Index Cond"] === undefined)
            if (unbounded) problems.push(`${node["Node Type"]} on ${table} in: ${brief}`)
          }
        }
        if (process.env.SEATKEEPER_PRINT_PLANS === "1") console.log(plans.join("\n"))
        assert.isAbove(explained, 40, "the recorder saw the store's statements")
        assert.deepStrictEqual(problems, [])
      }), 180_000)
  })
}

describe("query plans of reclaiming on SQLite", () => {
  it.scopedLive(
    "plans, their items, progress and leases are read by index, never by scanning a table",
    () =>
      Effect.gen(function*() {
        const db = yield* sqliteTarget.database
        const { connections, reclaim } = yield* openStore(db)
        const policy = Schema.decodeUnknownSync(ReclaimPolicy)({
          name: "All",
          scope: { _tag: "accounts" },
          inactiveDays: 30
        })
        const items = (n: number) =>
          Array.from({ length: n }, (_, i) => ({
            externalId: `user-${String(i).padStart(7, "0")}`,
            displayName: `Person ${i}`,
            email: null,
            managed: null,
            roles: [],
            attributes: {},
            lastActiveAt: null,
            seats: [],
            action: "suspend" as const,
            preflight: null,
            monthly: {}
          }))
        // Several connections' plans of thousands of accounts each, without statistics (as after an upgrade).
        const planIds: Array<string> = []
        const connectionIds: Array<string> = []
        for (let k = 0; k < 3; k++) {
          const c = yield* connections.create({ provider: "atlassian", name: `Org ${k}`, config: {} })
          connectionIds.push(c.id)
          const stored = yield* reclaim.createPolicy(c.id, policy, "alice")
          for (let j = 0; j < 2; j++) {
            const plan = yield* reclaim.createPlan({
              connectionId: c.id,
              policy: stored,
              createdBy: "alice",
              basedOnRunId: "run",
              dataAt: "2026-03-01T00:00:00.000Z",
              blockedBecause: null,
              fourEyes: false,
              monthly: {},
              unpriced: 0,
              excluded: [],
              items: items(3_000),
              // The second of each connection is checked with the provider after it is saved.
              checking: j === 1
            })
            planIds.push(plan.id)
          }
        }
        const planId = planIds[2]!
        const ok = { allowed: true, method: "lifecycle", methodLabel: "Deactivate", reason: null, hint: null }
        const checkingId = planIds[3]!
        const recorded = new Map<string, ReadonlyArray<unknown>>()
        const record: Statement.Statement.Transformer = (self) =>
          Effect.sync(() => {
            const [sql, params] = self.compile()
            recorded.set(sql, params)
            return self
          })
        yield* Effect.gen(function*() {
          yield* reclaim.approve(planId, "bob")
          yield* reclaim.claim(planId, "job-1")
          yield* reclaim.renew(planId, "job-1")
          const next = yield* reclaim.nextItems(planId, 20)
          yield* reclaim.journal(planId, "job-1", next[0]!.externalId, {
            statusBefore: "active",
            productsBefore: [],
            method: "lifecycle",
            at: "2026-03-01T00:00:00.000Z"
          })
          yield* reclaim.finishItem(planId, "job-1", next[0]!.externalId, { state: "done", result: null })
          yield* reclaim.nextItems(planId, 20)
          yield* reclaim.markUndone(planId, next[0]!.externalId)
          yield* reclaim.markUndone(planId, next[1]!.externalId).pipe(Effect.ignore)
          yield* reclaim.getItem(planId, "user-0001234")
          const page = yield* reclaim.listItems({ planId, limit: 100 })
          yield* reclaim.listItems({ planId, limit: 100, cursor: page.nextCursor! })
          const done = yield* reclaim.listItems({ planId, state: "pending", limit: 100 })
          yield* reclaim.listItems({ planId, state: "pending", limit: 100, cursor: done.nextCursor! })
          yield* reclaim.getPlan(planId)
          yield* reclaim.listPlans({ limit: 50 })
          yield* reclaim.listPlans({ connectionId: connectionIds[1]!, limit: 50 })
          const shown = (yield* reclaim.getPlan(planId)).pipe(Option.getOrThrow)
          yield* reclaim.listPlans({ policyId: shown.policyId, limit: 50 })
          yield* reclaim.listPlans({ policyId: shown.policyId, before: shown, limit: 1 })
          yield* reclaim.listPlans({ connectionId: connectionIds[1]!, before: shown, limit: 500 })
          yield* reclaim.listPlans({ before: shown, limit: 500 })
          yield* reclaim.compareItems(planId, planIds[3]!)
          yield* reclaim.freedSeats(planId)
          yield* reclaim.actedCost(connectionIds[1]!, "2026-03-02T00:00:00.000Z")
          yield* reclaim.abandonedPlans
          yield* reclaim.claimChecking(checkingId, "check-1")
          const unchecked = yield* reclaim.uncheckedItems(checkingId, 100)
          yield* reclaim.checkItems(
            checkingId,
            "check-1",
            unchecked.map((i) => ({ externalId: i.externalId, preflight: ok }))
          )
          yield* reclaim.uncheckedItems(checkingId, 100)
          yield* reclaim.getPlan(checkingId)
          yield* reclaim.finishChecking(checkingId, "check-1", { status: "cancelled", reason: "the key was revoked" })
          yield* reclaim.finishPlan(planId, "job-1", { status: "done" })
          yield* reclaim.listPolicies(connectionIds[0]!)
          yield* reclaim.listPrices(connectionIds[0]!)
          yield* connections.remove(connectionIds[0]!)
        }).pipe(Statement.withTransformer(record))

        const reader = new Sqlite(db.filename!, { readonly: true })
        const problems: Array<string> = []
        const tables: Record<string, string> = { i: "reclaim_plan_items", p: "reclaim_plans" }
        const grown = new Set(["reclaim_plan_items", "reclaim_plans", "reclaim_plan_leases", "reclaim_policies"])
        // Index walks that are the plan: every plan newest first, up to the limit; the running plans alone.
        const walks = /^SCAN p USING INDEX (reclaim_plans_by_created|reclaim_plans_unfinished)$/
        try {
          for (const [sql, params] of recorded) {
            if (!/reclaim_/.test(sql)) continue
            const lines = reader.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params).map((r) => r.detail)
            const brief = `${sql.replace(/\s+/g, " ").slice(0, 200)}\n    ${lines.join("\n    ")}`
            if (process.env.SEATKEEPER_PRINT_PLANS === "1") console.log(brief)
            for (const line of lines) {
              const m = /^SCAN (\w+)/.exec(line)
              const table = m === null ? undefined : tables[m[1]!] ?? m[1]!
              if (table !== undefined && grown.has(table) && !walks.test(line)) problems.push(`${line} in: ${brief}`)
            }
            // A batch of answers given as JSON looks each account up: a walk of the plan's items with the batch
            // scanned for each would cost the plan's size per batch (as an UPDATE ... FROM json_each did).
            if (/^UPDATE reclaim_plan_items/.test(sql) && /json_each/.test(sql)) {
              for (const line of lines) {
                if (/^SEARCH (i|reclaim_plan_items) USING (COVERING )?INDEX \w+ \(plan_id=\?\)$/.test(line)) {
                  problems.push(`every item of the plan, for each of the batch: ${brief}`)
                }
              }
            }
            // A page or a batch of items comes out of an index in order (the job's next items merge two such
            // reads, of at most a batch each). A count grouped by product sorts its few groups.
            if (/FROM reclaim_plan_items i/.test(sql) && !/UNION ALL|GROUP BY/.test(sql)) {
              if (lines.some((l) => /USE TEMP B-TREE/.test(l))) problems.push(`sorted: ${brief}`)
            }
          }
        } finally {
          reader.close()
        }
        assert.isAbove([...recorded.keys()].filter((sql) => /reclaim_/.test(sql)).length, 20)
        assert.deepStrictEqual(problems, [])
      }),
    120_000
  )
})
