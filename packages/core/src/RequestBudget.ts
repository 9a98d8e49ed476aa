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
   * the request goes at once.
   */
  readonly take: (key: string, policy: BudgetPolicy | undefined) => Effect.Effect<void, RateLimiter.RateLimiterError>
}>() {}

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
  Effect.map(RateLimiter.RateLimiter, (limiter) =>
    RequestBudget.of({
      take: (key, policy) =>
        policy === undefined ? Effect.void : Effect.flatMap(validatePolicy(policy), (policy) => {
          const windowMillis = effectiveWindowMillis(policy, options?.margin)
          return limiter.consume({
            algorithm: "fixed-window",
            onExceeded: "delay",
            window: Duration.millis(windowMillis),
            limit: policy.requests,
            key: SlidingWindowStore.encodeKey(key, policy.requests, windowMillis)
          }).pipe(
            Effect.flatMap(({ delay }) => Duration.isZero(delay) ? Effect.void : Effect.sleep(delay))
          )
        })
    }))

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
  RequestBudget.of({ take: () => Effect.void })
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
