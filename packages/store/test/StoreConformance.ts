/**
 * The store conformance suite: one set of behaviours every LicenseStore backend must show, run against
 * SQLite and PostgreSQL. Each test gets a fresh, empty database.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ProviderAccount } from "@seatkeeper/core/Account"
import type { LicenseStore, SyncRun } from "@seatkeeper/core/LicenseStore"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import { makeOwner } from "../src/SyncOwner.js"
import { account, daysAgo, NO_REQUESTS, openStore, OTHER_SECRET_KEY, type TestTarget } from "./fixtures.js"

type Store = Context.Tag.Service<LicenseStore>

const NOW = "2025-06-01T12:00:00.000Z"
const API_KEY = "ATATT-super-secret-api-key-0123456789"

const newConnection = (store: Store, name = "Acme") =>
  store.createConnection({
    provider: "atlassian",
    name,
    config: { organizationId: "org-1", apiKey: API_KEY, adminEmail: "admin@acme.test" },
    syncIntervalMinutes: 60
  })

/** start → stage (in chunks of 2) → commit. */
const sync = (store: Store, connectionId: string, accounts: ReadonlyArray<ProviderAccount>, owner = makeOwner()) =>
  Effect.gen(function*() {
    const run = yield* store.startRun(connectionId, owner)
    for (let i = 0; i < accounts.length; i += 2) yield* store.stage(run.id, accounts.slice(i, i + 2))
    return yield* store.commitRun(run.id, { requests: 3, retries: 1, rateLimited: 0 })
  })

/** Everything a user can see of a connection's accounts. */
const snapshot = (store: Store, connectionId: string) =>
  Effect.gen(function*() {
    const page = yield* store.listAccounts({ connectionId, limit: 1000, now: NOW })
    const details = yield* Effect.forEach(page.data, (a) => store.getAccount(connectionId, a.externalId))
    const apps = yield* store.listApps(connectionId, NOW)
    return { page, details, apps }
  })

const allPages = <A>(fetch: (cursor: string | undefined) => Effect.Effect<{ data: ReadonlyArray<A>; nextCursor: string | null }, any>) =>
  Effect.gen(function*() {
    const out: Array<A> = []
    let cursor: string | undefined
    for (let pages = 0; pages < 100; pages++) {
      const page = yield* fetch(cursor)
      out.push(...page.data)
      if (page.nextCursor === null) return out
      cursor = page.nextCursor
    }
    throw new Error("paging did not end")
  })

const statusOf = (store: Store, connectionId: string, externalId: string) =>
  store.getAccount(connectionId, externalId).pipe(
    Effect.map((found) => Option.getOrThrow(found).account)
  )

const baseRoster = () => [
  account("u1", { name: "Ada", entitlements: [{ product: "confluence", site: "acme" }, { product: "jira", site: "acme" }] }),
  account("u2", { name: "Bob", entitlements: [{ product: "confluence", site: "acme" }] }),
  account("u3", { name: "Cyd", status: "suspended", entitlements: [{ product: "jira", site: "acme" }] })
]

