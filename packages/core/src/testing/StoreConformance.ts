/**
 * The storage conformance suite: one set of behaviours every implementation of core's storage ports
 * (`ConnectionStore`, `SyncStore`, `InventoryStore`, `AuditStore`, `ReclaimStore`, `UserStore`,
 * `WebhookStore`) must show. `MemoryStore` is the reference; `@seatkeeper/store` runs the same suite against
 * SQLite and PostgreSQL.
 *
 * ```ts
 * import { runStoreConformance } from "@seatkeeper/core/testing/StoreConformance"
 * runStoreConformance("memory", MemoryStore.layer())
 * ```
 *
 * The layer is built once for the whole suite and the tests share it (and its `TestClock`), so every test
 * works on connections (users, webhooks) of its own and never assumes an empty store. Time is the `TestClock`'s: tests move it
 * forward (leases expire, runs start after admin actions) and never back.
 *
 * @since 0.2.0
 */
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import { type AccountStatus, Entitlement, ProviderAccount } from "../Account.js"
import { AuditStore } from "../Audit.js"
import { ConnectionStore, defaultSyncSettings } from "../Connection.js"
import {
  type AccountQuery,
  type AccountSort,
  InventoryStore,
  type Page,
  type SeatQuery,
  type StoredAccount,
  type StoredEntitlement
} from "../Inventory.js"
import { License } from "../License.js"
import { type Price, ReclaimPolicy } from "../Reclaim.js"
import {
  type Journal,
  type NewPlan,
  type PlanItem,
  type PlanProgress,
  ReclaimStore,
  type StoredPolicy
} from "../ReclaimStore.js"
import * as Seats from "../Seats.js"
import type { StoreError } from "../StoreError.js"
import type { RunCounters, SyncHold } from "../SyncRun.js"
import { noCounters } from "../SyncRun.js"
import { type AbsenceVerdict, type SettleRule, SyncStore, TAKEOVER_GRACE_MS } from "../SyncStore.js"
import { UserStore } from "../User.js"
import { WebhookStore } from "../Webhook.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface StoreConformanceOptions {
  /** The sync lock's lease the layer was built with. Default 30 seconds. */
  readonly leaseDuration?: Duration.DurationInput | undefined
  /** Per-test timeout. Default 60 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Random rosters the seat-arithmetic property test syncs. Default 12. */
  readonly propertyRuns?: number | undefined
}

/**
 * The services a store under test provides.
 *
 * @since 0.2.0
 * @category models
 */
export type Stores = ConnectionStore | SyncStore | InventoryStore | AuditStore | ReclaimStore | UserStore | WebhookStore

// =============================================================================
// fixtures
// =============================================================================

const BASE = Date.parse("2026-03-02T08:00:00.000Z")
const DAY = Seats.DAY_MS
const iso = (ms: number) => new Date(ms).toISOString()
const API_KEY = "ATATT-conformance-secret-0123456789"
const OWNER = "conformance-owner"

const trusted = { disableValidation: true } as const

interface EntSpec {
  readonly status?: AccountStatus | undefined
  readonly lastActiveAt?: string | undefined
  readonly role?: string | undefined
  readonly billable?: boolean | undefined
  readonly activitySource?: string | undefined
  readonly name?: string | undefined
}

/** An entitlement of `product` on the site `<site>.atlassian.net`. */
const ent = (product: string, site = "acme", spec: EntSpec = {}): Entitlement =>
  new Entitlement({
    key: `${product}:${site}.atlassian.net`,
    product,
    site,
    siteHost: `${site}.atlassian.net`,
    displayName: spec.name ?? `${product} (${site})`,
    status: spec.status ?? "active",
    lastActiveAt: spec.lastActiveAt,
    role: spec.role,
    billable: spec.billable,
    activitySource: spec.activitySource
  }, trusted)

type PersonSpec = Partial<Omit<ConstructorParameters<typeof ProviderAccount>[0], "externalId">>

/** An active Atlassian account holding Confluence on `acme` unless told otherwise. */
const person = (externalId: string, spec: PersonSpec = {}): ProviderAccount =>
  new ProviderAccount({
    externalId,
    email: `${externalId}@acme.test`,
    displayName: `User ${externalId}`,
    accountType: "atlassian",
    status: "active",
    sourceStatus: spec.status === "suspended" ? "inactive" : spec.status === "deprovisioned" ? "closed" : "active",
    entitlements: [ent("confluence")],
    ...spec
  }, trusted)

const counters = (requests = 3): RunCounters => ({ ...noCounters, requests, retries: 1, rateLimited: 0 })

/** Moves the clock to the suite's base time the first time, then an hour on, so tests never share an instant. */
const freshClock = Effect.gen(function*() {
  const now = yield* Clock.currentTimeMillis
  if (now < BASE) yield* TestClock.setTime(BASE)
  else yield* TestClock.adjust("1 hour")
})

const tick = TestClock.adjust("1 second")
const now = Effect.map(Clock.currentTimeMillis, iso)

const newConnection = (name = "Acme") =>
  Effect.gen(function*() {
    yield* freshClock
    const connections = yield* ConnectionStore
    const c = yield* connections.create({ provider: "test", name, config: { apiKey: API_KEY, orgId: "org-1" } })
    yield* tick
    return c
  })

interface SyncOptions {
  readonly chunk?: number | undefined
  readonly licenses?: ReadonlyArray<License> | undefined
  /** Verdicts on the absentees the listing left; the rest is settled by `settle` when given. */
  readonly verdicts?: ((absent: ReadonlyArray<string>) => ReadonlyArray<AbsenceVerdict>) | undefined
  readonly settle?: SettleRule | undefined
  readonly counters?: RunCounters | undefined
}

/** start → stage (in chunks) → licences → verdicts → settle → apply, a second apart. */
const sync = (connectionId: string, accounts: ReadonlyArray<ProviderAccount>, options: SyncOptions = {}) =>
  Effect.gen(function*() {
    const store = yield* SyncStore
    const run = yield* store.start(connectionId, OWNER)
    yield* staged(run.id, accounts, options)
    yield* tick
    return yield* store.apply(run.id, options.counters ?? counters())
  })

const staged = (runId: string, accounts: ReadonlyArray<ProviderAccount>, options: SyncOptions = {}) =>
  Effect.gen(function*() {
    const store = yield* SyncStore
    const size = options.chunk ?? 2
    for (let i = 0; i < accounts.length; i += size) yield* store.stage(runId, accounts.slice(i, i + size))
    if (options.licenses !== undefined) yield* store.stageLicenses(runId, options.licenses)
    if (options.verdicts !== undefined) {
      const absent = yield* store.absentees(runId, 10_000)
      yield* store.confirm(runId, options.verdicts(absent.first.map((a) => a.externalId)))
    }
    if (options.settle !== undefined) yield* store.settle(runId, options.settle)
  })

const gone = (ids: ReadonlyArray<string>): ReadonlyArray<AbsenceVerdict> =>
  ids.map((externalId) => ({ externalId, verdict: "gone" as const }))

const accountOf = (connectionId: string, externalId: string) =>
  Effect.flatMap(InventoryStore, (inventory) => inventory.getAccount(connectionId, externalId)).pipe(
    Effect.map((found) => Option.getOrThrowWith(found, () => new Error(`no account ${externalId}`)))
  )

const allPages = <A>(
  fetch: (cursor: string | undefined) => Effect.Effect<Page<A>, StoreError>
): Effect.Effect<Array<A>, StoreError> =>
  Effect.gen(function*() {
    const out: Array<A> = []
    let cursor: string | undefined
    for (let pages = 0; pages < 1_000; pages++) {
      const page = yield* fetch(cursor)
      out.push(...page.data)
      if (page.nextCursor === null) return out
      cursor = page.nextCursor
    }
    throw new Error("paging did not end")
  })

/** Pages backwards from the last page to the first and returns the rows in list order. */
const allPagesBack = <A>(
  fetch: (cursor: string | undefined) => Effect.Effect<Page<A>, StoreError>
): Effect.Effect<Array<A>, StoreError> =>
  Effect.gen(function*() {
    let page = yield* fetch(undefined)
    for (let pages = 0; page.nextCursor !== null; pages++) {
      if (pages > 1_000) throw new Error("paging did not end")
      page = yield* fetch(page.nextCursor)
    }
    const out: Array<A> = [...page.data]
    while (page.prevCursor !== null) {
      page = yield* fetch(page.prevCursor)
      out.unshift(...page.data)
    }
    return out
  })

const everyAccount = (connectionId: string, query: Partial<AccountQuery> = {}) =>
  Effect.flatMap(
    InventoryStore,
    (inventory) => allPages((cursor) => inventory.listAccounts({ connectionId, limit: 1_000, ...query, cursor }))
  )

/** What a user can see of a connection, to compare before and after something that must change nothing. */
const visible = (connectionId: string, at: string) =>
  Effect.gen(function*() {
    const inventory = yield* InventoryStore
    const accounts = yield* everyAccount(connectionId, { now: at })
    const details = yield* Effect.forEach(accounts, (a) => inventory.getAccount(connectionId, a.externalId))
    const products = yield* inventory.listProducts(connectionId, at)
    const totals = yield* inventory.totals(connectionId, at)
    const seats = yield* inventory.listSeats({ connectionId, limit: 1_000, now: at })
    return { accounts, details, products, totals, seats: seats.data }
  })

const failure = <A, E>(effect: Effect.Effect<A, E>) => Effect.flip(effect)

const reasonOf = (error: unknown): string =>
  typeof error === "object" && error !== null
    ? ((error as { reason?: string; _tag?: string }).reason ?? (error as { _tag?: string })._tag ?? "?")
    : "?"

// The order a list must come in, computed independently of any store.
const sortValueOf = (sort: AccountSort, a: Omit<StoredAccount, "entitlements">, lastActive: string | null): string => {
  switch (sort) {
    case "name":
      return (a.displayName || a.email || a.externalId).toLowerCase()
    case "email":
      return (a.email ?? "").toLowerCase()
    case "lastActive":
      return lastActive ?? ""
    case "status":
      return a.status
    case "firstSeen":
      return a.firstSeenAt
  }
}

const compareText = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0)

