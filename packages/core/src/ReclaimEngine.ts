/**
 * Executing an approved plan as a durable job: it takes the plan's lease, then acts on one account at a
 * time, journaling before each action what it changes (status and products) so that undo restores exactly
 * that. After a crash the job resumes where it stopped: an account left `acting` is looked up first, and
 * only acted on if the provider has not already done it, so every account is acted on exactly once.
 *
 * It stops, with the reason, on repeated refusals (the provider says no to one account after another) and
 * on an error that means the credentials are wrong; a provider that stays unavailable stops it too, to be
 * resumed later. Actions are `interactive` for the request budget: they go before a sync's pages.
 *
 * @since 0.2.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ActionTarget } from "./Action.js"
import { InventoryStore } from "./Inventory.js"
import type { ProviderConnection } from "./Provider.js"
import { ProviderError } from "./ProviderError.js"
import * as ProviderHttp from "./ProviderHttp.js"
import { type Plan, type PlanItem, ReclaimStore } from "./ReclaimStore.js"
import type { StoreError } from "./StoreError.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface ExecuteOptions {
  /** Refusals in a row after which the job stops. Default 5. */
  readonly maxConsecutiveRefusals?: number | undefined
  /** How often the job renews its lease. Default: a third of the store's lease, at most 10 seconds. */
  readonly heartbeatEvery?: Duration.DurationInput | undefined
  /** The message providers that keep one (Atlassian) store with the suspension. */
  readonly reason?: string | undefined
}

/** Refusals about one account: the provider looked at it and said no. */
const isRefusal = (e: ProviderError): boolean =>
  e.reason === "NotFound" ||
  (e.reason === "Forbidden" && e.code !== undefined &&
    /forbidden\.(action|targetUnverified)|ADMIN-UAM-403/.test(e.code))

/** Errors that say the job cannot go on for any account: the credentials or the connection are wrong. */
const isFatal = (e: ProviderError): boolean =>
  e.reason === "Unauthorized" || e.reason === "InvalidConfig" || e.reason === "Unsupported" ||
  (e.reason === "Forbidden" && !isRefusal(e))

const targetOf = (item: PlanItem): ActionTarget => ({
  externalId: item.externalId,
  managed: item.managed ?? undefined,
  roles: item.roles,
  attributes: item.attributes
})

const stopWords = (e: ProviderError) => `${e.message}${e.hint === undefined ? "" : ` (${e.hint})`}`

/**
 * Runs (or resumes) a plan's execution until every account is acted on, or until it must stop. Fails only
 * when the lease cannot be taken (another job runs it, it is not approved), when it is lost (a `Conflict`:
 * the job paused past its lease and another job took the plan over) or the store fails; the outcome is the
 * plan.
 *
 * Every write of an item is fenced by the lease (the store refuses it unless this job holds it), so a job
 * that lost its lease stops at its next write: it sends no further action and changes nothing of the plan,
 * which its new holder carries on (an item left `acting` is looked up first there).
 *
 * @since 0.2.0
 * @category running
 */
