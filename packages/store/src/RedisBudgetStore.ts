/**
 * A `RateLimiterStore` on Redis that keeps the sliding log of `@seatkeeper/core/SlidingWindowStore`, so
 * that several hosts sharing one Redis share one request budget per organisation and keep DESIGN.md
 * invariant 5 together: at most N requests in any interval of the window's length, whatever the upstream's
 * window phase.
 *
 * Each budget key is a Redis list of the reserved send times (slots) of its last N requests. One Lua script
 * computes the next slot (`max(now, log[len - N] + window, lastSlot)`), pushes it, trims the list to N and
 * sets the key to expire when its last slot has left the window, all atomically. The script reads the
 * time with Redis `TIME`, so hosts whose clocks disagree still agree on the slots.
 *
 * The mapping onto the `RateLimiterStore` interface (limit and window carried in the key, `[count, ttl]`
 * chosen so RateLimiter's delay is exactly the wait until the slot, fail mode, no token bucket) is the one
 * of `SlidingWindowStore`; see its documentation.
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as SlidingWindowStore from "@seatkeeper/core/SlidingWindowStore"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import { createHash } from "node:crypto"

/**
 * Either a client the caller owns (it is not closed here), or a Redis URL to connect to (the connection
 * is closed with the layer). `keyPrefix` (default `seatkeeper:budget:`) namespaces the budget keys.
 *
 * @since 0.1.0
 * @category models
 */
export type RedisBudgetStoreOptions =
  | { readonly client: Redis; readonly keyPrefix?: string | undefined }
  | { readonly url: string; readonly keyPrefix?: string | undefined }

/**
 * The sliding-log step in Lua. KEYS[1] = log; ARGV = limit, window ms, tokens, reserve (1 = delay mode:
 * always reserve; 0 = fail mode: reserve only if it fits now). Returns { reserved, wait ms, in window }.
 *
 * @since 0.1.0
 * @category internals
 */
export const script = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local reserve = ARGV[4] == "1"
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local log = redis.call("LRANGE", key, 0, -1)
local len = #log
local slot = now
if len > 0 then
  local last = tonumber(log[len])
  if last > slot then slot = last end
  -- the request may go once the slot (limit - tokens) places back has left the window
  local index = len - limit + tokens
  if index >= 1 then
    local bound = tonumber(log[index]) + window
    if bound > slot then slot = bound end
  end
end
if not reserve and slot > now then
  return { 0, slot - now, limit + tokens }
end
local pushed = {}
for i = 1, tokens do pushed[i] = string.format("%d", slot) end
redis.call("RPUSH", key, unpack(pushed))
redis.call("LTRIM", key, -limit, -1)
redis.call("PEXPIRE", key, slot - now + window)
local inWindow = tokens
for i = math.max(1, len - (limit - tokens) + 1), len do
  if tonumber(log[i]) > slot - window then inWindow = inWindow + 1 end
end
return { 1, slot - now, inWindow }
`

const scriptSha = createHash("sha1").update(script).digest("hex")

const storeError = (cause: unknown): RateLimiter.RateLimitStoreError => {
  const code = typeof cause === "object" && cause !== null && "code" in cause ? String(cause.code) : undefined
  const name = cause instanceof Error ? cause.name : "error"
  return new RateLimiter.RateLimitStoreError({
    message: `the Redis request budget store failed (${code ?? name}); check that Redis is reachable`,
    cause
  })
}

/**
 * Builds the store on a Redis client. With a URL, the client is created here and closed with the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: RedisBudgetStoreOptions
): Effect.Effect<RateLimiter.RateLimiterStore["Type"], never, Scope.Scope> =>
  Effect.gen(function*() {
    const prefix = options.keyPrefix ?? "seatkeeper:budget:"
    const client = "client" in options
      ? options.client
      : yield* Effect.acquireRelease(
        Effect.sync(() => {
          // A budget that cannot reach Redis should fail the request soon, not queue it for minutes.
          const redis = new Redis(options.url, { maxRetriesPerRequest: 3, lazyConnect: true })
          // Failures reach callers through their commands; without a listener ioredis prints them.
          redis.on("error", () => {})
          return redis
        }),
        (redis) => Effect.promise(() => redis.quit().catch(() => redis.disconnect()))
      )

    const run = (key: string, args: ReadonlyArray<string | number>) =>
      Effect.tryPromise({
        try: () =>
          client.evalsha(scriptSha, 1, key, ...args).catch((error: unknown) =>
            error instanceof Error && error.message.startsWith("NOSCRIPT")
              ? client.eval(script, 1, key, ...args)
              : Promise.reject(error)
          ) as Promise<[number, number, number]>,
        catch: storeError
      })

    return RateLimiter.RateLimiterStore.of({
      fixedWindow: (input) =>
        Effect.flatMap(SlidingWindowStore.resolveRequest(input), (request) =>
          Effect.map(
            run(`${prefix}${request.key}`, [
              request.limit,
              request.windowMillis,
              request.tokens,
              request.reserve ? 1 : 0
            ]),
            ([reserved, wait, inWindow]) =>
              SlidingWindowStore.toFixedWindowResult(
                request,
                { reserved: reserved === 1, wait, inWindow },
                input.refillRate
              )
          )),
      tokenBucket: () => Effect.fail(SlidingWindowStore.tokenBucketUnsupported())
    })
  })

/**
 * The Redis sliding-log store as a layer, for `RateLimiter.layer` (and so `RequestBudget.layer`) on several
 * hosts.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: RedisBudgetStoreOptions): Layer.Layer<RateLimiter.RateLimiterStore> =>
  Layer.scoped(RateLimiter.RateLimiterStore, make(options))
