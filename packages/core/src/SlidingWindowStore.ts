/**
 * A `RateLimiterStore` for `@effect/experimental/RateLimiter` that keeps a sliding log instead of a fixed
 * window, so that a request budget holds in every interval of the window's length (DESIGN.md invariant 5).
 *
 * ## Why the store slides
 *
 * The built-in stores count requests per fixed window (or refill a token bucket). Neither keeps "at most N
 * requests in ANY interval of the window's length": a fixed window lets N requests through at the end of one
 * window and N more at the start of the next (2N within one window's length), and a token bucket that
 * refills while bursting lets N + (refilled tokens) through. An upstream that counts with its own window,
 * at its own phase, then answers 429.
 *
 * This store keeps, per key, the reserved send times ("slots") of the last N requests. A new request's slot
 * is `max(now, log[len - N] + window, lastSlot)`: the request goes once the N-th previous request has left
 * the window, and never before an earlier reservation (so slots stay ordered and the caller that asked
 * first goes first). An empty log lets a burst of N go at once, so the whole budget is used.
 *
 * ## How it maps onto the `RateLimiterStore` interface
 *
 * `RateLimiter.consume({ algorithm: "fixed-window", onExceeded: "delay", ... })` calls `fixedWindow` with
 * the key, `tokens` and `refillRate = window / limit`, but not the limit (`limit: undefined` in delay
 * mode) and not the window. So the caller encodes both in the key with {@link encodeKey}
 * (`<key>|sliding|<limit>|<windowMillis>`; `RequestBudget` does this); the log itself is kept under the
 * plain `<key>`, so every caller of one budget key shares one log.
 *
 * RateLimiter turns the store's `[count, ttl]` into a delay of
 * `floor((count - 1) / limit) * window - (count * refillRate - ttl)`. In delay mode the store reserves the
 * slot and returns `count = 1` and `ttl = D + refillRate`, which makes that delay exactly `D`, the time from
 * now until the slot.
 *
 * In fail mode (`onExceeded: "fail"`, where RateLimiter passes the limit) nothing is reserved when the
 * request does not fit: the store returns `count = limit + tokens` (so RateLimiter reports
 * `RateLimitExceeded`) and `ttl` = the time until it would fit. A plain key (not encoded) works in fail mode,
 * with the window derived as `limit * refillRate`.
 *
 * `tokenBucket` fails with a `RateLimitStoreError`: a token bucket cannot keep the invariant, and the Redis
 * store cannot offer it either, so both stores refuse it alike rather than behave differently per host.
 *
 * A reservation is kept even if its caller is interrupted while waiting for the slot: the budget is then
 * used a little less than it could be, never more.
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/**
 * The limit and window a sliding-log key carries, and the plain key the log is kept under.
 *
 * @since 0.1.0
 * @category models
 */
export interface SlidingKey {
  readonly key: string
  readonly limit: number
  readonly windowMillis: number
}

const keyPattern = /^([\s\S]*)\|sliding\|(\d+)\|(\d+)$/

/**
 * Encodes a budget key with its limit and window (whole milliseconds), as `fixedWindow` needs them and
 * RateLimiter does not pass them in delay mode.
 *
 * @since 0.1.0
 * @category keys
 */
export const encodeKey = (key: string, limit: number, windowMillis: number): string =>
  `${key}|sliding|${limit}|${windowMillis}`

/**
 * The inverse of {@link encodeKey}; `None` for a key that was not encoded.
 *
 * @since 0.1.0
 * @category keys
 */
export const decodeKey = (encoded: string): Option.Option<SlidingKey> => {
  const match = keyPattern.exec(encoded)
  if (match === null) return Option.none()
  const limit = Number(match[2])
  const windowMillis = Number(match[3])
  return limit >= 1 && windowMillis >= 1
    ? Option.some({ key: match[1]!, limit, windowMillis })
    : Option.none()
}

/**
 * What one `fixedWindow` call asks of a sliding log, whichever store keeps it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SlidingRequest {
  /** The plain key the log is kept under. */
  readonly key: string
  readonly limit: number
  readonly windowMillis: number
  readonly tokens: number
  /** `true` in delay mode: reserve a slot whenever it is. `false` in fail mode: reserve only if it is now. */
  readonly reserve: boolean
}

/**
 * Works out the limit and window of a `fixedWindow` call, from an encoded key (delay or fail mode) or from
 * the limit RateLimiter passes in fail mode.
 *
 * @since 0.1.0
 * @category keys
 */
