/**
 * The reclaim store's execution lease across processes: two stores on one database (each with its own
 * connections, as two hosts would have) race for the same plans, and exactly one job executes each.
 */
import { assert, describe, it } from "@effect/vitest"
import { ReclaimPolicy } from "@seatkeeper/core/Reclaim"
import type { NewPlan } from "@seatkeeper/core/ReclaimStore"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { openStore, targets } from "./fixtures.js"

const policy = Schema.decodeUnknownSync(ReclaimPolicy)({ name: "All", scope: { _tag: "accounts" }, inactiveDays: 30 })

const items = (n: number): NewPlan["items"] =>
  Array.from({ length: n }, (_, i) => ({
    externalId: `p${i}`,
    displayName: `P ${i}`,
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

const PLANS = 12

for (const target of targets("the reclaim lease across processes")) {
  describe(`the reclaim lease across processes on ${target.name}`, () => {
    it.scopedLive(
      "two hosts claiming the same plans at once: one job wins each, the other is refused",
      () =>
        Effect.gen(function*() {
          const db = yield* target.database
          const a = yield* openStore(db, { leaseDuration: "400 millis" })
          const b = yield* openStore(db, { leaseDuration: "400 millis" })
          const c = yield* a.connections.create({ provider: "atlassian", name: "Acme", config: {} })
          const stored = yield* a.reclaim.createPolicy(c.id, policy, "alice")
          const plans = yield* Effect.forEach(Array.from({ length: PLANS }), () =>
            Effect.gen(function*() {
              const plan = yield* a.reclaim.createPlan({
                connectionId: c.id,
                policy: stored,
                createdBy: "alice",
                basedOnRunId: "run",
                dataAt: new Date().toISOString(),
                blockedBecause: null,
                fourEyes: false,
                monthly: {},
                unpriced: 0,
                excluded: [],
                items: items(3)
              })
              yield* b.reclaim.approve(plan.id, "bob")
              return plan.id
            }))

          const race = (planId: string, owners: readonly [string, string]) =>
            Effect.all([
              Effect.either(a.reclaim.claim(planId, owners[0])),
              Effect.either(b.reclaim.claim(planId, owners[1]))
            ], { concurrency: "unbounded" })

          // Fresh plans: one claim of each pair wins; the loser is told another job executes it.
          const winners = new Map<string, string>()
          for (const planId of plans) {
            const [x, y] = yield* race(planId, ["host-a", "host-b"])
            const won = [x, y].filter((r) => r._tag === "Right")
            assert.strictEqual(won.length, 1, `exactly one job claims plan ${planId}`)
            const lost = [x, y].find((r) => r._tag === "Left")!
            assert.strictEqual(lost._tag === "Left" ? lost.left.reason : "", "Conflict")
            winners.set(planId, x._tag === "Right" ? "host-a" : "host-b")
            // Its holder renews it from either host's store; the other job cannot.
            const holder = winners.get(planId)!
            yield* (holder === "host-a" ? b : a).reclaim.renew(planId, holder)
            const other = holder === "host-a" ? "host-b" : "host-a"
            assert.strictEqual((yield* Effect.flip(a.reclaim.renew(planId, other))).reason, "Conflict")
          }

          // Both hosts die; two new jobs race to take over each expired lease: again exactly one wins.
          yield* Effect.sleep("600 millis")
          const abandoned = (yield* b.reclaim.abandonedPlans).map((p) => p.id)
          assert.deepStrictEqual([...abandoned].sort(), [...plans].sort())
          for (const planId of plans) {
            const [x, y] = yield* race(planId, ["resume-a", "resume-b"])
            assert.strictEqual([x, y].filter((r) => r._tag === "Right").length, 1, `one job resumes plan ${planId}`)
            const holder = x._tag === "Right" ? "resume-a" : "resume-b"
            const lost = winners.get(planId)!
            assert.strictEqual(
              (yield* Effect.flip(a.reclaim.finishPlan(planId, lost, { status: "done" }))).reason,
              "Conflict",
              "the job that lost its lease cannot finish the plan"
            )
            const done = yield* b.reclaim.finishPlan(planId, holder, { status: "done" })
            assert.strictEqual(done.status, "done")
          }
          assert.deepStrictEqual(
            (yield* a.reclaim.abandonedPlans).filter((p) => plans.includes(p.id)),
            [],
            "nothing left to resume"
          )
        }),
      60_000
    )

    it.scopedLive(
      "a cancel racing a claim: the plan is either cancelled with no lease, or running",
      () =>
        Effect.gen(function*() {
          const db = yield* target.database
          const a = yield* openStore(db)
          const b = yield* openStore(db)
          const c = yield* a.connections.create({ provider: "atlassian", name: "Acme", config: {} })
          const stored = yield* a.reclaim.createPolicy(c.id, policy, "alice")
          for (let i = 0; i < PLANS; i++) {
            const plan = yield* a.reclaim.createPlan({
              connectionId: c.id,
              policy: stored,
              createdBy: "alice",
              basedOnRunId: "run",
              dataAt: new Date().toISOString(),
              blockedBecause: null,
              fourEyes: false,
              monthly: {},
              unpriced: 0,
              excluded: [],
              items: items(2)
            })
            yield* a.reclaim.approve(plan.id, "bob")
            const [claimed, cancelled] = yield* Effect.all([
              Effect.either(a.reclaim.claim(plan.id, "job")),
              Effect.either(b.reclaim.cancel(plan.id, "carol"))
            ], { concurrency: "unbounded" })
            assert.strictEqual(
              [claimed, cancelled].filter((r) => r._tag === "Right").length,
              1,
              "never both, never neither"
            )
            const now = Option.getOrThrow(yield* b.reclaim.getPlan(plan.id))
            assert.strictEqual(now.status, claimed._tag === "Right" ? "running" : "cancelled")
            const leases = yield* a.sql<{ readonly n: number | string }>`SELECT COUNT(*) AS n FROM reclaim_plan_leases
            WHERE plan_id = ${plan.id}`
            assert.strictEqual(Number(leases[0]!.n), claimed._tag === "Right" ? 1 : 0, "no lease left by a lost claim")
          }
        }),
      60_000
    )
  })
}