export const execute = (
  planId: string,
  owner: string,
  connect: Effect.Effect<ProviderConnection, ProviderError>,
  options: ExecuteOptions = {}
): Effect.Effect<Plan, StoreError, ReclaimStore | InventoryStore> =>
  Effect.gen(function*() {
    const store = yield* ReclaimStore
    const inventory = yield* InventoryStore
    const plan = yield* store.claim(planId, owner)
    const maxRefusals = Math.max(1, options.maxConsecutiveRefusals ?? 5)
    const every = options.heartbeatEvery !== undefined
      ? Duration.decode(options.heartbeatEvery)
      : store.leaseDuration === undefined
      ? Duration.seconds(10)
      : Duration.min(Duration.seconds(10), Duration.millis(Math.max(1, Duration.toMillis(store.leaseDuration) / 3)))
    const reason = options.reason ?? `Seatkeeper reclaim plan "${plan.policyName}"`

    const work = Effect.gen(function*() {
      const connection = yield* connect
      const suspend = connection.suspend
      if (suspend === undefined) {
        return yield* new ProviderError({
          reason: "Unsupported",
          provider: connection.provider,
          operation: "suspend",
          description: `${connection.provider} cannot suspend accounts`
        })
      }
      let refusals = 0
      for (;;) {
        const batch = yield* store.nextItems(planId, 20)
        if (batch.length === 0) return { status: "done" as const }
        for (const item of batch) {
          // Resumed after a crash between the journal and the answer: ask whether it took effect first.
          if (item.state === "acting" && connection.lookup !== undefined) {
            const now = yield* connection.lookup(item.externalId).pipe(Effect.either)
            if (now._tag === "Right" && Option.isSome(now.right) && now.right.value.status === "suspended") {
              yield* inventory.recordAction(plan.connectionId, item.externalId, "suspended", "suspend")
              yield* store.finishItem(planId, owner, item.externalId, {
                state: "done",
                result: "done before the restart"
              })
              refusals = 0
              continue
            }
          }
          // The plan was reviewed with the provider's answer: an account it would refuse is reported so,
          // without asking again (and without counting towards a stop: the refusal was known).
          if (item.state === "pending" && item.preflight !== null && !item.preflight.allowed) {
            yield* store.finishItem(planId, owner, item.externalId, {
              state: "refused",
              result: `refused at review: ${item.preflight.reason ?? "the provider would refuse it"}` +
                (item.preflight.hint === null ? "" : ` (${item.preflight.hint})`)
            })
            continue
          }
          if (item.state === "pending") {
            const found = yield* inventory.getAccount(plan.connectionId, item.externalId)
            const account = Option.map(found, (f) => f.account)
            if (Option.isSome(account) && account.value.status !== "active") {
              yield* store.finishItem(planId, owner, item.externalId, {
                state: "skipped",
                result: `already ${account.value.status} when the plan ran`
              })
              continue
            }
            yield* store.journal(planId, owner, item.externalId, {
              statusBefore: Option.match(account, { onNone: () => "active" as const, onSome: (a) => a.status }),
              productsBefore: Option.match(account, {
                onNone: () => item.seats.map((s) => s.key),
                onSome: (a) => a.entitlements.filter((e) => e.status === "active").map((e) => e.key)
              }),
              method: item.preflight?.method ?? "default",
              at: new Date(yield* Effect.clockWith((c) => c.currentTimeMillis)).toISOString()
            })
          }
          const method = item.journal?.method ?? item.preflight?.method
          const outcome = yield* suspend(targetOf(item), { reason, method: method === "default" ? undefined : method })
            .pipe(
              Effect.either
            )
          if (outcome._tag === "Right") {
            yield* inventory.recordAction(plan.connectionId, item.externalId, "suspended", "suspend")
            yield* store.finishItem(planId, owner, item.externalId, {
              state: "done",
              result: outcome.right.methodLabel
            })
            refusals = 0
            continue
          }
          const error = outcome.left
          if (isRefusal(error)) {
            yield* store.finishItem(planId, owner, item.externalId, { state: "refused", result: stopWords(error) })
            refusals++
            if (refusals >= maxRefusals) {
              return {
                status: "stopped" as const,
                reason: `${refusals} refusals in a row; the last: ${stopWords(error)}`
              }
            }
            continue
          }
          if (isFatal(error)) {
            yield* store.finishItem(planId, owner, item.externalId, { state: "failed", result: stopWords(error) })
            return { status: "stopped" as const, reason: `the provider refused the credentials: ${stopWords(error)}` }
          }
          // Unavailable after its retries: the item stays `acting`; resuming asks the provider first.
          return {
            status: "stopped" as const,
            reason: `the provider is unavailable: ${stopWords(error)}; resume later`
          }
        }
      }
    }).pipe(
      Effect.provideService(ProviderHttp.Priority, "interactive"),
      Effect.catchTag(
        "ProviderError",
        (e) => Effect.succeed({ status: "stopped" as const, reason: `cannot reach the provider: ${stopWords(e)}` })
      )
    )

    const heartbeat = Effect.sleep(every).pipe(Effect.zipRight(store.renew(planId, owner)), Effect.forever)
    // The lease is released whatever happens; an interrupted job leaves its plan `running` to be resumed. A
    // lost lease (a fenced write or a renewal refused) ends the job here, before `finishPlan`: the plan is
    // its new holder's, and nothing of it is marked.
    const outcome = yield* Effect.raceFirst(work, heartbeat)
    return yield* store.finishPlan(planId, owner, outcome)
  }).pipe(Effect.withSpan("ReclaimEngine.execute", { attributes: { planId } }))

/**
 * Undoes the action on one account of a plan, within the policy's grace period: restores it with the
 * method the journal names, and records the status the journal says it had.
 *
 * @since 0.2.0
 * @category running
 */
export const undo = (
  plan: Plan,
  item: PlanItem,
  connect: Effect.Effect<ProviderConnection, ProviderError>
): Effect.Effect<PlanItem, ProviderError | StoreError, ReclaimStore | InventoryStore> =>
  Effect.gen(function*() {
    const store = yield* ReclaimStore
    const inventory = yield* InventoryStore
    const connection = yield* connect
    const restore = connection.restore
    if (restore === undefined) {
      return yield* new ProviderError({
        reason: "Unsupported",
        provider: connection.provider,
        operation: "restore",
        description: `${connection.provider} cannot restore accounts`
      })
    }
    const journal = item.journal
    const method = journal?.method === "default" ? undefined : journal?.method
    yield* restore(targetOf(item), { method })
    yield* inventory.recordAction(plan.connectionId, item.externalId, journal?.statusBefore ?? "active", "restore")
    yield* store.markUndone(plan.id, item.externalId)
    return Option.getOrElse(yield* store.getItem(plan.id, item.externalId), () => item)
  }).pipe(
    Effect.provideService(ProviderHttp.Priority, "interactive"),
    Effect.withSpan("ReclaimEngine.undo", { attributes: { planId: plan.id, externalId: item.externalId } })
  )
