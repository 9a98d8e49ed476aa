/**
 * The store's layers: where the database lives, what each layer provides, and the errors a user sees when
 * it cannot be opened.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { AuditStore } from "@seatkeeper/core/Audit"
import { ConnectionStore } from "@seatkeeper/core/Connection"
import { InventoryStore } from "@seatkeeper/core/Inventory"
import { ReclaimPolicy } from "@seatkeeper/core/Reclaim"
import { ReclaimStore } from "@seatkeeper/core/ReclaimStore"
import { SyncStore } from "@seatkeeper/core/SyncStore"
import { UserStore } from "@seatkeeper/core/User"
import { WebhookStore } from "@seatkeeper/core/Webhook"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Migrations from "../src/Migrations.js"
import * as SqlAuditStore from "../src/SqlAuditStore.js"
import * as SqlConnectionStore from "../src/SqlConnectionStore.js"
import * as SqlInventoryStore from "../src/SqlInventoryStore.js"
import * as SqlReclaimStore from "../src/SqlReclaimStore.js"
import * as SqlStore from "../src/SqlStore.js"
import * as SqlSyncStore from "../src/SqlSyncStore.js"
import * as SqlUserStore from "../src/SqlUserStore.js"
import * as SqlWebhookStore from "../src/SqlWebhookStore.js"
import { pgSchemaUrl, pgUnavailable, SECRET_KEY, tempDir } from "./fixtures.js"

const env = (values: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(values))))

const pgDown = await pgUnavailable()

const policyInput = Schema.decodeUnknownSync(ReclaimPolicy)({
  name: "p",
  scope: { _tag: "accounts" },
  inactiveDays: 30
})

describe("store layers", () => {
  it.scopedLive("without DATABASE_URL the stores are a SQLite file in WAL mode in the data dir", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const dataDir = Path.join(dir, "nested", "data")
      const context = yield* Layer.build(
        SqlStore.layerFromEnv.pipe(
          Layer.provide(env({ SEATKEEPER_DATA_DIR: dataDir, SEATKEEPER_SECRET_KEY: Redacted.value(SECRET_KEY) }))
        )
      )
      yield* Context.get(context, ConnectionStore).create({ provider: "atlassian", name: "Acme", config: {} })
      for (const tag of [SyncStore, InventoryStore, AuditStore, ReclaimStore, UserStore, WebhookStore] as const) {
        assert.isTrue(Context.getOption(context, tag as any)._tag === "Some")
      }
      assert.isTrue(Fs.existsSync(Path.join(dataDir, "seatkeeper.db")))
      const sql = Context.get(context, SqlClient.SqlClient)
      const [mode] = yield* sql<{ journal_mode: string }>`PRAGMA journal_mode`
      assert.strictEqual(mode!.journal_mode, "wal")
      // Opening it again finds the schema in place and the data kept.
      const again = yield* Layer.build(
        SqlStore.layerSqlite({ filename: Path.join(dataDir, "seatkeeper.db"), secretKey: SECRET_KEY })
      )
      assert.strictEqual((yield* Context.get(again, ConnectionStore).list).length, 1)
    }))

  it.scopedLive("each port has a layer of its own over a SqlClient, migrating the schema once", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const client = SqlStore.sqliteClientLayer(Path.join(dir, "ports.db"))
      const ports = Layer.mergeAll(
        SqlConnectionStore.layer({ secretKey: SECRET_KEY }),
        SqlSyncStore.layer({ leaseDuration: "5 seconds" }),
        SqlInventoryStore.layer({ secretKey: SECRET_KEY }),
        SqlAuditStore.layer({ secretKey: SECRET_KEY }),
        SqlReclaimStore.layer({ secretKey: SECRET_KEY, leaseDuration: "5 seconds" }),
        SqlUserStore.layer,
        SqlWebhookStore.layer({ secretKey: SECRET_KEY })
      ).pipe(Layer.provideMerge(client))
      const context = yield* Layer.build(ports)
      const connection = yield* Context.get(context, ConnectionStore).create({ provider: "p", name: "n", config: {} })
      const run = yield* Context.get(context, SyncStore).start(connection.id, "me")
      assert.strictEqual(run.status, "running")
      yield* Context.get(context, AuditStore).append({
        actor: "t",
        action: "test",
        connectionId: null,
        target: null,
        input: null,
        outcome: "ok",
        detail: null
      })
      assert.strictEqual(
        (yield* Context.get(context, InventoryStore).listAccounts({ connectionId: connection.id, limit: 1 })).total,
        0
      )
      const policy = yield* Context.get(context, ReclaimStore).createPolicy(
        connection.id,
        { ...policyInput, name: "p" },
        "me"
      )
      assert.strictEqual(policy.version, 1)
      yield* Context.get(context, UserStore).create({
        name: "Ada",
        role: "admin",
        tokenHash: "ab".repeat(32),
        createdBy: "t"
      })
      yield* Context.get(context, WebhookStore).create({
        url: "https://hooks.example.test/",
        events: ["sync.failed"],
        secret: Redacted.make("whsec-0123456789"),
        createdBy: "t"
      })
      const sql = Context.get(context, SqlClient.SqlClient)
      const [row] = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM seatkeeper_migrations`
      assert.strictEqual(row!.n, Object.keys(Migrations.migrations).length, "each migration once")
    }))

  it.scopedLive("a missing secret key is a config error naming the variable", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const error = yield* Effect.flip(
        Layer.build(SqlStore.layerFromEnv.pipe(Layer.provide(env({ SEATKEEPER_DATA_DIR: dir }))))
      )
      assert.include(String(error), "SEATKEEPER_SECRET_KEY")
    }))

  it.scopedLive("a secret key that is too short is refused before the database is touched", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const filename = Path.join(dir, "never.db")
      const error = yield* Effect.flip(
        Layer.build(SqlStore.layerSqlite({ filename, secretKey: Redacted.make("short") }))
      )
      assert.include(error.message, "SEATKEEPER_SECRET_KEY")
    }))

  it.scopedLive("a database file that cannot be created fails with a clear StoreError", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const blocker = Path.join(dir, "not-a-dir")
      Fs.writeFileSync(blocker, "")
      const error = yield* Effect.flip(
        Layer.build(SqlStore.layerSqlite({ filename: Path.join(blocker, "seatkeeper.db"), secretKey: SECRET_KEY }))
      )
      assert.strictEqual(error._tag, "StoreError")
      assert.strictEqual(error._tag === "StoreError" ? error.reason : "", "Unavailable")
      assert.include(error.message, "SEATKEEPER_DATA_DIR")
    }))

  it.scopedLive("an unreachable PostgreSQL fails with the address and never the password", () =>
    Effect.gen(function*() {
      // Port 1 on loopback: nothing listens there.
      const url = Redacted.make("postgres://seatkeeper:hunter2-secret@127.0.0.1:1/seatkeeper")
      const error = yield* Effect.flip(Layer.build(SqlStore.layerPg({ url, secretKey: SECRET_KEY })))
      assert.strictEqual(error._tag, "StoreError")
      assert.include(error.message, "127.0.0.1:1/seatkeeper")
      assert.include(error.message, "DATABASE_URL")
      assert.notInclude(error.message, "hunter2")
    }))

  it.scopedLive.skipIf(pgDown !== undefined)(
    "with DATABASE_URL the stores are PostgreSQL",
    () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const url = yield* pgSchemaUrl
        const context = yield* Layer.build(
          SqlStore.layerFromEnv.pipe(Layer.provide(env({
            DATABASE_URL: url,
            SEATKEEPER_DATA_DIR: dir,
            SEATKEEPER_SECRET_KEY: Redacted.value(SECRET_KEY)
          })))
        )
        const sql = Context.get(context, SqlClient.SqlClient)
        assert.strictEqual(sql.onDialectOrElse({ pg: () => "pg", orElse: () => "other" }), "pg")
        yield* Context.get(context, ConnectionStore).create({ provider: "atlassian", name: "Acme", config: {} })
        assert.isFalse(Fs.existsSync(Path.join(dir, "seatkeeper.db")))
      })
  )
})
