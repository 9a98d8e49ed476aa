// Executing a reclaim plan as a durable job, against the in-memory store and a fake provider: every
// account acted on exactly once, also across a crash; refusals reported and bounded; undo restores.
import { assert, describe, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { Entitlement, ProviderAccount } from "../src/Account.js"
import type { AccountStatus } from "../src/Account.js"
import { ActionReceipt } from "../src/Action.js"
import { ConnectionStore } from "../src/Connection.js"
import { InventoryStore } from "../src/Inventory.js"
import * as Provider from "../src/Provider.js"
import { ProviderError } from "../src/ProviderError.js"
import { ReclaimPolicy } from "../src/Reclaim.js"
import * as ReclaimEngine from "../src/ReclaimEngine.js"
import { ReclaimStore } from "../src/ReclaimStore.js"
import * as SyncEngine from "../src/SyncEngine.js"
import * as MemoryStore from "../src/testing/MemoryStore.js"

// ----- Helpers -----

interface Upstream {
  readonly status: Map<string, AccountStatus>
  readonly calls: Array<string>
  /** Accounts the provider refuses to suspend (managed by SCIM). */
  readonly refuse: Set<string>
  /** When set, the call hangs after the provider applied it (a crash between the action and its answer). */
  hangAfter?: string | undefined
  /** When set, the call for `id` answers only once `open` is done (a job that pauses mid-action). */
  gate?: { readonly id: string; readonly open: Deferred.Deferred<void> } | undefined
}

const person = (id: string, status: AccountStatus) =>
  new ProviderAccount({
    externalId: id,
    displayName: id,
    accountType: "atlassian",
    status,
    sourceStatus: status,
    entitlements: [new Entitlement({ key: "jira:acme", product: "jira", displayName: "Jira (acme)", status: "active" })]
  })

const connection = (up: Upstream) =>
  Effect.succeed(Provider.makeConnection({
    provider: "fake",
    budgetKey: "fake",
    verify: Effect.void,
    requestStats: Effect.succeed({ requests: 0, retries: 0, rateLimited: 0 }),
    pages: Stream.suspend(() =>
      Stream.make({ accounts: [...up.status].map(([id, s]) => person(id, s)), total: up.status.size })
    ),
    lookup: (id) => Effect.sync(() => Option.map(Option.fromNullable(up.status.get(id)), (s) => person(id, s))),
    suspend: (target) =>
      Effect.suspend(() => {
        const id = Provider.targetOf(target).externalId
        up.calls.push(`suspend ${id}`)
        if (up.refuse.has(id)) {
          return Effect.fail(
            new ProviderError({
              reason: "Forbidden",
              provider: "fake",
              operation: "suspend",
              code: "forbidden.action",
              description: "managed by SCIM"
            })
          )
        }
        up.status.set(id, "suspended")
        const receipt = new ActionReceipt({ method: "lifecycle", methodLabel: "Deactivate" })
        if (up.gate?.id === id) return Effect.as(Deferred.await(up.gate.open), receipt)
        return up.hangAfter === id ? Effect.never : Effect.succeed(receipt)
      }),
    restore: (target, options) =>
      Effect.sync(() => {
        const id = Provider.targetOf(target).externalId
        up.calls.push(`restore ${id} ${options?.method}`)
        up.status.set(id, "active")
        return new ActionReceipt({ method: options?.method ?? "lifecycle", methodLabel: "Reactivate" })
      })
  }))

/** A synced connection of `n` active accounts and an approved plan to suspend them all. */
const setUp = (n: number, up: Upstream, refusedAtReview: ReadonlySet<string> = new Set()) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) up.status.set(`u${i}`, "active")
    const { id } = yield* Effect.flatMap(
      ConnectionStore,
      (s) => s.create({ provider: "fake", name: "Acme", config: {} })
    )
    const run = yield* SyncEngine.run(id, "owner", connection(up))
    const store = yield* ReclaimStore
    const policy = yield* store.createPolicy(
      id,
      Schema.decodeUnknownSync(ReclaimPolicy)({
        name: "Everyone",
        scope: { _tag: "accounts" },
        inactiveDays: 1
      }),
      "alice"
    )
    const plan = yield* store.createPlan({
      connectionId: id,
      policy,
      createdBy: "alice",
      basedOnRunId: run.id,
      dataAt: run.finishedAt!,
      blockedBecause: null,
      fourEyes: false,
      monthly: {},
      unpriced: 0,
      excluded: [],
      items: [...up.status.keys()].map((externalId) => ({
        externalId,
        displayName: externalId,
        email: null,
        managed: true,
        roles: [],
        attributes: {},
        lastActiveAt: null,
        seats: [],
        action: "suspend" as const,
        preflight: refusedAtReview.has(externalId)
          ? {
            allowed: false,
            method: "lifecycle",
            methodLabel: "Deactivate",
            reason: "managed by SCIM",
            hint: "ask the identity provider"
          }
          : { allowed: true, method: "lifecycle", methodLabel: "Deactivate", reason: null, hint: null },
        monthly: {}
      }))
    })
    yield* store.approve(plan.id, "bob")
    return { connectionId: id, planId: plan.id }
  })

