/**
 * The sync engine against the SQLite store, with fake provider connections built by core's `makeConnection`.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ProviderAccount } from "@seatkeeper/core/Account"
import { LicenseStore, type SyncRun } from "@seatkeeper/core/LicenseStore"
import { type AccountPage, makeConnection, type ProviderConnection } from "@seatkeeper/core/Provider"
import { ProviderError } from "@seatkeeper/core/ProviderError"
import * as SyncEngine from "@seatkeeper/core/SyncEngine"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { makeOwner } from "../src/SyncOwner.js"
import { account, openStore, sqliteTarget, type TestDatabase } from "./fixtures.js"

const STATS = { requests: 4, retries: 1, rateLimited: 1 }

const connectionOf = (pages: Stream.Stream<AccountPage, ProviderError>): ProviderConnection =>
  makeConnection({
    provider: "fake",
    budgetKey: "fake:org",
    verify: Effect.void,
    pages,
    requestStats: Effect.succeed(STATS),
    incompleteHint: "run the sync again"
  })

/** A complete roster, paged, with the source's total. */
const roster = (accounts: ReadonlyArray<ProviderAccount>, pageSize = 2) =>
  connectionOf(
    Stream.fromIterable(
      Array.from({ length: Math.ceil(accounts.length / pageSize) }, (_, i) => ({
        accounts: accounts.slice(i * pageSize, (i + 1) * pageSize),
        total: accounts.length
      }))
    )
  )

const unavailable = new ProviderError({
  reason: "Unavailable",
  provider: "fake",
  operation: "accounts",
  status: 503,
  description: "the service is down",
  hint: "try again in a few minutes"
})

const people = ["u1", "u2", "u3", "u4", "u5"].map((id) => account(id))

/** A store on a fresh SQLite file with one connection, synced once with `people`. */
const setup = Effect.gen(function*() {
  const db: TestDatabase = yield* sqliteTarget.database
  const { store } = yield* openStore(db)
  const connection = yield* store.createConnection({ provider: "fake", name: "Fake", config: {}, syncIntervalMinutes: 0 })
  const first = yield* SyncEngine.run(connection.id, makeOwner(), Effect.succeed(roster(people))).pipe(
    Effect.provideService(LicenseStore, store)
  )
  assert.strictEqual(first.status, "succeeded")
  const visible = Effect.gen(function*() {
    const page = yield* store.listAccounts({ connectionId: connection.id, limit: 1000 })
    const details = yield* Effect.forEach(page.data, (a) => store.getAccount(connection.id, a.externalId))
    return { page, details }
  })
  return { db, store, connectionId: connection.id, visible, before: yield* visible }
})

const runWith = (
  store: Context.Tag.Service<LicenseStore>,
  connectionId: string,
  connect: Effect.Effect<ProviderConnection, ProviderError>,
  options?: SyncEngine.ExecuteOptions
) => SyncEngine.run(connectionId, makeOwner(), connect, options).pipe(Effect.provideService(LicenseStore, store))

/** Polls until the value satisfies the predicate (no deadline: the test timeout is the limit). */
const eventually = <A, E>(effect: Effect.Effect<A, E>, predicate: (a: A) => boolean) =>
  effect.pipe(
    Effect.filterOrFail(predicate, () => "not yet" as const),
    Effect.retry({ while: (e) => e === "not yet", schedule: Schedule.spaced("10 millis") })
  )

