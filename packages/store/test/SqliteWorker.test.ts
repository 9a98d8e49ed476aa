/**
 * The SQLite client whose writer runs in a worker thread: the host's event loop keeps running while a large
 * apply commits, readers see the last committed snapshot meanwhile, and a standalone write never lands in
 * another fiber's transaction.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { noCounters } from "@seatkeeper/core/SyncRun"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as SqlStore from "../src/SqlStore.js"
import { openStore, roster, sqliteTarget, tempDir } from "./fixtures.js"

describe("SQLite writer thread", () => {
  it.scopedLive(
    "the event loop keeps running while 60,000 accounts are applied, and readers see the old snapshot",
    () =>
      Effect.gen(function*() {
        const db = yield* sqliteTarget.database
        const { connections, inventory, syncs } = yield* openStore(db)
        const connection = yield* connections.create({ provider: "bench", name: "Large", config: {} })
        const run = yield* syncs.start(connection.id, "me")
        for (let i = 0; i < 60_000; i += 1_000) yield* syncs.stage(run.id, roster(1_000, i))
        yield* syncs.absentees(run.id, 10)

        // A timer of the main thread, and reads, while the apply runs in the writer's thread.
        const ticks: Array<number> = []
        const timer = setInterval(() => ticks.push(performance.now()), 1)
        const totals: Array<number> = []
        const reading = yield* Effect.forever(
          Effect.flatMap(
            inventory.listAccounts({ connectionId: connection.id, limit: 5 }),
            (page) => Effect.sync(() => totals.push(page.total))
          ).pipe(Effect.zipRight(Effect.sleep("5 millis")))
        ).pipe(Effect.fork)
        const startedAt = performance.now()
        const applied = yield* syncs.apply(run.id, noCounters)
        const endedAt = performance.now()
        clearInterval(timer)
        yield* Fiber.interrupt(reading)

        assert.strictEqual(applied.stats.created, 60_000)
        const during = ticks.filter((t) => t > startedAt && t < endedAt)
        assert.isAbove(during.length, 0, "the main thread's timer fired while the apply ran")
        // Every read saw a whole snapshot: none of the run, or all of it.
        assert.isTrue(totals.every((n) => n === 0 || n === 60_000), `read totals: ${[...new Set(totals)].join(", ")}`)
        assert.include(totals, 0, "a read ran during the apply, on the snapshot before it")
        assert.strictEqual((yield* inventory.listAccounts({ connectionId: connection.id, limit: 1 })).total, 60_000)
      }),
    120_000
  )

  it.scopedLive("a standalone write during another fiber's transaction is not part of it", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const context = yield* Layer.build(SqlStore.sqliteClientLayer(Path.join(dir, "tx.db")))
      const sql = Context.get(context, SqlClient.SqlClient)
      yield* sql`CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)`
      const inside = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      const transaction = yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`INSERT INTO notes (text) VALUES (${"in the transaction"})`
        yield* Deferred.succeed(inside, undefined)
        yield* Deferred.await(release)
        return yield* Effect.fail("roll back" as const)
      })).pipe(Effect.flip, Effect.fork)
      yield* Deferred.await(inside)
      // Waits for the transaction to end instead of running inside it.
      const standalone = yield* sql`INSERT INTO notes (text) VALUES (${"standalone"})`.pipe(Effect.fork)
      yield* Effect.sleep("50 millis")
      // A read does not wait: it sees the last commit, without either row.
      assert.deepStrictEqual(yield* sql`SELECT text FROM notes`, [])
      yield* Deferred.succeed(release, undefined)
      assert.strictEqual(yield* Fiber.join(transaction), "roll back")
      yield* Fiber.join(standalone)
      assert.deepStrictEqual(yield* sql`SELECT text FROM notes`, [{ text: "standalone" }])
    }))

  it.scopedLive("driver errors come back typed, with SQLite's code", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const context = yield* Layer.build(SqlStore.sqliteClientLayer(Path.join(dir, "errors.db")))
      const sql = Context.get(context, SqlClient.SqlClient)
      yield* sql`CREATE TABLE t (id TEXT PRIMARY KEY)`
      yield* sql`INSERT INTO t VALUES (${"a"})`
      const duplicate = yield* Effect.flip(sql`INSERT INTO t VALUES (${"a"})`)
      assert.strictEqual(duplicate._tag, "SqlError")
      assert.match(String((duplicate.cause as { code?: string }).code), /^SQLITE_CONSTRAINT/)
      const missing = yield* Effect.flip(sql`SELECT * FROM no_such_table`)
      assert.include(String((missing.cause as Error).message), "no such table")
    }))

  it.scopedLive("closing the layer closes both threads and checkpoints the WAL", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const filename = Path.join(dir, "closed.db")
      yield* Effect.scoped(
        Effect.gen(function*() {
          const context = yield* Layer.build(SqlStore.sqliteClientLayer(filename))
          const sql = Context.get(context, SqlClient.SqlClient)
          yield* sql`CREATE TABLE t (id INTEGER)`
          yield* sql`INSERT INTO t VALUES (${1})`
          assert.isTrue(Fs.existsSync(`${filename}-wal`))
        })
      )
      assert.isFalse(Fs.existsSync(`${filename}-wal`), "the last connection to close folds the WAL into the file")
      const again = yield* Layer.build(SqlStore.sqliteClientLayer(filename))
      assert.deepStrictEqual(yield* Context.get(again, SqlClient.SqlClient)`SELECT id FROM t`, [{ id: 1 }])
    }))
})
