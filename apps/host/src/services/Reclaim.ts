/**
 * Reclaiming seats, as the host offers it: policies (versioned data), plans made from a policy and the
 * last applied sync (immutable, reviewable, exportable, comparable with the previous plan of the policy),
 * approval under four eyes, execution as a durable job (resumed after a restart), undo within the grace
 * period, prices, and savings (potential per inactivity bucket; realised only once a sync confirms the
 * seat is gone). Every decision is audited with the person who made it.
 *
 * @since 0.2.0
 */
import { ConnectionStore } from "@seatkeeper/core/Connection"
import { InventoryStore, type StoredAccount } from "@seatkeeper/core/Inventory"
import type { ProviderConnection } from "@seatkeeper/core/Provider"
import type { ProviderError } from "@seatkeeper/core/ProviderError"
import * as ProviderHttp from "@seatkeeper/core/ProviderHttp"
import { costOf, evaluate, Money, monthlyCost, Price, ReclaimPolicy } from "@seatkeeper/core/Reclaim"
import * as ReclaimEngine from "@seatkeeper/core/ReclaimEngine"
import { type Plan, type PlanItem, PlanItemState, ReclaimStore } from "@seatkeeper/core/ReclaimStore"
import type { StoreError } from "@seatkeeper/core/StoreError"
import { SyncStore } from "@seatkeeper/core/SyncStore"
import { makeOwner } from "@seatkeeper/store/SyncOwner"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { Conflict, Forbidden, InvalidInput, NotFound } from "../errors.js"
import { decodeBody, IntFromString } from "../inputs.js"
import { AuditLog } from "./AuditLog.js"
import { Upstream } from "./Upstream.js"
import { type Principal, requireRole } from "./Users.js"
import { Webhooks } from "./Webhooks.js"

/**
 * The body of `PUT /api/connections/:id/prices`.
 *
 * @since 0.2.0
 * @category bodies
 */
export const SetPrices = Schema.Struct({ prices: Schema.Array(Price).pipe(Schema.maxItems(1_000)) })

/**
 * The body of `POST /api/plans/:id/undo`: one account, or (without) every account of the plan.
 *
 * @since 0.2.0
 * @category bodies
 */
export const UndoBody = Schema.Struct({ externalId: Schema.optional(Schema.String.pipe(Schema.maxLength(200))) })

/**
 * `?state=&limit=&cursor=` of a plan's items.
 *
 * @since 0.2.0
 * @category queries
 */
export const ItemsQuery = Schema.Struct({
  state: Schema.optional(PlanItemState),
  limit: Schema.optionalWith(IntFromString(1, 500, "limit"), {
    default: () => 100
  }),
  cursor: Schema.optional(Schema.String)
})

/**
 * What a reclaim saves, per currency per month.
 *
 * @since 0.2.0
 * @category views
 */
export const SavingsView = Schema.Struct({
  /** Unused seats priced, per inactivity bucket. */
  potential: Schema.Struct({ unused30: Money, unused60: Money, unused90: Money }),
  /** Seats freed by executed plans that a later sync confirmed gone. */
  realised: Money,
  /** Seats freed by executed plans a sync has not yet confirmed. */
  awaitingConfirmation: Money,
  unpriced: Schema.Struct({ unused30: Schema.Int, unused60: Schema.Int, unused90: Schema.Int })
}).annotations({ identifier: "Savings" })

/**
 * @since 0.2.0
 * @category views
 */
export interface SavingsView extends Schema.Schema.Type<typeof SavingsView> {}

const HOUR_MS = 3_600_000
/**
 * Accounts asked about per write of a plan's check, four at a time, when the provider answers quickly. At a real
 * budget (~200 requests a minute) 64 answers take about 20 s, so answers are also written every
 * `CHECK_FLUSH`: the plan's progress moves at least that often, and a cancel in another process (seen at the
 * next write; one in this process interrupts the check at once) stops the check within it.
 */
const CHECK_BATCH = 64
const CHECK_FLUSH = Duration.seconds(2)
/** How long making a plan waits for its check before answering `checking`. */
const checkWait = Duration.seconds(3)
/** The provider's codes for "not this account" (as the execution engine reads them): not the credentials. */
const ACCOUNT_REFUSAL = /forbidden\.(action|targetUnverified)|ADMIN-UAM-403/
const DAY_MS = 86_400_000

const moneyText = (money: Money) =>
  Object.entries(money).map(([currency, amount]) => `${amount.toFixed(2)} ${currency}`).join(" + ")

