/**
 * Upgrading a database that 0001 (the store of @seatkeeper/store 0.1) wrote: the rows keep their meaning
 * and read back through the new ports, and the next sync works on them.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { noCounters } from "@seatkeeper/core/SyncRun"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as SecretBox from "../src/internal/secretBox.js"
import * as Migrations from "../src/Migrations.js"
import * as SqlStore from "../src/SqlStore.js"
import { account, entitlement, openStore, pgSchemaUrl, SECRET_KEY, targets, type TestDatabase } from "./fixtures.js"

const C = "9d3c8a52-0000-4000-8000-000000000001"
const OLD_RUN = "9d3c8a52-0000-4000-8000-0000000000aa"
const T0 = "2025-11-01T08:00:00.000Z"
const T1 = "2025-11-02T08:00:00.000Z"

/** Writes what 0.1 wrote: the 0001 schema and a connection synced twice. */
const writeVersion1 = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    yield* Migrator.make({})({
      loader: Migrator.fromRecord({ "0001_initial": Migrations.migrations["0001_initial"]! }),
      table: "seatkeeper_migrations"
    })
    const keys = yield* SecretBox.deriveKeys(SECRET_KEY)
    const config = SecretBox.encrypt(keys, `connection:${C}`, JSON.stringify({ apiKey: "ATATT-version-1-key" }))
    yield* sql`INSERT INTO connections (id, provider, name, config_ciphertext, sync_interval_minutes, created_at,
        updated_at)
      VALUES (${C}, ${"atlassian"}, ${"Acme"}, ${config}, ${60}, ${T0}, ${T0})`
    const accounts: ReadonlyArray<readonly [string, string, string | null, string]> = [
      ["u1", "active", "2025-10-30T00:00:00.000Z", "ada lovelace"],
      ["u2", "suspended", null, "bob"],
      ["u3", "deprovisioned", null, "cyd"]
    ]
    for (const [id, status, active, sortKey] of accounts) {
      yield* sql`INSERT INTO accounts (connection_id, external_id, email, display_name, account_type, status,
          source_status, last_active_at, first_seen_at, last_seen_at, sort_key, search_text)
        VALUES (${C}, ${id}, ${`${id}@example.com`}, ${sortKey}, ${"atlassian"}, ${status}, ${status}, ${active},
          ${T0}, ${id === "u3" ? T0 : T1}, ${sortKey}, ${`${id}@example.com\n${sortKey}\n${id}`})`
      yield* sql`INSERT INTO entitlements (connection_id, external_id, key, name, product, site, status, last_active_at,
          first_seen_at, last_seen_at)
        VALUES (${C}, ${id}, ${"confluence:acme.atlassian.net"}, ${"Confluence (acme)"}, ${"confluence"}, ${"acme"},
          ${id === "u3" ? "deprovisioned" : "active"}, ${active}, ${T0}, ${T1})`
    }
    yield* sql`INSERT INTO status_events (connection_id, external_id, entitlement_key, from_status, to_status, at, cause,
        run_id)
      VALUES (${C}, ${"u1"}, ${null}, ${null}, ${"active"}, ${T0}, ${"sync"}, ${OLD_RUN})`
    yield* sql`INSERT INTO sync_runs (id, connection_id, status, owner, started_at, finished_at, heartbeat_at, accounts,
        created, updated, deprovisioned, entitlements_deprovisioned, requests, retries, rate_limited, error)
      VALUES (${OLD_RUN}, ${C}, ${"succeeded"}, ${"host:1:abc"}, ${T1}, ${T1}, ${T1}, ${2}, ${0}, ${1}, ${1}, ${1},
        ${9}, ${0}, ${0}, ${null})`
    yield* sql`INSERT INTO audit_events (at, actor, action, connection_id, target, input, outcome, detail)
      VALUES (${T0}, ${"admin"}, ${"connection.create"}, ${C}, ${null}, ${"{\"name\":\"Acme\"}"}, ${"ok"}, ${null})`
  })

