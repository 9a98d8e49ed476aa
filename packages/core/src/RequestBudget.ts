/**
 * The per-organisation request budget shared by every call to one upstream organisation (DESIGN.md
 * invariant 5).
 *
 * The budget sits on `@effect/experimental/RateLimiter`, whose `RateLimiterStore` decides where the
 * budget lives: `layerMemory` keeps it in this process (`SlidingWindowStore.layerMemory`); for several hosts,
 * provide `layer` with `RateLimiter.layer` on `@seatkeeper/store/RedisBudgetStore`. Both stores keep a
 * sliding log, so at most `requests` requests start in any interval of `windowSeconds` (plus a small margin
 * for jitter), whatever the upstream's window phase, and a full burst goes at once when the log is empty.
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as SlidingWindowStore from "./SlidingWindowStore.js"

/**
 * At most `requests` requests in any interval of `windowSeconds` seconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface BudgetPolicy {
  readonly requests: number
  readonly windowSeconds: number
}

/**
 * @since 0.1.0
 * @category tags
 */
export class RequestBudget extends Context.Tag("@seatkeeper/core/RequestBudget")<RequestBudget, {
  /**
   * Waits until one more request under `key` fits `policy`, and reserves it. `undefined` means no budget:
   * the request goes at once. An `interactive` request (a person's suspend, a plan's action) takes the
   * next free slot before any `background` one (a sync's page or lookup), even one that asked earlier.
   */
  readonly take: (
    key: string,
    policy: BudgetPolicy | undefined,
    priority?: Priority | undefined
  ) => Effect.Effect<void, RateLimiter.RateLimiterError>
  /**
   * Declares that a connection draws on `key` with `policy`. Connections that share a key (two connections
   * to one organisation) then all pace by the strictest policy declared for it (invariant 5), so a loose
   * setting on one cannot let the organisation see more than the strict one allows.
   */
  readonly register: (key: string, policy: BudgetPolicy) => Effect.Effect<void>
}>() {}

/**
 * The stricter of two policies: the lower rate, and on equal rates the smaller burst.
 *
 * @since 0.2.0
 * @category utils
 */
export const stricter = (a: BudgetPolicy, b: BudgetPolicy): BudgetPolicy => {
  const rateA = a.requests / a.windowSeconds
  const rateB = b.requests / b.windowSeconds
  if (rateA !== rateB) return rateA < rateB ? a : b
  return a.requests <= b.requests ? a : b
}

/**
 * Whose request it is: `interactive` (someone waits for it) goes before `background` (a sync).
 *
 * @since 0.2.0
 * @category models
 */
export type Priority = "interactive" | "background"

/**
 * How much slack the budget adds to every window, to absorb event-loop and network jitter: a request sent
 * at the very end of its slot may reach the server a little later than one sent at the start of the next.
 *
 * @since 0.1.0
 * @category models
 */
export interface BudgetMargin {
  /** Added to every window. Default 50 ms. */
  readonly fixed?: Duration.DurationInput | undefined
  /** Fraction of the window added to it. Default 0.01 (1 %). */
  readonly fraction?: number | undefined
}

/**
 * The window, in whole milliseconds, that the rate limiter enforces for a policy: the policy's window plus
 * the margin.
 *
 * @since 0.1.0
 * @category utils
 */
export const effectiveWindowMillis = (policy: BudgetPolicy, margin?: BudgetMargin): number => {
  const windowMillis = policy.windowSeconds * 1000
  const fixed = Duration.toMillis(margin?.fixed ?? Duration.millis(50))
  const fraction = margin?.fraction ?? 0.01
  return Math.ceil(windowMillis + fixed + windowMillis * fraction)
}

/**
 * Checks a policy. Config schemas validate policies where users enter them, so an invalid one here is a bug
 * in the caller and dies with a message saying what was wrong.
 *
 * @since 0.1.0
 * @category utils
 */
export const validatePolicy = (policy: BudgetPolicy): Effect.Effect<BudgetPolicy> =>
  !Number.isInteger(policy.requests) || policy.requests < 1
    ? Effect.dieMessage(
      `invalid request budget: requests must be a whole number >= 1, got ${policy.requests}; check the connection's budget settings`
    )
    : !Number.isFinite(policy.windowSeconds) || policy.windowSeconds <= 0
    ? Effect.dieMessage(
      `invalid request budget: windowSeconds must be a number > 0, got ${policy.windowSeconds}; check the connection's budget settings`
    )
    : Effect.succeed(policy)

