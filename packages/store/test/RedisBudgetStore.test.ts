import * as RateLimiter from "@effect/experimental/RateLimiter"
import { assert, describe, it } from "@effect/vitest"
import type { BudgetPolicy } from "@seatkeeper/core/RequestBudget"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import { maxInAnyWindow } from "@seatkeeper/core/testing"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Redis } from "ioredis"
import * as Net from "node:net"
import { performance } from "node:perf_hooks"
import { afterAll } from "vitest"
import * as RedisBudgetStore from "../src/RedisBudgetStore.js"

const REDIS_URL = "redis://127.0.0.1:6379"
const requireServices = process.env.SEATKEEPER_REQUIRE_SERVICES === "1"

const redisReachable = await new Promise<boolean>((resolve) => {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null
  })
  probe.on("error", () => {})
  probe.ping().then(() => resolve(true), () => resolve(false)).finally(() => probe.disconnect())
})
if (!redisReachable && !requireServices) {
  console.warn(
    `RedisBudgetStore tests skipped: Redis is not reachable at ${REDIS_URL} (set SEATKEEPER_REQUIRE_SERVICES=1 to make this a failure)`
  )
}

// Every run uses its own keys, and removes them at the end.
const prefix = `seatkeeper:test:budget:${process.pid}:${Date.now()}:`

afterAll(async () => {
  if (!redisReachable) return
  const redis = new Redis(REDIS_URL)
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  await redis.quit()
})

/** The most send times that fall in one closed interval of `windowMillis`, over every such interval. */
const maxInAnyInterval = (times: ReadonlyArray<number>, windowMillis: number): number =>
  maxInAnyWindow(times, windowMillis, { closed: true })

// A "host": its own Redis connection, RateLimiter and budget, sharing only the Redis server with the others.
class HostA extends Context.Tag("test/HostA")<HostA, RequestBudget.RequestBudget["Type"]>() {}
class HostB extends Context.Tag("test/HostB")<HostB, RequestBudget.RequestBudget["Type"]>() {}

// Timestamps are taken in this process when `take` returns, so the extra margin is only there for a
// machine shared with other test runs.
const host = <I>(tag: Context.Tag<I, RequestBudget.RequestBudget["Type"]>) =>
  Layer.effect(tag, RequestBudget.RequestBudget).pipe(
    Layer.provide(RequestBudget.layerWith({ margin: { fixed: Duration.millis(150) } })),
    Layer.provide(RateLimiter.layer),
    Layer.provide(RedisBudgetStore.layer({ url: REDIS_URL, keyPrefix: prefix }))
  )
const twoHosts = Layer.mergeAll(host(HostA), host(HostB))

const sendFrom = (
  budget: RequestBudget.RequestBudget["Type"],
  key: string,
  policy: BudgetPolicy,
  count: number,
  times: Array<number>
) =>
  Effect.forEach(
    Array.from({ length: count }),
    () => budget.take(key, policy).pipe(Effect.map(() => times.push(performance.now()))),
    { concurrency: "unbounded", discard: true }
  )

/** A RateLimiter on its own Redis connection, open for the enclosing scope. */
const limiter = (options: RedisBudgetStore.RedisBudgetStoreOptions) =>
  Layer.build(RateLimiter.layer.pipe(Layer.provide(RedisBudgetStore.layer(options)))).pipe(
    Effect.map(Context.get(RateLimiter.RateLimiter))
  )