/** What every upgraded database must show, then a sync on it. */
const checkUpgraded = (store: Effect.Effect.Success<ReturnType<typeof openStore>>) =>
  Effect.gen(function*() {
    const connection = Option.getOrThrow(yield* store.connections.get(C))
    assert.deepStrictEqual(connection.config, { apiKey: "ATATT-version-1-key" })
    assert.deepStrictEqual(
      [
        connection.syncIntervalMinutes,
        connection.holdThresholdPercent,
        connection.maxLookups,
        connection.deadlineMinutes
      ],
      [60, 10, 1_000, 30]
    )
    const u1 = Option.getOrThrow(yield* store.inventory.getAccount(C, "u1"))
    assert.deepStrictEqual(
      [u1.account.status, u1.account.lastActiveAt, u1.account.firstSeenAt, u1.account.lastSeenAt],
      ["active", "2025-10-30T00:00:00.000Z", T0, T1]
    )
    assert.deepStrictEqual(
      [u1.account.billable, u1.account.managed, u1.account.roles, u1.account.attributes, u1.account.adminActionAt],
      [null, null, [], {}, null]
    )
    assert.deepStrictEqual(u1.account.entitlements.map((e) => [e.key, e.status, e.siteHost, e.role, e.lastSeenAt]), [
      ["confluence:acme.atlassian.net", "active", null, null, T1]
    ])
    assert.deepStrictEqual(u1.history.map((e) => [e.to, e.runId]), [["active", OLD_RUN]])
    const run = Option.getOrThrow(yield* store.syncs.get(OLD_RUN))
    assert.deepStrictEqual(
      [run.status, run.stats.updated, run.stats.unchanged, run.stats.requests, run.stats.totalAtStart, run.hold],
      ["succeeded", 1, 0, 9, null, null]
    )
    const [product] = yield* store.inventory.listProducts(C, "2026-01-01T00:00:00.000Z")
    assert.deepStrictEqual([product!.assigned, product!.seats, product!.deprovisioned, product!.licensed], [
      2,
      1,
      1,
      false
    ])
    const totals = yield* store.inventory.totals(C, "2026-01-01T00:00:00.000Z")
    assert.deepStrictEqual(totals.byStatus, { active: 1, suspended: 1, deprovisioned: 1, unknown: 0 })
    assert.strictEqual(totals.seats, 1)
    const audit = yield* store.audit.list({ connectionId: C, limit: 5 })
    assert.deepStrictEqual(audit.data.map((e) => [e.action, e.input]), [["connection.create", { name: "Acme" }]])
    assert.strictEqual((yield* store.inventory.listAccounts({ connectionId: C, limit: 10, sort: "email" })).total, 3)

    // The next sync: every account is read in full once (no digest yet), and the one gone is confirmed.
    const next = yield* store.syncs.start(C, "me")
    yield* store.syncs.stage(next.id, [
      account("u1", { entitlements: [entitlement("confluence")] }),
      account("u3", { status: "active" })
    ])
    yield* store.syncs.confirm(next.id, [{ externalId: "u2", verdict: "gone" }])
    const applied = yield* store.syncs.apply(next.id, noCounters)
    assert.deepStrictEqual([applied.stats.updated, applied.stats.unchanged, applied.stats.deprovisioned], [2, 0, 1])
    assert.strictEqual(Option.getOrThrow(yield* store.inventory.getAccount(C, "u3")).account.status, "active")
    const resync = yield* store.syncs.start(C, "me")
    yield* store.syncs.stage(resync.id, [
      account("u1", { entitlements: [entitlement("confluence")] }),
      account("u3", { status: "active" })
    ])
    assert.strictEqual((yield* store.syncs.apply(resync.id, noCounters)).stats.unchanged, 2)

    // 0003's tables start empty, and work on the upgraded connection.
    assert.deepStrictEqual(yield* store.reclaim.listPolicies(C), [])
    assert.deepStrictEqual(yield* store.reclaim.listPrices(C), [])
    assert.deepStrictEqual(yield* store.users.list, [])
    assert.deepStrictEqual(yield* store.webhooks.list, [])
    yield* store.reclaim.setPrices(C, [{ product: "confluence", amount: 5, currency: "EUR", period: "monthly" }])
    assert.strictEqual((yield* store.reclaim.listPrices(C)).length, 1)
  })

/** Writes version 1 through a plain client of the database, then opens the store on it. */
const upgraded = (db: TestDatabase, url: string | undefined) =>
  Effect.gen(function*() {
    if (db.dialect === "sqlite") {
      Fs.mkdirSync(Path.dirname(db.filename!), { recursive: true })
      yield* Effect.scoped(Effect.flatMap(Layer.build(SqlStore.sqliteClientLayer(db.filename!)), (context) => {
        const sql = Context.get(context, SqlClient.SqlClient)
        return writeVersion1(sql).pipe(Effect.provideService(SqlClient.SqlClient, sql))
      }))
    } else {
      yield* Effect.scoped(Effect.gen(function*() {
        const sql = yield* PgClient.make({ url: Redacted.make(url!), maxConnections: 1 })
        yield* writeVersion1(sql).pipe(Effect.provideService(SqlClient.SqlClient, sql))
      })).pipe(Effect.provide(Reactivity.layer))
    }
    return yield* openStore(db)
  })

for (const target of targets("the 0001 upgrade")) {
  describe(`upgrading a 0001 database on ${target.name}`, () => {
    it.scopedLive("keeps the rows, with the new fields at what 0001 implied, and syncs on", () =>
      Effect.gen(function*() {
        if (target.name === "SQLite") {
          const db = yield* target.database
          yield* checkUpgraded(yield* upgraded(db, undefined))
        } else {
          const url = yield* pgSchemaUrl
          const db: TestDatabase = {
            dialect: "pg",
            files: [],
            store: () => SqlStore.layerPg({ url: Redacted.make(url), secretKey: SECRET_KEY, maxConnections: 2 })
          }
          yield* checkUpgraded(yield* upgraded(db, url))
        }
      }))
  })
}