describe("SyncEngine", () => {
  it.scopedLive("a complete run commits and deprovisions what the source no longer returns", () =>
    Effect.gen(function*() {
      const { connectionId, store } = yield* setup
      const run = yield* runWith(store, connectionId, Effect.succeed(roster(people.slice(0, 3))), { chunkSize: 2 })
      assert.strictEqual(run.status, "succeeded")
      assert.deepStrictEqual(run.stats, {
        accounts: 3,
        created: 0,
        updated: 0,
        deprovisioned: 2,
        entitlementsDeprovisioned: 2,
        ...STATS
      })
      const statuses = (yield* store.listAccounts({ connectionId, limit: 10 })).data.map((a) => [a.externalId, a.status])
      assert.deepStrictEqual(statuses, [
        ["u1", "active"],
        ["u2", "active"],
        ["u3", "active"],
        ["u4", "deprovisioned"],
        ["u5", "deprovisioned"]
      ])
    }))

  it.scopedLive("a stream that fails half-way, after chunks were staged, changes nothing", () =>
    Effect.gen(function*() {
      const { before, connectionId, store, visible } = yield* setup
      const pages = Stream.concat(
        Stream.make({ accounts: people.slice(0, 2), total: 5 }, { accounts: people.slice(2, 3), total: 5 }),
        Stream.fail(unavailable)
      )
      const run = yield* runWith(store, connectionId, Effect.succeed(connectionOf(pages)), { chunkSize: 1 })
      assert.strictEqual(run.status, "failed")
      assert.deepStrictEqual(run.error, {
        reason: "Unavailable",
        message: unavailable.message,
        hint: "try again in a few minutes"
      })
      assert.strictEqual(run.stats.accounts, 3, "three accounts were staged before the failure")
      assert.strictEqual(run.stats.requests, STATS.requests)
      assert.deepStrictEqual(yield* visible, before)
      // The lock was released.
      assert.strictEqual((yield* runWith(store, connectionId, Effect.succeed(roster(people)))).status, "succeeded")
    }))

  it.scopedLive("an incomplete roster (total larger than returned) fails with the reason and changes nothing", () =>
    Effect.gen(function*() {
      const { before, connectionId, store, visible } = yield* setup
      const pages = Stream.make(
        { accounts: people.slice(0, 2), total: 5 },
        { accounts: people.slice(2, 3), total: 5 }
      )
      const run = yield* runWith(store, connectionId, Effect.succeed(connectionOf(pages)), { chunkSize: 2 })
      assert.strictEqual(run.status, "failed")
      assert.strictEqual(run.error?.reason, "Incomplete")
      assert.include(run.error?.message ?? "", "reported 5 accounts but returned 3")
      assert.strictEqual(run.error?.hint, "run the sync again")
      assert.deepStrictEqual(yield* visible, before)
    }))

  it.scopedLive("a connection that cannot be made fails the run with its reason and hint", () =>
    Effect.gen(function*() {
      const { before, connectionId, store, visible } = yield* setup
      const refused = new ProviderError({
        reason: "Unauthorized",
        provider: "fake",
        operation: "connect",
        status: 401,
        description: "the API key was refused",
        hint: "create a new API key"
      })
      const run = yield* runWith(store, connectionId, Effect.fail(refused))
      assert.strictEqual(run.status, "failed")
      assert.deepStrictEqual([run.error?.reason, run.error?.hint], ["Unauthorized", "create a new API key"])
      assert.deepStrictEqual(run.stats.requests, 0)
      assert.deepStrictEqual(yield* visible, before)
    }))

  it.scopedLive("a defect fails the run with a generic message that quotes nothing of it", () =>
    Effect.gen(function*() {
      const { before, connectionId, store, visible } = yield* setup
      const pages = Stream.concat(
        Stream.make({ accounts: people.slice(0, 2), total: undefined }),
        Stream.die(new Error("boom with api key ATATT-leaked-secret"))
      )
      const run = yield* runWith(store, connectionId, Effect.succeed(connectionOf(pages)), { chunkSize: 1 }).pipe(
        // The defect is logged on purpose; keep it out of the test output.
        Logger.withMinimumLogLevel(LogLevel.None)
      )
      assert.strictEqual(run.status, "failed")
      assert.strictEqual(run.error?.reason, "Defect")
      assert.notInclude(JSON.stringify(run), "ATATT")
      assert.deepStrictEqual(yield* visible, before)
    }))

  it.scopedLive("an interrupted run is recorded as interrupted, changes nothing, and the interruption goes on", () =>
    Effect.gen(function*() {
      const { before, connectionId, store, visible } = yield* setup
      // One page, then a source that never answers.
      const pages = Stream.concat(Stream.make({ accounts: people.slice(0, 3), total: 5 }), Stream.never)
      const started = yield* SyncEngine.start(connectionId, makeOwner()).pipe(Effect.provideService(LicenseStore, store))
      const fiber = yield* SyncEngine.execute(started, Effect.succeed(connectionOf(pages)), { chunkSize: 1 }).pipe(
        Effect.provideService(LicenseStore, store),
        Effect.fork
      )
      // Wait until the first page has been staged.
      yield* eventually(store.getRun(started.id), (r) => Option.getOrThrow(r).stats.accounts >= 3)
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit), "the caller sees the interruption")
      const run = Option.getOrThrow(yield* store.getRun(started.id))
      assert.strictEqual(run.status, "interrupted")
      assert.strictEqual(run.error?.reason, "Interrupted")
      assert.include(run.error?.message ?? "", "nothing was applied")
      assert.deepStrictEqual(yield* visible, before)
      assert.strictEqual((yield* runWith(store, connectionId, Effect.succeed(roster(people)))).status, "succeeded")
    }))

  it.scopedLive("a second run of a connection while one runs gets SyncAlreadyRunning", () =>
    Effect.gen(function*() {
      const { connectionId, store } = yield* setup
      const gate = yield* Deferred.make<void>()
      const pages = Stream.concat(
        Stream.make({ accounts: people.slice(0, 2), total: 5 }),
        Stream.fromEffect(Deferred.await(gate)).pipe(Stream.as({ accounts: people.slice(2), total: 5 }))
      )
      const fiber = yield* runWith(store, connectionId, Effect.succeed(connectionOf(pages))).pipe(Effect.fork)
      const running = yield* eventually(store.listRuns(connectionId, 1), (runs) => runs[0]?.status === "running")
      const second = yield* Effect.flip(runWith(store, connectionId, Effect.succeed(roster(people))))
      assert.strictEqual(second._tag, "SyncAlreadyRunning")
      assert.strictEqual(second._tag === "SyncAlreadyRunning" ? second.runId : "", running[0]!.id)
      yield* Deferred.succeed(gate, undefined)
      const first: SyncRun = yield* Fiber.join(fiber)
      assert.strictEqual(first.status, "succeeded")
      assert.strictEqual(first.id, running[0]!.id)
    }))

  it.scopedLive("a run that loses its lock to another process stops without applying anything", () =>
    Effect.gen(function*() {
      const { before, connectionId, db, store, visible } = yield* setup
      // This process's store has a short lease and, here, no heartbeat to renew it.
      const { store: slow } = yield* openStore(db, { leaseDuration: "1 second" })
      const gate = yield* Deferred.make<void>()
      const pages = Stream.concat(
        Stream.make({ accounts: people.slice(0, 1), total: 2 }),
        Stream.fromEffect(Deferred.await(gate)).pipe(Stream.as({ accounts: people.slice(1, 2), total: 2 }))
      )
      const started = yield* SyncEngine.start(connectionId, "elsewhere:99:abc").pipe(Effect.provideService(LicenseStore, slow))
      const fiber = yield* SyncEngine.execute(started, Effect.succeed(connectionOf(pages)), {
        chunkSize: 1,
        heartbeatEvery: "1 hour"
      }).pipe(Effect.provideService(LicenseStore, slow), Effect.fork)
      yield* Effect.sleep("1500 millis")
      // Another process takes the expired lock and holds it.
      const takeover = yield* store.startRun(connectionId, makeOwner())
      yield* Deferred.succeed(gate, undefined)
      const lost = yield* Fiber.join(fiber)
      assert.strictEqual(lost.status, "interrupted")
      assert.strictEqual(Option.getOrThrow(yield* store.getRun(takeover.id)).status, "running")
      assert.deepStrictEqual(yield* visible, before)
    }))

  it.scopedLive("the heartbeat keeps a slow run's lock", () =>
    Effect.gen(function*() {
      const { connectionId, db, store } = yield* setup
      const { store: beating } = yield* openStore(db, { leaseDuration: "2 seconds" })
      const gate = yield* Deferred.make<void>()
      const pages = Stream.concat(
        Stream.make({ accounts: people.slice(0, 2), total: 5 }),
        Stream.fromEffect(Deferred.await(gate)).pipe(Stream.as({ accounts: people.slice(2), total: 5 }))
      )
      const started = yield* SyncEngine.start(connectionId, "elsewhere:99:abc").pipe(Effect.provideService(LicenseStore, beating))
      const fiber = yield* SyncEngine.execute(started, Effect.succeed(connectionOf(pages)), {
        heartbeatEvery: "100 millis"
      }).pipe(Effect.provideService(LicenseStore, beating), Effect.fork)
      // Well past the lease: only the heartbeat keeps the lock.
      yield* Effect.sleep("2500 millis")
      const blocked = yield* Effect.flip(store.startRun(connectionId, makeOwner()))
      assert.strictEqual(blocked._tag, "SyncAlreadyRunning")
      yield* Deferred.succeed(gate, undefined)
      assert.strictEqual((yield* Fiber.join(fiber)).status, "succeeded")
    }))

  it.scopedLive("commits a run of 20,000 accounts", () =>
    Effect.gen(function*() {
      const { connectionId, store } = yield* setup
      const big = (count: number, skip = 0) =>
        Stream.range(0, Math.ceil(count / 1000) - 1).pipe(
          Stream.map((page): AccountPage => ({
            accounts: Array.from({ length: Math.min(1000, count - page * 1000) }, (_, i) => {
              const n = page * 1000 + i
              return account(`big:${n + skip}`, {
                name: `Person ${n + skip}`,
                entitlements: [{ product: "jira", site: "acme" }, { product: "confluence", site: n % 2 === 0 ? "acme" : "beta" }]
              })
            }),
            total: count
          }))
        )
      const run = yield* runWith(store, connectionId, Effect.succeed(connectionOf(big(20_000))))
      assert.strictEqual(run.status, "succeeded")
      assert.deepStrictEqual(
        [run.stats.accounts, run.stats.created, run.stats.deprovisioned, run.stats.entitlementsDeprovisioned],
        [20_000, 20_000, 5, 5]
      )
      assert.strictEqual((yield* store.listAccounts({ connectionId, limit: 1, status: "active" })).total, 20_000)
      const apps = yield* store.listApps(connectionId)
      assert.deepStrictEqual(apps.map((a) => [a.key, a.active]), [
        ["confluence:acme", 10_000],
        ["confluence:beta", 10_000],
        ["jira:acme", 20_000]
      ])
      // The next run drops the first 1,000.
      const next = yield* runWith(store, connectionId, Effect.succeed(connectionOf(big(19_000, 1_000))))
      assert.deepStrictEqual([next.stats.accounts, next.stats.created, next.stats.deprovisioned], [19_000, 0, 1_000])
      assert.strictEqual((yield* store.listAccounts({ connectionId, limit: 1, status: "deprovisioned" })).total, 1_005)
    }), 120_000)
})