/**
 * Builds the budget on the `RateLimiter` in context. Each `take` consumes one request from the key's
 * sliding log (see `SlidingWindowStore`) and sleeps until its slot; the limit and the window (with its
 * margin) travel in the key, because RateLimiter does not pass them to the store in delay mode.
 *
 * With the store of `SlidingWindowStore` (one process) or `@seatkeeper/store/RedisBudgetStore` (several
 * processes), at most `requests` requests start in any interval of `windowSeconds`. With a store that counts
 * a fixed window or a token bucket, the budget is only as good as that store.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options?: { readonly margin?: BudgetMargin | undefined }
): Effect.Effect<RequestBudget["Type"], never, RateLimiter.RateLimiter> =>
  Effect.map(RateLimiter.RateLimiter, (limiter) => {
    const declared = new Map<string, BudgetPolicy>()
    return RequestBudget.of({
      register: (key, policy) =>
        Effect.sync(() => {
          const known = declared.get(key)
          declared.set(key, known === undefined ? policy : stricter(known, policy))
        }),
      take: (key, given, priority) =>
        given === undefined ?
          Effect.void :
          Effect.flatMap(validatePolicy(strictestFor(declared, key, given)), (policy) => {
            const windowMillis = effectiveWindowMillis(policy, options?.margin)
            const consume = (onExceeded: "delay" | "fail") =>
              limiter.consume({
                algorithm: "fixed-window",
                onExceeded,
                window: Duration.millis(windowMillis),
                limit: policy.requests,
                key: SlidingWindowStore.encodeKey(key, policy.requests, windowMillis)
              })
            // An interactive request reserves the next free slot, however far ahead, and waits for it. A
            // background one never reserves ahead: it takes a slot only when one is free at that moment, and
            // otherwise sleeps until the next one frees and asks again. So a person's action (or a plan's,
            // sent one at a time) always gets the next slot before a sync's page, even when the page asked
            // first, and a full budget serves actions first for as long as they come.
            if (priority === "interactive") {
              return consume("delay").pipe(
                Effect.flatMap(({ delay }) => Duration.isZero(delay) ? Effect.void : Effect.sleep(delay))
              )
            }
            const attempt: Effect.Effect<void, RateLimiter.RateLimiterError> = consume("fail").pipe(
              Effect.asVoid,
              Effect.catchIf(
                (e): e is RateLimiter.RateLimitExceeded => e.reason === "Exceeded",
                (e) => Effect.zipRight(Effect.sleep(Duration.max(e.retryAfter, Duration.millis(1))), attempt)
              )
            )
            return attempt
          })
    })
  })

const strictestFor = (declared: ReadonlyMap<string, BudgetPolicy>, key: string, given: BudgetPolicy): BudgetPolicy => {
  const known = declared.get(key)
  return known === undefined ? given : stricter(known, given)
}

/**
 * The budget on the `RateLimiter` in context, with the default margin.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<RequestBudget, never, RateLimiter.RateLimiter> = Layer.effect(
  RequestBudget,
  make()
)

/**
 * The budget on the `RateLimiter` in context, with a chosen margin.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: { readonly margin?: BudgetMargin | undefined }
): Layer.Layer<RequestBudget, never, RateLimiter.RateLimiter> => Layer.effect(RequestBudget, make(options))

/**
 * The budget for one process: RateLimiter on the in-memory sliding log.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<RequestBudget> = layer.pipe(
  Layer.provide(RateLimiter.layer),
  Layer.provide(SlidingWindowStore.layerMemory)
)

/**
 * A budget that never waits, whatever the policy: for benchmarks and tests that measure something else.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerUnlimited: Layer.Layer<RequestBudget> = Layer.succeed(
  RequestBudget,
  RequestBudget.of({ take: () => Effect.void, register: () => Effect.void })
)

/**
 * The largest number of arrivals inside any window of `windowMs` (a sliding check over all arrivals).
 * Windows are half-open by default; `closed: true` also counts an arrival exactly `windowMs` later, the
 * stricter check.
 *
 * @since 0.2.0
 * @category utils
 */
export const maxInAnyWindow = (
  times: ReadonlyArray<number>,
  windowMs: number,
  options: { readonly closed?: boolean } = {}
): number => {
  const sorted = [...times].sort((a, b) => a - b)
  const outside = options.closed === true ? (gap: number) => gap > windowMs : (gap: number) => gap >= windowMs
  let max = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while (outside(sorted[end]! - sorted[start]!)) start++
    max = Math.max(max, end - start + 1)
  }
  return max
}
