import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { performance } from "node:perf_hooks"
import type { BudgetPolicy } from "../src/RequestBudget.js"
import * as RequestBudget from "../src/RequestBudget.js"
import * as SlidingWindowStore from "../src/SlidingWindowStore.js"
import { maxInAnyWindow } from "../src/testing/index.js"

/** The most send times that fall in one closed interval of `windowMillis`, over every such interval. */
const maxInAnyInterval = (times: ReadonlyArray<number>, windowMillis: number): number =>
  maxInAnyWindow(times, windowMillis, { closed: true })

const take = (key: string, policy: BudgetPolicy | undefined) =>
  Effect.flatMap(RequestBudget.RequestBudget, (budget) => budget.take(key, policy))

/**
 * Sends `count` requests through the budget from `count` concurrent fibers and returns the (TestClock)
 * times their slots came up. The test clock is advanced far enough for every slot.
 */
const slotTimes = (key: string, policy: BudgetPolicy, count: number) =>
  Effect.gen(function*() {
    const times: Array<number> = []
    const fiber = yield* Effect.forEach(
      Array.from({ length: count }),
      () => take(key, policy).pipe(Effect.zipRight(Clock.currentTimeMillis), Effect.map((t) => times.push(t))),
      { concurrency: "unbounded", discard: true }
    ).pipe(Effect.fork)
    yield* TestClock.adjust(Duration.seconds(policy.windowSeconds * (count / policy.requests + 2)))
    yield* Fiber.join(fiber)
    return times
  })

/**
 * The adversarial pattern: half the budget at once, a pause of 0.6 windows, then `rest` more requests.
 * A fixed window that starts with the first request lets the other half through during the pause's end
 * and a whole new window's worth right at the boundary: 1.5 N requests within one window's length.
 */
const adversarial = (key: string, policy: BudgetPolicy, rest: number) =>
  Effect.gen(function*() {
    const times: Array<number> = []
    const send = (n: number) =>
      Effect.forEach(
        Array.from({ length: n }),
        () => take(key, policy).pipe(Effect.zipRight(Clock.currentTimeMillis), Effect.map((t) => times.push(t))),
        { concurrency: "unbounded", discard: true }
      )
    const fiber = yield* send(Math.floor(policy.requests / 2)).pipe(
      Effect.zipRight(Effect.sleep(Duration.seconds(policy.windowSeconds * 0.6))),
      Effect.zipRight(send(rest)),
      Effect.fork
    )
    yield* TestClock.adjust(Duration.seconds(policy.windowSeconds * (rest / policy.requests + 3)))
    yield* Fiber.join(fiber)
    return times
  })