const upstream = (): Upstream => ({ status: new Map(), calls: [], refuse: new Set() })

// ----- Tests -----

describe("ReclaimEngine", () => {
  it.effect("acts on every account once, journaling what it changes, and records the new status", () =>
    Effect.gen(function*() {
      const up = upstream()
      const { connectionId, planId } = yield* setUp(5, up)
      const plan = yield* ReclaimEngine.execute(planId, "job-1", connection(up))
      assert.strictEqual(plan.status, "done")
      assert.deepInclude(plan.progress, { done: 5, pending: 0, acting: 0 })
      assert.deepStrictEqual(up.calls.sort(), ["suspend u0", "suspend u1", "suspend u2", "suspend u3", "suspend u4"])
      const item = Option.getOrThrow(yield* Effect.flatMap(ReclaimStore, (s) => s.getItem(planId, "u3")))
      assert.deepInclude(item.journal, { statusBefore: "active", productsBefore: ["jira:acme"], method: "lifecycle" })
      const account = Option.getOrThrow(yield* Effect.flatMap(InventoryStore, (i) => i.getAccount(connectionId, "u3")))
      assert.strictEqual(account.account.status, "suspended")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("resumes after a crash where it stopped, and never sends an action twice", () =>
    Effect.gen(function*() {
      const up = upstream()
      const { planId } = yield* setUp(6, up)
      // The process dies after u2's suspend reached the provider, before its answer was recorded.
      up.hangAfter = "u2"
      const first = yield* Effect.fork(
        ReclaimEngine.execute(planId, "job-1", connection(up), { heartbeatEvery: "1 second" })
      )
      yield* TestClock.adjust("100 millis")
      yield* Fiber.interrupt(first)
      assert.deepStrictEqual(up.calls, ["suspend u0", "suspend u1", "suspend u2"])
      const store = yield* ReclaimStore
      assert.strictEqual(Option.getOrThrow(yield* store.getItem(planId, "u2")).state, "acting")
      // Another process takes over once the lease has expired.
      up.hangAfter = undefined
      yield* TestClock.adjust("31 seconds")
      assert.deepStrictEqual((yield* store.abandonedPlans).map((p) => p.id), [planId])
      const resumed = yield* ReclaimEngine.execute(planId, "job-2", connection(up))
      assert.strictEqual(resumed.status, "done")
      assert.deepStrictEqual(up.calls, [
        "suspend u0",
        "suspend u1",
        "suspend u2",
        "suspend u3",
        "suspend u4",
        "suspend u5"
      ])
      assert.strictEqual(Option.getOrThrow(yield* store.getItem(planId, "u2")).result, "done before the restart")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("a job whose lease was taken over sends no further actions and writes nothing", () =>
    Effect.gen(function*() {
      const up = upstream()
      const { planId } = yield* setUp(5, up)
      const store = yield* ReclaimStore
      // job-1 pauses in u1's suspend (after the provider applied it) for longer than its lease, not beating.
      up.gate = { id: "u1", open: yield* Deferred.make<void>() }
      const paused = ReclaimEngine.execute(planId, "job-1", connection(up), { heartbeatEvery: "1 hour" })
      const first = yield* Effect.fork(paused)
      yield* TestClock.adjust("100 millis")
      assert.deepStrictEqual(up.calls, ["suspend u0", "suspend u1"])
      yield* TestClock.adjust("31 seconds")
      yield* store.claim(planId, "job-2")
      // It wakes up: its write of u1 is refused, and it stops there.
      yield* Deferred.succeed(up.gate.open, undefined)
      const exit = yield* Fiber.await(first)
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) ? Option.getOrThrow(Cause.failureOption(exit.cause)) : undefined
      assert.strictEqual(error?.reason, "Conflict")
      assert.deepStrictEqual(up.calls, ["suspend u0", "suspend u1"], "no action after the lease was lost")
      const u1 = Option.getOrThrow(yield* store.getItem(planId, "u1"))
      assert.deepStrictEqual([u1.state, u1.result], ["acting", null], "its item is left as the new holder found it")
      const plan = Option.getOrThrow(yield* store.getPlan(planId))
      assert.deepStrictEqual([plan.status, plan.stoppedBecause, plan.finishedAt], ["running", null, null])
      yield* store.renew(planId, "job-2")

      // The new holder carries on: u1 is looked up, not sent again; every account acted on once.
      up.gate = undefined
      const done = yield* ReclaimEngine.execute(planId, "job-2", connection(up))
      assert.strictEqual(done.status, "done")
      assert.deepStrictEqual(up.calls, ["suspend u0", "suspend u1", "suspend u2", "suspend u3", "suspend u4"])
      assert.strictEqual(Option.getOrThrow(yield* store.getItem(planId, "u1")).result, "done before the restart")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("reports an account the preflight refused at review without asking again, and without stopping", () =>
    Effect.gen(function*() {
      const up = upstream()
      // Five accounts the reviewer saw refused, more than the refusals that stop a job: known, not news.
      const refused = new Set(["u0", "u1", "u2", "u3", "u4"])
      const { planId } = yield* setUp(7, up, refused)
      const plan = yield* ReclaimEngine.execute(planId, "job-1", connection(up), { maxConsecutiveRefusals: 3 })
      assert.strictEqual(plan.status, "done")
      assert.deepInclude(plan.progress, { done: 2, refused: 5 })
      assert.deepStrictEqual(up.calls, ["suspend u5", "suspend u6"])
      const u0 = Option.getOrThrow(yield* Effect.flatMap(ReclaimStore, (s) => s.getItem(planId, "u0")))
      assert.strictEqual(u0.result, "refused at review: managed by SCIM (ask the identity provider)")
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("reports refusals, and stops on repeated ones instead of retrying forever", () =>
    Effect.gen(function*() {
      const up = upstream()
      const { planId } = yield* setUp(10, up)
      for (const id of ["u0", "u2", "u3", "u4"]) up.refuse.add(id)
      const plan = yield* ReclaimEngine.execute(planId, "job-1", connection(up), { maxConsecutiveRefusals: 3 })
      assert.strictEqual(plan.status, "stopped")
      assert.include(plan.stoppedBecause ?? "", "3 refusals in a row")
      assert.deepInclude(plan.progress, { refused: 4, done: 1, pending: 5 })
      const refused = Option.getOrThrow(yield* Effect.flatMap(ReclaimStore, (s) => s.getItem(planId, "u0")))
      assert.include(refused.result ?? "", "managed by SCIM")
      assert.strictEqual(up.calls.filter((c) => c === "suspend u0").length, 1)
    }).pipe(Effect.provide(MemoryStore.layer())))

  it.effect("undoes an account with the method its journal names", () =>
    Effect.gen(function*() {
      const up = upstream()
      const { connectionId, planId } = yield* setUp(2, up)
      const plan = yield* ReclaimEngine.execute(planId, "job-1", connection(up))
      const item = Option.getOrThrow(yield* Effect.flatMap(ReclaimStore, (s) => s.getItem(planId, "u1")))
      const undone = yield* ReclaimEngine.undo(plan, item, connection(up))
      assert.strictEqual(undone.state, "undone")
      assert.include(up.calls, "restore u1 lifecycle")
      assert.strictEqual(up.status.get("u1"), "active")
      const account = Option.getOrThrow(yield* Effect.flatMap(InventoryStore, (i) => i.getAccount(connectionId, "u1")))
      assert.strictEqual(account.account.status, "active")
    }).pipe(Effect.provide(MemoryStore.layer())))
})