describe.runIf(redisReachable || requireServices)("RedisBudgetStore", () => {
  const policy: BudgetPolicy = { requests: 6, windowSeconds: 1 }

  it("Redis is reachable", () => assert.isTrue(redisReachable, `Redis is not reachable at ${REDIS_URL}`))

  it.live("keeps one budget across two hosts: never more than N in any window, and the whole budget used", () =>
    Effect.gen(function*() {
      const a = yield* HostA
      const b = yield* HostB
      const times: Array<number> = []
      const started = performance.now()
      yield* Effect.all([sendFrom(a, "org-shared", policy, 9, times), sendFrom(b, "org-shared", policy, 9, times)], {
        concurrency: 2
      })
      const elapsed = performance.now() - started
      assert.strictEqual(times.length, 18)
      assert.isAtMost(maxInAnyInterval(times, 1000), 6)
      // 3N requests take about two windows; a generous bound that still fails if the budget went unused
      assert.isBelow(elapsed, 3500)
    }).pipe(Effect.provide(twoHosts)))

  it.live("holds across hosts against a burst, a pause of 0.6 windows and the rest", () =>
    Effect.gen(function*() {
      const a = yield* HostA
      const b = yield* HostB
      const times: Array<number> = []
      yield* sendFrom(a, "org-adversarial", policy, 3, times)
      yield* Effect.sleep(Duration.millis(600))
      yield* Effect.all([
        sendFrom(b, "org-adversarial", policy, 6, times),
        sendFrom(a, "org-adversarial", policy, 3, times)
      ], {
        concurrency: 2
      })
      assert.strictEqual(times.length, 12)
      assert.isAtMost(maxInAnyInterval(times, 1000), 6)
    }).pipe(Effect.provide(twoHosts)))

  it.live("does not share a budget between keys, and lets a full burst go at once", () =>
    Effect.gen(function*() {
      const first = yield* limiter({ url: REDIS_URL, keyPrefix: prefix })
      const second = yield* limiter({ url: REDIS_URL, keyPrefix: prefix })
      const consume = (rl: RateLimiter.RateLimiter, key: string) =>
        rl.consume({
          algorithm: "fixed-window",
          onExceeded: "delay",
          window: "60 seconds",
          limit: 6,
          key: `${key}|sliding|6|60000`
        })
      const delays: Array<number> = []
      for (let i = 0; i < 6; i++) {
        delays.push(Duration.toMillis((yield* consume(first, "org-x")).delay))
        delays.push(Duration.toMillis((yield* consume(second, "org-y")).delay))
      }
      assert.deepStrictEqual(delays, Array.from({ length: 12 }, () => 0))
      // the seventh request of either key waits for its window, whichever host asks
      const seventh = Duration.toMillis((yield* consume(second, "org-x")).delay)
      assert.isAbove(seventh, 50_000)
      assert.isAtMost(seventh, 60_000)
    }).pipe(Effect.scoped))

  it.live("keeps the log under the plain key with a TTL of about the window, so nothing piles up", () =>
    Effect.gen(function*() {
      const rl = yield* limiter({ url: REDIS_URL, keyPrefix: prefix })
      yield* rl.consume({ onExceeded: "delay", window: "10 seconds", limit: 3, key: "org-ttl|sliding|3|10000" })
      const redis = new Redis(REDIS_URL)
      const [length, ttl] = yield* Effect.promise(() =>
        Promise.all([redis.llen(`${prefix}org-ttl`), redis.pttl(`${prefix}org-ttl`)])
      )
      yield* Effect.promise(() => redis.quit())
      assert.strictEqual(length, 1)
      assert.isAbove(ttl, 0)
      assert.isAtMost(ttl, 10_000)
    }).pipe(Effect.scoped))

  it.live("supports RateLimiter's fail mode with a plain key", () =>
    Effect.gen(function*() {
      const rl = yield* limiter({ url: REDIS_URL, keyPrefix: prefix })
      const consume = rl.consume({ onExceeded: "fail", window: "60 seconds", limit: 3, key: "org-fail" })
      const remaining = [(yield* consume).remaining, (yield* consume).remaining, (yield* consume).remaining]
      assert.deepStrictEqual(remaining, [2, 1, 0])
      const error = yield* Effect.flip(consume)
      assert.strictEqual(error.reason, "Exceeded")
      if (error.reason === "Exceeded") assert.isAbove(Duration.toMillis(error.retryAfter), 50_000)
    }).pipe(Effect.scoped))

  it.live("refuses the token-bucket algorithm and a delay-mode key without limit", () =>
    Effect.gen(function*() {
      const rl = yield* limiter({ url: REDIS_URL, keyPrefix: prefix })
      const bucket = yield* Effect.flip(
        rl.consume({ algorithm: "token-bucket", window: "1 minute", limit: 3, key: "org-b" })
      )
      assert.strictEqual(bucket.reason, "StoreError")
      assert.include(bucket.message, "token-bucket")
      const plain = yield* Effect.flip(
        rl.consume({ onExceeded: "delay", window: "1 minute", limit: 3, key: "org-plain" })
      )
      assert.strictEqual(plain.reason, "StoreError")
      assert.include(plain.message, "encodeKey")
    }).pipe(Effect.scoped))

  it.live("uses a client the caller owns without closing it", () =>
    Effect.gen(function*() {
      const redis = new Redis(REDIS_URL)
      const result = yield* limiter({ client: redis, keyPrefix: prefix }).pipe(
        Effect.flatMap((rl) =>
          rl.consume({ onExceeded: "delay", window: "1 minute", limit: 3, key: "org-own|sliding|3|60000" })
        ),
        Effect.scoped
      )
      assert.strictEqual(Duration.toMillis(result.delay), 0)
      // the layer's scope is closed, the caller's client still works
      assert.strictEqual(yield* Effect.promise(() => redis.ping()), "PONG")
      yield* Effect.promise(() => redis.quit())
    }))
})

describe("RedisBudgetStore without Redis", () => {
  it.live("fails the budget with a RateLimitStoreError when Redis cannot be reached", () =>
    Effect.gen(function*() {
      // a loopback port that was just free: nothing listens there
      const port = yield* Effect.async<number>((resume) => {
        const server = Net.createServer()
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as Net.AddressInfo
          server.close(() => resume(Effect.succeed(port)))
        })
      })
      const budget = yield* Layer.build(
        RequestBudget.layer.pipe(
          Layer.provide(RateLimiter.layer),
          Layer.provide(RedisBudgetStore.layer({ url: `redis://127.0.0.1:${port}`, keyPrefix: prefix }))
        )
      ).pipe(Effect.map(Context.get(RequestBudget.RequestBudget)))
      const error = yield* Effect.flip(budget.take("org-down", { requests: 5, windowSeconds: 1 }))
      assert.strictEqual(error.reason, "StoreError")
      assert.include(error.message, "Redis")
    }).pipe(Effect.scoped))
})