describe("RequestBudget.layerMemory (sliding log, TestClock)", () => {
  const policy: BudgetPolicy = { requests: 10, windowSeconds: 60 }
  const windowMillis = 60_000

  it.effect("lets a full burst go at once, then keeps every window's length at the budget", () =>
    Effect.gen(function*() {
      const times = yield* slotTimes("org-1", policy, 30)
      assert.strictEqual(times.length, 30)
      // the first N go at once: the whole budget is usable
      assert.strictEqual(times.filter((t) => t === 0).length, 10)
      assert.isAtMost(maxInAnyInterval(times, windowMillis), 10)
      // 3N requests need two more windows (plus the margins), not more
      const effective = RequestBudget.effectiveWindowMillis(policy)
      assert.strictEqual(Math.max(...times), 2 * effective)
    }).pipe(Effect.provide(RequestBudget.layerMemory)))

  it.effect("holds against a burst, a pause of 0.6 windows and the rest", () =>
    Effect.gen(function*() {
      const times = yield* adversarial("org-1", policy, 25)
      assert.strictEqual(times.length, 30)
      assert.isAtMost(maxInAnyInterval(times, windowMillis), 10)
    }).pipe(Effect.provide(RequestBudget.layerMemory)))

  it.effect("the same pattern breaks RateLimiter's own fixed-window store (why the store slides)", () =>
    Effect.gen(function*() {
      const times = yield* adversarial("org-1", policy, 25)
      assert.isAbove(maxInAnyInterval(times, windowMillis), 10)
    }).pipe(
      Effect.provide(
        RequestBudget.layer.pipe(Layer.provide(RateLimiter.layer), Layer.provide(RateLimiter.layerStoreMemory))
      )
    ))

  it.effect("keeps a margin of 50 ms + 1 % of the window between a slot and the one N places before it", () =>
    Effect.gen(function*() {
      const times = (yield* slotTimes("org-1", { requests: 2, windowSeconds: 1 }, 4)).sort((a, b) => a - b)
      assert.deepStrictEqual(times, [0, 0, 1060, 1060])
    }).pipe(Effect.provide(RequestBudget.layerMemory)))

  it.effect("does not share a budget between two keys", () =>
    Effect.gen(function*() {
      const times: Array<number> = []
      yield* Effect.forEach(
        ["org-a", "org-b"],
        (key) =>
          Effect.forEach(
            Array.from({ length: 10 }),
            () => take(key, policy).pipe(Effect.zipRight(Clock.currentTimeMillis), Effect.map((t) => times.push(t))),
            { concurrency: "unbounded", discard: true }
          ),
        { concurrency: "unbounded", discard: true }
      )
      // both keys' whole budgets went at once, without the clock moving
      assert.deepStrictEqual(times, Array.from({ length: 20 }, () => 0))
      // and each key's budget is now used up
      const next = yield* take("org-a", policy).pipe(Effect.fork)
      yield* TestClock.adjust(Duration.seconds(59))
      assert.isTrue(Option.isNone(yield* Fiber.poll(next)))
      yield* TestClock.adjust(Duration.seconds(2))
      yield* Fiber.join(next)
    }).pipe(Effect.provide(RequestBudget.layerMemory)))

  it.effect("paces every connection to one organisation by the strictest policy declared for it", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.RequestBudget
      // Two connections to the same organisation: one allows 10 a minute, the other 2.
      yield* budget.register("org-shared", { requests: 10, windowSeconds: 60 })
      yield* budget.register("org-shared", { requests: 2, windowSeconds: 60 })
      const times: Array<number> = []
      const fiber = yield* Effect.forEach(
        Array.from({ length: 4 }),
        () =>
          take("org-shared", { requests: 10, windowSeconds: 60 }).pipe(
            Effect.zipRight(Clock.currentTimeMillis),
            Effect.map((t) => times.push(t))
          ),
        { discard: true }
      ).pipe(Effect.fork)
      yield* TestClock.adjust(Duration.minutes(3))
      yield* Fiber.join(fiber)
      // The loose connection's calls went 2 per window (plus the margin), not 10.
      assert.deepStrictEqual(times, [0, 0, 60_650, 60_650])
      assert.deepStrictEqual(
        RequestBudget.stricter({ requests: 100, windowSeconds: 60 }, { requests: 10, windowSeconds: 5 }),
        { requests: 100, windowSeconds: 60 }
      )
    }).pipe(Effect.provide(RequestBudget.layerMemory)))

  it.effect("gives the next free slot to an interactive request before the background ones waiting", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.RequestBudget
      const policy = { requests: 1, windowSeconds: 1 }
      const order: Array<string> = []
      const request = (name: string, priority: RequestBudget.Priority) =>
        budget.take("org-busy", policy, priority).pipe(Effect.zipRight(Effect.sync(() => order.push(name))))
      // A sync queues five pages; a person's suspend arrives while the first waits for the window.
      const sync = yield* Effect.fork(
        Effect.forEach(["page1", "page2", "page3", "page4", "page5"], (p) => request(p, "background"), {
          concurrency: "unbounded",
          discard: true
        })
      )
      yield* TestClock.adjust(Duration.millis(10))
      const suspend = yield* Effect.fork(request("suspend", "interactive"))
      yield* TestClock.adjust(Duration.seconds(10))
      yield* Fiber.join(sync)
      yield* Fiber.join(suspend)
      // The suspend asked after the pages, and goes before every page that has not gone yet (concurrent
      // requests of one sync, such as lookups, go in any order among themselves).
      assert.deepStrictEqual(order.slice(0, 2), ["page1", "suspend"])
      assert.sameMembers(order.slice(2), ["page2", "page3", "page4", "page5"])
    }).pipe(Effect.provide(RequestBudget.layerMemory)))

  it.effect("serves a job's actions, sent one at a time, before a sync's pages while the budget is full", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.RequestBudget
      const policy = { requests: 1, windowSeconds: 1 }
      const order: Array<string> = []
      const request = (name: string, priority: RequestBudget.Priority) =>
        budget.take("org-full", policy, priority).pipe(Effect.zipRight(Effect.sync(() => order.push(name))))
      // A sync pages one after another; a plan's job sends three actions, working 100 ms between two.
      const sync = yield* Effect.fork(
        Effect.forEach(["page1", "page2", "page3", "page4"], (p) => request(p, "background"), { discard: true })
      )
      yield* TestClock.adjust(Duration.millis(10))
      const job = yield* Effect.fork(
        Effect.forEach(
          ["action1", "action2", "action3"],
          (a) => Effect.zipRight(request(a, "interactive"), Effect.sleep(Duration.millis(100))),
          { discard: true }
        )
      )
      yield* TestClock.adjust(Duration.seconds(20))
      yield* Fiber.join(job)
      yield* Fiber.join(sync)
      assert.deepStrictEqual(order, ["page1", "action1", "action2", "action3", "page2", "page3", "page4"])
    }).pipe(Effect.provide(RequestBudget.layerMemory)))

  it.effect("lets pages go at once beside actions when the budget has room", () =>
    Effect.gen(function*() {
      const budget = yield* RequestBudget.RequestBudget
      const policy = { requests: 100, windowSeconds: 1 }
      yield* budget.take("org-roomy", policy, "interactive")
      yield* Effect.forEach(Array.from({ length: 10 }), () => budget.take("org-roomy", policy, "background"), {
        discard: true
      })
      assert.strictEqual(yield* Clock.currentTimeMillis, 0)
    }).pipe(Effect.provide(RequestBudget.layerMemory)))

  it.effect("does not wait without a policy, nor with layerUnlimited", () =>
    Effect.gen(function*() {
      yield* Effect.forEach(Array.from({ length: 1000 }), () => take("org-1", undefined), { discard: true })
      yield* Effect.forEach(Array.from({ length: 1000 }), () => take("org-1", { requests: 1, windowSeconds: 60 }), {
        discard: true
      }).pipe(Effect.provide(RequestBudget.layerUnlimited))
      assert.strictEqual(yield* Clock.currentTimeMillis, 0)
    }).pipe(Effect.provide(RequestBudget.layerMemory)))

  it.effect("dies with a clear message on an invalid policy", () =>
    Effect.gen(function*() {
      const zero = yield* Effect.exit(take("org-1", { requests: 0, windowSeconds: 60 }))
      const negative = yield* Effect.exit(take("org-1", { requests: 10, windowSeconds: -1 }))
      const fraction = yield* Effect.exit(take("org-1", { requests: 2.5, windowSeconds: 60 }))
      for (
        const [exit, text] of [[zero, "requests must be"], [negative, "windowSeconds must be"], [
          fraction,
          "requests must be"
        ]] as const
      ) {
        assert.isTrue(Exit.isFailure(exit) && exit.cause._tag === "Die")
        if (Exit.isFailure(exit) && exit.cause._tag === "Die") assert.include(String(exit.cause.defect), text)
      }
    }).pipe(Effect.provide(RequestBudget.layerMemory)))
})