export const resolveRequest = (options: {
  readonly key: string
  readonly tokens: number
  readonly refillRate: Duration.Duration
  readonly limit: number | undefined
}): Effect.Effect<SlidingRequest, RateLimiter.RateLimitStoreError> => {
  const reserve = options.limit === undefined
  const decoded = decodeKey(options.key)
  if (Option.isSome(decoded)) {
    return Effect.succeed({ ...decoded.value, tokens: options.tokens, reserve })
  }
  if (options.limit !== undefined) {
    return Effect.succeed({
      key: options.key,
      limit: options.limit,
      windowMillis: Math.ceil(options.limit * Duration.toMillis(options.refillRate)),
      tokens: options.tokens,
      reserve
    })
  }
  return Effect.fail(
    new RateLimiter.RateLimitStoreError({
      message: `the sliding-window rate limiter store needs the limit and window in the key in delay mode ` +
        `(got "${options.key.slice(0, 80)}"): build the key with SlidingWindowStore.encodeKey, as RequestBudget does`
    })
  )
}

/**
 * The result of one reservation: `wait` until the slot (0 = now), and whether it was `reserved` (always in
 * delay mode; in fail mode only when it fits now). `inWindow` counts the slots in the window ending at the
 * new slot, the new ones included.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reservation {
  readonly reserved: boolean
  readonly wait: number
  readonly inWindow: number
}

/**
 * The sliding-log step on a log of ascending slots: computes the slot of `tokens` more requests, pushes
 * it (unless it is a fail-mode request that does not fit now) and trims the log to the last `limit` slots.
 * Mutates `log`. The Redis store runs the same step in Lua.
 *
 * @since 0.1.0
 * @category algorithm
 */
export const reserve = (log: Array<number>, now: number, request: SlidingRequest): Reservation => {
  let slot = now
  if (log.length > 0) {
    slot = Math.max(slot, log[log.length - 1]!)
    // the request may go once the slot `limit - tokens` places back has left the window
    const index = log.length - request.limit + request.tokens - 1
    if (index >= 0) slot = Math.max(slot, log[index]! + request.windowMillis)
  }
  if (!request.reserve && slot > now) {
    return { reserved: false, wait: slot - now, inWindow: request.limit + request.tokens }
  }
  for (let i = 0; i < request.tokens; i++) log.push(slot)
  if (log.length > request.limit) log.splice(0, log.length - request.limit)
  let inWindow = 0
  for (const s of log) if (s > slot - request.windowMillis) inWindow++
  return { reserved: true, wait: slot - now, inWindow }
}

/**
 * Maps a reservation onto the `[count, ttl]` that `RateLimiter.consume` expects (see the module
 * documentation).
 *
 * @since 0.1.0
 * @category algorithm
 */
export const toFixedWindowResult = (
  request: SlidingRequest,
  reservation: Reservation,
  refillRate: Duration.Duration
): readonly [count: number, ttl: number] => {
  if (request.reserve) return [1, reservation.wait + Duration.toMillis(refillRate)]
  if (!reservation.reserved) return [reservation.inWindow, reservation.wait]
  return [reservation.inWindow, request.windowMillis]
}

/**
 * The error `tokenBucket` fails with in the sliding-window stores.
 *
 * @since 0.1.0
 * @category errors
 */
export const tokenBucketUnsupported = (): RateLimiter.RateLimitStoreError =>
  new RateLimiter.RateLimitStoreError({
    message: "the sliding-window rate limiter store does not support the token-bucket algorithm " +
      "(it cannot keep a budget in every interval); use algorithm: \"fixed-window\""
  })

/**
 * Builds an in-memory sliding-log store (one process), timed by Effect's `Clock` so tests can use
 * `TestClock`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<RateLimiter.RateLimiterStore["Type"]> = Effect.sync(() => {
  const logs = new Map<string, { readonly slots: Array<number>; expiresAt: number }>()
  let nextSweep = 0

  // Drops logs whose last slot left its window long ago, so that keys do not pile up.
  const sweep = (now: number) => {
    if (now < nextSweep) return
    nextSweep = now + 60_000
    for (const [key, entry] of logs) if (entry.expiresAt <= now) logs.delete(key)
  }

  return RateLimiter.RateLimiterStore.of({
    fixedWindow: (options) =>
      Effect.flatMap(resolveRequest(options), (request) =>
        Effect.clockWith((clock) =>
          Effect.sync(() => {
            const now = clock.unsafeCurrentTimeMillis()
            sweep(now)
            let entry = logs.get(request.key)
            if (entry === undefined) {
              entry = { slots: [], expiresAt: now }
              logs.set(request.key, entry)
            }
            const reservation = reserve(entry.slots, now, request)
            entry.expiresAt = Math.max(entry.expiresAt, now + reservation.wait + request.windowMillis)
            return toFixedWindowResult(request, reservation, options.refillRate)
          })
        )),
    tokenBucket: () => Effect.fail(tokenBucketUnsupported())
  })
})

/**
 * The in-memory sliding-log store: one budget per key within this process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<RateLimiter.RateLimiterStore> = Layer.effect(
  RateLimiter.RateLimiterStore,
  makeMemory
)