// A small deterministic PRNG (mulberry32), so a failing random roster can be replayed from its seed.
const prng = (seed: number) => {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// --- reclaim fixtures ------------------------------------------------------------------------------

const policyOf = (name: string, inactiveDays = 60): ReclaimPolicy =>
  Schema.decodeUnknownSync(ReclaimPolicy)({
    name,
    scope: { _tag: "seats", products: ["jira-software"], plans: [] },
    inactiveDays,
    exclude: {
      groups: ["execs"],
      exemptions: [{ externalId: "p9", reason: "parental leave", until: "2027-03-01" }]
    },
    fourEyesAbove: 2
  })

type NewItem = NewPlan["items"][number]

/** The `i`th account of a plan, each field exercised by one item or another. */
const itemOf = (i: number): NewItem => ({
  externalId: `p${i}`,
  displayName: `Person ${i}`,
  email: i % 2 === 0 ? `p${i}@acme.test` : null,
  managed: i % 3 === 0 ? null : i % 3 === 1,
  roles: i === 0 ? ["user", "jira-software-users"] : [],
  attributes: i === 0 ? { department: "R&D", "cost center": "42" } : {},
  lastActiveAt: i % 2 === 0 ? iso(BASE - 90 * DAY) : null,
  seats: [
    {
      key: "jira-software:acme.atlassian.net",
      name: "Jira (acme)",
      product: "jira-software",
      plan: i === 0 ? "Standard" : null,
      lastActiveAt: i % 2 === 0 ? iso(BASE - 90 * DAY) : null,
      activitySource: i % 2 === 0 ? "product" : null
    },
    ...(i === 0
      ? [{
        key: "confluence:acme.atlassian.net",
        name: "Confluence (acme)",
        product: "confluence",
        plan: null,
        lastActiveAt: null,
        activitySource: null
      }]
      : [])
  ],
  action: "suspend",
  preflight: i % 2 === 0
    ? { allowed: true, method: "lifecycle", methodLabel: "Deactivate", reason: null, hint: null }
    : i === 1
    ? { allowed: false, method: "directory", methodLabel: "Suspend", reason: "managed by SCIM", hint: "use the IdP" }
    : null,
  monthly: i === 0 ? { EUR: 7.75, USD: 10 } : { EUR: 7.75 }
})

const newPolicy = (connectionId: string, name = "Idle Jira") =>
  Effect.flatMap(ReclaimStore, (store) => store.createPolicy(connectionId, policyOf(name), "alice"))

const newPlan = (
  connectionId: string,
  policy: StoredPolicy,
  count: number,
  options: { readonly blockedBecause?: string | null; readonly items?: ReadonlyArray<NewItem> } = {}
) =>
  Effect.flatMap(ReclaimStore, (store) =>
    store.createPlan({
      connectionId,
      policy,
      createdBy: "alice",
      basedOnRunId: `run-of-${connectionId}`,
      dataAt: iso(BASE),
      blockedBecause: options.blockedBecause ?? null,
      fourEyes: count > 2,
      monthly: { EUR: 7.75 * count, USD: 10 },
      unpriced: 1,
      excluded: [{
        externalId: "p9",
        displayName: "Person 9",
        reason: "exempt",
        detail: "exempt until 2027-03-01: leave"
      }],
      items: options.items ?? Array.from({ length: count }, (_, i) => itemOf(i))
    }))

/** An approved plan of `count` accounts on a connection of its own. */
const approvedPlan = (count: number) =>
  Effect.gen(function*() {
    const c = yield* newConnection()
    const policy = yield* newPolicy(c.id)
    const plan = yield* newPlan(c.id, policy, count)
    yield* Effect.flatMap(ReclaimStore, (store) => store.approve(plan.id, "bob"))
    yield* tick
    return { connectionId: c.id, policy, planId: plan.id }
  })

const progress = (counts: Partial<PlanProgress>): PlanProgress => ({
  pending: 0,
  acting: 0,
  done: 0,
  refused: 0,
  failed: 0,
  skipped: 0,
  undone: 0,
  unchecked: 0,
  ...counts
})

const journalAt = (at: string): Journal => ({
  statusBefore: "active",
  productsBefore: ["jira-software:acme.atlassian.net", "confluence:acme.atlassian.net"],
  method: "lifecycle",
  at
})

const itemOfPlan = (planId: string, externalId: string) =>
  Effect.flatMap(ReclaimStore, (store) => store.getItem(planId, externalId)).pipe(
    Effect.map((found) => Option.getOrThrowWith(found, () => new Error(`no item ${externalId}`)))
  )

/** A SHA-256 hex as the host keeps a token's. */
const tokenHash = (n: number) => n.toString(16).padStart(64, "0")

// =============================================================================
// the suite
// =============================================================================

/**
 * Registers the conformance tests of a store with vitest.
 *
 * @since 0.2.0
 * @category suites
 */
export const runStoreConformance = <E>(
  name: string,
  layer: Layer.Layer<Stores, E>,
  options: StoreConformanceOptions = {}
): void => {
  const lease = Duration.decode(options.leaseDuration ?? Duration.seconds(30))
  const timeout = Duration.toMillis(Duration.decode(options.timeout ?? Duration.seconds(60)))
  const expireLease = TestClock.adjust(Duration.sum(lease, Duration.seconds(1)))

  describe(`${name} store conformance`, () => {
    it.layer(layer, { timeout: Duration.seconds(120) })((it) => {
      // --- connections --------------------------------------------------------------------------------

      describe("connections", () => {
        it.effect("creates, reads, lists and updates connections, with the default sync settings", () =>
          Effect.gen(function*() {
            yield* freshClock
            const connections = yield* ConnectionStore
            const created = yield* connections.create({
              provider: "atlassian",
              name: "Acme",
              config: { apiKey: API_KEY, nested: { list: [1, "two", null] } }
            })
            const t0 = yield* now
            assert.strictEqual(created.provider, "atlassian")
            assert.strictEqual(created.name, "Acme")
            assert.deepStrictEqual(created.config, { apiKey: API_KEY, nested: { list: [1, "two", null] } })
            assert.strictEqual(created.syncIntervalMinutes, defaultSyncSettings.syncIntervalMinutes)
            assert.strictEqual(created.holdThresholdPercent, defaultSyncSettings.holdThresholdPercent)
            assert.strictEqual(created.maxLookups, defaultSyncSettings.maxLookups)
            assert.strictEqual(created.deadlineMinutes, defaultSyncSettings.deadlineMinutes)
            assert.strictEqual(created.createdAt, t0)
            assert.strictEqual(created.updatedAt, t0)
            assert.deepStrictEqual(Option.getOrThrow(yield* connections.get(created.id)), created)

            yield* tick
            const tuned = yield* connections.create({
              provider: "scim",
              name: "Tuned",
              config: null,
              syncIntervalMinutes: 60,
              holdThresholdPercent: 25.5,
              maxLookups: 7,
              deadlineMinutes: 90
            })
            assert.deepStrictEqual(
              [tuned.syncIntervalMinutes, tuned.holdThresholdPercent, tuned.maxLookups, tuned.deadlineMinutes],
              [60, 25.5, 7, 90]
            )
            assert.strictEqual(tuned.config, null)
            const listed = (yield* connections.list).map((c) => c.id)
            assert.isAbove(listed.indexOf(tuned.id), listed.indexOf(created.id), "listed in creation order")

            yield* tick
            const updated = Option.getOrThrow(
              yield* connections.update(created.id, { name: "Acme EU", holdThresholdPercent: 50 })
            )
            assert.strictEqual(updated.name, "Acme EU")
            assert.strictEqual(updated.holdThresholdPercent, 50)
            assert.strictEqual(updated.maxLookups, defaultSyncSettings.maxLookups, "a field not given is no change")
            assert.deepStrictEqual(updated.config, created.config, "the config is kept when not given")
            assert.strictEqual(updated.createdAt, created.createdAt)
            assert.strictEqual(updated.updatedAt, yield* now)
            const reconfigured = Option.getOrThrow(yield* connections.update(created.id, { config: { apiKey: "new" } }))
            assert.deepStrictEqual(reconfigured.config, { apiKey: "new" })
            assert.deepStrictEqual(Option.getOrThrow(yield* connections.get(created.id)), reconfigured)
            assert.isTrue(Option.isNone(yield* connections.update("no-such-connection", { name: "x" })))
            assert.isTrue(Option.isNone(yield* connections.get("no-such-connection")))
          }))

        it.effect("removing a connection removes everything synced under it, and only that", () =>
          Effect.gen(function*() {
            const c = yield* newConnection("doomed")
            const kept = yield* newConnection("kept")
            const roster = [person("u1"), person("u2")]
            yield* sync(c.id, roster, {
              licenses: [
                new License({ key: "confluence:acme.atlassian.net", product: "confluence", productName: "Confluence" })
              ]
            })
            yield* sync(kept.id, roster)
            const connections = yield* ConnectionStore
            const inventory = yield* InventoryStore
            const syncs = yield* SyncStore
            const runs = yield* syncs.list(c.id, 10)
            assert.isTrue(yield* connections.remove(c.id))
            assert.isFalse(yield* connections.remove(c.id))
            assert.isTrue(Option.isNone(yield* connections.get(c.id)))
            assert.strictEqual((yield* inventory.listAccounts({ connectionId: c.id, limit: 10 })).total, 0)
            assert.isTrue(Option.isNone(yield* inventory.getAccount(c.id, "u1")))
            assert.deepStrictEqual(yield* inventory.listProducts(c.id), [])
            assert.deepStrictEqual(yield* inventory.productTrend(c.id, 10), [])
            assert.deepStrictEqual(yield* syncs.list(c.id, 10), [])
            assert.isTrue(Option.isNone(yield* syncs.get(runs[0]!.id)))
            assert.strictEqual((yield* inventory.listAccounts({ connectionId: kept.id, limit: 10 })).total, 2)
          }))

        it.effect("lists a connection's runs newest first, a page at a time after a given run", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            for (let i = 0; i < 5; i++) yield* sync(c.id, [person("u1")])
            const syncs = yield* SyncStore
            const all = yield* syncs.list(c.id, 10)
            assert.strictEqual(all.length, 5)
            const pages: Array<ReadonlyArray<string>> = []
            let before: { readonly startedAt: string; readonly id: string } | undefined
            for (;;) {
              const page = yield* syncs.list(c.id, 2, { before })
              if (page.length === 0) break
              pages.push(page.map((r) => r.id))
              before = page.at(-1)!
            }
            // Every run once, in the one order, whatever the page size; past the oldest, nothing.
            assert.deepStrictEqual(pages.map((p) => p.length), [2, 2, 1])
            assert.deepStrictEqual(pages.flat(), all.map((r) => r.id))
            assert.deepStrictEqual(yield* syncs.list(c.id, 10, { before: all.at(-1)! }), [])
          }))

        it.effect("refuses to remove a connection while a sync of it runs, and allows it after", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const connections = yield* ConnectionStore
            const syncs = yield* SyncStore
            const run = yield* syncs.start(c.id, OWNER)
            const refused = yield* failure(connections.remove(c.id))
            assert.strictEqual(refused.reason, "Conflict")
            assert.include(refused.message, run.id)
            yield* syncs.abort(run.id, "failed", { reason: "Test", message: "stopped" }, noCounters)
            assert.isTrue(yield* connections.remove(c.id))

            // A lock whose lease expired does not block it.
            const other = yield* newConnection()
            yield* syncs.start(other.id, "a-dead-process")
            yield* expireLease
            assert.isTrue(yield* connections.remove(other.id))
            const error = yield* failure(syncs.start(other.id, OWNER))
            assert.strictEqual(reasonOf(error), "NotFound")
          }))
      })

      // --- the sync lock ------------------------------------------------------------------------------

      describe("the sync lock", () => {
        it.effect("one run per connection: a second start fails SyncAlreadyRunning with the holder's run", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const other = yield* newConnection("other")
            const syncs = yield* SyncStore
            const first = yield* syncs.start(c.id, OWNER)
            assert.strictEqual(first.status, "running")
            assert.strictEqual(first.connectionId, c.id)
            assert.strictEqual(first.startedAt, yield* now)
            assert.isNull(first.finishedAt)
            assert.isNull(first.error)
            assert.isNull(first.hold)
            assert.isNull(first.decision)
            assert.strictEqual(first.stats.accounts, 0)
            const error = yield* failure(syncs.start(c.id, "another-process"))
            assert.strictEqual(error._tag, "SyncAlreadyRunning")
            assert.deepStrictEqual(
              error._tag === "SyncAlreadyRunning" ? [error.connectionId, error.runId] : [],
              [c.id, first.id]
            )
            yield* syncs.start(other.id, OWNER)
            const missing = yield* failure(syncs.start("no-such-connection", OWNER))
            assert.strictEqual(reasonOf(missing), "NotFound")
            yield* tick
            yield* syncs.apply(first.id, noCounters)
            const next = yield* syncs.start(c.id, OWNER)
            assert.strictEqual(next.status, "running")
          }))

        it.effect("a heartbeat renews the lease; an expired lease is taken over and its run interrupted", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            const inventory = yield* InventoryStore
            yield* sync(c.id, [person("u1"), person("u2")])
            const t = yield* now
            const before = yield* visible(c.id, t)
            const stale = yield* syncs.start(c.id, "process-a")
            yield* syncs.stage(stale.id, [person("u1", { status: "suspended" })])
            // Renewed just before it expires: still held a lease later.
            yield* TestClock.adjust(Duration.subtract(lease, Duration.seconds(2)))
            yield* syncs.heartbeat(stale.id)
            yield* TestClock.adjust(Duration.seconds(5))
            assert.strictEqual((yield* failure(syncs.start(c.id, "process-b")))._tag, "SyncAlreadyRunning")
            // Not renewed: taken over.
            yield* expireLease
            const next = yield* syncs.start(c.id, "process-b")
            const old = Option.getOrThrow(yield* syncs.get(stale.id))
            assert.strictEqual(old.status, "interrupted")
            assert.strictEqual(old.error?.reason, "Interrupted")
            assert.include(old.error?.message ?? "", "nothing was applied")
            assert.isNotNull(old.finishedAt)
            // The first process wakes up: it can do nothing more with its run.
            for (
              const late of [
                syncs.heartbeat(stale.id),
                syncs.stage(stale.id, [person("u9")]),
                syncs.confirm(stale.id, gone(["u2"])),
                syncs.settle(stale.id, "streak"),
                syncs.apply(stale.id, noCounters),
                syncs.hold(stale.id, {
                  reason: "threshold",
                  wouldDeprovision: 0,
                  absent: 0,
                  activeAccounts: 0,
                  thresholdPercent: 10,
                  message: "x"
                }, noCounters)
              ]
            ) {
              assert.strictEqual(reasonOf(yield* failure(late)), "Conflict")
            }
            const aborted = yield* syncs.abort(stale.id, "failed", { reason: "Late", message: "late" }, noCounters)
            assert.strictEqual(aborted.status, "interrupted", "a late abort keeps the recovered outcome")
            assert.strictEqual(Option.getOrThrow(yield* syncs.get(next.id)).status, "running", "nor frees the new lock")
            yield* syncs.abort(next.id, "interrupted", { reason: "Interrupted", message: "test" }, noCounters)
            assert.deepStrictEqual(yield* visible(c.id, t), before, "nothing of either run was applied")
            assert.strictEqual((yield* inventory.listAccounts({ connectionId: c.id, limit: 10 })).total, 2)
          }))

        it.effect("start leaves a lease that expired moments ago to recover, which returns its run", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            const stale = yield* syncs.start(c.id, "process-a")
            // Just past the lease, as when it runs out between a caller's recover and its start: start does
            // not end the run itself (its end would reach no one), it leaves it to recover, which returns it
            // (the host audits every run recover returns).
            yield* TestClock.adjust(Duration.sum(lease, Duration.millis(TAKEOVER_GRACE_MS / 5)))
            assert.strictEqual((yield* failure(syncs.start(c.id, "process-b")))._tag, "SyncAlreadyRunning")
            assert.strictEqual(Option.getOrThrow(yield* syncs.get(stale.id)).status, "running")
            const recovered = (yield* syncs.recover).filter((r) => r.id === stale.id)
            assert.deepStrictEqual(recovered.map((r) => r.status), ["interrupted"])
            assert.strictEqual((yield* syncs.start(c.id, "process-b")).status, "running")
          }))

        it.effect("recover interrupts the runs whose lease expired, frees their locks, and returns them", () =>
          Effect.gen(function*() {
            const dead = yield* newConnection("dead")
            const live = yield* newConnection("live")
            const syncs = yield* SyncStore
            const abandoned = yield* syncs.start(dead.id, "a-dead-process")
            yield* syncs.stage(abandoned.id, [person("u1")])
            yield* expireLease
            const alive = yield* syncs.start(live.id, OWNER)
            const recovered = yield* syncs.recover
            const mine = recovered.filter((r) => r.id === abandoned.id)
            assert.strictEqual(mine.length, 1)
            assert.strictEqual(mine[0]!.status, "interrupted")
            assert.strictEqual(mine[0]!.error?.reason, "Interrupted")
            assert.isFalse(recovered.some((r) => r.id === alive.id))
            assert.strictEqual(Option.getOrThrow(yield* syncs.get(alive.id)).status, "running")
            assert.deepStrictEqual(
              yield* syncs.recover.pipe(Effect.map((rs) => rs.filter((r) => r.id === abandoned.id))),
              []
            )
            // Nothing of it was applied, and the connection syncs again.
            assert.strictEqual(
              (yield* (yield* InventoryStore).listAccounts({ connectionId: dead.id, limit: 10 })).total,
              0
            )
            const again = yield* sync(dead.id, [person("u2")])
            assert.strictEqual(again.status, "succeeded")
          }))
      })

      // --- staging, apply and abort (invariants 1 and 2) ----------------------------------------------

      describe("staging and applying", () => {
        it.effect("staging is invisible; a staged run counts distinct accounts as it goes", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            yield* sync(c.id, [person("u1"), person("u2")])
            const t = yield* now
            const before = yield* visible(c.id, t)
            const run = yield* syncs.start(c.id, OWNER)
            assert.deepStrictEqual(
              yield* syncs.stage(run.id, [person("u1", { displayName: "Renamed" }), person("u3")]),
              { staged: 2 }
            )
            // A repeated account (a roster that shifted under the cursor) counts once; its last reading wins.
            assert.deepStrictEqual(
              yield* syncs.stage(run.id, [person("u3", { displayName: "Three" }), person("u4"), person("u4")]),
              { staged: 3 }
            )
            assert.deepStrictEqual(yield* syncs.stage(run.id, []), { staged: 3 })
            assert.strictEqual(Option.getOrThrow(yield* syncs.get(run.id)).stats.accounts, 3)
            yield* syncs.stageLicenses(run.id, [
              new License({ key: "jira:acme.atlassian.net", product: "jira", productName: "Jira" })
            ])
            assert.deepStrictEqual(yield* visible(c.id, t), before, "nothing staged is visible")
            yield* tick
            const applied = yield* syncs.apply(run.id, counters())
            assert.strictEqual(applied.stats.accounts, 3)
            assert.strictEqual(applied.stats.created, 2)
            assert.strictEqual((yield* accountOf(c.id, "u3")).account.displayName, "Three")
          }))

        it.effect("a first apply creates accounts and entitlements with every field, and one event per account", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            const run = yield* syncs.start(c.id, OWNER)
            yield* syncs.stage(run.id, [
              person("ada", {
                email: "ada@acme.test",
                displayName: "Ada Lovelace",
                accountType: "atlassian",
                sourceStatus: "active",
                lastActiveAt: "2026-02-20T10:15:00+02:00",
                activitySource: "atlassian-last-active",
                billable: true,
                managed: true,
                addedAt: "2024-01-05",
                roles: ["atlassian/org-admin"],
                groups: ["engineering", "admins"],
                attributes: { directoryId: "d-1" },
                entitlements: [
                  ent("jira-software", "acme", {
                    lastActiveAt: "2026-02-19T09:00:00Z",
                    role: "atlassian/user",
                    activitySource: "product"
                  }),
                  ent("confluence", "acme", { role: "atlassian/guest", billable: false }),
                  ent("confluence", "acme", { name: "a duplicate key: the first wins" })
                ]
              }),
              person("cid", { status: "suspended", email: undefined, entitlements: undefined }),
              person("zed", {
                status: "unknown",
                sourceStatus: "mystery",
                accountType: "app",
                billable: false,
                entitlements: []
              })
            ])
            yield* tick
            const applied = yield* syncs.apply(run.id, {
              ...counters(9),
              lookups: 2,
              totalAtStart: 3,
              totalAtEnd: 3,
              licenses: 0
            })
            const t = yield* now
            assert.strictEqual(applied.status, "succeeded")
            assert.strictEqual(applied.finishedAt, t)
            assert.isNull(applied.error)
            assert.deepStrictEqual(applied.stats, {
              accounts: 3,
              created: 3,
              updated: 0,
              unchanged: 0,
              deprovisioned: 0,
              entitlementsDeprovisioned: 0,
              absentConfirmed: 0,
              absentButPresent: 0,
              absentPending: 0,
              lookups: 2,
              adminActionsKept: 0,
              totalAtStart: 3,
              totalAtEnd: 3,
              rosterShifted: false,
              licenses: 0,
              requests: 9,
              retries: 1,
              rateLimited: 0
            })
            assert.deepStrictEqual(Option.getOrThrow(yield* syncs.get(run.id)), applied)
            const ada = yield* accountOf(c.id, "ada")
            assert.deepStrictEqual(ada.account, {
              connectionId: c.id,
              externalId: "ada",
              email: "ada@acme.test",
              displayName: "Ada Lovelace",
              accountType: "atlassian",
              status: "active",
              sourceStatus: "active",
              lastActiveAt: "2026-02-20T08:15:00.000Z",
              activitySource: "atlassian-last-active",
              billable: true,
              managed: true,
              addedAt: "2024-01-05T00:00:00.000Z",
              roles: ["atlassian/org-admin"],
              groups: ["engineering", "admins"],
              attributes: { directoryId: "d-1" },
              firstSeenAt: t,
              lastSeenAt: t,
              adminActionAt: null,
              entitlements: [
                {
                  key: "confluence:acme.atlassian.net",
                  name: "confluence (acme)",
                  product: "confluence",
                  site: "acme",
                  siteHost: "acme.atlassian.net",
                  status: "active",
                  lastActiveAt: null,
                  activitySource: null,
                  role: "atlassian/guest",
                  billable: false,
                  firstSeenAt: t,
                  lastSeenAt: t
                },
                {
                  key: "jira-software:acme.atlassian.net",
                  name: "jira-software (acme)",
                  product: "jira-software",
                  site: "acme",
                  siteHost: "acme.atlassian.net",
                  status: "active",
                  lastActiveAt: "2026-02-19T09:00:00.000Z",
                  activitySource: "product",
                  role: "atlassian/user",
                  billable: null,
                  firstSeenAt: t,
                  lastSeenAt: t
                }
              ]
            })
            // One event per account, none per entitlement of a new account.
            assert.deepStrictEqual(
              ada.history.map((e) => [e.externalId, e.entitlementKey, e.from, e.to, e.cause, e.runId, e.at]),
              [
                ["ada", null, null, "active", "sync", run.id, t]
              ]
            )
            const cid = yield* accountOf(c.id, "cid")
            assert.strictEqual(cid.account.status, "suspended")
            assert.isNull(cid.account.email)
            assert.deepStrictEqual(cid.account.entitlements, [])
            assert.deepStrictEqual([cid.account.roles, cid.account.groups, cid.account.attributes], [[], [], {}])
            assert.deepStrictEqual([cid.account.billable, cid.account.managed, cid.account.addedAt], [null, null, null])
            const zed = yield* accountOf(c.id, "zed")
            assert.deepStrictEqual([
              zed.account.status,
              zed.account.sourceStatus,
              zed.account.accountType,
              zed.account.billable
            ], [
              "unknown",
              "mystery",
              "app",
              false
            ])
            // The lock was released.
            yield* syncs.abort(
              (yield* syncs.start(c.id, OWNER)).id,
              "failed",
              { reason: "T", message: "t" },
              noCounters
            )
          }))

        it.effect("a resync of an unchanged roster changes nothing but when each account was last seen", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const roster = [
              person("u1", {
                lastActiveAt: "2026-01-01T00:00:00Z",
                entitlements: [ent("jira"), ent("confluence", "beta")]
              }),
              person("u2", { entitlements: undefined }),
              person("u3", {
                status: "deprovisioned",
                entitlements: [ent("jira", "acme", { status: "deprovisioned" })]
              })
            ]
            const first = yield* sync(c.id, roster)
            const before = yield* accountOf(c.id, "u1")
            yield* TestClock.adjust("1 day")
            const second = yield* sync(c.id, [...roster].reverse(), { chunk: 1 })
            assert.deepStrictEqual(
              [
                second.stats.accounts,
                second.stats.created,
                second.stats.updated,
                second.stats.unchanged,
                second.stats.deprovisioned
              ],
              [3, 0, 0, 3, 0]
            )
            const after = yield* accountOf(c.id, "u1")
            assert.strictEqual(after.account.firstSeenAt, first.finishedAt)
            assert.strictEqual(after.account.lastSeenAt, second.finishedAt)
            assert.deepStrictEqual(after.account.entitlements.map((e) => [e.firstSeenAt, e.lastSeenAt]), [
              [first.finishedAt, second.finishedAt],
              [first.finishedAt, second.finishedAt]
            ])
            assert.deepStrictEqual({ ...after.account, lastSeenAt: "", entitlements: [] }, {
              ...before.account,
              lastSeenAt: "",
              entitlements: []
            })
            assert.deepStrictEqual(after.history, before.history, "no event")
            assert.strictEqual((yield* accountOf(c.id, "u2")).account.lastSeenAt, second.finishedAt)
            const u3 = yield* accountOf(c.id, "u3")
            assert.strictEqual(u3.account.lastSeenAt, second.finishedAt, "a closed account still listed is seen")
            assert.strictEqual(
              u3.account.entitlements[0]!.lastSeenAt,
              first.finishedAt,
              "a deprovisioned entitlement is not"
            )
            // A third resync, and the listing's order does not matter.
            yield* TestClock.adjust("1 day")
            const third = yield* sync(c.id, roster, { chunk: 3 })
            assert.strictEqual(third.stats.unchanged, 3)
            assert.strictEqual((yield* accountOf(c.id, "u1")).account.lastSeenAt, third.finishedAt)
          }))

        it.effect("a changed reading updates the account; absent fields keep what was known", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const first = yield* sync(c.id, [
              person("u1", {
                lastActiveAt: "2026-01-10T00:00:00Z",
                activitySource: "org",
                billable: false,
                managed: true,
                addedAt: "2025-01-01T00:00:00Z",
                roles: ["r1"],
                groups: ["g1"],
                attributes: { a: "1" },
                entitlements: [
                  ent("jira", "acme", {
                    lastActiveAt: "2026-01-09T00:00:00Z",
                    activitySource: "product",
                    role: "atlassian/user"
                  })
                ]
              }),
              person("u2")
            ])
            const second = yield* sync(c.id, [
              person("u1", {
                email: undefined,
                displayName: "Renamed",
                sourceStatus: "active-ish",
                entitlements: [ent("jira", "acme", { name: "Jira (renamed)" })]
              }),
              person("u2")
            ])
            assert.deepStrictEqual([second.stats.updated, second.stats.unchanged, second.stats.created], [1, 1, 0])
            const u1 = (yield* accountOf(c.id, "u1")).account
            assert.isNull(u1.email, "an absent email is no email")
            assert.strictEqual(u1.displayName, "Renamed")
            assert.strictEqual(u1.sourceStatus, "active-ish")
            assert.strictEqual(
              u1.lastActiveAt,
              "2026-01-10T00:00:00.000Z",
              "an activity the source stopped reporting is kept"
            )
            assert.strictEqual(u1.activitySource, "org")
            assert.deepStrictEqual([u1.billable, u1.managed, u1.addedAt], [false, true, "2025-01-01T00:00:00.000Z"])
            assert.deepStrictEqual([u1.roles, u1.groups, u1.attributes], [["r1"], ["g1"], { a: "1" }])
            assert.strictEqual(u1.firstSeenAt, first.finishedAt)
            assert.strictEqual(u1.lastSeenAt, second.finishedAt)
            const jira = u1.entitlements[0]!
            assert.deepStrictEqual(
              [jira.name, jira.lastActiveAt, jira.activitySource, jira.role, jira.billable],
              ["Jira (renamed)", "2026-01-09T00:00:00.000Z", "product", null, null]
            )
            // Given fields replace what was known, an explicit empty list included.
            yield* sync(c.id, [
              person("u1", {
                billable: true,
                managed: false,
                roles: [],
                groups: ["g2"],
                attributes: {},
                lastActiveAt: "2026-02-01T00:00:00Z"
              }),
              person("u2")
            ])
            const again = (yield* accountOf(c.id, "u1")).account
            assert.deepStrictEqual([
              again.billable,
              again.managed,
              again.roles,
              again.groups,
              again.attributes,
              again.lastActiveAt
            ], [
              true,
              false,
              [],
              ["g2"],
              {},
              "2026-02-01T00:00:00.000Z"
            ])
          }))

        it.effect("absent entitlements keep the stored ones; an empty list deprovisions them", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            yield* sync(c.id, [person("u1", { entitlements: [ent("jira"), ent("confluence")] }), person("u2")])
            const silent = yield* sync(c.id, [person("u1", { entitlements: undefined }), person("u2")])
            assert.strictEqual(silent.stats.entitlementsDeprovisioned, 0)
            assert.strictEqual(silent.stats.updated, 1, "a reading without products differs from one with them")
            const kept = yield* accountOf(c.id, "u1")
            assert.deepStrictEqual(kept.account.entitlements.map((e) => [e.key, e.status]), [
              ["confluence:acme.atlassian.net", "active"],
              ["jira:acme.atlassian.net", "active"]
            ])
            assert.strictEqual(kept.account.entitlements[0]!.lastSeenAt, silent.finishedAt)
            assert.deepStrictEqual(kept.history.filter((e) => e.runId === silent.id), [])

            const emptied = yield* sync(c.id, [person("u1", { entitlements: [] }), person("u2")])
            assert.strictEqual(emptied.stats.entitlementsDeprovisioned, 2)
            assert.strictEqual(emptied.stats.deprovisioned, 0)
            const bare = yield* accountOf(c.id, "u1")
            assert.strictEqual(bare.account.status, "active")
            assert.deepStrictEqual(bare.account.entitlements.map((e) => [e.key, e.status, e.lastSeenAt]), [
              ["confluence:acme.atlassian.net", "deprovisioned", emptied.finishedAt],
              ["jira:acme.atlassian.net", "deprovisioned", emptied.finishedAt]
            ])
            assert.deepStrictEqual(
              bare.history.filter((e) => e.runId === emptied.id).map((e) => [e.entitlementKey, e.from, e.to, e.cause])
                .sort(),
              [
                ["confluence:acme.atlassian.net", "active", "deprovisioned", "sync"],
                ["jira:acme.atlassian.net", "active", "deprovisioned", "sync"]
              ]
            )
            yield* TestClock.adjust("1 day")
            const later = yield* sync(c.id, [person("u1", { entitlements: [] }), person("u2")])
            assert.strictEqual(later.stats.unchanged, 2)
            assert.strictEqual(
              (yield* accountOf(c.id, "u1")).account.entitlements[0]!.lastSeenAt,
              emptied.finishedAt,
              "a deprovisioned entitlement was last seen when it was dropped"
            )
          }))

        it.effect("entitlement changes: new, changed status, dropped and returned, each with an event", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const first = yield* sync(c.id, [person("u1", { entitlements: [ent("jira"), ent("confluence")] })])
            const second = yield* sync(c.id, [
              person("u1", { entitlements: [ent("jira", "acme", { status: "suspended" }), ent("trello", "beta")] })
            ])
            assert.deepStrictEqual([second.stats.updated, second.stats.entitlementsDeprovisioned], [1, 1])
            const u1 = yield* accountOf(c.id, "u1")
            assert.deepStrictEqual(u1.account.entitlements.map((e) => [e.key, e.status, e.firstSeenAt]), [
              ["confluence:acme.atlassian.net", "deprovisioned", first.finishedAt],
              ["jira:acme.atlassian.net", "suspended", first.finishedAt],
              ["trello:beta.atlassian.net", "active", second.finishedAt]
            ])
            assert.deepStrictEqual(
              u1.history.filter((e) => e.runId === second.id).map((e) => [e.entitlementKey, e.from, e.to]).sort(),
              [
                ["confluence:acme.atlassian.net", "active", "deprovisioned"],
                ["jira:acme.atlassian.net", "active", "suspended"],
                ["trello:beta.atlassian.net", null, "active"]
              ]
            )
            const third = yield* sync(c.id, [
              person("u1", { entitlements: [ent("confluence"), ent("jira"), ent("trello", "beta")] })
            ])
            assert.strictEqual(third.stats.entitlementsDeprovisioned, 0)
            const back = yield* accountOf(c.id, "u1")
            assert.deepStrictEqual(back.account.entitlements.map((e) => e.status), ["active", "active", "active"])
            assert.strictEqual(back.account.entitlements[0]!.firstSeenAt, first.finishedAt, "first seen is kept")
            assert.deepStrictEqual(
              back.history.filter((e) => e.runId === third.id).map((e) => [e.entitlementKey, e.from, e.to]).sort(),
              [["confluence:acme.atlassian.net", "deprovisioned", "active"], [
                "jira:acme.atlassian.net",
                "suspended",
                "active"
              ]]
            )
            // Newest first, with the account's own first event last.
            assert.deepStrictEqual(back.history[back.history.length - 1], {
              at: first.finishedAt!,
              externalId: "u1",
              entitlementKey: null,
              from: null,
              to: "active",
              cause: "sync",
              runId: first.id
            })
            assert.isTrue(back.history.every((e, i, all) => i === 0 || all[i - 1]!.at >= e.at))
          }))

        it.effect("a reading of a changed status moves it with an event; a closed account is deprovisioned", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            yield* sync(c.id, [person("u1"), person("u2"), person("u3")])
            const run = yield* sync(c.id, [
              person("u1", { status: "suspended" }),
              person("u2", { status: "deprovisioned" }),
              person("u3")
            ])
            assert.deepStrictEqual([run.stats.updated, run.stats.deprovisioned, run.stats.unchanged], [2, 1, 1])
            const u1 = yield* accountOf(c.id, "u1")
            assert.strictEqual(u1.account.status, "suspended")
            assert.deepStrictEqual(u1.history[0], {
              at: run.finishedAt!,
              externalId: "u1",
              entitlementKey: null,
              from: "active",
              to: "suspended",
              cause: "sync",
              runId: run.id
            })
            const u2 = yield* accountOf(c.id, "u2")
            assert.strictEqual(u2.account.status, "deprovisioned")
            assert.strictEqual(u2.account.entitlements[0]!.status, "active", "its products are as the source read them")
            assert.strictEqual(u2.account.lastSeenAt, run.finishedAt)
          }))

        it.effect("an aborted run changes nothing a user sees and releases the lock", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            const inventory = yield* InventoryStore
            yield* sync(c.id, [person("u1"), person("u2", { entitlements: [ent("jira")] })])
            yield* inventory.recordAction(c.id, "u2", "suspended", "suspend")
            const t = yield* now
            const before = yield* visible(c.id, t)
            const run = yield* syncs.start(c.id, OWNER)
            yield* staged(run.id, [person("u2", { displayName: "B.", entitlements: [] }), person("u9")], {
              licenses: [
                new License({ key: "jira:acme.atlassian.net", product: "jira", productName: "Jira", seatsPurchased: 5 })
              ],
              verdicts: gone
            })
            yield* tick
            const aborted = yield* syncs.abort(run.id, "failed", {
              reason: "Unavailable",
              message: "down",
              hint: "try later"
            }, {
              ...noCounters,
              requests: 7,
              retries: 2,
              rateLimited: 1
            })
            assert.strictEqual(aborted.status, "failed")
            assert.deepStrictEqual(aborted.error, { reason: "Unavailable", message: "down", hint: "try later" })
            assert.strictEqual(aborted.finishedAt, yield* now)
            assert.deepStrictEqual([aborted.stats.requests, aborted.stats.retries, aborted.stats.rateLimited], [
              7,
              2,
              1
            ])
            assert.strictEqual(aborted.stats.accounts, 2)
            assert.strictEqual(aborted.stats.created + aborted.stats.updated + aborted.stats.deprovisioned, 0)
            assert.deepStrictEqual(yield* visible(c.id, t), before, "an aborted run changes nothing")
            const again = yield* syncs.abort(run.id, "interrupted", { reason: "Interrupted", message: "x" }, noCounters)
            assert.strictEqual(again.status, "failed", "a second abort keeps the first outcome")
            const interrupted = yield* syncs.start(c.id, OWNER)
            const ended = yield* syncs.abort(interrupted.id, "interrupted", {
              reason: "Interrupted",
              message: "cancelled"
            }, noCounters)
            assert.strictEqual(ended.status, "interrupted")
            assert.deepStrictEqual((yield* syncs.list(c.id, 10)).map((r) => r.status), [
              "interrupted",
              "failed",
              "succeeded"
            ])
            assert.deepStrictEqual((yield* syncs.list(c.id, 2)).map((r) => r.id), [interrupted.id, run.id])
            // The last applied run, however many ended otherwise since.
            const applied = yield* syncs.list(c.id, 1, { status: "succeeded" })
            assert.deepStrictEqual(applied.map((r) => r.status), ["succeeded"])
            assert.deepStrictEqual(yield* syncs.list(c.id, 10, { status: "held" }), [])
          }))
      })

      // --- absent accounts (invariant 2) --------------------------------------------------------------

      describe("absent accounts", () => {
        it.effect("absentees are the stored accounts the listing did not return, not yet deprovisioned", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            yield* sync(c.id, [
              person("d"),
              person("b", { status: "suspended" }),
              person("a"),
              person("c"),
              person("x", { status: "deprovisioned" })
            ])
            const run = yield* syncs.start(c.id, OWNER)
            yield* syncs.stage(run.id, [person("c"), person("new")])
            const absent = yield* syncs.absentees(run.id, 2)
            assert.strictEqual(absent.total, 3)
            assert.deepStrictEqual(absent.first, [
              { externalId: "a", status: "active", absentRuns: 0 },
              { externalId: "b", status: "suspended", absentRuns: 0 }
            ])
            assert.deepStrictEqual((yield* syncs.absentees(run.id, 0)).first, [])
            assert.strictEqual((yield* syncs.absentees(run.id, 0)).total, 3)
            assert.deepStrictEqual((yield* syncs.absentees(run.id, 10)).first.map((a) => a.externalId), ["a", "b", "d"])
            const summary = yield* syncs.summarize(run.id)
            assert.deepStrictEqual(summary, {
              staged: 2,
              accountsBefore: 4,
              activeBefore: 3,
              wouldDeprovision: 0,
              absent: 3
            })
          }))

        it.effect("a confirmed absence deprovisions the account and its products on apply", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            const first = yield* sync(c.id, [
              person("u1", { entitlements: [ent("jira"), ent("confluence")] }),
              person("u2"),
              person("u3")
            ])
            const run = yield* syncs.start(c.id, OWNER)
            yield* syncs.stage(run.id, [person("u3")])
            yield* syncs.confirm(run.id, [
              { externalId: "u1", verdict: "gone" },
              {
                externalId: "u2",
                verdict: "present",
                account: person("u2", { status: "suspended", entitlements: undefined })
              }
            ])
            assert.deepStrictEqual(yield* syncs.summarize(run.id), {
              staged: 1,
              accountsBefore: 3,
              activeBefore: 3,
              wouldDeprovision: 1,
              absent: 2
            })
            assert.strictEqual((yield* accountOf(c.id, "u1")).account.status, "active", "not before the apply")
            yield* tick
            const applied = yield* syncs.apply(run.id, counters())
            assert.deepStrictEqual(
              [
                applied.stats.accounts,
                applied.stats.deprovisioned,
                applied.stats.entitlementsDeprovisioned,
                applied.stats.absentConfirmed,
                applied.stats.absentButPresent,
                applied.stats.updated,
                applied.stats.unchanged
              ],
              [1, 1, 2, 1, 1, 1, 1]
            )
            const u1 = yield* accountOf(c.id, "u1")
            assert.strictEqual(u1.account.status, "deprovisioned")
            assert.deepStrictEqual(u1.account.entitlements.map((e) => [e.status, e.lastSeenAt]), [
              ["deprovisioned", first.finishedAt],
              ["deprovisioned", first.finishedAt]
            ])
            assert.strictEqual(u1.account.lastSeenAt, first.finishedAt, "last seen by the run that listed it")
            assert.deepStrictEqual(
              u1.history.filter((e) => e.runId === run.id).map((e) => [e.entitlementKey, e.from, e.to]).sort(),
              [
                ["confluence:acme.atlassian.net", "active", "deprovisioned"],
                ["jira:acme.atlassian.net", "active", "deprovisioned"],
                [null, "active", "deprovisioned"]
              ].sort()
            )
            const u2 = (yield* accountOf(c.id, "u2")).account
            assert.strictEqual(u2.status, "suspended", "a lookup's reading is applied")
            assert.strictEqual(u2.entitlements[0]!.status, "active", "and its absent products kept")
            assert.strictEqual(u2.lastSeenAt, applied.finishedAt)
            // Back in a later listing: its mapped status again, with an event.
            const back = yield* sync(c.id, [
              person("u1", { status: "suspended", entitlements: [ent("jira")] }),
              person("u2"),
              person("u3")
            ])
            assert.strictEqual(back.stats.updated, 2)
            const returned = yield* accountOf(c.id, "u1")
            assert.strictEqual(returned.account.status, "suspended")
            assert.deepStrictEqual(returned.account.entitlements.map((e) => [e.key, e.status]), [
              ["confluence:acme.atlassian.net", "deprovisioned"],
              ["jira:acme.atlassian.net", "active"]
            ])
            assert.deepStrictEqual(
              returned.history.filter((e) => e.runId === back.id).map((e) => [e.entitlementKey, e.from, e.to]).sort(),
              [["jira:acme.atlassian.net", "deprovisioned", "active"], [null, "deprovisioned", "suspended"]].sort()
            )
            assert.strictEqual(returned.account.lastSeenAt, back.finishedAt)
          }))

        it.effect("a provider without lookups needs two complete absences in a row (streak)", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            const first = yield* sync(c.id, [person("u1"), person("u2"), person("u3")])
            const once = yield* sync(c.id, [person("u3")], { settle: "streak" })
            assert.deepStrictEqual([once.stats.absentPending, once.stats.absentConfirmed, once.stats.deprovisioned], [
              2,
              0,
              0
            ])
            const u1 = (yield* accountOf(c.id, "u1")).account
            assert.strictEqual(u1.status, "active", "absent once: nothing changes")
            assert.strictEqual(u1.lastSeenAt, first.finishedAt)
            assert.strictEqual(u1.entitlements[0]!.lastSeenAt, first.finishedAt)
            // u2 comes back, u1 stays away.
            const run = yield* syncs.start(c.id, OWNER)
            yield* syncs.stage(run.id, [person("u2"), person("u3")])
            assert.deepStrictEqual((yield* syncs.absentees(run.id, 10)).first, [{
              externalId: "u1",
              status: "active",
              absentRuns: 1
            }])
            yield* syncs.settle(run.id, "streak")
            assert.strictEqual((yield* syncs.summarize(run.id)).wouldDeprovision, 1)
            yield* tick
            const twice = yield* syncs.apply(run.id, noCounters)
            assert.deepStrictEqual([twice.stats.absentConfirmed, twice.stats.deprovisioned, twice.stats.unchanged], [
              1,
              1,
              2
            ])
            assert.strictEqual((yield* accountOf(c.id, "u1")).account.status, "deprovisioned")
            const u2 = (yield* accountOf(c.id, "u2")).account
            assert.strictEqual(u2.status, "active")
            assert.strictEqual(u2.lastSeenAt, twice.finishedAt)
            // Its streak was reset by the listing that returned it.
            const third = yield* syncs.start(c.id, OWNER)
            yield* syncs.stage(third.id, [person("u3")])
            assert.deepStrictEqual((yield* syncs.absentees(third.id, 10)).first, [{
              externalId: "u2",
              status: "active",
              absentRuns: 0
            }])
            yield* syncs.abort(third.id, "interrupted", { reason: "Interrupted", message: "test" }, noCounters)
          }))

        it.effect("settle: verdicts given first are kept; pending and unconfirmed settle the rest", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            yield* sync(c.id, [person("u1"), person("u2"), person("u3"), person("u4")])
            const shifted = yield* sync(c.id, [person("u4")], { verdicts: () => gone(["u1"]), settle: "pending" })
            assert.deepStrictEqual([
              shifted.stats.absentConfirmed,
              shifted.stats.absentPending,
              shifted.stats.deprovisioned
            ], [1, 2, 1])
            assert.strictEqual((yield* accountOf(c.id, "u2")).account.status, "active")

            const run = yield* syncs.start(c.id, OWNER)
            yield* syncs.stage(run.id, [person("u4")])
            yield* syncs.settle(run.id, "unconfirmed")
            const summary = yield* syncs.summarize(run.id)
            assert.deepStrictEqual([summary.absent, summary.wouldDeprovision], [2, 2])
            yield* tick
            const applied = yield* syncs.apply(run.id, noCounters)
            assert.deepStrictEqual([
              applied.stats.deprovisioned,
              applied.stats.absentConfirmed,
              applied.stats.absentPending
            ], [2, 0, 0])
            assert.strictEqual((yield* accountOf(c.id, "u3")).account.status, "deprovisioned")
          }))

        it.effect("a verdict about an account the listing returned is ignored, given before or after it", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            yield* sync(c.id, [person("u1"), person("u2"), person("u3")])
            const run = yield* syncs.start(c.id, OWNER)
            yield* syncs.stage(run.id, [person("u1")])
            yield* syncs.confirm(run.id, [
              { externalId: "u1", verdict: "gone" },
              { externalId: "u2", verdict: "gone" },
              { externalId: "u3", verdict: "gone" }
            ])
            // u3 turns up in the listing after its verdict (a roster that shifted under the cursor).
            yield* syncs.stage(run.id, [person("u3")])
            const summary = yield* syncs.summarize(run.id)
            assert.deepStrictEqual([summary.staged, summary.wouldDeprovision], [2, 1])
            yield* tick
            const applied = yield* syncs.apply(run.id, noCounters)
            assert.deepStrictEqual([applied.stats.absentConfirmed, applied.stats.deprovisioned], [1, 1])
            assert.deepStrictEqual(
              [
                (yield* accountOf(c.id, "u1")).account.status,
                (yield* accountOf(c.id, "u2")).account.status,
                (yield* accountOf(c.id, "u3")).account.status
              ],
              ["active", "deprovisioned", "active"]
            )
          }))

        it.effect("summarize counts what applying would do", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            yield* sync(c.id, [
              person("a1"),
              person("a2"),
              person("a3"),
              person("s1", { status: "suspended" }),
              person("x1", { status: "deprovisioned" }),
              person("u1", { status: "unknown" })
            ])
            const run = yield* syncs.start(c.id, OWNER)
            yield* syncs.stage(run.id, [
              person("a1", { status: "deprovisioned" }),
              person("a2"),
              person("n1"),
              person("n2", { status: "deprovisioned" })
            ])
            yield* syncs.confirm(run.id, [{ externalId: "a3", verdict: "gone" }, {
              externalId: "s1",
              verdict: "pending"
            }])
            assert.deepStrictEqual(yield* syncs.summarize(run.id), {
              staged: 4,
              accountsBefore: 5,
              activeBefore: 3,
              wouldDeprovision: 2,
              absent: 3
            })
            yield* syncs.confirm(run.id, [{ externalId: "u1", verdict: "unconfirmed" }, {
              externalId: "s1",
              verdict: "gone"
            }])
            assert.strictEqual((yield* syncs.summarize(run.id)).wouldDeprovision, 4)
            yield* tick
            const applied = yield* syncs.apply(run.id, noCounters)
            assert.deepStrictEqual(
              [
                applied.stats.created,
                applied.stats.updated,
                applied.stats.unchanged,
                applied.stats.deprovisioned,
                applied.stats.absentConfirmed,
                applied.stats.absentPending
              ],
              [2, 1, 1, 4, 2, 0]
            )
          }))
      })

      // --- held runs (invariant 10) -------------------------------------------------------------------

      describe("held runs", () => {
        const hold: SyncHold = {
          reason: "threshold",
          wouldDeprovision: 2,
          absent: 2,
          activeAccounts: 3,
          thresholdPercent: 10,
          message: "applying it would deprovision 2 accounts"
        }

        it.effect("a held run applies nothing until an admin applies it; then it applies what it read", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            yield* sync(c.id, [person("u1"), person("u2"), person("u3")])
            const t = yield* now
            const before = yield* visible(c.id, t)
            const run = yield* syncs.start(c.id, OWNER)
            yield* staged(run.id, [person("u3", { displayName: "Three" })], {
              verdicts: (ids) => ids.map((externalId) => ({ externalId, verdict: "gone" as const }))
            })
            yield* tick
            const held = yield* syncs.hold(run.id, hold, { ...counters(5), lookups: 2 })
            assert.strictEqual(held.status, "held")
            assert.deepStrictEqual(held.hold, hold)
            assert.strictEqual(held.finishedAt, yield* now)
            assert.isNull(held.decision)
            assert.deepStrictEqual(
              [
                held.stats.accounts,
                held.stats.absentConfirmed,
                held.stats.lookups,
                held.stats.requests,
                held.stats.deprovisioned
              ],
              [1, 2, 2, 5, 0]
            )
            assert.deepStrictEqual(yield* visible(c.id, t), before, "nothing applied")
            // The lock is free while it waits, and reopening takes it back.
            yield* TestClock.adjust("1 hour")
            const reopened = yield* syncs.reopen(run.id, "another-process", "alice")
            assert.strictEqual(reopened.status, "running")
            assert.deepStrictEqual(reopened.decision, { decision: "apply", actor: "alice", at: yield* now })
            assert.strictEqual(reasonOf(yield* failure(syncs.start(c.id, OWNER))), "SyncAlreadyRunning")
            yield* tick
            const applied = yield* syncs.apply(run.id, { ...counters(5), lookups: 2 })
            assert.strictEqual(applied.status, "succeeded")
            assert.deepStrictEqual(applied.hold, hold)
            assert.deepStrictEqual(applied.decision, reopened.decision)
            assert.deepStrictEqual(
              [applied.stats.deprovisioned, applied.stats.updated, applied.stats.absentConfirmed],
              [2, 1, 2]
            )
            assert.strictEqual((yield* accountOf(c.id, "u1")).account.status, "deprovisioned")
            assert.strictEqual((yield* accountOf(c.id, "u3")).account.displayName, "Three")
            assert.strictEqual(reasonOf(yield* failure(syncs.reopen(run.id, OWNER, "bob"))), "Conflict")
          }))

        it.effect("a held run can be discarded; a new run supersedes a held one", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            yield* sync(c.id, [person("u1"), person("u2")])
            const t = yield* now
            const before = yield* visible(c.id, t)
            const first = yield* syncs.start(c.id, OWNER)
            yield* staged(first.id, [], { settle: "unconfirmed" })
            yield* syncs.hold(first.id, { ...hold, reason: "emptyRoster" }, noCounters)
            yield* tick
            const discarded = yield* syncs.discard(first.id, "alice")
            assert.strictEqual(discarded.status, "discarded")
            assert.deepStrictEqual(discarded.decision, { decision: "discard", actor: "alice", at: yield* now })
            assert.strictEqual(reasonOf(yield* failure(syncs.discard(first.id, "alice"))), "Conflict")
            assert.strictEqual(reasonOf(yield* failure(syncs.reopen(first.id, OWNER, "alice"))), "Conflict")
            assert.deepStrictEqual(yield* visible(c.id, t), before)

            const second = yield* syncs.start(c.id, OWNER)
            yield* staged(second.id, [person("u1")], { verdicts: gone })
            yield* syncs.hold(second.id, hold, noCounters)
            yield* tick
            const third = yield* syncs.start(c.id, OWNER)
            const superseded = Option.getOrThrow(yield* syncs.get(second.id))
            assert.strictEqual(superseded.status, "superseded")
            assert.deepStrictEqual(superseded.decision, { decision: "supersede", actor: "system", at: yield* now })
            assert.strictEqual(reasonOf(yield* failure(syncs.reopen(second.id, OWNER, "alice"))), "Conflict")
            assert.strictEqual(reasonOf(yield* failure(syncs.discard(second.id, "alice"))), "Conflict")
            assert.strictEqual(
              reasonOf(yield* failure(syncs.discard(third.id, "alice"))),
              "Conflict",
              "only a held run"
            )
            yield* tick
            yield* syncs.apply(third.id, noCounters)
            assert.strictEqual(
              (yield* accountOf(c.id, "u2")).account.status,
              "active",
              "the superseded run applied nothing"
            )
            assert.deepStrictEqual((yield* syncs.list(c.id, 10)).map((r) => r.status).slice(0, 3), [
              "succeeded",
              "superseded",
              "discarded"
            ])
          }))

        it.effect("a reopened run is no longer held: a second reopen fails Conflict", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            yield* sync(c.id, [person("u1")])
            const run = yield* syncs.start(c.id, OWNER)
            yield* syncs.hold(run.id, hold, noCounters)
            yield* syncs.reopen(run.id, "process-a", "alice")
            const error = yield* failure(syncs.reopen(run.id, "process-b", "bob"))
            assert.strictEqual(reasonOf(error), "Conflict", "it is running again, not held")
            yield* tick
            yield* syncs.apply(run.id, noCounters)
          }))
      })

      // --- what an admin did (invariant 11) -----------------------------------------------------------

      describe("admin actions", () => {
        it.effect("recordAction sets the status with an event and the action's time", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            yield* sync(c.id, [person("u1"), person("u2")])
            const suspended = Option.getOrThrow(yield* inventory.recordAction(c.id, "u1", "suspended", "suspend"))
            const t = yield* now
            assert.strictEqual(suspended.status, "suspended")
            assert.strictEqual(suspended.adminActionAt, t)
            assert.strictEqual(suspended.externalId, "u1")
            assert.strictEqual(suspended.entitlements.length, 1)
            yield* tick
            const again = Option.getOrThrow(yield* inventory.recordAction(c.id, "u1", "suspended", "suspend"))
            assert.strictEqual(again.adminActionAt, yield* now)
            const u1 = yield* accountOf(c.id, "u1")
            assert.deepStrictEqual(u1.history.slice(0, 2).map((e) => [e.from, e.to, e.cause, e.runId, e.at]), [
              ["active", "suspended", "suspend", null, t],
              [null, "active", "sync", u1.history[1]!.runId, u1.history[1]!.at]
            ])
            assert.strictEqual(u1.history.length, 2, "the same status again records no event")
            assert.isTrue(Option.isNone(yield* inventory.recordAction(c.id, "nobody", "suspended", "suspend")))
            assert.isTrue(
              Option.isNone(yield* inventory.recordAction("no-such-connection", "u1", "suspended", "suspend"))
            )
            yield* inventory.recordAction(c.id, "u1", "active", "restore")
            assert.deepStrictEqual((yield* accountOf(c.id, "u1")).history[0]!.cause, "restore")
          }))

        it.effect("an action newer than the run's start keeps its status; the next run confirms the source", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            const inventory = yield* InventoryStore
            yield* sync(c.id, [person("u1", { entitlements: [ent("jira")] }), person("u2"), person("u3")])
            const run = yield* syncs.start(c.id, OWNER)
            yield* tick
            // u1's reading is older than the suspend; u2's reading changed besides; u3 is read as gone.
            yield* syncs.stage(run.id, [
              person("u1", { entitlements: [ent("jira")] }),
              person("u2", { displayName: "Two" })
            ])
            yield* inventory.recordAction(c.id, "u1", "suspended", "suspend")
            yield* inventory.recordAction(c.id, "u2", "suspended", "suspend")
            yield* inventory.recordAction(c.id, "u3", "suspended", "suspend")
            yield* syncs.confirm(run.id, gone(["u3"]))
            assert.strictEqual(
              (yield* syncs.summarize(run.id)).wouldDeprovision,
              0,
              "an admin's newer action is not undone"
            )
            yield* tick
            const applied = yield* syncs.apply(run.id, noCounters)
            assert.deepStrictEqual(
              [
                applied.stats.adminActionsKept,
                applied.stats.updated,
                applied.stats.unchanged,
                applied.stats.deprovisioned,
                applied.stats.absentConfirmed
              ],
              [3, 2, 0, 0, 1]
            )
            for (const id of ["u1", "u2", "u3"]) {
              const a = yield* accountOf(c.id, id)
              assert.strictEqual(a.account.status, "suspended", id)
              assert.deepStrictEqual(a.history.filter((e) => e.runId === run.id), [], `${id}: no sync event`)
            }
            assert.strictEqual(
              (yield* accountOf(c.id, "u2")).account.displayName,
              "Two",
              "the rest of the reading is applied"
            )
            assert.strictEqual((yield* accountOf(c.id, "u3")).account.entitlements[0]!.status, "active")
            // The next run started after the action: the source's word counts again.
            const next = yield* sync(c.id, [
              person("u1", { status: "suspended", entitlements: [ent("jira")] }),
              person("u2", { displayName: "Two" }),
              person("u3")
            ])
            assert.deepStrictEqual([next.stats.adminActionsKept, next.stats.updated, next.stats.unchanged], [0, 3, 0])
            assert.strictEqual((yield* accountOf(c.id, "u1")).account.status, "suspended")
            assert.deepStrictEqual((yield* accountOf(c.id, "u1")).history.filter((e) => e.runId === next.id), [])
            const u2 = yield* accountOf(c.id, "u2")
            assert.strictEqual(u2.account.status, "active")
            assert.deepStrictEqual(u2.history[0]!.cause, "sync")
            // And once confirmed, a reading that did not change is unchanged again.
            const settled = yield* sync(c.id, [
              person("u1", { status: "suspended", entitlements: [ent("jira")] }),
              person("u2", { displayName: "Two" }),
              person("u3")
            ])
            assert.strictEqual(settled.stats.unchanged, 3)
          }))

        it.effect("an action older than the run's start is overwritten by the run's reading", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const syncs = yield* SyncStore
            const inventory = yield* InventoryStore
            yield* sync(c.id, [person("u1"), person("u2")])
            yield* inventory.recordAction(c.id, "u1", "suspended", "suspend")
            yield* tick
            const run = yield* sync(c.id, [person("u1"), person("u2")])
            assert.deepStrictEqual([run.stats.adminActionsKept, run.stats.updated, run.stats.unchanged], [0, 1, 1])
            const u1 = yield* accountOf(c.id, "u1")
            assert.strictEqual(u1.account.status, "active")
            assert.deepStrictEqual(u1.history[0]!.cause, "sync")
            assert.deepStrictEqual([u1.history[0]!.from, u1.history[0]!.to], ["suspended", "active"])
            // A restore during a run to the status the run read is simply confirmed.
            const syncs2 = yield* syncs.start(c.id, OWNER)
            yield* tick
            yield* syncs.stage(syncs2.id, [person("u1"), person("u2")])
            yield* inventory.recordAction(c.id, "u2", "active", "restore")
            yield* tick
            const confirmed = yield* syncs.apply(syncs2.id, noCounters)
            assert.deepStrictEqual([
              confirmed.stats.adminActionsKept,
              confirmed.stats.updated,
              confirmed.stats.unchanged
            ], [0, 1, 1])
            const later = yield* sync(c.id, [person("u1"), person("u2")])
            assert.strictEqual(later.stats.unchanged, 2)
          }))
      })

      // --- licences, products and seats ---------------------------------------------------------------

      describe("licences and products", () => {
        const jira = new License({
          key: "jira:acme.atlassian.net",
          product: "jira",
          productName: "Jira",
          site: "acme",
          siteHost: "acme.atlassian.net",
          plan: "Premium",
          seatsPurchased: 10,
          seatsUsedBySource: 4,
          status: "online",
          sourceId: "ari:1"
        })
        const confluence = new License({
          key: "confluence:acme.atlassian.net",
          product: "confluence",
          productName: "Confluence",
          site: "acme",
          siteHost: "acme.atlassian.net",
          plan: "confluence.ondemand.standard",
          edition: "enterprise"
        })
        const bitbucket = new License({
          key: "bitbucket",
          product: "bitbucket",
          productName: "Bitbucket",
          plan: "Mystery plan"
        })

        it.effect("licences are replaced only by a run that read some", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            const roster = [person("u1", { entitlements: [ent("jira"), ent("trello")] })]
            yield* sync(c.id, roster, {
              licenses: [jira, confluence, bitbucket, new License({ ...jira, seatsPurchased: 12 })]
            })
            const products = yield* inventory.listProducts(c.id)
            assert.deepStrictEqual(
              products.map((p) => [p.key, p.name, p.plan, p.edition, p.seatsPurchased, p.licensed]),
              [
                ["bitbucket", "Bitbucket", "Mystery plan", null, null, true],
                [
                  "confluence:acme.atlassian.net",
                  "Confluence (acme)",
                  "confluence.ondemand.standard",
                  "enterprise",
                  null,
                  true
                ],
                ["jira:acme.atlassian.net", "jira (acme)", "Premium", "premium", 12, true],
                ["trello:acme.atlassian.net", "trello (acme)", null, null, null, false]
              ]
            )
            const jiraRow = products.find((p) => p.key === jira.key)!
            assert.deepStrictEqual([jiraRow.seatsUsedBySource, jiraRow.assigned, jiraRow.seats, jiraRow.siteHost], [
              4,
              1,
              1,
              "acme.atlassian.net"
            ])
            const confluenceRow = products.find((p) => p.key === confluence.key)!
            assert.deepStrictEqual(
              [
                confluenceRow.assigned,
                confluenceRow.seats,
                confluenceRow.product,
                confluenceRow.site,
                confluenceRow.lastActiveAt
              ],
              [0, 0, "confluence", "acme", null]
            )
            yield* sync(c.id, roster)
            assert.strictEqual((yield* inventory.listProducts(c.id)).length, 4, "a run that read no licence keeps them")
            yield* sync(c.id, roster, { licenses: [new License({ ...jira, plan: "Standard" })] })
            assert.deepStrictEqual((yield* inventory.listProducts(c.id)).map((p) => [p.key, p.plan, p.licensed]), [
              ["jira:acme.atlassian.net", "Standard", true],
              ["trello:acme.atlassian.net", null, false]
            ])
          }))

        it.effect("product summaries count assignments, seats, use and non-use exactly as Seats defines them", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            const t0 = yield* Clock.currentTimeMillis
            const ago = (days: number) => iso(t0 - days * DAY)
            yield* sync(c.id, [
              person("a", { entitlements: [ent("jira", "acme", { lastActiveAt: ago(5) })] }),
              person("b", { entitlements: [ent("jira", "acme", { lastActiveAt: ago(45) })] }),
              person("c", { entitlements: [ent("jira", "acme", { lastActiveAt: ago(75) })] }),
              person("d", { entitlements: [ent("jira", "acme", { lastActiveAt: ago(120) })] }),
              person("e", { entitlements: [ent("jira")] }),
              person("f", { addedAt: ago(100), entitlements: [ent("jira")] }),
              person("g", { status: "suspended", entitlements: [ent("jira", "acme", { lastActiveAt: ago(200) })] }),
              person("h", { billable: false, entitlements: [ent("jira")] }),
              person("i", { entitlements: [ent("jira", "acme", { billable: false, role: "atlassian/customer" })] }),
              person("j", { entitlements: [ent("jira", "acme", { status: "suspended" })] }),
              person("k", { status: "deprovisioned", entitlements: [ent("jira")] }),
              person("l", { entitlements: [ent("jira", "acme", { status: "deprovisioned", lastActiveAt: ago(1) })] })
            ], { licenses: [jira] })
            yield* tick
            const at = iso(t0 + 40 * DAY)
            const [row] = (yield* inventory.listProducts(c.id, at)).filter((p) => p.key === jira.key)
            // Forty days on: a 45, b 85, c 115, d 160 days idle; e (seen 40 days ago) and f (joined 140 days ago)
            // never active; g suspended; h and i not billed; j's product suspended; k deprovisioned; l's dropped.
            assert.deepStrictEqual(row, {
              key: jira.key,
              name: "jira (acme)",
              product: "jira",
              site: "acme",
              siteHost: "acme.atlassian.net",
              plan: "Premium",
              edition: "premium",
              seatsPurchased: 10,
              seatsUsedBySource: 4,
              assigned: 9,
              seats: 6,
              used30: 0,
              used60: 1,
              used90: 2,
              unused30: 6,
              unused60: 4,
              unused90: 3,
              deprovisioned: 1,
              lastActiveAt: ago(1),
              licensed: true
            })
            const totals = yield* inventory.totals(c.id, at)
            assert.deepStrictEqual(totals, {
              accounts: 12,
              byStatus: { active: 10, suspended: 1, deprovisioned: 1, unknown: 0 },
              billableAccounts: 11,
              seats: 6,
              unused30: 6,
              unused60: 4,
              unused90: 3
            })
          }))

        it.effect("the product trend keeps one snapshot per applied run, oldest first", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            const r1 = yield* sync(c.id, [person("u1", { entitlements: [ent("jira")] })], { licenses: [jira] })
            const r2 = yield* sync(c.id, [
              person("u1", { entitlements: [ent("jira"), ent("confluence")] }),
              person("u2", { entitlements: [ent("jira")] })
            ])
            const r3 = yield* sync(c.id, [person("u2", { entitlements: [ent("jira")] })], { verdicts: gone })
            const trend = yield* inventory.productTrend(c.id, 2)
            assert.deepStrictEqual(trend.map((s) => [s.runId, s.at, s.key, s.assigned, s.seats, s.seatsPurchased]), [
              [r2.id, r2.finishedAt, confluence.key, 1, 1, null],
              [r2.id, r2.finishedAt, jira.key, 2, 2, 10],
              [r3.id, r3.finishedAt, confluence.key, 0, 0, null],
              [r3.id, r3.finishedAt, jira.key, 1, 1, 10]
            ])
            assert.deepStrictEqual([...new Set((yield* inventory.productTrend(c.id, 10)).map((s) => s.runId))], [
              r1.id,
              r2.id,
              r3.id
            ])
            assert.deepStrictEqual(trend[3]!.used30 + trend[3]!.unused90, 0)
            assert.deepStrictEqual(yield* inventory.productTrend(c.id, 0), [], "no runs")
            assert.deepStrictEqual(yield* inventory.productTrend(c.id, -1), [])
            assert.deepStrictEqual(yield* inventory.productTrend(c.id, 1.5), trend.slice(2), "whole runs")
          }))
      })

      describe("seats", () => {
        it.effect("lists seats by licence, product, plan, use and non-use", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            const t0 = yield* Clock.currentTimeMillis
            const ago = (days: number) => iso(t0 - days * DAY)
            yield* sync(c.id, [
              person("a", {
                displayName: "Ann",
                entitlements: [
                  ent("jira", "acme", { lastActiveAt: ago(5) }),
                  ent("jira", "beta", { lastActiveAt: ago(50) })
                ]
              }),
              person("b", {
                displayName: "Bo",
                entitlements: [ent("jira", "acme", { lastActiveAt: ago(95) }), ent("confluence")]
              }),
              person("c", { displayName: "Cy", status: "suspended", entitlements: [ent("jira")] }),
              person("d", { displayName: "Di", billable: false, entitlements: [ent("jira")] }),
              person("e", { displayName: "Ed", entitlements: [ent("jira", "acme", { billable: false })] })
            ], {
              licenses: [
                new License({ key: "jira:acme.atlassian.net", product: "jira", productName: "Jira", plan: "Premium" }),
                new License({ key: "jira:beta.atlassian.net", product: "jira", productName: "Jira", plan: "Free" })
              ]
            })
            const seats = (query: Partial<SeatQuery>) =>
              inventory.listSeats({ connectionId: c.id, limit: 100, now: iso(t0), ...query }).pipe(
                Effect.map((page) => ({
                  seats: page.data.map((s) => `${s.account.externalId}/${s.entitlement.key}`),
                  total: page.total
                }))
              )
            assert.deepStrictEqual(yield* seats({}), {
              seats: [
                "a/jira:acme.atlassian.net",
                "a/jira:beta.atlassian.net",
                "b/confluence:acme.atlassian.net",
                "b/jira:acme.atlassian.net"
              ],
              total: 4
            })
            assert.deepStrictEqual((yield* seats({ license: "jira:acme.atlassian.net" })).seats, [
              "a/jira:acme.atlassian.net",
              "b/jira:acme.atlassian.net"
            ])
            assert.deepStrictEqual((yield* seats({ product: "jira" })).total, 3)
            assert.deepStrictEqual((yield* seats({ plan: "Free" })).seats, ["a/jira:beta.atlassian.net"])
            // A plan named in other letters is the same plan (Atlassian says `Premium`, its edition `premium`).
            assert.deepStrictEqual(yield* seats({ plan: "free" }), yield* seats({ plan: "Free" }))
            assert.deepStrictEqual((yield* seats({ plan: "PREMIUM" })).total, (yield* seats({ plan: "Premium" })).total)
            assert.deepStrictEqual((yield* seats({ plan: "Premium", usedDays: 30 })).seats, [
              "a/jira:acme.atlassian.net"
            ])
            assert.deepStrictEqual((yield* seats({ unusedDays: 30 })).seats, [
              "a/jira:beta.atlassian.net",
              "b/jira:acme.atlassian.net"
            ])
            assert.deepStrictEqual((yield* seats({ unusedDays: 90 })).seats, ["b/jira:acme.atlassian.net"])
            assert.deepStrictEqual((yield* seats({ usedDays: 60 })).total, 2)
            assert.deepStrictEqual((yield* seats({ q: "BO" })).seats, [
              "b/confluence:acme.atlassian.net",
              "b/jira:acme.atlassian.net"
            ])
            assert.deepStrictEqual((yield* seats({ sort: "lastActive" })).seats, [
              "b/confluence:acme.atlassian.net",
              "b/jira:acme.atlassian.net",
              "a/jira:beta.atlassian.net",
              "a/jira:acme.atlassian.net"
            ])
            const seat =
              (yield* inventory.listSeats({ connectionId: c.id, limit: 1, license: "jira:beta.atlassian.net" }))
                .data[0]!
            assert.strictEqual(seat.account.displayName, "Ann")
            assert.isFalse("entitlements" in seat.account)
            assert.strictEqual(seat.entitlement.lastActiveAt, ago(50))
          }))

        it.effect(
          "seat counts equal the Seats functions on random rosters, and totals equal the lists' totals",
          () =>
            Effect.gen(function*() {
              const inventory = yield* InventoryStore
              const runs = options.propertyRuns ?? 12
              const statuses: ReadonlyArray<AccountStatus> = [
                "active",
                "active",
                "active",
                "suspended",
                "deprovisioned",
                "unknown"
              ]
              const entStatuses: ReadonlyArray<AccountStatus> = [
                "active",
                "active",
                "active",
                "suspended",
                "deprovisioned"
              ]
              for (let seed = 1; seed <= runs; seed++) {
                const c = yield* newConnection(`random ${seed}`)
                const random = prng(seed * 7919)
                const pick = <A>(xs: ReadonlyArray<A>) => xs[Math.floor(random() * xs.length)]!
                const t0 = yield* Clock.currentTimeMillis
                const maybeAgo = (p: number) => (random() < p ? iso(t0 - Math.floor(random() * 200 * DAY)) : undefined)
                const products = ["jira", "confluence", "trello"]
                const sites = ["acme", "beta"]
                const roster = (n: number) =>
                  Array.from({ length: n }, (_, i) =>
                    person(`p${i}`, {
                      displayName: pick(["Ann", "bob", "Cé", "", "Zed"]),
                      email: random() < 0.8 ? `${pick(["x", "Y", "z"])}${i}@acme.test` : undefined,
                      status: pick(statuses),
                      billable: pick([true, false, undefined, undefined]),
                      addedAt: maybeAgo(0.4),
                      lastActiveAt: maybeAgo(0.6),
                      entitlements: random() < 0.1 ?
                        undefined :
                        Array.from({ length: Math.floor(random() * 4) }, () =>
                          ent(pick(products), pick(sites), {
                            status: pick(entStatuses),
                            billable: pick([false, undefined, undefined, true]),
                            lastActiveAt: maybeAgo(0.6)
                          }))
                    }))
                yield* sync(c.id, roster(20 + Math.floor(random() * 20)), { chunk: 7 })
                yield* TestClock.adjust(`${Math.floor(random() * 60)} days`)
                yield* sync(c.id, roster(15 + Math.floor(random() * 25)), {
                  chunk: 5,
                  verdicts: (ids) => gone(ids.filter((_, i) => i % 2 === 0)),
                  settle: "pending"
                })
                const at = iso((yield* Clock.currentTimeMillis) + Math.floor(random() * 100) * DAY)
                const nowMs = Date.parse(at)

                const accounts = yield* everyAccount(c.id, { now: at })
                const pairs = accounts.flatMap((a) => a.entitlements.map((e) => [a, e] as const))
                const count = (p: (a: StoredAccount, e: StoredEntitlement) => boolean) =>
                  pairs.filter(([a, e]) => p(a, e)).length
                const totals = yield* inventory.totals(c.id, at)
                const label = `seed ${seed}`
                assert.strictEqual(totals.accounts, accounts.length, label)
                for (const status of ["active", "suspended", "deprovisioned", "unknown"] as const) {
                  assert.strictEqual(
                    totals.byStatus[status],
                    accounts.filter((a) => a.status === status).length,
                    `${label} ${status}`
                  )
                  assert.strictEqual(
                    (yield* inventory.listAccounts({ connectionId: c.id, limit: 1, status, now: at })).total,
                    totals.byStatus[status]
                  )
                }
                assert.strictEqual(totals.billableAccounts, accounts.filter(Seats.isBillableAccount).length, label)
                assert.strictEqual(
                  (yield* inventory.listAccounts({ connectionId: c.id, limit: 1, billable: true })).total,
                  totals.billableAccounts
                )
                assert.strictEqual(
                  (yield* inventory.listAccounts({ connectionId: c.id, limit: 1, billable: false })).total,
                  accounts.length - totals.billableAccounts
                )
                assert.strictEqual(totals.seats, count(Seats.isSeat), label)
                const seatTotal = (query: Partial<SeatQuery>) =>
                  Effect.map(inventory.listSeats({ connectionId: c.id, limit: 1, now: at, ...query }), (p) => p.total)
                assert.strictEqual(yield* seatTotal({}), totals.seats, label)
                for (
                  const [days, unused] of [[30, totals.unused30], [60, totals.unused60], [90, totals.unused90]] as const
                ) {
                  assert.strictEqual(
                    unused,
                    count((a, e) => Seats.isUnused(a, e, days, nowMs)),
                    `${label} unused${days}`
                  )
                  assert.strictEqual(yield* seatTotal({ unusedDays: days }), unused, `${label} listSeats unused${days}`)
                }
                const cut = Seats.cutoff(nowMs, 30)
                assert.strictEqual(
                  (yield* inventory.listAccounts({ connectionId: c.id, limit: 1, inactiveDays: 30, now: at })).total,
                  accounts.filter((a) => a.lastActiveAt === null || a.lastActiveAt < cut).length,
                  label
                )
                const summaries = yield* inventory.listProducts(c.id, at)
                const keys = [...new Set(pairs.map(([, e]) => e.key))].sort()
                assert.deepStrictEqual(summaries.map((p) => p.key).sort(), keys, label)
                for (const p of summaries) {
                  const of = (pred: (a: StoredAccount, e: StoredEntitlement) => boolean) =>
                    count((a, e) => e.key === p.key && pred(a, e))
                  const l = `${label} ${p.key}`
                  assert.strictEqual(p.assigned, of(Seats.isAssignment), l)
                  assert.strictEqual(p.seats, of(Seats.isSeat), l)
                  assert.strictEqual(p.deprovisioned, of((_, e) => e.status === "deprovisioned"), l)
                  assert.deepStrictEqual(
                    [p.used30, p.used60, p.used90, p.unused30, p.unused60, p.unused90],
                    [30, 60, 90].flatMap((d) => [of((a, e) => Seats.isUsed(a, e, d, nowMs))]).concat(
                      [30, 60, 90].map((d) => of((a, e) => Seats.isUnused(a, e, d, nowMs)))
                    ),
                    l
                  )
                  const actives = pairs.filter(([, e]) => e.key === p.key && e.lastActiveAt !== null).map(([, e]) =>
                    e.lastActiveAt!
                  )
                  assert.strictEqual(p.lastActiveAt, actives.length === 0 ? null : actives.sort().at(-1)!, l)
                  assert.strictEqual(yield* seatTotal({ license: p.key }), p.seats, l)
                  assert.strictEqual(yield* seatTotal({ license: p.key, usedDays: 30 }), p.used30, l)
                  assert.strictEqual(yield* seatTotal({ license: p.key, unusedDays: 90 }), p.unused90, l)
                }
                for (const product of products) {
                  assert.strictEqual(
                    yield* seatTotal({ product }),
                    count((a, e) => e.product === product && Seats.isSeat(a, e)),
                    label
                  )
                  assert.strictEqual(
                    (yield* inventory.listAccounts({ connectionId: c.id, limit: 1, product })).total,
                    accounts.filter((a) => a.entitlements.some((e) => e.product === product && e.status === "active"))
                      .length,
                    `${label} accounts holding ${product}`
                  )
                }
              }
            }),
          timeout * 3
        )
      })

      // --- lists ---------------------------------------------------------------------------------------

      describe("lists", () => {
        const listRoster = (t0: number) => {
          const ago = (days: number) => iso(t0 - days * DAY)
          return [
            person("a:1", {
              displayName: "Alice",
              email: "Zed@corp.test",
              lastActiveAt: ago(1),
              accountType: "atlassian",
              managed: true,
              entitlements: [ent("jira", "acme", { lastActiveAt: ago(1) })]
            }),
            person("a:2", {
              displayName: "bruno",
              email: "b@corp.test",
              lastActiveAt: ago(45),
              entitlements: [
                ent("jira", "acme", { lastActiveAt: ago(45) }),
                ent("confluence", "acme", { lastActiveAt: ago(100) })
              ]
            }),
            person("a:3", {
              displayName: "Chloé 100%",
              email: "chloe_x@corp.test",
              lastActiveAt: ago(70),
              managed: false,
              entitlements: [ent("jira", "beta")]
            }),
            person("a:4", { displayName: "Dana", email: undefined, entitlements: [ent("confluence", "acme")] }),
            person("a:5", {
              displayName: "eve",
              status: "suspended",
              lastActiveAt: ago(200),
              accountType: "customer",
              billable: false,
              entitlements: [ent("jira", "acme", { lastActiveAt: ago(95) })]
            }),
            person("a:6", { displayName: "Frank", lastActiveAt: ago(10), entitlements: [] }),
            person("a:7", {
              displayName: "alice",
              email: "a@corp.test",
              lastActiveAt: ago(31),
              accountType: "app",
              billable: true,
              entitlements: [ent("confluence", "beta", { lastActiveAt: ago(5) })]
            }),
            person("a:8", {
              displayName: "",
              email: "Ghost@corp.test",
              status: "deprovisioned",
              entitlements: [ent("jira", "acme", { status: "deprovisioned" })]
            })
          ]
        }

        it.effect("filters accounts by status, product, inactivity, search, type, billing and management", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            const t0 = yield* Clock.currentTimeMillis
            yield* sync(c.id, listRoster(t0))
            // a:1 loses Jira: a deprovisioned entitlement does not count as holding the product.
            yield* sync(
              c.id,
              listRoster(t0).map((a) => (a.externalId === "a:1" ? person("a:1", { ...a, entitlements: [] }) : a))
            )
            const ids = (query: Partial<AccountQuery>) =>
              inventory.listAccounts({ connectionId: c.id, limit: 100, now: iso(t0), ...query }).pipe(
                Effect.map((page) => page.data.map((a) => a.externalId))
              )
            assert.deepStrictEqual(yield* ids({}), ["a:1", "a:7", "a:2", "a:3", "a:4", "a:5", "a:6", "a:8"])
            assert.deepStrictEqual(yield* ids({ status: "suspended" }), ["a:5"])
            assert.deepStrictEqual(yield* ids({ product: "jira:acme.atlassian.net" }), ["a:2", "a:5"])
            assert.deepStrictEqual(yield* ids({ product: "jira" }), ["a:2", "a:3", "a:5"])
            assert.deepStrictEqual(yield* ids({ product: "confluence" }), ["a:7", "a:2", "a:4"])
            assert.deepStrictEqual(yield* ids({ product: "conf" }), [], "no prefix matching of product keys")
            assert.deepStrictEqual(yield* ids({ inactiveDays: 30 }), ["a:7", "a:2", "a:3", "a:4", "a:5", "a:8"])
            assert.deepStrictEqual(yield* ids({ inactiveDays: 60, product: "jira", status: "active" }), ["a:3"])
            assert.deepStrictEqual(yield* ids({ q: "BRU" }), ["a:2"])
            assert.deepStrictEqual(yield* ids({ q: "corp.TEST" }), ["a:1", "a:7", "a:2", "a:3", "a:8"])
            assert.deepStrictEqual(yield* ids({ q: "a:6" }), ["a:6"])
            assert.deepStrictEqual(yield* ids({ q: "100%" }), ["a:3"])
            assert.deepStrictEqual(yield* ids({ q: "%" }), ["a:3"])
            assert.deepStrictEqual(yield* ids({ q: "e_x" }), ["a:3"])
            assert.deepStrictEqual(yield* ids({ q: "_" }), ["a:3"])
            assert.deepStrictEqual(yield* ids({ q: "chloé" }), ["a:3"])
            assert.deepStrictEqual(yield* ids({ q: "  dana " }), ["a:4"])
            assert.deepStrictEqual(yield* ids({ q: "nobody" }), [])
            assert.deepStrictEqual(yield* ids({ accountType: "customer" }), ["a:5"])
            assert.deepStrictEqual(yield* ids({ billable: false }), ["a:5"])
            assert.deepStrictEqual((yield* ids({ billable: true })).length, 7)
            assert.deepStrictEqual(yield* ids({ managed: true }), ["a:1"])
            assert.deepStrictEqual(yield* ids({ managed: false }), ["a:3"])
            const page = yield* inventory.listAccounts({ connectionId: c.id, limit: 2, q: "corp" })
            assert.deepStrictEqual([page.total, page.data.length, page.prevCursor], [5, 2, null])
            assert.isString(page.nextCursor)
            const empty = yield* inventory.listAccounts({ connectionId: c.id, limit: 10, q: "nobody" })
            assert.deepStrictEqual(empty, { data: [], nextCursor: null, prevCursor: null, total: 0 })
          }))

        it.effect("pages forward and back through every sort and order, visiting each account once", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            const t0 = yield* Clock.currentTimeMillis
            // Repeated names, emails and activity so that ties fall back to the id; firstSeen differs by run.
            const roster = Array.from({ length: 17 }, (_, i) =>
              person(`p:${String(i).padStart(2, "0")}`, {
                displayName: i % 3 === 0 ? "Same" : `N${i % 5}`,
                email: i % 4 === 0 ? undefined : `m${i % 3}@corp.test`,
                status: i % 6 === 0 ? "suspended" : "active",
                lastActiveAt: i % 4 === 1 ? undefined : iso(t0 - (i % 5) * DAY)
              }))
            yield* sync(c.id, roster.slice(0, 9))
            yield* sync(c.id, roster)
            const all = yield* everyAccount(c.id)
            assert.strictEqual(all.length, 17)
            for (const sort of ["name", "email", "lastActive", "status", "firstSeen"] as const) {
              for (const order of ["asc", "desc"] as const) {
                const sign = order === "asc" ? 1 : -1
                const expected = [...all].sort((x, y) =>
                  sign * (compareText(sortValueOf(sort, x, x.lastActiveAt), sortValueOf(sort, y, y.lastActiveAt)) ||
                    compareText(x.externalId, y.externalId))
                ).map((a) => a.externalId)
                const fetch = (cursor: string | undefined) =>
                  inventory.listAccounts({ connectionId: c.id, limit: 4, sort, order, cursor })
                const forward = (yield* allPages(fetch)).map((a) => a.externalId)
                assert.deepStrictEqual(forward, expected, `${sort} ${order} forward`)
                const back = (yield* allPagesBack(fetch)).map((a) => a.externalId)
                assert.deepStrictEqual(back, expected, `${sort} ${order} back`)
                // One step on and one back lands on the first page again.
                const first = yield* fetch(undefined)
                const second = yield* fetch(first.nextCursor!)
                assert.isString(second.prevCursor, `${sort} ${order}`)
                const again = yield* fetch(second.prevCursor!)
                assert.deepStrictEqual(again.data.map((a) => a.externalId), first.data.map((a) => a.externalId))
                assert.isNull(again.prevCursor, `${sort} ${order}: the first page has no previous page`)
                assert.strictEqual(again.total, 17)
              }
            }
            // lastActive: never-active accounts first in ascending order, last in descending.
            const byActivity =
              (yield* inventory.listAccounts({ connectionId: c.id, limit: 100, sort: "lastActive" })).data
            assert.isNull(byActivity[0]!.lastActiveAt)
            assert.isNull(
              (yield* inventory.listAccounts({ connectionId: c.id, limit: 100, sort: "lastActive", order: "desc" }))
                .data.at(-1)!.lastActiveAt
            )
            // Filters hold across pages.
            const suspended = yield* allPages((cursor) =>
              inventory.listAccounts({ connectionId: c.id, limit: 1, status: "suspended", cursor })
            )
            assert.deepStrictEqual(suspended.map((a) => a.externalId), ["p:00", "p:06", "p:12"])
          }))

        it.effect("pages seats forward and back", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            const t0 = yield* Clock.currentTimeMillis
            yield* sync(
              c.id,
              Array.from({ length: 9 }, (_, i) =>
                person(`s${i}`, {
                  displayName: i % 2 === 0 ? "Same" : `N${i}`,
                  entitlements: [
                    ent("jira", "acme", { lastActiveAt: i % 3 === 0 ? undefined : iso(t0 - i * DAY) }),
                    ent("confluence", "acme", { lastActiveAt: iso(t0 - DAY) })
                  ]
                }))
            )
            const full = (yield* inventory.listSeats({ connectionId: c.id, limit: 1_000 })).data
            assert.strictEqual(full.length, 18)
            for (const sort of ["name", "lastActive", "firstSeen"] as const) {
              for (const order of ["asc", "desc"] as const) {
                const sign = order === "asc" ? 1 : -1
                const expected = [...full].sort((x, y) =>
                  sign *
                  (compareText(
                    sortValueOf(sort, x.account, x.entitlement.lastActiveAt),
                    sortValueOf(sort, y.account, y.entitlement.lastActiveAt)
                  ) ||
                    compareText(x.account.externalId, y.account.externalId) ||
                    compareText(x.entitlement.key, y.entitlement.key))
                ).map((s) => `${s.account.externalId}/${s.entitlement.key}`)
                const fetch = (cursor: string | undefined) =>
                  inventory.listSeats({ connectionId: c.id, limit: 5, sort, order, cursor })
                assert.deepStrictEqual(
                  (yield* allPages(fetch)).map((s) => `${s.account.externalId}/${s.entitlement.key}`),
                  expected,
                  `${sort} ${order}`
                )
                assert.deepStrictEqual(
                  (yield* allPagesBack(fetch)).map((s) => `${s.account.externalId}/${s.entitlement.key}`),
                  expected,
                  `${sort} ${order} back`
                )
              }
            }
          }))

        it.effect("rejects a cursor that is garbled or belongs to another list", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const other = yield* newConnection("other")
            const inventory = yield* InventoryStore
            const audit = yield* AuditStore
            const roster = Array.from({ length: 6 }, (_, i) => person(`r${i}`))
            yield* sync(c.id, roster)
            yield* sync(other.id, roster)
            for (let i = 0; i < 3; i++) {
              yield* audit.append({
                actor: "t",
                action: "cursor.test",
                connectionId: c.id,
                target: null,
                input: null,
                outcome: "ok",
                detail: null
              })
            }
            const accountsCursor = (yield* inventory.listAccounts({ connectionId: c.id, limit: 2 })).nextCursor!
            const seatsCursor = (yield* inventory.listSeats({ connectionId: c.id, limit: 2 })).nextCursor!
            const auditCursor = (yield* audit.list({ connectionId: c.id, limit: 1 })).nextCursor!
            const otherCursor = (yield* inventory.listAccounts({ connectionId: other.id, limit: 2 })).nextCursor!
            const emailCursor = (yield* inventory.listAccounts({ connectionId: c.id, limit: 2, sort: "email" }))
              .nextCursor!
            const descCursor = (yield* inventory.listAccounts({ connectionId: c.id, limit: 2, order: "desc" }))
              .nextCursor!
            const corrupt = (effect: Effect.Effect<unknown, StoreError>, why: string) =>
              Effect.gen(function*() {
                const error = yield* failure(effect)
                assert.strictEqual(error.reason, "Corrupt", why)
                assert.include(error.message, "cursor", why)
              })
            for (const bad of ["garbage", "x.y.z", accountsCursor.slice(0, -3), "mem.e30", "e30.e30"]) {
              yield* corrupt(inventory.listAccounts({ connectionId: c.id, limit: 2, cursor: bad }), `cursor ${bad}`)
            }
            yield* corrupt(
              inventory.listAccounts({ connectionId: c.id, limit: 2, cursor: otherCursor }),
              "another connection's"
            )
            yield* corrupt(
              inventory.listAccounts({ connectionId: c.id, limit: 2, cursor: seatsCursor }),
              "a seats cursor"
            )
            yield* corrupt(
              inventory.listAccounts({ connectionId: c.id, limit: 2, cursor: auditCursor }),
              "an audit cursor"
            )
            yield* corrupt(
              inventory.listAccounts({ connectionId: c.id, limit: 2, cursor: emailCursor }),
              "another sort"
            )
            yield* corrupt(
              inventory.listAccounts({ connectionId: c.id, limit: 2, cursor: descCursor }),
              "another order"
            )
            yield* corrupt(
              inventory.listSeats({ connectionId: c.id, limit: 2, cursor: accountsCursor }),
              "an accounts cursor"
            )
            yield* corrupt(
              audit.list({ connectionId: c.id, limit: 2, cursor: accountsCursor }),
              "an accounts cursor in the audit"
            )
            yield* corrupt(
              audit.list({ limit: 2, cursor: auditCursor }),
              "a connection's audit cursor in the whole audit"
            )
            // An empty cursor is the first page.
            assert.strictEqual(
              (yield* inventory.listAccounts({ connectionId: c.id, limit: 2, cursor: "" })).data[0]!.externalId,
              "r0"
            )
          }))

        it.effect("an account's history is newest first", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            const r1 = yield* sync(c.id, [person("u1")])
            yield* inventory.recordAction(c.id, "u1", "suspended", "suspend")
            yield* tick
            const r2 = yield* sync(c.id, [person("u1", { entitlements: [ent("confluence"), ent("jira")] })])
            const history = (yield* accountOf(c.id, "u1")).history
            assert.deepStrictEqual(history.map((e) => [e.entitlementKey, e.from, e.to, e.cause, e.runId]).slice(2), [
              [null, "active", "suspended", "suspend", null],
              [null, null, "active", "sync", r1.id]
            ])
            assert.deepStrictEqual(
              history.slice(0, 2).map((e) => [e.entitlementKey, e.from, e.to, e.runId]).sort(),
              [
                ["jira:acme.atlassian.net", null, "active", r2.id],
                [null, "suspended", "active", r2.id]
              ].sort()
            )
            assert.isTrue(Option.isNone(yield* inventory.getAccount(c.id, "nobody")))
          }))
      })

      // --- list totals --------------------------------------------------------------------------------

      describe("list totals", () => {
        // A store may keep a list's count between pages; these show it never gives one that is out of date.
        it.effect("a total follows every change at once: applies, admin actions (at one instant too), removal", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            const connections = yield* ConnectionStore
            const t0 = yield* Clock.currentTimeMillis
            const roster = ["t1", "t2", "t3", "t4"].map((id, i) =>
              person(id, { lastActiveAt: iso(t0 - (i + 1) * 20 * DAY), entitlements: [ent("jira"), ent("confluence")] })
            )
            yield* sync(c.id, roster)
            const totals = Effect.gen(function*() {
              const at = yield* now
              const accounts = (query: Partial<AccountQuery>) =>
                Effect.map(inventory.listAccounts({ connectionId: c.id, limit: 1, now: at, ...query }), (p) => p.total)
              const seats = (query: Partial<SeatQuery>) =>
                Effect.map(inventory.listSeats({ connectionId: c.id, limit: 1, now: at, ...query }), (p) => p.total)
              return {
                all: yield* accounts({}),
                active: yield* accounts({ status: "active" }),
                inactive30: yield* accounts({ inactiveDays: 30 }),
                activeInactive30: yield* accounts({ status: "active", inactiveDays: 30 }),
                seats: yield* seats({}),
                jira: yield* seats({ product: "jira" })
              }
            })
            // Each list read twice, so that a count kept from the first reading would be what the second gives.
            const twice = Effect.zipLeft(totals, totals)
            assert.deepStrictEqual(yield* twice, {
              all: 4,
              active: 4,
              inactive30: 3,
              activeInactive30: 3,
              seats: 8,
              jira: 4
            })
            // Two actions at the same instant, then a restore that brings a count back to a value it had.
            yield* inventory.recordAction(c.id, "t2", "suspended", "suspend")
            assert.deepStrictEqual(yield* twice, {
              all: 4,
              active: 3,
              inactive30: 3,
              activeInactive30: 2,
              seats: 6,
              jira: 3
            })
            yield* inventory.recordAction(c.id, "t3", "suspended", "suspend")
            assert.deepStrictEqual(yield* twice, {
              all: 4,
              active: 2,
              inactive30: 3,
              activeInactive30: 1,
              seats: 4,
              jira: 2
            })
            yield* inventory.recordAction(c.id, "t3", "active", "restore")
            assert.deepStrictEqual(yield* twice, {
              all: 4,
              active: 3,
              inactive30: 3,
              activeInactive30: 2,
              seats: 6,
              jira: 3
            })
            // An apply (of a run started after the actions: its readings win): one account more, one product
            // fewer for another.
            yield* tick
            yield* sync(c.id, [
              ...roster.map((a) => (a.externalId === "t4" ? person("t4", { ...a, entitlements: [ent("jira")] }) : a)),
              person("t5", { entitlements: [ent("jira")] })
            ], { verdicts: () => [] })
            assert.deepStrictEqual(yield* twice, {
              all: 5,
              active: 5,
              inactive30: 4,
              activeInactive30: 4,
              seats: 8,
              jira: 5
            })
            // A removed connection lists nothing.
            assert.isTrue(yield* connections.remove(c.id))
            assert.deepStrictEqual(yield* twice, {
              all: 0,
              active: 0,
              inactive30: 0,
              activeInactive30: 0,
              seats: 0,
              jira: 0
            })
          }))

        it.effect("an inactivity total moves with the clock, forward and back, by the accounts that cross it", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            const t0 = yield* Clock.currentTimeMillis
            // Last active 1, 2, ..., 40 days ago, and two never active.
            yield* sync(c.id, [
              ...Array.from(
                { length: 40 },
                (_, i) => person(`d${i + 1}`, { lastActiveAt: iso(t0 - (i + 1) * DAY + 1) })
              ),
              person("never-1"),
              person("never-2")
            ], { chunk: 50 })
            const inactive = (days: number, at: number, query: Partial<AccountQuery> = {}) =>
              inventory.listAccounts({ connectionId: c.id, limit: 1, inactiveDays: days, now: iso(at), ...query }).pipe(
                Effect.map((p) => p.total)
              )
            const expected = (days: number, at: number) =>
              2 + Array.from({ length: 40 }, (_, i) => t0 - (i + 1) * DAY + 1).filter((t) => t < at - days * DAY).length
            for (const at of [t0, t0 + 1, t0 + DAY, t0 + 5 * DAY + 2, t0 + 2 * DAY, t0 - 3 * DAY, t0 + 60 * DAY, t0]) {
              for (const days of [30, 7, 30, 0]) {
                assert.strictEqual(yield* inactive(days, at), expected(days, at), `${days} ${at}`)
              }
            }
            assert.strictEqual(yield* inactive(30, t0 + 10 * DAY, { q: "d3" }), 10, "d30..d39, searched")
            assert.strictEqual(yield* inactive(30, t0 + 11 * DAY, { q: "d3" }), 10, "searched, a day on")
            assert.strictEqual(yield* inactive(30, t0 + 12 * DAY + 2, { q: "d3" }), 10, "d3x only")
          }))

        it.effect("withTotal: false gives the same pages without counting them (total -1)", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const inventory = yield* InventoryStore
            yield* sync(
              c.id,
              Array.from({ length: 7 }, (_, i) => person(`w${i}`, { entitlements: [ent("jira"), ent("confluence")] }))
            )
            const accounts = (withTotal: boolean) =>
              allPages((cursor) => inventory.listAccounts({ connectionId: c.id, limit: 3, cursor, withTotal }))
            const seats = (withTotal: boolean) =>
              allPages((cursor) => inventory.listSeats({ connectionId: c.id, limit: 4, cursor, withTotal }))
            assert.deepStrictEqual(yield* accounts(false), yield* accounts(true))
            assert.deepStrictEqual(yield* seats(false), yield* seats(true))
            const page = yield* inventory.listAccounts({ connectionId: c.id, limit: 3, withTotal: false })
            const next = yield* inventory.listSeats({ connectionId: c.id, limit: 3, withTotal: false })
            assert.deepStrictEqual([page.total, page.data.length, next.total, next.data.length], [-1, 3, -1, 3])
            assert.strictEqual((yield* inventory.listAccounts({ connectionId: c.id, limit: 3 })).total, 7)
          }))
      })

      // --- audit --------------------------------------------------------------------------------------

      describe("audit", () => {
        it.effect("appends events and lists them newest first, filtered and paged both ways", () =>
          Effect.gen(function*() {
            const a = yield* newConnection("a")
            const b = yield* newConnection("b")
            const audit = yield* AuditStore
            const appended = []
            const times: Array<string> = []
            for (let i = 0; i < 7; i++) {
              times.push(yield* now)
              appended.push(
                yield* audit.append({
                  actor: i === 0 ? "alice" : "scheduler",
                  action: i % 2 === 0 ? "account.suspend" : "sync.start",
                  connectionId: i < 5 ? a.id : b.id,
                  target: `u${i}`,
                  input: { reason: `r${i}`, dryRun: i === 0, nested: [i] },
                  outcome: i === 0 ? "dry-run" : "ok",
                  detail: i === 3 ? "a detail" : null
                })
              )
              yield* tick
            }
            const none = yield* audit.append({
              actor: "system",
              action: "host.start",
              connectionId: null,
              target: null,
              input: undefined,
              outcome: "ok",
              detail: "boot"
            })
            assert.deepStrictEqual(appended.map((e) => e.at), times)
            assert.isString(appended[0]!.id)
            assert.isNull(none.input)
            assert.deepStrictEqual(appended[0]!.input, { reason: "r0", dryRun: true, nested: [0] })
            const ofA = yield* allPages((cursor) => audit.list({ connectionId: a.id, limit: 2, cursor }))
            assert.deepStrictEqual(ofA.map((e) => e.target), ["u4", "u3", "u2", "u1", "u0"])
            assert.deepStrictEqual(ofA[4], appended[0])
            assert.deepStrictEqual(
              (yield* allPagesBack((cursor) => audit.list({ connectionId: a.id, limit: 2, cursor }))).map((e) =>
                e.target
              ),
              [
                "u4",
                "u3",
                "u2",
                "u1",
                "u0"
              ]
            )
            const suspends = yield* audit.list({ connectionId: a.id, action: "account.suspend", limit: 10 })
            assert.deepStrictEqual([suspends.total, suspends.data.map((e) => e.target)], [3, ["u4", "u2", "u0"]])
            assert.strictEqual((yield* audit.list({ connectionId: b.id, limit: 1 })).total, 2)
            const everything = yield* audit.list({ limit: 3 })
            assert.deepStrictEqual(everything.data[0], none, "the whole log, newest first")
            assert.isTrue(everything.total >= 8)
            assert.strictEqual(everything.data[1]!.target, "u6")
          }))
      })

      // --- reclaim: policies and prices ---------------------------------------------------------------

      describe("reclaim policies and prices", () => {
        it.effect("an update makes a new version; every version stays readable; archived ones are not listed", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const other = yield* newConnection("other")
            const store = yield* ReclaimStore
            const t0 = yield* now
            const first = yield* store.createPolicy(c.id, policyOf("Idle Jira"), "alice")
            assert.deepStrictEqual(first, {
              id: first.id,
              connectionId: c.id,
              version: 1,
              policy: policyOf("Idle Jira"),
              createdBy: "alice",
              createdAt: t0,
              updatedAt: t0,
              archived: false
            })
            assert.deepStrictEqual(first.policy.exclude.exemptions[0]!.until, "2027-03-01")
            yield* tick
            const second = Option.getOrThrow(yield* store.updatePolicy(first.id, policyOf("Idle Jira 90", 90), "bob"))
            assert.deepStrictEqual(second, {
              ...first,
              version: 2,
              policy: policyOf("Idle Jira 90", 90),
              createdBy: "bob",
              updatedAt: yield* now
            })
            assert.deepStrictEqual(Option.getOrThrow(yield* store.getPolicy(first.id)), second, "the latest")
            assert.deepStrictEqual(Option.getOrThrow(yield* store.getPolicy(first.id, 1)), first, "version 1 is kept")
            assert.deepStrictEqual(Option.getOrThrow(yield* store.getPolicy(first.id, 2)), second)
            assert.isTrue(Option.isNone(yield* store.getPolicy(first.id, 3)))
            assert.isTrue(Option.isNone(yield* store.getPolicy("no-such-policy")))
            assert.isTrue(Option.isNone(yield* store.updatePolicy("no-such-policy", policyOf("x"), "bob")))

            yield* tick
            const another = yield* store.createPolicy(c.id, policyOf("Idle Confluence"), "carol")
            const elsewhere = yield* store.createPolicy(other.id, policyOf("Elsewhere"), "carol")
            assert.deepStrictEqual(yield* store.listPolicies(c.id), [second, another], "latest versions, oldest first")
            assert.deepStrictEqual(yield* store.listPolicies(other.id), [elsewhere])

            assert.isTrue(yield* store.archivePolicy(another.id))
            assert.isFalse(yield* store.archivePolicy("no-such-policy"))
            assert.deepStrictEqual(yield* store.listPolicies(c.id), [second])
            assert.isTrue(Option.getOrThrow(yield* store.getPolicy(another.id)).archived)
            assert.deepStrictEqual(yield* store.listPolicies("no-such-connection"), [])
          }))

        it.effect("prices are replaced as a whole, in the order given, per connection", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const other = yield* newConnection("other")
            const store = yield* ReclaimStore
            assert.deepStrictEqual(yield* store.listPrices(c.id), [])
            const prices: ReadonlyArray<Price> = [
              { product: "jira-software", plan: "Premium", amount: 15.25, currency: "EUR", period: "monthly" },
              { product: "jira-software", amount: 7.75, currency: "EUR", period: "monthly" },
              { product: "confluence", amount: 60, currency: "USD", period: "annual" }
            ]
            yield* store.setPrices(c.id, prices)
            yield* store.setPrices(other.id, [prices[2]!])
            assert.deepStrictEqual(yield* store.listPrices(c.id), prices)
            assert.isFalse("plan" in (yield* store.listPrices(c.id))[1]!, "a price without a plan has no plan")
            yield* store.setPrices(c.id, [prices[1]!])
            assert.deepStrictEqual(yield* store.listPrices(c.id), [prices[1]])
            yield* store.setPrices(c.id, [])
            assert.deepStrictEqual(yield* store.listPrices(c.id), [])
            assert.deepStrictEqual(yield* store.listPrices(other.id), [prices[2]])
          }))
      })

      // --- reclaim: plans ------------------------------------------------------------------------------

      describe("reclaim plans", () => {
        it.effect("a plan is made in review, keeps its policy's version, and counts its progress from its items", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const store = yield* ReclaimStore
            const policy = yield* newPolicy(c.id)
            yield* tick
            const t0 = yield* now
            const plan = yield* newPlan(c.id, policy, 3)
            assert.deepStrictEqual(plan, {
              id: plan.id,
              connectionId: c.id,
              policyId: policy.id,
              policyVersion: 1,
              policyName: "Idle Jira",
              policy: policy.policy,
              createdBy: "alice",
              createdAt: t0,
              basedOnRunId: `run-of-${c.id}`,
              dataAt: iso(BASE),
              blockedBecause: null,
              fourEyes: true,
              status: "review",
              approvedBy: null,
              approvedAt: null,
              cancelledBy: null,
              startedAt: null,
              finishedAt: null,
              stoppedBecause: null,
              accounts: 3,
              seats: 4,
              monthly: { EUR: 7.75 * 3, USD: 10 },
              unpriced: 1,
              excluded: [{
                externalId: "p9",
                displayName: "Person 9",
                reason: "exempt",
                detail: "exempt until 2027-03-01: leave"
              }],
              progress: progress({ pending: 3 })
            })
            assert.deepStrictEqual(Option.getOrThrow(yield* store.getPlan(plan.id)), plan)
            assert.isTrue(Option.isNone(yield* store.getPlan("no-such-plan")))

            const items = yield* store.listItems({ planId: plan.id, limit: 10 })
            const expected: ReadonlyArray<PlanItem> = [0, 1, 2].map((i) => ({
              ...itemOf(i),
              planId: plan.id,
              position: i,
              state: "pending",
              journal: null,
              result: null,
              doneAt: null,
              undoneAt: null
            }))
            assert.deepStrictEqual(items, { data: expected, nextCursor: null, prevCursor: null, total: 3 })
            assert.deepStrictEqual(Option.getOrThrow(yield* store.getItem(plan.id, "p1")), expected[1])
            assert.isTrue(Option.isNone(yield* store.getItem(plan.id, "p7")))
            assert.isTrue(Option.isNone(yield* store.getItem("no-such-plan", "p1")))

            // A new version of the policy leaves the plan as it was made.
            yield* tick
            const updated = Option.getOrThrow(yield* store.updatePolicy(policy.id, policyOf("Renamed", 30), "bob"))
            const later = yield* newPlan(c.id, updated, 1, { blockedBecause: "the latest sync is held" })
            assert.deepStrictEqual(
              [later.policyVersion, later.policyName, later.blockedBecause, later.fourEyes, later.seats],
              [2, "Renamed", "the latest sync is held", false, 2]
            )
            const again = Option.getOrThrow(yield* store.getPlan(plan.id))
            assert.deepStrictEqual([again.policyVersion, again.policyName, again.policy], [
              1,
              "Idle Jira",
              policy.policy
            ])

            // An account is in a plan once.
            const twice = yield* Effect.flip(newPlan(c.id, updated, 2, { items: [itemOf(0), itemOf(1), itemOf(0)] }))
            assert.strictEqual(twice.reason, "Conflict")
            assert.include(twice.message, "p0")

            // An empty plan is a plan too.
            const empty = yield* newPlan(c.id, updated, 0)
            assert.deepStrictEqual([empty.accounts, empty.seats, empty.progress], [0, 0, progress({})])
          }))

        it.effect("lists plans newest first, by connection or policy, up to the limit", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const other = yield* newConnection("other")
            const store = yield* ReclaimStore
            const p1 = yield* newPolicy(c.id, "one")
            const p2 = yield* newPolicy(c.id, "two")
            const p3 = yield* newPolicy(other.id, "three")
            const made = []
            for (const policy of [p1, p2, p1, p3]) {
              made.push(yield* newPlan(policy.connectionId, policy, 2))
              yield* tick
            }
            yield* store.approve(made[0]!.id, "bob")
            const ids = (plans: ReadonlyArray<{ readonly id: string }>) => plans.map((p) => p.id)
            assert.deepStrictEqual(ids(yield* store.listPlans({ connectionId: c.id, limit: 10 })), [
              made[2]!.id,
              made[1]!.id,
              made[0]!.id
            ])
            assert.deepStrictEqual(ids(yield* store.listPlans({ connectionId: c.id, limit: 2 })), [
              made[2]!.id,
              made[1]!.id
            ])
            assert.deepStrictEqual(ids(yield* store.listPlans({ policyId: p1.id, limit: 10 })), [
              made[2]!.id,
              made[0]!.id
            ])
            assert.deepStrictEqual(
              ids(yield* store.listPlans({ connectionId: other.id, policyId: p3.id, limit: 10 })),
              [
                made[3]!.id
              ]
            )
            assert.deepStrictEqual(
              ids(yield* store.listPlans({ connectionId: other.id, policyId: p1.id, limit: 10 })),
              []
            )
            // After a given plan: the newest of the policy made before it, or the next page of a walk.
            assert.deepStrictEqual(ids(yield* store.listPlans({ policyId: p1.id, before: made[2]!, limit: 1 })), [
              made[0]!.id
            ])
            assert.deepStrictEqual(ids(yield* store.listPlans({ policyId: p1.id, before: made[0]!, limit: 10 })), [])
            assert.deepStrictEqual(ids(yield* store.listPlans({ connectionId: c.id, before: made[2]!, limit: 10 })), [
              made[1]!.id,
              made[0]!.id
            ])
            const everything = yield* store.listPlans({ limit: 2 })
            assert.deepStrictEqual(ids(everything), [made[3]!.id, made[2]!.id], "every connection's, newest first")
            const listed = (yield* store.listPlans({ connectionId: c.id, limit: 10 }))[2]!
            assert.deepStrictEqual(listed, Option.getOrThrow(yield* store.getPlan(made[0]!.id)))
            assert.deepStrictEqual([listed.status, listed.progress], ["approved", progress({ pending: 2 })])
            // Two plans of the same instant are told apart by id, the list's second key.
            const twins = [yield* newPlan(c.id, p2, 1), yield* newPlan(c.id, p2, 1)].sort((a, b) =>
              a.id < b.id ? 1 : -1
            )
            assert.strictEqual(twins[0]!.createdAt, twins[1]!.createdAt)
            assert.deepStrictEqual(ids(yield* store.listPlans({ policyId: p2.id, before: twins[0]!, limit: 10 })), [
              twins[1]!.id,
              made[1]!.id
            ])
          }))

        it.effect("compares two plans' accounts: who is only in one, only in the other, sorted by id", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const store = yield* ReclaimStore
            const policy = yield* newPolicy(c.id, "compared")
            const before = yield* newPlan(c.id, policy, 0, { items: [itemOf(3), itemOf(1), itemOf(2), itemOf(7)] })
            const after = yield* newPlan(c.id, policy, 0, { items: [itemOf(2), itemOf(5), itemOf(4), itemOf(1)] })
            const named = (n: number) => ({ externalId: itemOf(n).externalId, displayName: itemOf(n).displayName })
            assert.deepStrictEqual(yield* store.compareItems(after.id, before.id), {
              added: [named(4), named(5)],
              dropped: [named(3), named(7)]
            })
            assert.deepStrictEqual(yield* store.compareItems(before.id, before.id), { added: [], dropped: [] })
            // A policy's first plan: every account is new.
            assert.deepStrictEqual(yield* store.compareItems(before.id, null), {
              added: [named(1), named(2), named(3), named(7)],
              dropped: []
            })
          }))

        it.effect("counts the seats a plan frees per product and plan", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const store = yield* ReclaimStore
            const policy = yield* newPolicy(c.id, "counted")
            const plan = yield* newPlan(c.id, policy, 5)
            const expected = new Map<string, { product: string; plan: string | null; seats: number }>()
            for (const item of (yield* store.listItems({ planId: plan.id, limit: 100 })).data) {
              for (const seat of item.seats) {
                const key = `${seat.product}/${seat.plan}`
                const row = expected.get(key) ?? { product: seat.product, plan: seat.plan, seats: 0 }
                row.seats++
                expected.set(key, row)
              }
            }
            assert.isAbove(expected.size, 1, "the items free seats of more than one product or plan")
            const counted = yield* store.freedSeats(plan.id)
            const byKey = (r: { readonly product: string; readonly plan: string | null }) => `${r.product}/${r.plan}`
            assert.deepStrictEqual(
              counted.map((r) => ({ product: r.product, plan: r.plan, seats: r.seats })).sort((a, b) =>
                byKey(a) < byKey(b) ? -1 : 1
              ),
              [...expected.values()].sort((a, b) => byKey(a) < byKey(b) ? -1 : 1)
            )
            for (const r of counted) assert.isTrue(r.name.length > 0)
            assert.deepStrictEqual(yield* store.freedSeats("no-such-plan"), [])
          }))

        it.effect(
          "adds up what done actions cost: confirmed once a later sync reads the account not active, each account once, by its newest action",
          () =>
            Effect.gen(function*() {
              const c = yield* newConnection()
              const elsewhere = yield* newConnection("Elsewhere")
              const store = yield* ReclaimStore
              yield* sync(c.id, ["p0", "p1", "p2", "p3", "p4"].map((id) => person(id)))
              const policy = yield* newPolicy(c.id)
              // Plan A: p0, p1, p2 and p5 (never synced) done; p3 refused; p4 done, then undone.
              const a = yield* newPlan(c.id, policy, 6)
              yield* store.approve(a.id, "bob")
              yield* store.claim(a.id, "job-1")
              yield* tick
              const beforeAnyAction = yield* now
              yield* tick
              for (const id of ["p0", "p1", "p2", "p4", "p5"]) {
                yield* store.finishItem(a.id, "job-1", id, { state: "done", result: "Deactivate" })
              }
              yield* store.finishItem(a.id, "job-1", "p3", { state: "refused", result: "managed by SCIM" })
              yield* store.finishPlan(a.id, "job-1", { status: "done" })
              yield* store.markUndone(a.id, "p4")
              yield* tick
              // The confirming sync reads p0 suspended and p1 closed; p2 is still active upstream.
              const confirming = yield* sync(c.id, [
                person("p0", { status: "suspended" }),
                person("p1", { status: "deprovisioned" }),
                person("p2"),
                person("p3"),
                person("p4")
              ])
              yield* tick
              // Plan B, after that sync: p2 again (restored outside a plan), p3 and p4.
              const b = yield* newPlan(c.id, policy, 3, {
                items: [
                  { ...itemOf(2), monthly: { EUR: 100 } },
                  { ...itemOf(3), monthly: { USD: 0.1 } },
                  { ...itemOf(4), monthly: { USD: 0.2 } }
                ]
              })
              yield* store.approve(b.id, "bob")
              yield* store.claim(b.id, "job-2")
              yield* tick
              for (const id of ["p2", "p3", "p4"]) {
                yield* store.finishItem(b.id, "job-2", id, { state: "done", result: "Deactivate" })
              }
              // Another connection's plan counts only for that connection.
              const other = yield* newPlan(elsewhere.id, yield* newPolicy(elsewhere.id), 1)
              yield* store.approve(other.id, "bob")
              yield* store.claim(other.id, "job-3")
              yield* store.finishItem(other.id, "job-3", "p0", { state: "done", result: "Deactivate" })

              assert.deepStrictEqual(yield* store.actedCost(c.id, confirming.startedAt), {
                // p0 (suspended), p1 (deprovisioned), p5 (no longer stored) at A's prices.
                confirmed: { EUR: 23.25, USD: 10 },
                // p2 by plan B's action only; p3 and p4 done by B, after the sync; rounded to cents.
                awaiting: { EUR: 100, USD: 0.3 }
              })
              const unconfirmed = { confirmed: {}, awaiting: { EUR: 123.25, USD: 10.3 } }
              assert.deepStrictEqual(yield* store.actedCost(c.id, null), unconfirmed, "no applied sync yet")
              assert.deepStrictEqual(yield* store.actedCost(c.id, beforeAnyAction), unconfirmed, "a sync before them")
              assert.deepStrictEqual(yield* store.actedCost(elsewhere.id, null), {
                confirmed: {},
                awaiting: { EUR: 7.75, USD: 10 }
              })
              assert.deepStrictEqual(yield* store.actedCost("no-such-connection", null), {
                confirmed: {},
                awaiting: {}
              })
            })
        )

        it.effect("approve and cancel move a plan only from the statuses they are for", () =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const store = yield* ReclaimStore
            const policy = yield* newPolicy(c.id)
            const plan = yield* newPlan(c.id, policy, 2)
            yield* tick
            assert.strictEqual(reasonOf(yield* failure(store.claim(plan.id, "job-1"))), "Conflict", "not approved yet")
            const approved = yield* store.approve(plan.id, "bob")
            assert.deepStrictEqual(
              [approved.status, approved.approvedBy, approved.approvedAt, approved.finishedAt, approved.cancelledBy],
              ["approved", "bob", yield* now, null, null]
            )
            assert.deepStrictEqual(Option.getOrThrow(yield* store.getPlan(plan.id)), approved)
            assert.strictEqual(reasonOf(yield* failure(store.approve(plan.id, "carol"))), "Conflict")
            yield* tick
            const cancelled = yield* store.cancel(plan.id, "carol")
            assert.deepStrictEqual(
              [cancelled.status, cancelled.finishedAt, cancelled.approvedBy, cancelled.cancelledBy],
              ["cancelled", yield* now, "bob", "carol"]
            )
            assert.deepStrictEqual(Option.getOrThrow(yield* store.getPlan(plan.id)), cancelled)
            assert.strictEqual(reasonOf(yield* failure(store.cancel(plan.id, "carol"))), "Conflict")
            assert.strictEqual(reasonOf(yield* failure(store.approve(plan.id, "carol"))), "Conflict")
            assert.strictEqual(reasonOf(yield* failure(store.claim(plan.id, "job-1"))), "Conflict", "cancelled")

            const inReview = yield* newPlan(c.id, policy, 1)
            assert.strictEqual((yield* store.cancel(inReview.id, "alice")).cancelledBy, "alice")
            assert.strictEqual(Option.getOrThrow(yield* store.getPlan(inReview.id)).cancelledBy, "alice")
            // A refused cancel records no one.
            const running = yield* approvedPlan(1)
            yield* store.claim(running.planId, "job-1")
            assert.strictEqual(reasonOf(yield* failure(store.cancel(running.planId, "mallory"))), "Conflict")
            const stillRunning = Option.getOrThrow(yield* store.getPlan(running.planId))
            assert.deepStrictEqual([stillRunning.status, stillRunning.cancelledBy], ["running", null])
            for (const effect of [store.approve("no-such-plan", "bob"), store.cancel("no-such-plan", "bob")]) {
              assert.strictEqual(reasonOf(yield* failure(effect)), "NotFound")
            }
            assert.strictEqual(reasonOf(yield* failure(store.claim("no-such-plan", "job-1"))), "NotFound")

            // A plan made on data it may not act on is never executed, approved or not.
            const blocked = yield* newPlan(c.id, policy, 1, { blockedBecause: "the latest sync failed" })
            yield* store.approve(blocked.id, "bob")
            const refused = yield* failure(store.claim(blocked.id, "job-1"))
            assert.strictEqual(refused.reason, "Conflict")
            assert.include(refused.message, "the latest sync failed")
          }))
      })

      // --- reclaim: the execution lease -----------------------------------------------------------------

      describe("the execution lease", () => {
        it.effect("claim takes the lease; another job is refused until it expires; renew keeps it", () =>
          Effect.gen(function*() {
            const { planId } = yield* approvedPlan(3)
            const store = yield* ReclaimStore
            const t0 = yield* now
            const running = yield* store.claim(planId, "job-1")
            assert.deepStrictEqual(
              [running.status, running.startedAt, running.finishedAt, running.stoppedBecause],
              ["running", t0, null, null]
            )
            assert.deepStrictEqual(Option.getOrThrow(yield* store.getPlan(planId)), running)
            const taken = yield* failure(store.claim(planId, "job-2"))
            assert.strictEqual(taken.reason, "Conflict")
            assert.strictEqual((yield* store.claim(planId, "job-1")).status, "running", "its own lease is renewed")
            yield* store.renew(planId, "job-1")
            assert.strictEqual(reasonOf(yield* failure(store.renew(planId, "job-2"))), "Conflict")
            assert.strictEqual(reasonOf(yield* failure(store.renew("no-such-plan", "job-1"))), "Conflict")
            assert.notInclude((yield* store.abandonedPlans).map((p) => p.id), planId)

            // Renewed within its lease, it is kept across more than one lease's time.
            const half = Duration.times(lease, 0.6)
            yield* TestClock.adjust(half)
            yield* store.renew(planId, "job-1")
            yield* TestClock.adjust(half)
            assert.strictEqual(reasonOf(yield* failure(store.claim(planId, "job-2"))), "Conflict")
            assert.notInclude((yield* store.abandonedPlans).map((p) => p.id), planId)

            // Its process stops beating: the plan is abandoned, and another job takes it over.
            yield* expireLease
            const abandoned = (yield* store.abandonedPlans).find((p) => p.id === planId)
            assert.deepStrictEqual(abandoned, Option.getOrThrow(yield* store.getPlan(planId)))
            assert.strictEqual(abandoned?.status, "running")
            assert.strictEqual(reasonOf(yield* failure(store.renew(planId, "job-1"))), "Conflict", "the lease is lost")
            const resumed = yield* store.claim(planId, "job-2")
            assert.deepStrictEqual([resumed.status, resumed.startedAt], ["running", t0], "started when first claimed")
            assert.notInclude((yield* store.abandonedPlans).map((p) => p.id), planId)
            assert.strictEqual(reasonOf(yield* failure(store.claim(planId, "job-1"))), "Conflict")
          }))

        it.effect("finishPlan ends the execution and releases the lease; a job that lost its lease cannot", () =>
          Effect.gen(function*() {
            const { planId } = yield* approvedPlan(2)
            const store = yield* ReclaimStore
            yield* store.claim(planId, "job-1")
            yield* expireLease
            yield* store.claim(planId, "job-2")
            const lost = yield* failure(store.finishPlan(planId, "job-1", { status: "done" }))
            assert.strictEqual(lost.reason, "Conflict", "job-1's lease was taken over")
            assert.strictEqual(Option.getOrThrow(yield* store.getPlan(planId)).status, "running")
            yield* tick
            const stopped = yield* store.finishPlan(planId, "job-2", {
              status: "stopped",
              reason: "5 refusals in a row"
            })
            assert.deepStrictEqual(
              [stopped.status, stopped.stoppedBecause, stopped.finishedAt],
              ["stopped", "5 refusals in a row", yield* now]
            )
            assert.deepStrictEqual(Option.getOrThrow(yield* store.getPlan(planId)), stopped)
            assert.notInclude((yield* store.abandonedPlans).map((p) => p.id), planId)
            assert.strictEqual(reasonOf(yield* failure(store.renew(planId, "job-2"))), "Conflict", "released")
            assert.strictEqual(
              reasonOf(yield* failure(store.finishPlan(planId, "job-2", { status: "done" }))),
              "Conflict"
            )

            // A stopped plan is resumed by any job at once: the lease was released.
            yield* tick
            const resumed = yield* store.claim(planId, "job-3")
            assert.deepStrictEqual([resumed.status, resumed.stoppedBecause], ["running", null])
            const done = yield* store.finishPlan(planId, "job-3", { status: "done" })
            assert.deepStrictEqual([done.status, done.stoppedBecause, done.finishedAt], ["done", null, yield* now])
            assert.strictEqual(reasonOf(yield* failure(store.claim(planId, "job-4"))), "Conflict", "a done plan")
            assert.strictEqual(
              reasonOf(yield* failure(store.finishPlan("no-such-plan", "job-3", { status: "done" }))),
              "NotFound"
            )
            // A lease that expired without anyone taking it over is still its job's to finish.
            const other = yield* approvedPlan(1)
            yield* store.claim(other.planId, "job-5")
            yield* expireLease
            assert.include((yield* store.abandonedPlans).map((p) => p.id), other.planId)
            assert.strictEqual((yield* store.finishPlan(other.planId, "job-5", { status: "done" })).status, "done")
            assert.notInclude((yield* store.abandonedPlans).map((p) => p.id), other.planId)
          }))
      })

      // --- reclaim: items -------------------------------------------------------------------------------

      describe("checking plans", () => {
        const checkingPlan = (count: number) =>
          Effect.gen(function*() {
            const c = yield* newConnection()
            const policy = yield* newPolicy(c.id)
            return yield* Effect.flatMap(ReclaimStore, (store) =>
              store.createPlan({
                connectionId: c.id,
                policy,
                createdBy: "alice",
                basedOnRunId: `run-of-${c.id}`,
                dataAt: iso(BASE),
                blockedBecause: null,
                fourEyes: false,
                monthly: { EUR: 7.75 * count },
                unpriced: 0,
                excluded: [],
                items: Array.from({ length: count }, (_, i) => itemOf(i)),
                checking: true
              }))
          })
        const allowed = { allowed: true, method: "lifecycle", methodLabel: "Deactivate", reason: null, hint: null }
        const refusedBySso = {
          allowed: false,
          method: "lifecycle",
          methodLabel: "Deactivate",
          reason: "managed by an identity provider",
          hint: "suspend it in the identity provider"
        }

        it.effect(
          "a checking plan is saved without preflights, and goes to review once its job has checked every account",
          () =>
            Effect.gen(function*() {
              const store = yield* ReclaimStore
              const plan = yield* checkingPlan(3)
              assert.deepInclude(plan, { status: "checking", accounts: 3 })
              assert.deepStrictEqual(plan.progress, progress({ pending: 3, unchecked: 3 }))
              const page = yield* store.listItems({ planId: plan.id, limit: 10 })
              assert.deepStrictEqual(page.data.map((i) => i.preflight), [null, null, null], "asked after it is saved")
              assert.strictEqual(reasonOf(yield* failure(store.approve(plan.id, "bob"))), "Conflict", "not approvable")
              assert.strictEqual(reasonOf(yield* failure(store.claim(plan.id, "job-1"))), "Conflict", "not executable")

              yield* store.claimChecking(plan.id, "job-1")
              assert.strictEqual(reasonOf(yield* failure(store.claimChecking(plan.id, "job-2"))), "Conflict")
              assert.deepStrictEqual((yield* store.uncheckedItems(plan.id, 2)).map((i) => i.externalId), ["p0", "p1"])
              const lost = yield* failure(
                store.checkItems(plan.id, "job-2", [{ externalId: "p0", preflight: allowed }])
              )
              assert.strictEqual(reasonOf(lost), "Conflict", "only the lease's holder writes")
              yield* store.checkItems(plan.id, "job-1", [
                { externalId: "p0", preflight: allowed },
                { externalId: "p1", preflight: refusedBySso }
              ])
              assert.strictEqual(Option.getOrThrow(yield* store.getPlan(plan.id)).progress.unchecked, 1)
              assert.deepStrictEqual((yield* store.uncheckedItems(plan.id, 10)).map((i) => i.externalId), ["p2"])

              // All or none: an unknown account writes nothing of the batch.
              const unknown = yield* failure(store.checkItems(plan.id, "job-1", [
                { externalId: "p2", preflight: allowed },
                { externalId: "p7", preflight: allowed }
              ]))
              assert.strictEqual(reasonOf(unknown), "NotFound")
              assert.deepStrictEqual((yield* store.uncheckedItems(plan.id, 10)).map((i) => i.externalId), ["p2"])
              const early = yield* failure(store.finishChecking(plan.id, "job-1", { status: "review" }))
              assert.strictEqual(reasonOf(early), "Conflict", "an account is still to be checked")

              yield* store.checkItems(plan.id, "job-1", [{ externalId: "p2", preflight: null }])
              assert.deepStrictEqual(
                (yield* store.uncheckedItems(plan.id, 10)).map((i) => i.externalId),
                ["p2"],
                "a preflight that did not answer is not a check"
              )
              yield* store.checkItems(plan.id, "job-1", [{ externalId: "p2", preflight: allowed }])
              const stranger = yield* failure(store.finishChecking(plan.id, "job-2", { status: "review" }))
              assert.strictEqual(reasonOf(stranger), "Conflict")
              const reviewed = yield* store.finishChecking(plan.id, "job-1", { status: "review" })
              assert.deepInclude(reviewed, { status: "review", cancelledBy: null, stoppedBecause: null })
              assert.deepStrictEqual(reviewed.progress, progress({ pending: 3 }))
              assert.deepStrictEqual(
                (yield* store.listItems({ planId: plan.id, limit: 10 })).data.map((i) => i.preflight),
                [allowed, refusedBySso, allowed]
              )
              assert.deepStrictEqual(yield* store.uncheckedItems(plan.id, 10), [])
              assert.strictEqual(reasonOf(yield* failure(store.claimChecking(plan.id, "job-1"))), "Conflict")
              assert.strictEqual((yield* store.approve(plan.id, "bob")).status, "approved")
            })
        )

        it.effect(
          "a checking plan whose job stopped is abandoned and taken over; a cancel or a failed check ends it",
          () =>
            Effect.gen(function*() {
              const store = yield* ReclaimStore
              const abandoned = () => Effect.map(store.abandonedPlans, (plans) => plans.map((p) => p.id))
              const never = yield* checkingPlan(2)
              assert.include(yield* abandoned(), never.id, "saved, then its process died before it was claimed")
              yield* store.claimChecking(never.id, "job-1")
              assert.notInclude(yield* abandoned(), never.id, "its lease is live")
              yield* store.checkItems(never.id, "job-1", [{ externalId: "p0", preflight: allowed }])
              yield* expireLease
              assert.include(yield* abandoned(), never.id)
              yield* store.claimChecking(never.id, "job-2")
              const late = yield* failure(
                store.checkItems(never.id, "job-1", [{ externalId: "p1", preflight: allowed }])
              )
              assert.strictEqual(reasonOf(late), "Conflict", "the first job lost its lease")
              assert.deepStrictEqual((yield* store.uncheckedItems(never.id, 10)).map((i) => i.externalId), ["p1"])

              yield* tick
              const cancelled = yield* store.cancel(never.id, "carol")
              assert.deepInclude(cancelled, { status: "cancelled", cancelledBy: "carol", finishedAt: yield* now })
              assert.strictEqual(cancelled.progress.unchecked, 0)
              const after = yield* failure(
                store.checkItems(never.id, "job-2", [{ externalId: "p1", preflight: allowed }])
              )
              assert.strictEqual(reasonOf(after), "Conflict", "a cancelled plan's job writes nothing")
              assert.deepStrictEqual(yield* store.uncheckedItems(never.id, 10), [])
              assert.notInclude(yield* abandoned(), never.id)

              const failed = yield* checkingPlan(1)
              yield* store.claimChecking(failed.id, "job-3")
              const ended = yield* store.finishChecking(failed.id, "job-3", {
                status: "cancelled",
                reason: "Atlassian refused the API key"
              })
              assert.deepInclude(ended, {
                status: "cancelled",
                cancelledBy: "system",
                stoppedBecause: "Atlassian refused the API key",
                finishedAt: yield* now
              })
              assert.notInclude(yield* abandoned(), failed.id)
            })
        )
      })

      describe("plan items", () => {
        it.effect("nextItems gives acting items first, then pending, in order; journal and finishItem record each step", () =>
          Effect.gen(function*() {
            const { planId } = yield* approvedPlan(5)
            const store = yield* ReclaimStore
            yield* store.claim(planId, "job-1")
            const ids = (items: ReadonlyArray<PlanItem>) => items.map((i) => `${i.externalId}:${i.state}`)
            assert.deepStrictEqual(ids(yield* store.nextItems(planId, 2)), ["p0:pending", "p1:pending"])

            const j2 = journalAt(yield* now)
            yield* store.journal(planId, "job-1", "p2", j2)
            assert.deepInclude(yield* itemOfPlan(planId, "p2"), {
              state: "acting",
              journal: j2,
              result: null,
              doneAt: null
            })
            assert.deepStrictEqual(ids(yield* store.nextItems(planId, 3)), ["p2:acting", "p0:pending", "p1:pending"])
            assert.deepStrictEqual((yield* store.nextItems(planId, 1))[0], yield* itemOfPlan(planId, "p2"))
            assert.deepStrictEqual(
              Option.getOrThrow(yield* store.getPlan(planId)).progress,
              progress({ pending: 4, acting: 1 })
            )

            yield* tick
            yield* store.finishItem(planId, "job-1", "p2", { state: "done", result: "Deactivate" })
            assert.deepInclude(yield* itemOfPlan(planId, "p2"), {
              state: "done",
              journal: j2,
              result: "Deactivate",
              doneAt: yield* now,
              undoneAt: null
            })
            yield* store.finishItem(planId, "job-1", "p0", { state: "refused", result: "managed by SCIM" })
            yield* store.finishItem(planId, "job-1", "p1", { state: "skipped", result: null })
            yield* store.journal(planId, "job-1", "p3", journalAt(yield* now))
            yield* store.journal(planId, "job-1", "p4", journalAt(yield* now))
            assert.deepStrictEqual(ids(yield* store.nextItems(planId, 10)), ["p3:acting", "p4:acting"])
            yield* store.finishItem(planId, "job-1", "p3", { state: "failed", result: "the provider answered 500" })
            assert.deepInclude(yield* itemOfPlan(planId, "p0"), {
              state: "refused",
              result: "managed by SCIM",
              doneAt: null
            })
            assert.deepInclude(yield* itemOfPlan(planId, "p1"), { state: "skipped", result: null, doneAt: null })
            assert.deepInclude(yield* itemOfPlan(planId, "p3"), {
              state: "failed",
              result: "the provider answered 500",
              doneAt: null
            })
            assert.deepStrictEqual(ids(yield* store.nextItems(planId, 10)), ["p4:acting"])
            yield* store.finishItem(planId, "job-1", "p4", { state: "done", result: null })
            assert.deepStrictEqual(yield* store.nextItems(planId, 10), [])
            assert.deepStrictEqual(
              Option.getOrThrow(yield* store.getPlan(planId)).progress,
              progress({ done: 2, refused: 1, skipped: 1, failed: 1 })
            )
            for (
              const effect of [
                store.journal(planId, "job-1", "p7", j2),
                store.finishItem(planId, "job-1", "p7", { state: "done", result: null }),
                store.journal("no-such-plan", "job-1", "p1", j2)
              ]
            ) {
              assert.strictEqual(reasonOf(yield* failure(effect)), "NotFound")
            }
            assert.deepStrictEqual(yield* store.nextItems("no-such-plan", 10), [])
          }))

        it.effect("journal and finishItem are fenced by the lease: a job that lost it writes nothing, its new holder does", () =>
          Effect.gen(function*() {
            const { planId } = yield* approvedPlan(4)
            const store = yield* ReclaimStore
            const j = journalAt(yield* now)
            yield* store.claim(planId, "job-1")
            yield* store.journal(planId, "job-1", "p0", j)
            yield* store.finishItem(planId, "job-1", "p1", { state: "done", result: "Deactivate" })
            const items = () => Effect.map(store.listItems({ planId, limit: 10 }), (page) => page.data)
            const before = yield* items()
            const refused = (effect: Effect.Effect<void, StoreError>, why: string) =>
              Effect.gen(function*() {
                const error = yield* failure(effect)
                assert.strictEqual(error.reason, "Conflict", why)
                assert.include(error.message, "lease", why)
              })
            const writesOf = (owner: string) => [
              store.journal(planId, owner, "p2", j),
              store.finishItem(planId, owner, "p0", { state: "done", result: "Deactivate" }),
              store.finishItem(planId, owner, "p1", { state: "failed", result: "late" }),
              store.finishItem(planId, owner, "p3", { state: "skipped", result: null })
            ]
            for (const write of writesOf("job-2")) yield* refused(write, "another job than the holder")

            // job-1 pauses past its lease: expired, it may not write, taken over or not.
            yield* expireLease
            for (const write of writesOf("job-1")) yield* refused(write, "an expired lease")
            yield* store.claim(planId, "job-2")
            for (const write of writesOf("job-1")) yield* refused(write, "a lease taken over")
            assert.deepStrictEqual(yield* items(), before, "a refused write leaves every item as it was")
            assert.deepInclude(yield* itemOfPlan(planId, "p0"), { state: "acting", journal: j, doneAt: null })

            // The new holder writes (and resumes the item left acting).
            yield* tick
            yield* store.finishItem(planId, "job-2", "p0", { state: "done", result: "done before the restart" })
            yield* store.journal(planId, "job-2", "p2", j)
            assert.deepInclude(yield* itemOfPlan(planId, "p0"), {
              state: "done",
              result: "done before the restart",
              doneAt: yield* now
            })
            assert.deepInclude(yield* itemOfPlan(planId, "p2"), { state: "acting", journal: j })
            assert.deepInclude(yield* itemOfPlan(planId, "p1"), { state: "done", result: "Deactivate" })

            // A released lease fences too, and so does a plan never claimed; a missing account is NotFound.
            yield* store.finishPlan(planId, "job-2", { status: "stopped", reason: "the provider is unavailable" })
            yield* refused(store.finishItem(planId, "job-2", "p2", { state: "done", result: null }), "released")
            const unclaimed = yield* approvedPlan(1)
            yield* refused(store.journal(unclaimed.planId, "job-1", "p0", j), "never claimed")
            assert.strictEqual(reasonOf(yield* failure(store.journal(unclaimed.planId, "job-1", "p7", j))), "NotFound")
            assert.deepInclude(yield* itemOfPlan(unclaimed.planId, "p0"), { state: "pending", journal: null })
            assert.deepStrictEqual(
              Option.getOrThrow(yield* store.getPlan(planId)).progress,
              progress({ done: 2, acting: 1, pending: 1 })
            )
          }))

        it.effect("markUndone moves only a done item to undone", () =>
          Effect.gen(function*() {
            const { planId } = yield* approvedPlan(3)
            const store = yield* ReclaimStore
            yield* store.claim(planId, "job-1")
            yield* store.journal(planId, "job-1", "p0", journalAt(yield* now))
            yield* store.finishItem(planId, "job-1", "p0", { state: "done", result: "Deactivate" })
            yield* store.finishItem(planId, "job-1", "p1", { state: "refused", result: "no" })
            yield* store.finishPlan(planId, "job-1", { status: "stopped", reason: "refused" })
            yield* tick
            yield* store.markUndone(planId, "p0")
            const undone = yield* itemOfPlan(planId, "p0")
            assert.deepInclude(undone, { state: "undone", result: "Deactivate", undoneAt: yield* now })
            assert.isNotNull(undone.doneAt)
            assert.isNotNull(undone.journal, "the journal stays, for the record")
            for (const id of ["p0", "p1", "p2"]) {
              assert.strictEqual(reasonOf(yield* failure(store.markUndone(planId, id))), "Conflict", id)
            }
            assert.strictEqual(reasonOf(yield* failure(store.markUndone(planId, "p7"))), "NotFound")
            assert.deepStrictEqual(
              Option.getOrThrow(yield* store.getPlan(planId)).progress,
              progress({ undone: 1, refused: 1, pending: 1 })
            )
          }))

        it.effect(
          "listItems pages a large plan in order, by state, and refuses a cursor of another list",
          () =>
            Effect.gen(function*() {
              const c = yield* newConnection()
              const store = yield* ReclaimStore
              const policy = yield* newPolicy(c.id)
              const count = 5_200
              const items = Array.from({ length: count }, (_, i) => itemOf(i))
              const plan = yield* newPlan(c.id, policy, count, { items })
              assert.deepStrictEqual([plan.accounts, plan.progress], [count, progress({ pending: count })])
              const listed = yield* allPages((cursor) => store.listItems({ planId: plan.id, limit: 700, cursor }))
              assert.deepStrictEqual(listed.map((i) => i.position), items.map((_, i) => i))
              assert.deepStrictEqual(listed[4_321], {
                ...items[4_321]!,
                planId: plan.id,
                position: 4_321,
                state: "pending",
                journal: null,
                result: null,
                doneAt: null,
                undoneAt: null
              })
              const big = yield* store.listItems({ planId: plan.id, limit: 100_000 })
              assert.deepStrictEqual([big.data.length, big.total], [1_000, count], "a page holds at most 1,000")

              yield* store.approve(plan.id, "bob")
              yield* store.claim(plan.id, "job-1")
              for (const i of [4_000, 7, 2_500, 3]) {
                yield* store.finishItem(plan.id, "job-1", `p${i}`, { state: "done", result: null })
              }
              yield* store.journal(plan.id, "job-1", "p5000", journalAt(yield* now))
              const done = yield* allPages((cursor) =>
                store.listItems({ planId: plan.id, state: "done", limit: 3, cursor })
              )
              assert.deepStrictEqual(
                done.map((i) => i.externalId),
                ["p3", "p7", "p2500", "p4000"]
              )
              const first = yield* store.listItems({ planId: plan.id, state: "done", limit: 3 })
              assert.strictEqual(first.total, 4)
              assert.deepStrictEqual(
                (yield* store.listItems({ planId: plan.id, state: "acting", limit: 3 })).data.map((i) => i.externalId),
                ["p5000"]
              )
              assert.deepStrictEqual(
                yield* store.listItems({ planId: plan.id, state: "undone", limit: 3 }),
                { data: [], nextCursor: null, prevCursor: null, total: 0 }
              )
              assert.deepStrictEqual(
                Option.getOrThrow(yield* store.getPlan(plan.id)).progress,
                progress({ pending: count - 5, done: 4, acting: 1 })
              )
              assert.deepStrictEqual(
                (yield* store.nextItems(plan.id, 3)).map((i) => i.externalId),
                ["p5000", "p0", "p1"]
              )

              // Cursors belong to their list: this plan and this state filter.
              const other = yield* newPlan(c.id, policy, 10)
              const otherCursor = (yield* store.listItems({ planId: other.id, limit: 2 })).nextCursor!
              const allCursor = (yield* store.listItems({ planId: plan.id, limit: 2 })).nextCursor!
              const doneCursor = first.nextCursor!
              const corrupt = (cursor: string, why: string, state?: "done") =>
                Effect.gen(function*() {
                  const error = yield* failure(store.listItems({ planId: plan.id, state, limit: 2, cursor }))
                  assert.strictEqual(error.reason, "Corrupt", why)
                  assert.include(error.message, "cursor", why)
                })
              for (const bad of ["garbage", "x.y.z", allCursor.slice(0, -3), "mem.e30", "e30.e30", `${allCursor}x`]) {
                yield* corrupt(bad, `cursor ${bad}`)
              }
              yield* corrupt(otherCursor, "another plan's")
              yield* corrupt(doneCursor, "a cursor of the done items in the whole list")
              yield* corrupt(allCursor, "a cursor of the whole list in the done items", "done")
              const second = yield* store.listItems({ planId: plan.id, limit: 2, cursor: allCursor })
              assert.deepStrictEqual(second.data.map((i) => i.position), [2, 3])
              assert.strictEqual(
                (yield* store.listItems({ planId: plan.id, limit: 2, cursor: "" })).data[0]!.position,
                0
              )
              assert.deepStrictEqual(
                yield* store.listItems({ planId: "no-such-plan", limit: 2 }),
                { data: [], nextCursor: null, prevCursor: null, total: 0 }
              )
            }),
          timeout * 2
        )
      })

      // --- users ----------------------------------------------------------------------------------------

      describe("users", () => {
        it.effect("names are unique whatever their case; a token hash finds only its enabled user", () =>
          Effect.gen(function*() {
            yield* freshClock
            const users = yield* UserStore
            const t0 = yield* now
            const zoe = yield* users.create({
              name: "Zoë Quinn",
              role: "operator",
              tokenHash: tokenHash(101),
              createdBy: "admin"
            })
            assert.deepStrictEqual(zoe, {
              id: zoe.id,
              name: "Zoë Quinn",
              role: "operator",
              createdBy: "admin",
              createdAt: t0,
              disabledAt: null
            })
            assert.isFalse("tokenHash" in zoe, "the hash is never returned")
            yield* tick
            const abe = yield* users.create({
              name: "Abe Ng",
              role: "viewer",
              tokenHash: tokenHash(102),
              createdBy: "zoë"
            })
            for (const name of ["zoë quinn", "ZOË QUINN", "Zoë Quinn"]) {
              const taken = yield* failure(
                users.create({ name, role: "viewer", tokenHash: tokenHash(103), createdBy: "admin" })
              )
              assert.strictEqual(taken.reason, "Conflict", name)
            }
            const sameToken = yield* failure(
              users.create({ name: "Someone Else", role: "viewer", tokenHash: tokenHash(101), createdBy: "admin" })
            )
            assert.strictEqual(sameToken.reason, "Conflict", "a token names one user")

            assert.deepStrictEqual(Option.getOrThrow(yield* users.get(zoe.id)), zoe)
            assert.isTrue(Option.isNone(yield* users.get("no-such-user")))
            assert.deepStrictEqual(Option.getOrThrow(yield* users.byTokenHash(tokenHash(101))), zoe)
            assert.deepStrictEqual(Option.getOrThrow(yield* users.byTokenHash(tokenHash(102))), abe)
            assert.isTrue(Option.isNone(yield* users.byTokenHash(tokenHash(103))))
            const ours = (yield* users.list).filter((u) => u.id === zoe.id || u.id === abe.id)
            assert.deepStrictEqual(ours, [abe, zoe], "by name")
          }))

        it.effect("update changes the role, the token and whether the user is enabled", () =>
          Effect.gen(function*() {
            yield* freshClock
            const users = yield* UserStore
            const ann = yield* users.create({
              name: "Ann Lee",
              role: "viewer",
              tokenHash: tokenHash(201),
              createdBy: "admin"
            })
            const bo = yield* users.create({
              name: "Bo Lee",
              role: "viewer",
              tokenHash: tokenHash(202),
              createdBy: "admin"
            })
            const approver = Option.getOrThrow(yield* users.update(ann.id, { role: "approver" }))
            assert.deepStrictEqual(approver, { ...ann, role: "approver" })
            assert.deepStrictEqual(Option.getOrThrow(yield* users.update(ann.id, {})), approver, "nothing to change")

            const rotated = Option.getOrThrow(yield* users.update(ann.id, { tokenHash: tokenHash(203) }))
            assert.deepStrictEqual(rotated, approver)
            assert.isTrue(Option.isNone(yield* users.byTokenHash(tokenHash(201))), "the old token no longer works")
            assert.deepStrictEqual(Option.getOrThrow(yield* users.byTokenHash(tokenHash(203))), approver)
            assert.strictEqual(
              reasonOf(yield* failure(users.update(ann.id, { tokenHash: tokenHash(202) }))),
              "Conflict",
              "Bo's token"
            )

            yield* tick
            const disabled = Option.getOrThrow(yield* users.update(ann.id, { disabled: true }))
            assert.deepStrictEqual(disabled, { ...approver, disabledAt: yield* now })
            assert.isTrue(Option.isNone(yield* users.byTokenHash(tokenHash(203))), "a disabled user's token is refused")
            assert.deepStrictEqual(Option.getOrThrow(yield* users.get(ann.id)), disabled, "but the user is kept")
            assert.deepInclude((yield* users.list).find((u) => u.id === ann.id), { disabledAt: yield* now })
            const enabled = Option.getOrThrow(yield* users.update(ann.id, { disabled: false, role: "admin" }))
            assert.deepStrictEqual(enabled, { ...approver, role: "admin", disabledAt: null })
            assert.deepStrictEqual(Option.getOrThrow(yield* users.byTokenHash(tokenHash(203))), enabled)
            assert.deepStrictEqual(Option.getOrThrow(yield* users.byTokenHash(tokenHash(202))), bo)
            assert.isTrue(Option.isNone(yield* users.update("no-such-user", { role: "admin" })))
          }))
      })

      // --- webhooks -------------------------------------------------------------------------------------

      describe("webhooks", () => {
        it.effect("the secret is returned only to the sender; deliveries are listed newest first", () =>
          Effect.gen(function*() {
            yield* freshClock
            const webhooks = yield* WebhookStore
            const t0 = yield* now
            const ready = yield* webhooks.create({
              url: "https://hooks.example.test/ready",
              events: ["plan.ready", "sync.failed"],
              secret: Redacted.make("whsec-ready-0123456789"),
              createdBy: "admin"
            })
            assert.deepStrictEqual(ready, {
              id: ready.id,
              url: "https://hooks.example.test/ready",
              events: ["plan.ready", "sync.failed"],
              createdBy: "admin",
              createdAt: t0
            })
            assert.isFalse("secret" in ready)
            yield* tick
            const executed = yield* webhooks.create({
              url: "https://hooks.example.test/executed",
              events: ["plan.executed"],
              secret: Redacted.make("whsec-executed-0123456789"),
              createdBy: "admin"
            })
            const ours = (yield* webhooks.list).filter((w) => w.id === ready.id || w.id === executed.id)
            assert.deepStrictEqual(ours, [ready, executed])
            assert.isTrue(ours.every((w) => !("secret" in w)))
            assert.deepStrictEqual(Option.getOrThrow(yield* webhooks.get(ready.id)), ready)
            assert.isTrue(Option.isNone(yield* webhooks.get("no-such-webhook")))

            const targets = (yield* webhooks.targets("plan.ready")).filter((t) =>
              t.id === ready.id || t.id === executed.id
            )
            assert.deepStrictEqual(targets.map(({ secret: _, ...w }) => w), [ready])
            assert.strictEqual(Redacted.value(targets[0]!.secret), "whsec-ready-0123456789")
            const failed = (yield* webhooks.targets("sync.failed")).find((t) => t.id === ready.id)
            assert.isDefined(failed)
            assert.strictEqual(
              Redacted.value((yield* webhooks.targets("plan.executed")).find((t) => t.id === executed.id)!.secret),
              "whsec-executed-0123456789"
            )
            assert.isUndefined(
              (yield* webhooks.targets("sync.held")).find((t) => t.id === ready.id || t.id === executed.id)
            )

            const times: Array<string> = []
            for (const [i, status] of (["delivered", "failed", "delivered"] as const).entries()) {
              times.push(yield* now)
              yield* webhooks.recordDelivery({
                webhookId: ready.id,
                event: i === 1 ? "sync.failed" : "plan.ready",
                at: yield* now,
                attempts: i + 1,
                status,
                detail: status === "failed" ? "connection refused" : "200"
              })
              yield* tick
            }
            yield* webhooks.recordDelivery({
              webhookId: executed.id,
              event: "plan.executed",
              at: yield* now,
              attempts: 1,
              status: "delivered",
              detail: "204"
            })
            const deliveries = yield* webhooks.deliveries(ready.id, 10)
            assert.deepStrictEqual(
              deliveries.map(({ id: _, ...d }) => d),
              [
                {
                  webhookId: ready.id,
                  event: "plan.ready",
                  at: times[2]!,
                  attempts: 3,
                  status: "delivered",
                  detail: "200"
                },
                {
                  webhookId: ready.id,
                  event: "sync.failed",
                  at: times[1]!,
                  attempts: 2,
                  status: "failed",
                  detail: "connection refused"
                },
                {
                  webhookId: ready.id,
                  event: "plan.ready",
                  at: times[0]!,
                  attempts: 1,
                  status: "delivered",
                  detail: "200"
                }
              ]
            )
            assert.isTrue(deliveries.every((d) => typeof d.id === "string" && d.id !== ""))
            assert.strictEqual(new Set(deliveries.map((d) => d.id)).size, 3)
            assert.deepStrictEqual(yield* webhooks.deliveries(ready.id, 2), deliveries.slice(0, 2))
            assert.deepStrictEqual((yield* webhooks.deliveries(executed.id, 10)).map((d) => d.detail), ["204"])
            assert.deepStrictEqual(yield* webhooks.deliveries("no-such-webhook", 10), [])

            assert.isTrue(yield* webhooks.remove(ready.id))
            assert.isFalse(yield* webhooks.remove(ready.id))
            assert.isTrue(Option.isNone(yield* webhooks.get(ready.id)))
            assert.isUndefined((yield* webhooks.list).find((w) => w.id === ready.id))
            assert.isUndefined((yield* webhooks.targets("plan.ready")).find((t) => t.id === ready.id))
            assert.isDefined((yield* webhooks.targets("plan.executed")).find((t) => t.id === executed.id))
          }))
      })

      // --- removal of a connection, again -----------------------------------------------------------------

      describe("reclaim data of a removed connection", () => {
        it.effect("removing a connection is refused while one of its plans executes, then removes its policies, prices and plans, and only those", () =>
          Effect.gen(function*() {
            const doomed = yield* approvedPlan(3)
            const kept = yield* approvedPlan(2)
            const store = yield* ReclaimStore
            const connections = yield* ConnectionStore
            const price: Price = { product: "jira-software", amount: 7.75, currency: "EUR", period: "monthly" }
            for (const { connectionId } of [doomed, kept]) yield* store.setPrices(connectionId, [price])
            yield* store.claim(doomed.planId, "job-1")
            yield* store.journal(doomed.planId, "job-1", "p0", journalAt(yield* now))
            yield* store.claim(kept.planId, "job-1")
            // While its plan is executing, the connection stays, with everything of it.
            const refused = yield* failure(connections.remove(doomed.connectionId))
            assert.strictEqual(refused.reason, "Conflict")
            assert.include(refused.message, "reclaim plan")
            assert.include(refused.message, doomed.planId)
            assert.isTrue(Option.isSome(yield* connections.get(doomed.connectionId)))
            assert.deepStrictEqual(yield* store.listPrices(doomed.connectionId), [price])
            assert.deepInclude(yield* itemOfPlan(doomed.planId, "p0"), { state: "acting" })
            yield* store.journal(doomed.planId, "job-1", "p1", journalAt(yield* now))
            // Its job stops beating (the plan is abandoned, `running`): now the connection goes.
            yield* expireLease
            assert.isTrue(yield* connections.remove(doomed.connectionId))
            assert.deepStrictEqual(yield* store.listPolicies(doomed.connectionId), [])
            assert.isTrue(Option.isNone(yield* store.getPolicy(doomed.policy.id)))
            assert.isTrue(Option.isNone(yield* store.getPolicy(doomed.policy.id, 1)))
            assert.deepStrictEqual(yield* store.listPrices(doomed.connectionId), [])
            assert.isTrue(Option.isNone(yield* store.getPlan(doomed.planId)))
            assert.deepStrictEqual(yield* store.listPlans({ connectionId: doomed.connectionId, limit: 10 }), [])
            assert.deepStrictEqual(yield* store.listPlans({ policyId: doomed.policy.id, limit: 10 }), [])
            assert.strictEqual((yield* store.listItems({ planId: doomed.planId, limit: 10 })).total, 0)
            assert.isTrue(Option.isNone(yield* store.getItem(doomed.planId, "p0")))
            assert.deepStrictEqual(yield* store.nextItems(doomed.planId, 10), [])
            const abandoned = (yield* store.abandonedPlans).map((p) => p.id)
            assert.notInclude(abandoned, doomed.planId)
            assert.include(abandoned, kept.planId)
            assert.strictEqual(reasonOf(yield* failure(store.claim(doomed.planId, "job-2"))), "NotFound")

            assert.deepStrictEqual(yield* store.listPrices(kept.connectionId), [price])
            assert.deepStrictEqual((yield* store.listPolicies(kept.connectionId)).map((p) => p.id), [kept.policy.id])
            assert.strictEqual(Option.getOrThrow(yield* store.getPlan(kept.planId)).progress.pending, 2)
          }))
      })
    })
  })
}