// =============================================================================
// real loopback HTTP, counting arrivals at the server
// =============================================================================

/** A loopback server that records when each request arrives (monotonic milliseconds). */
// The first request of a process loads and warms up the HTTP stack, which can take longer than the
// budget's jitter margin; the slot it was given is long past when it leaves. Warm up first, uncounted, so
// these tests measure the pacing.
const arrivalServer = Effect.tap(
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly arrivals: Array<number>; readonly server: Http.Server }>((resume) => {
      const arrivals: Array<number> = []
      const server = Http.createServer((req, res) => {
        arrivals.push(performance.now())
        req.resume()
        res.writeHead(200, { "content-type": "text/plain" }).end("ok")
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, arrivals, server }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ),
  (server) =>
    Effect.flatMap(HttpClient.HttpClient, (client) => client.get(server.url)).pipe(
      Effect.flatMap((r) => r.text),
      Effect.orDie,
      Effect.andThen(() => server.arrivals.splice(0))
    )
)

const send = (url: string, key: string, policy: BudgetPolicy, count: number) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    yield* Effect.forEach(
      Array.from({ length: count }),
      () => take(key, policy).pipe(Effect.zipRight(client.get(url)), Effect.flatMap((r) => r.text)),
      { concurrency: 4, discard: true }
    )
  })

// On a machine shared with other test runs, a request can reach the server a few hundred milliseconds after
// its slot. The extra margin keeps these real-time tests about the algorithm, not the machine's load; the
// default margin is checked exactly under TestClock above.
const httpBudget = RequestBudget.layerWith({ margin: { fixed: Duration.millis(250) } }).pipe(
  Layer.provide(RateLimiter.layer),
  Layer.provide(SlidingWindowStore.layerMemory)
)

describe("RequestBudget over real HTTP", () => {
  const policy: BudgetPolicy = { requests: 6, windowSeconds: 1 }

  it.live("never lets the server see more than N requests in any window, and uses the whole budget", () =>
    Effect.gen(function*() {
      const server = yield* arrivalServer
      const started = performance.now()
      yield* send(server.url, "org-http", policy, 18)
      const elapsed = performance.now() - started
      assert.strictEqual(server.arrivals.length, 18)
      assert.isAtMost(maxInAnyInterval(server.arrivals, 1000), 6)
      // 3N requests take about two windows; a generous bound that still fails if the budget went unused
      assert.isBelow(elapsed, 3500)
    }).pipe(Effect.scoped, Effect.provide([httpBudget, FetchHttpClient.layer])))

  it.live("holds against a burst, a pause of 0.6 windows and the rest", () =>
    Effect.gen(function*() {
      const server = yield* arrivalServer
      yield* send(server.url, "org-http", policy, 3)
      yield* Effect.sleep(Duration.millis(600))
      yield* send(server.url, "org-http", policy, 9)
      assert.strictEqual(server.arrivals.length, 12)
      assert.isAtMost(maxInAnyInterval(server.arrivals, 1000), 6)
    }).pipe(Effect.scoped, Effect.provide([httpBudget, FetchHttpClient.layer])))
})
