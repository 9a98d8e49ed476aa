/**
 * The store's layers: where the database lives, and the errors a user sees when it cannot be opened.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { LicenseStore } from "@seatkeeper/core/LicenseStore"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as SqlLicenseStore from "../src/SqlLicenseStore.js"
import { pgSchemaUrl, pgUnavailable, SECRET_KEY } from "./fixtures.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-layer-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const env = (values: Record<string, string>) => Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(values))))

const pgDown = await pgUnavailable()

describe("SqlLicenseStore layers", () => {
  it.scopedLive("without DATABASE_URL the store is a SQLite file in WAL mode in the data dir", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const dataDir = Path.join(dir, "nested", "data")
      const context = yield* Layer.build(
        SqlLicenseStore.layerFromEnv.pipe(
          Layer.provide(env({ SEATKEEPER_DATA_DIR: dataDir, SEATKEEPER_SECRET_KEY: Redacted.value(SECRET_KEY) }))
        )
      )
      const store = yield* Effect.provide(LicenseStore, context)
      yield* store.createConnection({ provider: "atlassian", name: "Acme", config: {}, syncIntervalMinutes: 0 })
      assert.isTrue(Fs.existsSync(Path.join(dataDir, "seatkeeper.db")))
      const sql = yield* Effect.provide(SqlClient.SqlClient, context)
      const [mode] = yield* sql<{ journal_mode: string }>`PRAGMA journal_mode`
      assert.strictEqual(mode!.journal_mode, "wal")
      // Opening it again finds the schema in place and the data kept.
      const again = yield* Layer.build(
        SqlLicenseStore.layerSqlite({ filename: Path.join(dataDir, "seatkeeper.db"), secretKey: SECRET_KEY })
      )
      assert.strictEqual((yield* Effect.flatMap(Effect.provide(LicenseStore, again), (s) => s.listConnections)).length, 1)
    }))

  it.scopedLive("a missing secret key is a config error naming the variable", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const error = yield* Effect.flip(
        Layer.build(SqlLicenseStore.layerFromEnv.pipe(Layer.provide(env({ SEATKEEPER_DATA_DIR: dir }))))
      )
      assert.include(String(error), "SEATKEEPER_SECRET_KEY")
    }))

  it.scopedLive("a database file that cannot be created fails with a clear StoreError", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const blocker = Path.join(dir, "not-a-dir")
      Fs.writeFileSync(blocker, "")
      const error = yield* Effect.flip(
        Layer.build(SqlLicenseStore.layerSqlite({ filename: Path.join(blocker, "seatkeeper.db"), secretKey: SECRET_KEY }))
      )
      assert.strictEqual(error._tag, "StoreError")
      assert.strictEqual(error._tag === "StoreError" ? error.reason : "", "Unavailable")
      assert.include(error.message, "SEATKEEPER_DATA_DIR")
    }))

  it.scopedLive("an unreachable PostgreSQL fails with the address and never the password", () =>
    Effect.gen(function*() {
      // Port 1 on loopback: nothing listens there.
      const url = Redacted.make("postgres://seatkeeper:hunter2-secret@127.0.0.1:1/seatkeeper")
      const error = yield* Effect.flip(Layer.build(SqlLicenseStore.layerPg({ url, secretKey: SECRET_KEY })))
      assert.strictEqual(error._tag, "StoreError")
      assert.include(error.message, "127.0.0.1:1/seatkeeper")
      assert.include(error.message, "DATABASE_URL")
      assert.notInclude(error.message, "hunter2")
    }))

  it.scopedLive.skipIf(pgDown !== undefined)("with DATABASE_URL the store is PostgreSQL", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const url = yield* pgSchemaUrl
      const context = yield* Layer.build(
        SqlLicenseStore.layerFromEnv.pipe(Layer.provide(env({
          DATABASE_URL: url,
          SEATKEEPER_DATA_DIR: dir,
          SEATKEEPER_SECRET_KEY: Redacted.value(SECRET_KEY)
        })))
      )
      const sql = yield* Effect.provide(SqlClient.SqlClient, context)
      assert.strictEqual(sql.onDialectOrElse({ pg: () => "pg", orElse: () => "other" }), "pg")
      const store = yield* Effect.provide(LicenseStore, context)
      yield* store.createConnection({ provider: "atlassian", name: "Acme", config: {}, syncIntervalMinutes: 0 })
      assert.isFalse(Fs.existsSync(Path.join(dir, "seatkeeper.db")))
    }))
})