export const conformance = (target: TestTarget) =>
  describe(`LicenseStore conformance on ${target.name}`, () => {
    // --- connections and secrets ------------------------------------------------------------------------

    it.scopedLive("keeps connections, with the config encrypted at rest", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { sql, store } = yield* openStore(db)
        const created = yield* newConnection(store)
        const read = Option.getOrThrow(yield* store.getConnection(created.id))
        assert.deepStrictEqual(read.config, created.config)
        assert.strictEqual(read.syncIntervalMinutes, 60)

        const updated = Option.getOrThrow(
          yield* store.updateConnection(created.id, { name: "Acme EU", syncIntervalMinutes: 0 })
        )
        assert.strictEqual(updated.name, "Acme EU")
        assert.strictEqual(updated.syncIntervalMinutes, 0)
        assert.deepStrictEqual(updated.config, created.config)
        assert.deepStrictEqual((yield* store.listConnections).map((c) => c.name), ["Acme EU"])
        assert.isTrue(Option.isNone(yield* store.updateConnection("missing", { name: "x" })))

        // The raw row holds no part of the config in plaintext.
        const rows = yield* sql<Record<string, unknown>>`SELECT * FROM connections`
        const raw = JSON.stringify(rows)
        assert.notInclude(raw, API_KEY)
        assert.notInclude(raw, "org-1")
        assert.notInclude(raw, "admin@acme.test")
        // Nor does any file of the database.
        for (const file of db.files) {
          if (Fs.existsSync(file)) assert.isFalse(Fs.readFileSync(file).includes(API_KEY), `${file} holds the API key`)
        }
      }))

    it.scopedLive("a store opened with another secret key fails Corrupt, naming the key", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { store } = yield* openStore(db)
        const created = yield* newConnection(store)
        const { store: other } = yield* openStore(db, { secretKey: OTHER_SECRET_KEY })
        const error = yield* Effect.flip(other.getConnection(created.id))
        assert.strictEqual(error.reason, "Corrupt")
        assert.include(error.message, "SEATKEEPER_SECRET_KEY")
        assert.notInclude(error.message, API_KEY)
        const listError = yield* Effect.flip(other.listConnections)
        assert.strictEqual(listError.reason, "Corrupt")
        // A passphrase works too, and is not interchangeable with the raw key.
        const { store: passphrase } = yield* openStore(db, { secretKey: Redacted.make("correct horse battery staple") })
        assert.strictEqual((yield* Effect.flip(passphrase.getConnection(created.id))).reason, "Corrupt")
      }))

    it.scopedLive("a secret key that is too short is refused with a clear error", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const error = yield* Effect.flip(openStore(db, { secretKey: Redacted.make("short") }))
        assert.include(error.message, "SEATKEEPER_SECRET_KEY")
      }))

    // --- syncs: commit and abort (invariants 1 and 2) ---------------------------------------------------

    it.scopedLive("a committed sync applies the snapshot, with stats and first-seen events", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { store } = yield* openStore(db)
        const c = yield* newConnection(store)
        const run = yield* sync(store, c.id, baseRoster())
        assert.strictEqual(run.status, "succeeded")
        assert.isNotNull(run.finishedAt)
        assert.deepStrictEqual(run.stats, {
          accounts: 3,
          created: 3,
          updated: 0,
          deprovisioned: 0,
          entitlementsDeprovisioned: 0,
          requests: 3,
          retries: 1,
          rateLimited: 0
        })
        const page = yield* store.listAccounts({ connectionId: c.id, limit: 10 })
        assert.strictEqual(page.total, 3)
        assert.deepStrictEqual(page.data.map((a) => [a.externalId, a.status]), [
          ["u1", "active"],
          ["u2", "active"],
          ["u3", "suspended"]
        ])
        const ada = page.data[0]!
        assert.strictEqual(ada.email, "u1@example.com")
        assert.deepStrictEqual(ada.entitlements.map((e) => [e.key, e.name, e.site, e.status]), [
          ["confluence:acme", "confluence (acme)", "acme", "active"],
          ["jira:acme", "jira (acme)", "acme", "active"]
        ])
        assert.strictEqual(ada.firstSeenAt, ada.lastSeenAt)
        const detail = Option.getOrThrow(yield* store.getAccount(c.id, "u3"))
        assert.deepStrictEqual(detail.history.map((e) => [e.from, e.to, e.cause, e.runId]), [[null, "suspended", "sync", run.id]])
        assert.deepStrictEqual((yield* store.listRuns(c.id, 10)).map((r) => r.id), [run.id])
        // The lock is free again.
        yield* store.startRun(c.id, makeOwner())
      }))

    it.scopedLive("a staged and then aborted sync changes nothing a user sees", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { sql, store } = yield* openStore(db)
        const c = yield* newConnection(store)
        yield* sync(store, c.id, baseRoster())
        yield* store.setAccountStatus(c.id, "u2", "suspended", "suspend")
        const before = yield* snapshot(store, c.id)

        const run = yield* store.startRun(c.id, makeOwner())
        // A very different roster: u2 gone, u1 lost Jira, u3 back to active, a newcomer.
        yield* store.stage(run.id, [
          account("u1", { name: "Ada L.", entitlements: [{ product: "confluence", site: "acme" }] }),
          account("u3", { name: "Cyd", status: "active" })
        ])
        yield* store.stage(run.id, [account("u9", { name: "Newcomer" })])
        assert.deepStrictEqual(yield* snapshot(store, c.id), before, "staging is invisible")
        const running = Option.getOrThrow(yield* store.getRun(run.id))
        assert.strictEqual(running.status, "running")
        assert.strictEqual(running.stats.accounts, 3, "a running run shows how many accounts it has read")

        const aborted = yield* store.abortRun(
          run.id,
          "failed",
          { reason: "Unavailable", message: "atlassian accounts failed", hint: "try later" },
          { requests: 7, retries: 2, rateLimited: 1 }
        )
        assert.strictEqual(aborted.status, "failed")
        assert.deepStrictEqual(aborted.error, { reason: "Unavailable", message: "atlassian accounts failed", hint: "try later" })
        assert.strictEqual(aborted.stats.requests, 7)
        assert.deepStrictEqual(yield* snapshot(store, c.id), before, "an aborted run changes nothing")
        const staged = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM staged_accounts`
        assert.strictEqual(Number(staged[0]!.n), 0, "staging is dropped")
        // A second abort (e.g. after recovery) keeps the first outcome.
        const again = yield* store.abortRun(run.id, "interrupted", { reason: "Interrupted", message: "x" }, NO_REQUESTS)
        assert.strictEqual(again.status, "failed")
        // The lock was released.
        yield* store.startRun(c.id, makeOwner())
      }))

    it.scopedLive("an account no longer returned is deprovisioned only on commit, and comes back to its mapped status", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { store } = yield* openStore(db)
        const c = yield* newConnection(store)
        const initial = yield* sync(store, c.id, baseRoster())

        const run = yield* store.startRun(c.id, makeOwner())
        yield* store.stage(run.id, baseRoster().filter((a) => a.externalId !== "u1"))
        assert.strictEqual((yield* statusOf(store, c.id, "u1")).status, "active", "not before the commit")
        const committed = yield* store.commitRun(run.id, NO_REQUESTS)
        assert.strictEqual(committed.stats.deprovisioned, 1)
        assert.strictEqual(committed.stats.entitlementsDeprovisioned, 2)
        assert.strictEqual(committed.stats.created, 0)
        assert.strictEqual(committed.stats.updated, 0)

        const gone = Option.getOrThrow(yield* store.getAccount(c.id, "u1"))
        assert.strictEqual(gone.account.status, "deprovisioned")
        assert.deepStrictEqual(gone.account.entitlements.map((e) => e.status), ["deprovisioned", "deprovisioned"])
        assert.deepStrictEqual(
          gone.history.map((e) => [e.entitlementKey, e.from, e.to, e.cause, e.runId]).slice(0, 3).sort(),
          [
            ["confluence:acme", "active", "deprovisioned", "sync", run.id],
            ["jira:acme", "active", "deprovisioned", "sync", run.id],
            [null, "active", "deprovisioned", "sync", run.id]
          ].sort()
        )
        assert.strictEqual(gone.account.lastSeenAt, initial.finishedAt, "last seen by the first sync")
        const kept = yield* statusOf(store, c.id, "u2")
        assert.deepStrictEqual([kept.firstSeenAt, kept.lastSeenAt], [initial.finishedAt, committed.finishedAt])
        assert.deepStrictEqual(
          [kept.entitlements[0]!.firstSeenAt, kept.entitlements[0]!.lastSeenAt],
          [initial.finishedAt, committed.finishedAt]
        )

        // It comes back, suspended this time, with only Confluence.
        const back = yield* sync(store, c.id, [
          account("u1", { name: "Ada", status: "suspended", entitlements: [{ product: "confluence", site: "acme" }] }),
          ...baseRoster().slice(1)
        ])
        assert.strictEqual(back.stats.updated, 1)
        assert.strictEqual(back.stats.deprovisioned, 0)
        assert.strictEqual(back.stats.entitlementsDeprovisioned, 0, "Jira was already deprovisioned")
        const returned = Option.getOrThrow(yield* store.getAccount(c.id, "u1"))
        assert.strictEqual(returned.account.status, "suspended")
        assert.deepStrictEqual(returned.account.entitlements.map((e) => [e.key, e.status]), [
          ["confluence:acme", "active"],
          ["jira:acme", "deprovisioned"]
        ])
        assert.deepStrictEqual(
          returned.history.filter((e) => e.runId === back.id).map((e) => [e.entitlementKey, e.from, e.to]).sort(),
          [["confluence:acme", "deprovisioned", "active"], [null, "deprovisioned", "suspended"]].sort()
        )
      }))

    it.scopedLive("an entitlement no longer returned is deprovisioned; a new one is recorded", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { store } = yield* openStore(db)
        const c = yield* newConnection(store)
        yield* sync(store, c.id, baseRoster())
        const run = yield* sync(store, c.id, [
          account("u1", { name: "Ada", entitlements: [{ product: "jira", site: "acme" }, { product: "trello" }] }),
          ...baseRoster().slice(1)
        ])
        assert.strictEqual(run.stats.entitlementsDeprovisioned, 1)
        assert.strictEqual(run.stats.deprovisioned, 0)
        assert.strictEqual(run.stats.updated, 1)
        const ada = Option.getOrThrow(yield* store.getAccount(c.id, "u1"))
        assert.strictEqual(ada.account.status, "active")
        assert.deepStrictEqual(ada.account.entitlements.map((e) => [e.key, e.status]), [
          ["confluence:acme", "deprovisioned"],
          ["jira:acme", "active"],
          ["trello", "active"]
        ])
        assert.deepStrictEqual(
          ada.history.filter((e) => e.runId === run.id).map((e) => [e.entitlementKey, e.from, e.to]).sort(),
          [["confluence:acme", "active", "deprovisioned"], ["trello", null, "active"]].sort()
        )
      }))

    it.scopedLive("a local suspend is recorded with its cause and overwritten by the next sync", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { store } = yield* openStore(db)
        const c = yield* newConnection(store)
        yield* sync(store, c.id, baseRoster())
        const suspended = Option.getOrThrow(yield* store.setAccountStatus(c.id, "u2", "suspended", "suspend"))
        assert.strictEqual(suspended.status, "suspended")
        // Setting the same status again records nothing.
        yield* store.setAccountStatus(c.id, "u2", "suspended", "suspend")
        assert.isTrue(Option.isNone(yield* store.setAccountStatus(c.id, "nobody", "suspended", "suspend")))
        // The source still says active: the sync puts it back, with an event.
        const run = yield* sync(store, c.id, baseRoster())
        const bob = Option.getOrThrow(yield* store.getAccount(c.id, "u2"))
        assert.strictEqual(bob.account.status, "active")
        assert.deepStrictEqual(bob.history.map((e) => [e.from, e.to, e.cause, e.runId]), [
          ["suspended", "active", "sync", run.id],
          ["active", "suspended", "suspend", null],
          [null, "active", "sync", bob.history[2]!.runId]
        ])
      }))

    it.scopedLive("keeps the last known activity when the source stops reporting it", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { store } = yield* openStore(db)
        const c = yield* newConnection(store)
        const seen = "2025-05-30T08:00:00+02:00"
        yield* sync(store, c.id, [account("u1", { lastActiveAt: seen, entitlements: [{ product: "jira", lastActiveAt: seen }] })])
        yield* sync(store, c.id, [account("u1", { entitlements: [{ product: "jira" }] })])
        const u1 = yield* statusOf(store, c.id, "u1")
        // Normalised to UTC.
        assert.strictEqual(u1.lastActiveAt, "2025-05-30T06:00:00.000Z")
        assert.strictEqual(u1.entitlements[0]!.lastActiveAt, "2025-05-30T06:00:00.000Z")
      }))

    // --- the lock (invariant 8) ---------------------------------------------------------------------------

    it.scopedLive("a second run of the same connection fails SyncAlreadyRunning with the holder's run id", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { store } = yield* openStore(db)
        const c = yield* newConnection(store)
        const other = yield* newConnection(store, "Other")
        const first = yield* store.startRun(c.id, makeOwner())
        const error = yield* Effect.flip(store.startRun(c.id, makeOwner()))
        assert.strictEqual(error._tag, "SyncAlreadyRunning")
        assert.deepStrictEqual(error._tag === "SyncAlreadyRunning" ? [error.connectionId, error.runId] : [], [c.id, first.id])
        // Another connection is not blocked.
        yield* store.startRun(other.id, makeOwner())
        // Nor can the running connection be deleted.
        assert.strictEqual((yield* Effect.flip(store.deleteConnection(c.id))).reason, "Conflict")
        yield* store.commitRun(first.id, NO_REQUESTS)
        yield* store.startRun(c.id, makeOwner())
        // An unknown connection cannot be synced.
        assert.strictEqual((yield* Effect.flip(store.startRun("missing", makeOwner())))._tag, "StoreError")
      }))

    it.scopedLive("two store instances racing for the lock: exactly one wins", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const a = yield* openStore(db)
        const b = yield* openStore(db)
        for (let round = 0; round < 5; round++) {
          const c = yield* newConnection(a.store, `race ${round}`)
          const results = yield* Effect.all(
            [a.store.startRun(c.id, makeOwner()), b.store.startRun(c.id, makeOwner())],
            { concurrency: "unbounded", mode: "either" }
          )
          const winners = results.filter((r) => r._tag === "Right").map((r) => (r as { right: SyncRun }).right)
          const losers = results.filter((r) => r._tag === "Left").map((r) => (r as { left: { _tag: string; runId?: string } }).left)
          assert.strictEqual(winners.length, 1, `round ${round}: one winner`)
          assert.strictEqual(losers[0]!._tag, "SyncAlreadyRunning")
          assert.strictEqual(losers[0]!.runId, winners[0]!.id)
          const runs = yield* b.store.listRuns(c.id, 10)
          assert.deepStrictEqual(runs.map((r) => r.status), ["running"])
        }
      }))

    it.scopedLive("a lock whose lease expired is taken over, and its run marked interrupted", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        // A process on another host that stopped heartbeating, with a short lease.
        const stale = yield* openStore(db, { leaseDuration: "1 second" })
        const { store } = yield* openStore(db)
        const c = yield* newConnection(store)
        yield* sync(store, c.id, baseRoster())
        const before = yield* snapshot(store, c.id)
        const abandoned = yield* stale.store.startRun(c.id, "elsewhere:4242:abc")
        yield* stale.store.stage(abandoned.id, [account("u1")])
        yield* Effect.sleep("1500 millis")

        const next = yield* store.startRun(c.id, makeOwner())
        const old = Option.getOrThrow(yield* store.getRun(abandoned.id))
        assert.strictEqual(old.status, "interrupted")
        assert.strictEqual(old.error?.reason, "Interrupted")
        assert.include(old.error?.message ?? "", "nothing was applied")
        // The old process wakes up: it can neither stage nor commit, and nothing of it is applied.
        assert.strictEqual((yield* Effect.flip(stale.store.stage(abandoned.id, [account("u1")]))).reason, "Conflict")
        assert.strictEqual((yield* Effect.flip(stale.store.heartbeat(abandoned.id))).reason, "Conflict")
        assert.strictEqual((yield* Effect.flip(stale.store.commitRun(abandoned.id, NO_REQUESTS))).reason, "Conflict")
        const late = yield* stale.store.abortRun(abandoned.id, "failed", { reason: "Unavailable", message: "late" }, NO_REQUESTS)
        assert.strictEqual(late.status, "interrupted", "a late abort keeps the recovered outcome")
        assert.strictEqual(Option.getOrThrow(yield* store.getRun(next.id)).status, "running", "nor frees the new lock")
        yield* store.abortRun(next.id, "interrupted", { reason: "Interrupted", message: "test" }, NO_REQUESTS)
        assert.deepStrictEqual(yield* snapshot(store, c.id), before)
      }))

    it.scopedLive("a heartbeat renews the lease", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { sql, store } = yield* openStore(db)
        const c = yield* newConnection(store)
        const run = yield* store.startRun(c.id, makeOwner())
        const lease = sql<{ lease_expires_at: string }>`SELECT lease_expires_at FROM sync_locks WHERE run_id = ${run.id}`
        const before = (yield* lease)[0]!.lease_expires_at
        yield* Effect.sleep("20 millis")
        yield* store.heartbeat(run.id)
        const after = (yield* lease)[0]!.lease_expires_at
        assert.isTrue(after > before, `${after} > ${before}`)
        assert.isTrue(Date.parse(after) - Date.now() > 20_000, "the default lease is 30 seconds")
      }))

    it.scopedLive("a lock whose owner process on this host is gone is recovered as interrupted", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { sql, store } = yield* openStore(db)
        const c = yield* newConnection(store)
        const live = yield* newConnection(store, "live")
        const remote = yield* newConnection(store, "remote")
        // A pid that existed and has exited.
        const child = ChildProcess.spawnSync(process.execPath, ["-e", ""])
        const deadOwner = `${Os.hostname()}:${child.pid}:deadbeef`
        const dead = yield* store.startRun(c.id, deadOwner)
        yield* store.stage(dead.id, [account("u1")])
        const alive = yield* store.startRun(live.id, makeOwner())
        const elsewhere = yield* store.startRun(remote.id, "another-host:1:abc")

        const recovered = yield* store.recoverAbandonedRuns
        assert.deepStrictEqual(recovered.map((r) => r.id), [dead.id])
        assert.strictEqual(recovered[0]!.status, "interrupted")
        assert.strictEqual(recovered[0]!.error?.reason, "Interrupted")
        assert.include(recovered[0]!.error?.message ?? "", "nothing was applied")
        const staged = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM staged_accounts`
        assert.strictEqual(Number(staged[0]!.n), 0)
        assert.strictEqual(Option.getOrThrow(yield* store.getRun(alive.id)).status, "running")
        assert.strictEqual(Option.getOrThrow(yield* store.getRun(elsewhere.id)).status, "running")
        assert.deepStrictEqual((yield* store.listAccounts({ connectionId: c.id, limit: 10 })).total, 0)
        // The connection can be synced again.
        yield* store.startRun(c.id, makeOwner())
      }))

    it.scopedLive("deleting a connection removes everything synced under it", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { sql, store } = yield* openStore(db)
        const c = yield* newConnection(store)
        const kept = yield* newConnection(store, "kept")
        yield* sync(store, c.id, baseRoster())
        yield* sync(store, kept.id, baseRoster())
        assert.isTrue(yield* store.deleteConnection(c.id))
        assert.isFalse(yield* store.deleteConnection(c.id))
        assert.isTrue(Option.isNone(yield* store.getConnection(c.id)))
        for (const table of ["accounts", "entitlements", "status_events", "sync_runs", "sync_locks"]) {
          const rows = yield* sql<{ n: number | string }>`SELECT COUNT(*) AS n FROM ${sql(table)} WHERE connection_id = ${c.id}`
          assert.strictEqual(Number(rows[0]!.n), 0, table)
        }
        assert.strictEqual((yield* store.listAccounts({ connectionId: kept.id, limit: 10 })).total, 3)
      }))

    // --- queries --------------------------------------------------------------------------------------------

    const queryRoster = () => [
      account("a:1", { name: "Alice", lastActiveAt: daysAgo(NOW, 1), entitlements: [{ product: "jira", site: "acme", lastActiveAt: daysAgo(NOW, 1) }] }),
      account("a:2", { name: "bruno", lastActiveAt: daysAgo(NOW, 45), entitlements: [{ product: "jira", site: "acme", lastActiveAt: daysAgo(NOW, 45) }, { product: "confluence", site: "acme", lastActiveAt: daysAgo(NOW, 100) }] }),
      account("a:3", { name: "Chloé 100%", email: "chloe_x@corp.test", lastActiveAt: daysAgo(NOW, 70), entitlements: [{ product: "jira", site: "beta" }] }),
      account("a:4", { name: "Dana", email: null, entitlements: [{ product: "confluence", site: "acme" }] }),
      account("a:5", { name: "Eve", status: "suspended", lastActiveAt: daysAgo(NOW, 200), entitlements: [{ product: "jira", site: "acme", lastActiveAt: daysAgo(NOW, 95) }] }),
      account("a:6", { name: "Frank", lastActiveAt: daysAgo(NOW, 10), entitlements: [] }),
      account("a:7", { name: "gina", lastActiveAt: daysAgo(NOW, 31), entitlements: [{ product: "confluence", site: "beta", lastActiveAt: daysAgo(NOW, 5) }] })
    ]

    it.scopedLive("filters accounts by status, product, inactivity and search", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { store } = yield* openStore(db)
        const c = yield* newConnection(store)
        yield* sync(store, c.id, queryRoster())
        // One account loses Jira: a deprovisioned entitlement does not count as holding the product.
        yield* sync(store, c.id, queryRoster().map((a) =>
          a.externalId === "a:1" ? account("a:1", { name: "Alice", lastActiveAt: daysAgo(NOW, 1), entitlements: [] }) : a
        ))
        const ids = (query: Partial<Parameters<Store["listAccounts"]>[0]>) =>
          store.listAccounts({ connectionId: c.id, limit: 100, now: NOW, ...query }).pipe(
            Effect.map((page) => ({ ids: page.data.map((a) => a.externalId), total: page.total }))
          )
        // Ordered by display name, case-insensitively.
        assert.deepStrictEqual((yield* ids({})).ids, ["a:1", "a:2", "a:3", "a:4", "a:5", "a:6", "a:7"])
        assert.deepStrictEqual(yield* ids({ status: "suspended" }), { ids: ["a:5"], total: 1 })
        assert.deepStrictEqual((yield* ids({ product: "jira:acme" })).ids, ["a:2", "a:5"])
        assert.deepStrictEqual((yield* ids({ product: "jira" })).ids, ["a:2", "a:3", "a:5"])
        assert.deepStrictEqual((yield* ids({ product: "confluence" })).ids, ["a:2", "a:4", "a:7"])
        assert.deepStrictEqual((yield* ids({ product: "conf" })).ids, [], "no prefix matching of product keys")
        // Inactive for 30 days: last active before the cutoff, or never.
        assert.deepStrictEqual((yield* ids({ inactiveDays: 30 })).ids, ["a:2", "a:3", "a:4", "a:5", "a:7"])
        assert.deepStrictEqual((yield* ids({ inactiveDays: 60 })).ids, ["a:3", "a:4", "a:5"])
        assert.deepStrictEqual(yield* ids({ inactiveDays: 60, product: "jira", status: "active" }), { ids: ["a:3"], total: 1 })
        // Search: case-insensitive substring of name, email or id; LIKE wildcards are literal.
        assert.deepStrictEqual((yield* ids({ q: "BRU" })).ids, ["a:2"])
        assert.deepStrictEqual((yield* ids({ q: "corp.TEST" })).ids, ["a:3"])
        assert.deepStrictEqual((yield* ids({ q: "a:6" })).ids, ["a:6"])
        assert.deepStrictEqual((yield* ids({ q: "100%" })).ids, ["a:3"])
        assert.deepStrictEqual((yield* ids({ q: "%" })).ids, ["a:3"])
        assert.deepStrictEqual((yield* ids({ q: "e_x" })).ids, ["a:3"])
        assert.deepStrictEqual((yield* ids({ q: "_" })).ids, ["a:3"])
        assert.deepStrictEqual((yield* ids({ q: "chloé" })).ids, ["a:3"])
        assert.deepStrictEqual((yield* ids({ q: "nobody" })), { ids: [], total: 0 })
        const dana = (yield* store.listAccounts({ connectionId: c.id, limit: 1, q: "dana" })).data[0]!
        assert.strictEqual(dana.email, null)
        assert.strictEqual(dana.lastActiveAt, null)
      }))

    it.scopedLive("pages with a cursor visit each account once; a forged cursor is rejected", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { store } = yield* openStore(db)
        const c = yield* newConnection(store)
        const other = yield* newConnection(store, "other")
        // Same display names, so that the order falls back to the id.
        const roster = Array.from({ length: 23 }, (_, i) => account(`p:${String(i).padStart(2, "0")}`, { name: i % 3 === 0 ? "Same" : `N${i % 7}` }))
        yield* sync(store, c.id, roster)
        yield* sync(store, other.id, roster)
        const seen = yield* allPages((cursor) => store.listAccounts({ connectionId: c.id, limit: 4, cursor }))
        assert.strictEqual(seen.length, 23)
        assert.strictEqual(new Set(seen.map((a) => a.externalId)).size, 23)
        const filtered = yield* allPages((cursor) => store.listAccounts({ connectionId: c.id, limit: 2, q: "same", cursor }))
        assert.deepStrictEqual(filtered.map((a) => a.externalId), ["p:00", "p:03", "p:06", "p:09", "p:12", "p:15", "p:18", "p:21"])

        const first = yield* store.listAccounts({ connectionId: c.id, limit: 4 })
        assert.strictEqual(first.total, 23)
        const cursor = first.nextCursor!
        const [body, signature] = cursor.split(".")
        const forgedBody = Buffer.from(
          JSON.stringify({ ...JSON.parse(Buffer.from(body!, "base64url").toString()), id: "p:20" })
        ).toString("base64url")
        for (const bad of [`${forgedBody}.${signature}`, "garbage", `${body}.`, "e30.e30", `${body}.${signature}x`]) {
          const error = yield* Effect.flip(store.listAccounts({ connectionId: c.id, limit: 4, cursor: bad }))
          assert.strictEqual(error.reason, "Corrupt", bad)
          assert.include(error.message, "cursor")
        }
        // A cursor of another connection's list, or of the audit log, does not fit this list.
        const otherCursor = (yield* store.listAccounts({ connectionId: other.id, limit: 4 })).nextCursor!
        assert.strictEqual((yield* Effect.flip(store.listAccounts({ connectionId: c.id, limit: 4, cursor: otherCursor }))).reason, "Corrupt")
        assert.strictEqual((yield* Effect.flip(store.listAudit({ limit: 4, cursor }))).reason, "Corrupt")
        // A store with another key does not accept this store's cursors.
        const { store: rekeyed } = yield* openStore(db, { secretKey: OTHER_SECRET_KEY })
        assert.strictEqual((yield* Effect.flip(rekeyed.listAccounts({ connectionId: c.id, limit: 4, cursor }))).reason, "Corrupt")
      }))

    it.scopedLive("lists apps with assignment and inactivity counts, and each app's accounts", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { store } = yield* openStore(db)
        const c = yield* newConnection(store)
        yield* sync(store, c.id, queryRoster())
        yield* sync(store, c.id, queryRoster().filter((a) => a.externalId !== "a:2"))
        const apps = yield* store.listApps(c.id, NOW)
        const row = (key: string) => apps.find((a) => a.key === key)!
        assert.deepStrictEqual(apps.map((a) => a.key), ["confluence:acme", "confluence:beta", "jira:acme", "jira:beta"])
        assert.deepStrictEqual(row("jira:acme"), {
          key: "jira:acme",
          name: "jira (acme)",
          product: "jira",
          site: "acme",
          // a:1 (1 day), a:5 (95 days, its own activity wins over the account's 200); a:2 was deprovisioned.
          active: 2,
          deprovisioned: 1,
          inactive30: 1,
          inactive60: 1,
          inactive90: 1,
          lastActiveAt: daysAgo(NOW, 1)
        })
        // a:4 never active; a:2's assignment is deprovisioned.
        assert.deepStrictEqual([row("confluence:acme").active, row("confluence:acme").deprovisioned, row("confluence:acme").inactive90], [1, 1, 1])
        // jira:beta: a:3 has no activity of its own on the app, so the account's (70 days) counts.
        assert.deepStrictEqual([row("jira:beta").inactive30, row("jira:beta").inactive60, row("jira:beta").inactive90], [1, 1, 0])
        assert.strictEqual(row("jira:beta").lastActiveAt, daysAgo(NOW, 70))
        // confluence:beta: a:7 used the app 5 days ago though the account says 31.
        assert.strictEqual(row("confluence:beta").inactive30, 0)

        const appIds = (query: { inactiveDays?: number; entitlementKey: string }) =>
          store.listAppAccounts({ connectionId: c.id, limit: 100, now: NOW, ...query }).pipe(
            Effect.map((page) => page.data.map((a) => a.externalId))
          )
        assert.deepStrictEqual(yield* appIds({ entitlementKey: "jira:acme" }), ["a:1", "a:5"])
        assert.deepStrictEqual(yield* appIds({ entitlementKey: "jira:acme", inactiveDays: 90 }), ["a:5"])
        assert.deepStrictEqual(yield* appIds({ entitlementKey: "confluence:beta", inactiveDays: 30 }), [])
        assert.deepStrictEqual(yield* appIds({ entitlementKey: "jira:beta", inactiveDays: 60 }), ["a:3"])
      }))

    it.scopedLive("the audit log is newest first, filterable by connection and paged", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { store } = yield* openStore(db)
        const a = yield* newConnection(store, "a")
        const b = yield* newConnection(store, "b")
        for (let i = 0; i < 7; i++) {
          yield* store.appendAudit({
            actor: "admin",
            action: i % 2 === 0 ? "account.suspend" : "sync.start",
            connectionId: i < 5 ? a.id : b.id,
            target: `u${i}`,
            input: { reason: `r${i}`, dryRun: i === 0 },
            outcome: i === 0 ? "dry-run" : "ok",
            detail: null
          })
        }
        yield* store.appendAudit({ actor: "system", action: "start", connectionId: null, target: null, input: undefined, outcome: "ok", detail: "boot" })
        const all = yield* allPages((cursor) => store.listAudit({ limit: 3, cursor }))
        assert.deepStrictEqual(all.map((e) => e.target), [null, "u6", "u5", "u4", "u3", "u2", "u1", "u0"])
        assert.deepStrictEqual(all[7]!.input, { reason: "r0", dryRun: true })
        assert.strictEqual(all[7]!.outcome, "dry-run")
        assert.strictEqual(all[0]!.input, null)
        const ofA = yield* allPages((cursor) => store.listAudit({ connectionId: a.id, limit: 2, cursor }))
        assert.deepStrictEqual(ofA.map((e) => e.target), ["u4", "u3", "u2", "u1", "u0"])
        assert.strictEqual((yield* store.listAudit({ connectionId: b.id, limit: 1 })).total, 2)
        assert.isTrue(all.every((e) => !Number.isNaN(Date.parse(e.at))))
      }))
  })