/** The `text` of a `plan.ready` webhook: what a person reads in Slack. */
const readyText = (plan: Plan) => {
  const frees = moneyText(plan.monthly)
  return `Reclaim plan "${plan.policyName}" by ${plan.createdBy} is ready for approval: ${plan.accounts} accounts, ` +
    `${plan.seats} seats${frees === "" ? "" : `, ${frees} a month`}${
      plan.fourEyes ? " (needs an approver other than its author)" : ""
    }`
}

/**
 * @since 0.2.0
 * @category services
 */
export class Reclaim extends Effect.Service<Reclaim>()("app/Reclaim", {
  accessors: true,
  scoped: Effect.gen(function*() {
    const store = yield* ReclaimStore
    const inventory = yield* InventoryStore
    const connections = yield* ConnectionStore
    const runs = yield* SyncStore
    const upstream = yield* Upstream
    const audit = yield* AuditLog
    const webhooks = yield* Webhooks
    // Executions belong to the host's scope: stopping the host interrupts them; their plans stay
    // `running` with an expiring lease, and the next start (or a scheduler tick) resumes them.
    const fibers = yield* FiberSet.make<unknown, unknown>()
    // This process's checks by plan: cancelling a plan interrupts its check's questions in flight.
    const checks = new Map<string, Fiber.RuntimeFiber<unknown, unknown>>()
    const startCheck = (plan: Plan, jobOwner: string) =>
      Effect.tap(
        FiberSet.run(
          fibers,
          checkJob(plan, jobOwner).pipe(
            // Only its own entry: a job that outlived its lease must not drop the one that took over.
            Effect.ensuring(Effect.withFiberRuntime((fiber) =>
              Effect.sync(() => {
                if (checks.get(plan.id) === fiber) checks.delete(plan.id)
              })
            ))
          )
        ),
        (fiber) =>
          Effect.sync(() => {
            if (fiber.unsafePoll() === null) checks.set(plan.id, fiber)
          })
      )
    // The plan's lease is the store's (SEATKEEPER_LEASE_MS, default 30 s): three beats per lease, at most one
    // per 10 s, as syncs do. The engine's fixed 10 s would let a shorter lease lapse mid-plan, and the job
    // would stop at its next write with the plan left `running` until a scheduler tick resumed it.
    const heartbeatEvery = runs.leaseDuration === undefined
      ? undefined
      : Duration.min(Duration.seconds(10), Duration.millis(Math.max(1, Duration.toMillis(runs.leaseDuration) / 3)))

    const requireConnection = (id: string) =>
      connections.get(id).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new NotFound({ resource: "connection", id })),
          onSome: Effect.succeed
        }))
      )

    const requirePlan = (id: string) =>
      store.getPlan(id).pipe(
        Effect.flatMap(
          Option.match({ onNone: () => Effect.fail(new NotFound({ resource: "plan", id })), onSome: Effect.succeed })
        )
      )

    const requirePolicy = (id: string) =>
      store.getPolicy(id).pipe(
        Effect.flatMap(
          Option.match({ onNone: () => Effect.fail(new NotFound({ resource: "policy", id })), onSome: Effect.succeed })
        )
      )

    const record = (
      principal: Principal,
      action: string,
      connectionId: string | null,
      target: string,
      input: unknown,
      detail: string | null
    ) => audit.record({ actor: principal.name, action, connectionId, target, input, outcome: "ok", detail })

    // --- policies ---------------------------------------------------------------------------------------

    const decodePolicy = (input: unknown) =>
      decodeBody(Schema.Struct({ policy: ReclaimPolicy }), input).pipe(Effect.map((b) => b.policy))

    const createPolicy = Effect.fn("Reclaim.createPolicy")(
      function*(connectionId: string, input: unknown, principal: Principal) {
        yield* requireRole(principal, "operator", "write reclaim policies")
        yield* requireConnection(connectionId)
        const policy = yield* decodePolicy(input)
        const stored = yield* store.createPolicy(connectionId, policy, principal.name)
        yield* record(
          principal,
          "policy.create",
          connectionId,
          stored.id,
          Schema.encodeSync(ReclaimPolicy)(policy),
          null
        )
        return stored
      }
    )

    const updatePolicy = Effect.fn("Reclaim.updatePolicy")(function*(id: string, input: unknown, principal: Principal) {
      yield* requireRole(principal, "operator", "write reclaim policies")
      const policy = yield* decodePolicy(input)
      const stored = yield* store.updatePolicy(id, policy, principal.name)
      if (Option.isNone(stored)) return yield* Effect.fail(new NotFound({ resource: "policy", id }))
      yield* record(
        principal,
        "policy.update",
        stored.value.connectionId,
        id,
        Schema.encodeSync(ReclaimPolicy)(policy),
        `version ${stored.value.version}`
      )
      return stored.value
    })

    const archivePolicy = Effect.fn("Reclaim.archivePolicy")(function*(id: string, principal: Principal) {
      yield* requireRole(principal, "operator", "archive reclaim policies")
      const policy = yield* requirePolicy(id)
      yield* store.archivePolicy(id)
      yield* record(principal, "policy.archive", policy.connectionId, id, {}, null)
    })

    // --- plans ------------------------------------------------------------------------------------------

    /** Every account of a connection, page by page: evaluation never needs them all in memory at once. */
    const evaluateAll = (
      connectionId: string,
      policy: ReclaimPolicy,
      now: number,
      planOf: (key: string) => string | null
    ) =>
      Effect.gen(function*() {
        const candidates: Array<ReturnType<typeof evaluate>["candidates"][number]> = []
        const excluded: Array<ReturnType<typeof evaluate>["excluded"][number]> = []
        let cursor: string | undefined
        do {
          const page = yield* inventory.listAccounts({ connectionId, status: "active", limit: 1_000, cursor })
          const result = evaluate(policy, page.data as ReadonlyArray<StoredAccount>, { now, planOf })
          candidates.push(...result.candidates)
          excluded.push(...result.excluded)
          cursor = page.nextCursor ?? undefined
        } while (cursor !== undefined)
        return { candidates, excluded }
      })

    const makePlan = Effect.fn("Reclaim.makePlan")(function*(policyId: string, principal: Principal) {
      yield* requireRole(principal, "operator", "make reclaim plans")
      const stored = yield* requirePolicy(policyId)
      if (stored.archived) {
        return yield* Effect.fail(new Conflict({ message: `policy ${stored.policy.name} is archived` }))
      }
      const connection = yield* requireConnection(stored.connectionId)
      // The last applied run however many failed since, and the latest run whatever its outcome.
      const [applied] = yield* runs.list(connection.id, 1, { status: "succeeded" })
      const [newest] = yield* runs.list(connection.id, 1)
      if (applied === undefined || applied.finishedAt === null) {
        return yield* Effect.fail(
          new Conflict({
            message: "this connection has no applied sync yet: a plan needs the data of one",
            hint: "sync the connection, then make the plan"
          })
        )
      }
      const now = Date.now()
      const latest = newest ?? applied
      const ageHours = (now - Date.parse(applied.finishedAt)) / HOUR_MS
      const blockedBecause = latest.status === "held"
        ? `the latest sync (${latest.id}) is held: its data is not confirmed; apply or discard it, sync again, then make a new plan`
        : latest.status === "failed"
        ? `the latest sync (${latest.id}) failed: its data is not confirmed; fix what made it fail, sync again, then make a new plan`
        : ageHours > stored.policy.maxDataAgeHours
        ? `the data is ${
          Math.floor(ageHours)
        } hours old, more than the policy's ${stored.policy.maxDataAgeHours}; sync first`
        : null
      const products = yield* inventory.listProducts(connection.id)
      const plans = new Map(products.map((p) => [p.key, p.plan]))
      const prices = yield* store.listPrices(connection.id)
      const { candidates, excluded } = yield* evaluateAll(
        connection.id,
        stored.policy,
        now,
        (key) => plans.get(key) ?? null
      )
      const live = yield* upstream.connect(connection)
      // The provider's read-only answer for each account is asked after the plan is saved, by a job of its own
      // (`checking`): at Atlassian's ~200 requests a minute, 18,000 accounts take an hour and a half, longer
      // than any request may wait. A provider without preflights has nothing to ask: the plan is in review.
      const checking = live.preflight !== undefined && candidates.length > 0
      const items = candidates.map((c) => ({
        externalId: c.externalId,
        displayName: c.displayName,
        email: c.email,
        managed: c.managed,
        roles: c.roles,
        attributes: c.attributes,
        lastActiveAt: c.lastActiveAt,
        seats: c.seats,
        action: "suspend" as const,
        preflight: null,
        monthly: costOf(prices, c.seats).monthly
      }))
      const cost = costOf(prices, candidates.flatMap((c) => c.seats))
      const plan = yield* store.createPlan({
        connectionId: connection.id,
        policy: stored,
        createdBy: principal.name,
        basedOnRunId: applied.id,
        dataAt: applied.finishedAt,
        blockedBecause,
        fourEyes: items.length > stored.policy.fourEyesAbove,
        monthly: cost.monthly,
        unpriced: cost.unpriced,
        excluded,
        items,
        checking
      })
      yield* record(
        principal,
        "plan.create",
        connection.id,
        plan.id,
        { policyId, policyVersion: stored.version },
        `${plan.accounts} accounts, ${plan.seats} seats`
      )
      if (!checking) {
        yield* notifyReady(plan)
        return plan
      }
      const jobOwner = makeOwner()
      // Another process's resume may have taken the new plan first (it has no lease until here): it checks it.
      const claimed = yield* store.claimChecking(plan.id, jobOwner).pipe(
        Effect.catchIf((e) => e.reason === "Conflict", () => Effect.succeed(undefined))
      )
      if (claimed !== undefined) {
        const job = yield* startCheck(claimed, jobOwner)
        // A plan checked within a few seconds is answered in review; a larger one is answered `checking`, and
        // its page (or GET /api/plans/:id) follows the check.
        yield* Fiber.await(job).pipe(Effect.timeout(checkWait), Effect.ignore)
      }
      return yield* requirePlan(plan.id)
    })

    // Ready for approval: a plan with something to do that may be executed (an empty or blocked one is not).
    const notifyReady = (plan: Plan) =>
      plan.accounts > 0 && plan.blockedBecause === null
        ? webhooks.notify("plan.ready", readyText(plan), {
          planId: plan.id,
          connectionId: plan.connectionId,
          accounts: plan.accounts,
          seats: plan.seats,
          monthly: plan.monthly
        })
        : Effect.void

    /** The provider's answer about one account (it has no such account, it refuses to look) is that account's preflight. */
    const preflightOf = (live: ProviderConnection, item: PlanItem) =>
      live.preflight!({
        externalId: item.externalId,
        managed: item.managed ?? undefined,
        roles: item.roles,
        attributes: item.attributes
      }, "suspend").pipe(
        Effect.map((answer) => ({
          allowed: answer.allowed,
          method: answer.method,
          methodLabel: answer.methodLabel,
          reason: answer.reason ?? null,
          hint: answer.hint ?? null
        })),
        // Only an error about the connection (credentials, the provider unavailable) stops the check.
        Effect.catchIf(
          (e) => e.reason === "NotFound" || (e.reason === "Forbidden" && ACCOUNT_REFUSAL.test(e.code ?? "")),
          (e) =>
            Effect.succeed({
              allowed: false,
              method: "default",
              methodLabel: "the provider's preflight did not answer for this account",
              reason: e.message,
              hint: e.hint ?? null
            })
        ),
        Effect.map((preflight) => ({ externalId: item.externalId, preflight }))
      )

    /**
     * Asks the provider about each account of a `checking` plan (its lease taken by `jobOwner`), recording the
     * answers 64 at a time or every 2 s, ahead of syncs' pages in the budget; then the plan is in review (and the webhooks told), or
     * cancelled with why when the provider could not be asked. Stopping the host leaves it `checking`; the
     * next start (or a scheduler tick) resumes it where it stopped.
     */
    const checkJob = (plan: Plan, jobOwner: string) =>
      Effect.gen(function*() {
        const connection = yield* requireConnection(plan.connectionId)
        const live = yield* upstream.connect(connection)
        const work = Effect.gen(function*() {
          for (;;) {
            const batch = yield* store.uncheckedItems(plan.id, CHECK_BATCH)
            if (batch.length === 0) break
            if (live.preflight === undefined) {
              return yield* Effect.fail(
                new Conflict({ message: `${connection.provider} no longer answers preflights: make the plan again` })
              )
            }
            yield* Stream.fromIterable(batch).pipe(
              Stream.mapEffect((item) => preflightOf(live, item), { concurrency: 4 }),
              Stream.groupedWithin(CHECK_BATCH, CHECK_FLUSH),
              Stream.runForEach((checked) => store.checkItems(plan.id, jobOwner, Chunk.toReadonlyArray(checked))),
              Effect.provideService(ProviderHttp.Priority, "interactive")
            )
          }
          return yield* store.finishChecking(plan.id, jobOwner, { status: "review" })
        })
        // As the execution's job: a renewal refused (the lease was lost) ends the check at once.
        const heartbeat = Effect.sleep(heartbeatEvery ?? Duration.seconds(10)).pipe(
          Effect.zipRight(store.renew(plan.id, jobOwner)),
          Effect.forever
        )
        const reviewed = yield* Effect.raceFirst(work, heartbeat)
        yield* notifyReady(reviewed)
      }).pipe(
        Effect.catchAll((error) =>
          // Lost lease or cancelled meanwhile (the plan is another job's, or no one's), or removed with its
          // connection: nothing to end here.
          (error._tag === "StoreError" && (error.reason === "Conflict" || error.reason === "NotFound")) ||
            error._tag === "NotFound"
            ? Effect.logInfo("a reclaim plan's check stopped: " + error.message)
            // The database or the provider unavailable for a while: the plan stays `checking`, its lease
            // lapses, and the next scheduler tick (or start) resumes it where it stopped.
            : error._tag === "StoreError" || (error._tag === "ProviderError" && error.isTransient)
            ? Effect.logWarning(
              "a reclaim plan's check paused; it resumes at the next scheduler tick: " + error.message
            )
            : Effect.gen(function*() {
              // Refused credentials, a provider that no longer answers preflights: asking again would not help.
              const reason = `the provider could not be asked about the accounts: ${error.message}`
              yield* store.finishChecking(plan.id, jobOwner, { status: "cancelled", reason })
              yield* audit.record({
                actor: "system",
                action: "plan.cancel",
                connectionId: plan.connectionId,
                target: plan.id,
                input: {},
                outcome: "error",
                detail: reason
              })
            })
        ),
        Effect.catchAllCause((cause) => Effect.logError("a reclaim plan's check stopped on an error", cause)),
        Effect.annotateLogs({ planId: plan.id })
      )

    /** Who is new in this plan and who dropped out, against the previous plan of the same policy. */
    const compare = Effect.fn("Reclaim.compare")(function*(planId: string) {
      const plan = yield* requirePlan(planId)
      const [older] = yield* store.listPlans({ policyId: plan.policyId, before: plan, limit: 1 })
      const previousPlanId = older?.id ?? null
      return { previousPlanId, ...(yield* store.compareItems(plan.id, previousPlanId)) }
    })

    const approve = Effect.fn("Reclaim.approve")(function*(planId: string, principal: Principal) {
      yield* requireRole(principal, "approver", "approve reclaim plans")
      const plan = yield* requirePlan(planId)
      if (plan.fourEyes && plan.createdBy === principal.name) {
        return yield* Effect.fail(
          new Forbidden({
            message: `four eyes: ${principal.name} made this plan and cannot approve it too`,
            hint: "ask another approver"
          })
        )
      }
      if (plan.status === "checking") {
        return yield* Effect.fail(
          new Conflict({
            message: `the provider is still being asked about the plan's accounts (${
              plan.accounts - plan.progress.unchecked
            } of ${plan.accounts} checked)`,
            hint: `it goes to review when every account is checked: follow it with GET /api/plans/${plan.id}`
          })
        )
      }
      if (plan.status !== "review") {
        return yield* Effect.fail(new Conflict({ message: `the plan is ${plan.status}, not waiting for approval` }))
      }
      const approved = yield* store.approve(planId, principal.name)
      yield* record(principal, "plan.approve", plan.connectionId, planId, {}, `${plan.accounts} accounts`)
      return approved
    })

    const cancel = Effect.fn("Reclaim.cancel")(function*(planId: string, principal: Principal) {
      yield* requireRole(principal, "operator", "cancel reclaim plans")
      const plan = yield* requirePlan(planId)
      if (plan.status !== "checking" && plan.status !== "review" && plan.status !== "approved") {
        return yield* Effect.fail(
          new Conflict({ message: `the plan is ${plan.status}; only a plan not yet executed can be cancelled` })
        )
      }
      const cancelled = yield* store.cancel(planId, principal.name)
      const check = checks.get(planId)
      if (check !== undefined) yield* Fiber.interrupt(check)
      yield* record(principal, "plan.cancel", plan.connectionId, planId, {}, null)
      return cancelled
    })

    /**
     * The store as a plan's job (or an undo) sees it: every account's outcome is audited as it is recorded
     * (invariant 9: every suspend and restore is in the audit log, with the person, the input and the
     * outcome), whichever process records it: an account a killed process acted on is audited by the job
     * that confirms it after the restart.
     */
    const auditedStore = (plan: Plan, actor: string): ReclaimStore["Type"] => ({
      ...store,
      finishItem: (planId, jobOwner, externalId, outcome) =>
        Effect.zipRight(
          store.finishItem(planId, jobOwner, externalId, outcome),
          audit.record({
            actor,
            action: "account.suspend",
            connectionId: plan.connectionId,
            target: externalId,
            input: { planId, policy: plan.policyName },
            outcome: outcome.state === "done" || outcome.state === "skipped" ? "ok" : "error",
            detail: `${outcome.state}${outcome.result === null ? "" : `: ${outcome.result}`}`
          })
        ),
      markUndone: (planId, externalId) =>
        Effect.zipRight(
          store.markUndone(planId, externalId),
          audit.record({
            actor,
            action: "account.restore",
            connectionId: plan.connectionId,
            target: externalId,
            input: { planId, undo: true },
            outcome: "ok",
            detail: "undone within the plan's grace period"
          })
        )
    })

    /**
     * Takes a plan's execution lease for one job. Each job has its own owner: with one owner per process,
     * two jobs of this process (two execute requests at once, or a resume while a job still runs) would
     * both hold the lease and act on each account twice.
     */
    const claim = (planId: string, jobOwner: string) =>
      store.claim(planId, jobOwner).pipe(
        Effect.catchIf((e) => e.reason === "Conflict", (e) =>
          Effect.fail(
            new Conflict({
              message: e.message,
              ...(/another job/.test(e.message)
                ? { hint: `it is running: follow its progress with GET /api/plans/${planId}` }
                : {})
            })
          ))
      )

    /** Runs a plan's job (its lease taken by `jobOwner`) in the background; audits each account, its end, and tells the webhooks. */
    const runJob = (plan: Plan, actor: string, jobOwner: string) =>
      Effect.gen(function*() {
        const connection = yield* requireConnection(plan.connectionId)
        const done = yield* ReclaimEngine.execute(plan.id, jobOwner, upstream.connect(connection), { heartbeatEvery })
          .pipe(
            Effect.provideService(ReclaimStore, auditedStore(plan, actor)),
            Effect.provideService(InventoryStore, inventory)
          )
        const p = done.progress
        const detail =
          `${done.status}: ${p.done} done, ${p.refused} refused, ${p.failed} failed, ${p.skipped} skipped` +
          (done.stoppedBecause === null ? "" : `; ${done.stoppedBecause}`)
        yield* audit.record({
          actor,
          action: "plan.finish",
          connectionId: plan.connectionId,
          target: plan.id,
          input: {},
          outcome: done.status === "done" ? "ok" : "error",
          detail
        })
        yield* webhooks.notify(
          "plan.executed",
          `Reclaim plan "${plan.policyName}" ${
            done.status === "done" ? "executed" : "stopped"
          }: ${p.done} accounts done, ` +
            `${p.refused} refused, ${p.failed} failed, ${p.skipped} skipped` +
            (done.stoppedBecause === null ? "" : `; stopped because ${done.stoppedBecause}`),
          { planId: plan.id, connectionId: plan.connectionId, status: done.status, progress: p }
        )
      }).pipe(
        Effect.catchAllCause((cause) => Effect.logError("a reclaim plan's job stopped on an error", cause)),
        Effect.annotateLogs({ planId: plan.id })
      )

    const execute = Effect.fn("Reclaim.execute")(function*(planId: string, principal: Principal) {
      yield* requireRole(principal, "operator", "execute reclaim plans")
      const plan = yield* requirePlan(planId)
      if (plan.blockedBecause !== null) {
        return yield* Effect.fail(
          new Conflict({
            message: `this plan cannot be executed: ${plan.blockedBecause}`,
            hint: "a plan keeps the data it was made from: sync again, then make a new plan and execute that one"
          })
        )
      }
      // `running`: its job may have died with its process (the lease then decides, below).
      if (plan.status !== "approved" && plan.status !== "stopped" && plan.status !== "running") {
        return yield* Effect.fail(
          new Conflict({
            message: plan.status === "review" ? "the plan is not approved yet" : `the plan is ${plan.status}`,
            ...(plan.status === "review" ? { hint: "an approver approves it first" } : {})
          })
        )
      }
      const ageHours = (Date.now() - Date.parse(plan.dataAt)) / HOUR_MS
      if (ageHours > plan.policy.maxDataAgeHours) {
        return yield* Effect.fail(
          new Conflict({
            message: `the plan's data is ${
              Math.floor(ageHours)
            } hours old, more than the policy's ${plan.policy.maxDataAgeHours}`,
            hint: "sync the connection and make a new plan"
          })
        )
      }
      // A sync held or failed since the plan was made says the source changed, or could not be read: the
      // plan's reading may no longer be true, so it waits for a decision and a fresh plan.
      const latest = (yield* runs.list(plan.connectionId, 1))[0]
      if (latest !== undefined && (latest.status === "held" || latest.status === "failed")) {
        return yield* Effect.fail(
          new Conflict({
            message:
              `this plan cannot be executed: the latest sync (${latest.id}) ${
                latest.status === "held" ? "is held" : "failed"
              }, ` +
              "so the data the plan was made from is not confirmed",
            hint: latest.status === "held"
              ? `apply or discard the held sync (POST /api/syncs/${latest.id}/apply or /discard), sync again, then make a new plan`
              : "fix what made the sync fail (GET /api/syncs/" + latest.id +
                " says why), sync again, then make a new plan"
          })
        )
      }
      // The lease is taken here, before answering: a second execute (from this process or another) is
      // refused now instead of starting a second job, and the answer already says `running`.
      const jobOwner = makeOwner()
      const running = yield* claim(planId, jobOwner)
      yield* record(principal, "plan.execute", plan.connectionId, planId, {}, null)
      yield* FiberSet.run(fibers, runJob(running, principal.name, jobOwner))
      return running
    })

    /** Resumes plans whose job's process stopped (their lease expired): at start-up. */
    const resume = Effect.gen(function*() {
      const abandoned = yield* store.abandonedPlans
      let resumed = 0
      for (const plan of abandoned) {
        // Another process may resume it first: whoever takes the lease runs it.
        const jobOwner = makeOwner()
        const checking = plan.status === "checking"
        const claimed = yield* (checking ? store.claimChecking(plan.id, jobOwner) : claim(plan.id, jobOwner)).pipe(
          Effect.option
        )
        if (Option.isNone(claimed)) continue
        yield* Effect.logWarning(
          checking
            ? "resuming the check of a reclaim plan whose job stopped"
            : "resuming a reclaim plan whose job stopped"
        ).pipe(Effect.annotateLogs({ planId: plan.id }))
        yield* audit.record({
          actor: "system",
          action: "plan.resume",
          connectionId: plan.connectionId,
          target: plan.id,
          input: {},
          outcome: "ok",
          detail: null
        })
        yield* checking
          ? startCheck(claimed.value, jobOwner)
          : FiberSet.run(fibers, runJob(claimed.value, "system", jobOwner))
        resumed++
      }
      return resumed
    }).pipe(Effect.withSpan("Reclaim.resume"))

    const undo = Effect.fn("Reclaim.undo")(function*(planId: string, input: unknown, principal: Principal) {
      yield* requireRole(principal, "operator", "undo reclaim actions")
      const body = yield* decodeBody(UndoBody, input ?? {})
      const plan = yield* requirePlan(planId)
      const connection = yield* requireConnection(plan.connectionId)
      const deadline = (item: PlanItem) => Date.parse(item.doneAt ?? plan.createdAt) + plan.policy.undoDays * DAY_MS
      const items: Array<PlanItem> = []
      if (body.externalId !== undefined) {
        const item = yield* store.getItem(planId, body.externalId)
        if (Option.isNone(item)) return yield* Effect.fail(new NotFound({ resource: "account", id: body.externalId }))
        if (item.value.state !== "done") {
          return yield* Effect.fail(
            new Conflict({
              message: `${item.value.displayName} is ${item.value.state}: only a done action can be undone`
            })
          )
        }
        items.push(item.value)
      } else {
        let cursor: string | undefined
        do {
          const page = yield* store.listItems({ planId, state: "done", limit: 500, cursor })
          items.push(...page.data)
          cursor = page.nextCursor ?? undefined
        } while (cursor !== undefined)
      }
      if (items.length === 0) {
        // "0 undone" would read as an undo that ran; say why there is nothing to undo instead.
        return yield* Effect.fail(
          new Conflict({
            message: `plan ${planId} (${plan.status}) has no done action to undo`,
            hint: plan.progress.done + plan.progress.undone + plan.progress.failed === 0
              ? "execute an approved plan first; only what it did can be undone"
              : "its actions are undone already, or failed"
          })
        )
      }
      const now = Date.now()
      const late = items.find((i) => deadline(i) < now)
      if (late !== undefined) {
        return yield* Effect.fail(
          new Conflict({
            message: `the grace period of ${plan.policy.undoDays} days to undo ${late.displayName} is over`,
            hint: "restore the account by hand from its page"
          })
        )
      }
      const undone: Array<PlanItem> = []
      const asked = { externalId: body.externalId ?? null }
      for (const item of items) {
        const restored = yield* ReclaimEngine.undo(plan, item, upstream.connect(connection)).pipe(
          Effect.provideService(ReclaimStore, auditedStore(plan, principal.name)),
          Effect.provideService(InventoryStore, inventory),
          Effect.either
        )
        if (restored._tag === "Left") {
          // What was restored stays restored (and audited); the rest waits for another try.
          const error = restored.left
          yield* audit.record({
            actor: principal.name,
            action: "account.restore",
            connectionId: plan.connectionId,
            target: item.externalId,
            input: { planId, undo: true },
            outcome: "error",
            detail: error.message
          })
          yield* audit.record({
            actor: principal.name,
            action: "plan.undo",
            connectionId: plan.connectionId,
            target: planId,
            input: asked,
            outcome: "error",
            detail:
              `${undone.length} of ${items.length} accounts restored; stopped at ${item.displayName}: ${error.message}`
          })
          return yield* Effect.fail(error)
        }
        undone.push(restored.right)
      }
      yield* record(principal, "plan.undo", plan.connectionId, planId, asked, `${undone.length} accounts restored`)
      return { undone: undone.length, items: undone }
    })

    // --- prices and savings -----------------------------------------------------------------------------

    const setPrices = Effect.fn("Reclaim.setPrices")(
      function*(connectionId: string, input: unknown, principal: Principal) {
        yield* requireRole(principal, "admin", "set prices")
        yield* requireConnection(connectionId)
        const body = yield* decodeBody(SetPrices, input)
        const keys = body.prices.map((p) => `${p.product}\u0000${p.plan ?? ""}`)
        const twice = keys.findIndex((k, i) => keys.indexOf(k) !== i)
        if (twice >= 0) {
          return yield* Effect.fail(
            InvalidInput.fromIssues([{ path: ["prices", twice], message: "a product (and plan) has one price" }])
          )
        }
        yield* store.setPrices(connectionId, body.prices)
        yield* record(principal, "prices.set", connectionId, connectionId, { prices: body.prices.length }, null)
        return { data: body.prices }
      }
    )

    const savings = Effect.fn("Reclaim.savings")(function*(connectionId: string) {
      yield* requireConnection(connectionId)
      const prices = yield* store.listPrices(connectionId)
      const products = yield* inventory.listProducts(connectionId)
      const bucket = (pick: (p: (typeof products)[number]) => number) => {
        const money: Record<string, number> = {}
        let unpriced = 0
        for (const p of products) {
          const n = pick(p)
          if (n === 0) continue
          const cost = monthlyCost(prices, p.product, p.plan)
          if (cost === undefined) unpriced += n
          else money[cost.currency] = Math.round(((money[cost.currency] ?? 0) + cost.amount * n) * 100) / 100
        }
        return { money, unpriced }
      }
      const u30 = bucket((p) => p.unused30)
      const u60 = bucket((p) => p.unused60)
      const u90 = bucket((p) => p.unused90)
      // Realised: a done action whose account a sync that started after it reads as not active; one read
      // of the store, however many plans acted on however many accounts.
      const [latest] = yield* runs.list(connectionId, 1, { status: "succeeded" })
      const acted = yield* store.actedCost(connectionId, latest?.startedAt ?? null)
      return {
        potential: { unused30: u30.money, unused60: u60.money, unused90: u90.money },
        realised: acted.confirmed,
        awaitingConfirmation: acted.awaiting,
        unpriced: { unused30: u30.unpriced, unused60: u60.unpriced, unused90: u90.unpriced }
      } satisfies SavingsView
    })

    return {
      createPolicy,
      updatePolicy,
      archivePolicy,
      getPolicy: requirePolicy,
      listPolicies: (connectionId: string) =>
        Effect.zipRight(requireConnection(connectionId), store.listPolicies(connectionId)),
      makePlan,
      getPlan: requirePlan,
      listPlans: (
        query: {
          readonly connectionId?: string | undefined
          readonly policyId?: string | undefined
          readonly limit: number
        }
      ) => store.listPlans(query),
      listItems: (planId: string, query: typeof ItemsQuery.Type) =>
        Effect.zipRight(requirePlan(planId), store.listItems({ planId, ...query })),
      compare,
      /** The seats a plan frees, per product and plan. */
      freedSeats: (planId: string) => Effect.zipRight(requirePlan(planId), store.freedSeats(planId)),
      approve,
      cancel,
      execute,
      resume,
      undo,
      setPrices,
      listPrices: (connectionId: string) =>
        Effect.zipRight(requireConnection(connectionId), store.listPrices(connectionId)),
      savings
    } as const
  })
}) {}

/**
 * What the reclaim service can fail with.
 *
 * @since 0.2.0
 * @category models
 */
export type ReclaimError = NotFound | InvalidInput | Forbidden | Conflict | ProviderError | StoreError
