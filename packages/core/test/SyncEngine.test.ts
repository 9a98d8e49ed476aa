// The sync engine against the in-memory store: every invariant of a sync that does not depend on SQL.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { Entitlement, ProviderAccount } from "../src/Account.js"
import type { AccountStatus } from "../src/Account.js"
import { ConnectionStore } from "../src/Connection.js"
import { InventoryStore } from "../src/Inventory.js"
import * as Provider from "../src/Provider.js"
import { ProviderError } from "../src/ProviderError.js"
import * as SyncEngine from "../src/SyncEngine.js"
import { SyncStore } from "../src/SyncStore.js"
import * as MemoryStore from "../src/testing/MemoryStore.js"

// ----- Helpers -----

const person = (
  id: string,
  options: { status?: AccountStatus; products?: ReadonlyArray<string> | undefined; lastActiveAt?: string } = {}
) =>
  new ProviderAccount({
    externalId: id,
    email: `${id}@acme.test`,
    displayName: id,
    accountType: "atlassian",
    status: options.status ?? "active",
    sourceStatus: options.status ?? "active",
    lastActiveAt: options.lastActiveAt,
    entitlements: options.products === undefined && "products" in options
      ? undefined
      : (options.products ?? ["confluence"]).map((product) =>
        new Entitlement({
          key: `${product}:acme.atlassian.net`,
          product,
          site: "acme",
          siteHost: "acme.atlassian.net",
          displayName: `${product} (acme)`,
          status: "active"
        })
      )
  })

interface FakeOrg {
  /** The pages the next listing returns, each with the total it reports (default: the roster's size). */
  pages: Array<{ readonly accounts: ReadonlyArray<ProviderAccount>; readonly total?: number | undefined }>
  /** Who a lookup finds; `undefined` disables lookups (a provider without them). */
  present: Map<string, ProviderAccount> | undefined
  lookups: Array<string>
}

const org = (accounts: ReadonlyArray<ProviderAccount>, options: { lookups?: boolean } = {}): FakeOrg => ({
  pages: [{ accounts }],
  present: options.lookups === false ? undefined : new Map(accounts.map((a) => [a.externalId, a])),
  lookups: []
})

const list = (fake: FakeOrg, accounts: ReadonlyArray<ProviderAccount>) => {
  fake.pages = [{ accounts }]
  if (fake.present !== undefined) { for (const a of accounts) fake.present.set(a.externalId, a) }
}

const connectTo = (fake: FakeOrg) =>
  Effect.sync(() => {
    const total = fake.pages.reduce((n, p) => n + p.accounts.length, 0)
    const present = fake.present
    return Provider.makeConnection({
      provider: "fake",
      budgetKey: "fake:org",
      verify: Effect.void,
      requestStats: Effect.succeed({ requests: fake.pages.length, retries: 0, rateLimited: 0 }),
      pages: Stream.fromIterable(fake.pages.map((p) => ({ accounts: p.accounts, total: p.total ?? total }))),
      lookup: present === undefined ? undefined : (id) =>
        Effect.sync(() => {
          fake.lookups.push(id)
          return Option.fromNullable(present.get(id))
        })
    })
  })

const setUp = Effect.gen(function*() {
  const connections = yield* ConnectionStore
  const connection = yield* connections.create({ provider: "fake", name: "Acme", config: {} })
  return connection.id
})

const sync = (connectionId: string, fake: FakeOrg, settings?: SyncEngine.ExecuteOptions["settings"]) =>
  SyncEngine.run(connectionId, "test-owner", connectTo(fake), { settings })

const statusOf = (connectionId: string, id: string) =>
  Effect.flatMap(InventoryStore, (inventory) => inventory.getAccount(connectionId, id)).pipe(
    Effect.map(Option.map(({ account }) => account.status)),
    Effect.map(Option.getOrUndefined)
  )

const productsOf = (connectionId: string, id: string) =>
  Effect.flatMap(InventoryStore, (inventory) => inventory.getAccount(connectionId, id)).pipe(
    Effect.map((found) => Option.getOrThrow(found).account.entitlements.map((e) => `${e.product}:${e.status}`))
  )

const people = (n: number, prefix = "u") =>
  Array.from({ length: n }, (_, i) => person(`${prefix}${String(i).padStart(3, "0")}`))

// ----- Tests -----

describe("SyncEngine", () => {
  it.effect("applies a complete first listing and counts what it created", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const run = yield* sync(id, org(people(30)))
      assert.strictEqual(run.status, "succeeded")
      assert.deepInclude(run.stats, { accounts: 30, created: 30, updated: 0, unchanged: 0, deprovisioned: 0 })
      const again = yield* sync(id, org(people(30)))
      assert.deepInclude(again.stats, { accounts: 30, created: 0, updated: 0, unchanged: 30 })
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("deprovisions an absent account only once a lookup confirms it is gone", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const fake = org(people(40))
      yield* sync(id, fake)
      // u001 was skipped by a shifting cursor but still exists; u002 has really left.
      fake.present!.delete("u002")
      list(fake, people(40).filter((a) => a.externalId !== "u001" && a.externalId !== "u002"))
      const run = yield* sync(id, fake)
      assert.strictEqual(run.status, "succeeded")
      assert.deepInclude(run.stats, { absentConfirmed: 1, absentButPresent: 1, deprovisioned: 1, lookups: 2 })
      assert.deepStrictEqual(fake.lookups.sort(), ["u001", "u002"])
      assert.strictEqual(yield* statusOf(id, "u001"), "active")
      assert.strictEqual(yield* statusOf(id, "u002"), "deprovisioned")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("fails a roster shorter than the source's total and changes nothing", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const fake = org(people(20))
      yield* sync(id, fake)
      fake.pages = [{ accounts: people(15), total: 20 }]
      const run = yield* sync(id, fake)
      assert.strictEqual(run.status, "failed")
      assert.strictEqual(run.error?.reason, "Incomplete")
      assert.strictEqual(yield* statusOf(id, "u019"), "active")
      assert.deepStrictEqual(fake.lookups, [], "a failed listing confirms nothing")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("records a total that moved while paging as a shifted roster", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const all = people(30)
      const fake = org(all)
      yield* sync(id, fake)
      // Page 1 reported 30; an account left, so page 2 reports 29 and one present account was skipped.
      fake.pages = [{ accounts: all.slice(0, 10), total: 30 }, { accounts: all.slice(11, 30), total: 29 }]
      const run = yield* sync(id, fake)
      assert.strictEqual(run.status, "succeeded")
      assert.deepInclude(run.stats, { totalAtStart: 30, totalAtEnd: 29, rosterShifted: true, absentButPresent: 1 })
      assert.strictEqual(yield* statusOf(id, "u010"), "active")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("holds an emptied roster, applies nothing, and lets an admin discard it", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const fake = org(people(25))
      yield* sync(id, fake)
      fake.pages = [{ accounts: [], total: 0 }]
      fake.present!.clear()
      const held = yield* sync(id, fake)
      assert.strictEqual(held.status, "held")
      assert.strictEqual(held.hold?.reason, "emptyRoster")
      assert.strictEqual(held.hold?.wouldDeprovision, 25)
      assert.strictEqual(yield* statusOf(id, "u000"), "active")
      const discarded = yield* SyncEngine.discardHeld(held.id, "alice")
      assert.strictEqual(discarded.status, "discarded")
      assert.deepInclude(discarded.decision, { decision: "discard", actor: "alice" })
      assert.strictEqual(yield* statusOf(id, "u000"), "active")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("holds a run over the threshold; applying it deprovisions exactly the confirmed absences", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const fake = org(people(20))
      yield* sync(id, fake)
      for (const a of people(20).slice(0, 4)) fake.present!.delete(a.externalId)
      list(fake, people(20).slice(4))
      const held = yield* sync(id, fake)
      assert.strictEqual(held.status, "held")
      assert.deepInclude(held.hold, {
        reason: "threshold",
        wouldDeprovision: 4,
        activeAccounts: 20,
        thresholdPercent: 10
      })
      const applied = yield* SyncEngine.applyHeld(held.id, "test-owner", "alice")
      assert.strictEqual(applied.status, "succeeded")
      assert.strictEqual(applied.stats.deprovisioned, 4)
      assert.deepInclude(applied.decision, { decision: "apply", actor: "alice" })
      assert.strictEqual(yield* statusOf(id, "u000"), "deprovisioned")
      assert.strictEqual(yield* statusOf(id, "u004"), "active")
      // A higher threshold lets the same kind of change through unreviewed.
      for (const a of people(20).slice(4, 7)) fake.present!.delete(a.externalId)
      list(fake, people(20).slice(7))
      const through = yield* sync(id, fake, { holdThresholdPercent: 50 })
      assert.strictEqual(through.status, "succeeded")
      assert.strictEqual(through.stats.deprovisioned, 3)
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("holds a run with more absentees than it may look up, without looking any up", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const fake = org(people(50))
      yield* sync(id, fake)
      list(fake, people(50).slice(10))
      const held = yield* sync(id, fake, { maxLookups: 5, holdThresholdPercent: 100 })
      assert.strictEqual(held.status, "held")
      assert.strictEqual(held.hold?.reason, "lookupCap")
      assert.strictEqual(held.hold?.absent, 10)
      assert.deepStrictEqual(fake.lookups, [])
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("without lookups, deprovisions after two consecutive complete absences", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const fake = org(people(30), { lookups: false })
      yield* sync(id, fake)
      list(fake, people(30).slice(1))
      const first = yield* sync(id, fake)
      assert.deepInclude(first.stats, { absentPending: 1, deprovisioned: 0 })
      assert.strictEqual(yield* statusOf(id, "u000"), "active")
      const second = yield* sync(id, fake)
      assert.deepInclude(second.stats, { absentConfirmed: 1, deprovisioned: 1 })
      assert.strictEqual(yield* statusOf(id, "u000"), "deprovisioned")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("without lookups, a shifted roster proves no absence", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const all = people(30)
      const fake = org(all, { lookups: false })
      yield* sync(id, fake)
      fake.pages = [{ accounts: all.slice(1, 15), total: 30 }, { accounts: all.slice(15), total: 29 }]
      yield* sync(id, fake)
      const again = yield* sync(id, fake)
      assert.strictEqual(again.stats.deprovisioned, 0)
      assert.strictEqual(yield* statusOf(id, "u000"), "active")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("keeps an account's products when the listing leaves them out, and removes them on an explicit []", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const fake = org([person("ada", { products: ["confluence", "jira-software"] })])
      yield* sync(id, fake)
      list(fake, [person("ada", { products: undefined })])
      yield* sync(id, fake)
      assert.deepStrictEqual(yield* productsOf(id, "ada"), ["confluence:active", "jira-software:active"])
      list(fake, [person("ada", { products: [] })])
      const run = yield* sync(id, fake)
      assert.strictEqual(run.stats.entitlementsDeprovisioned, 2)
      assert.deepStrictEqual(yield* productsOf(id, "ada"), ["confluence:deprovisioned", "jira-software:deprovisioned"])
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("leaves the status an admin set after the run started, and the next run confirms it", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const fake = org(people(5))
      yield* sync(id, fake)
      const inventory = yield* InventoryStore
      const run = yield* SyncEngine.start(id, "test-owner")
      yield* TestClock.adjust("1 second")
      // The admin suspends u000 while the run pages; the run read it as active before that.
      yield* inventory.recordAction(id, "u000", "suspended", "suspend")
      const done = yield* SyncEngine.execute(run, connectTo(fake))
      // The admin's action makes the next reading count as new, so the run weighs it, and keeps the status.
      assert.strictEqual(done.stats.adminActionsKept, 1)
      assert.strictEqual(yield* statusOf(id, "u000"), "suspended")
      // Upstream now says suspended: the next run confirms it with no change.
      list(fake, [person("u000", { status: "suspended" }), ...people(5).slice(1)])
      const next = yield* sync(id, fake)
      assert.strictEqual(next.status, "succeeded")
      assert.strictEqual(next.stats.adminActionsKept, 0, "a run started after the action applies its reading")
      assert.strictEqual(yield* statusOf(id, "u000"), "suspended")
      // And a later restore upstream is read as such: the admin's action no longer shields the account.
      list(fake, people(5))
      yield* TestClock.adjust("1 second")
      yield* sync(id, fake)
      assert.strictEqual(yield* statusOf(id, "u000"), "active")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("does not let a run undo a suspend issued while it paged (its reading is older)", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const fake = org(people(5))
      yield* sync(id, fake)
      // The upstream changed too (so the reading differs), but the admin's suspend is newer than the run.
      list(fake, [person("u000", { lastActiveAt: "2026-01-02T00:00:00Z" }), ...people(5).slice(1)])
      const inventory = yield* InventoryStore
      const run = yield* SyncEngine.start(id, "test-owner")
      yield* TestClock.adjust("1 second")
      yield* inventory.recordAction(id, "u000", "suspended", "suspend")
      const done = yield* SyncEngine.execute(run, connectTo(fake))
      assert.strictEqual(done.stats.adminActionsKept, 1)
      assert.strictEqual(yield* statusOf(id, "u000"), "suspended")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("supersedes a held run when the next run starts", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const fake = org(people(10))
      yield* sync(id, fake)
      fake.pages = [{ accounts: [], total: 0 }]
      const held = yield* sync(id, fake)
      assert.strictEqual(held.status, "held")
      list(fake, people(10))
      const next = yield* sync(id, fake)
      assert.strictEqual(next.status, "succeeded")
      const store = yield* SyncStore
      const old = Option.getOrThrow(yield* store.get(held.id))
      assert.strictEqual(old.status, "superseded")
      const refused = yield* Effect.flip(SyncEngine.applyHeld(held.id, "test-owner", "alice"))
      assert.strictEqual(refused._tag, "StoreError")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("fails a run that outlives its deadline, with nothing applied", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      yield* sync(id, org(people(3)))
      const never = Effect.succeed(Provider.makeConnection({
        provider: "fake",
        budgetKey: "fake:org",
        verify: Effect.void,
        requestStats: Effect.succeed({ requests: 1, retries: 0, rateLimited: 0 }),
        pages: Stream.concat(Stream.make({ accounts: [], total: 3 }), Stream.never)
      }))
      const fiber = yield* Effect.fork(SyncEngine.run(id, "test-owner", never, { settings: { deadlineMinutes: 1 } }))
      yield* TestClock.adjust("61 seconds")
      const run = yield* Fiber.join(fiber)
      assert.strictEqual(run.status, "failed")
      assert.strictEqual(run.error?.reason, "Unavailable")
      assert.include(run.error?.message ?? "", "deadline")
      assert.strictEqual(yield* statusOf(id, "u000"), "active")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("records an interrupted run as interrupted and applies nothing", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      const stuck = Effect.succeed(Provider.makeConnection({
        provider: "fake",
        budgetKey: "fake:org",
        verify: Effect.void,
        requestStats: Effect.succeed({ requests: 0, retries: 0, rateLimited: 0 }),
        pages: Stream.concat(Stream.make({ accounts: people(3), total: 6 }), Stream.never)
      }))
      const fiber = yield* Effect.fork(SyncEngine.run(id, "test-owner", stuck))
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(fiber)
      const store = yield* SyncStore
      const [run] = yield* store.list(id, 1)
      assert.strictEqual(run?.status, "interrupted")
      assert.isTrue(Option.isNone(yield* Effect.flatMap(InventoryStore, (i) => i.getAccount(id, "u000"))))
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("fails a run whose provider fails, keeping the previous snapshot", () =>
    Effect.gen(function*() {
      const id = yield* setUp
      yield* sync(id, org(people(3)))
      const broken = Effect.succeed(Provider.makeConnection({
        provider: "fake",
        budgetKey: "fake:org",
        verify: Effect.void,
        requestStats: Effect.succeed({ requests: 1, retries: 0, rateLimited: 0 }),
        pages: Stream.fail(
          new ProviderError({
            reason: "Forbidden",
            provider: "fake",
            operation: "accounts",
            description: "no",
            hint: "fix it"
          })
        )
      }))
      const run = yield* SyncEngine.run(id, "test-owner", broken)
      assert.strictEqual(run.status, "failed")
      assert.deepInclude(run.error, { reason: "Forbidden", hint: "fix it" })
      assert.strictEqual(yield* statusOf(id, "u002"), "active")
    }).pipe(Effect.provide(MemoryStore.layer())))
})
