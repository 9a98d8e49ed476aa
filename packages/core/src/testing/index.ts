/**
 * `@seatkeeper/core/testing`: the conformance suite every provider adapter runs against its own sandbox.
 *
 * ```ts
 * import { runConformanceSuite } from "@seatkeeper/core/testing"
 * runConformanceSuite({ provider: MyProvider, sandbox: async () => ({ ... }) })
 * ```
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import type { AccountStatus } from "../Account.js"
import type { ProviderConnection, ProviderDefinition } from "../Provider.js"
import { ProviderError } from "../ProviderError.js"
import * as Duration from "effect/Duration"
import * as RequestBudget from "../RequestBudget.js"
import { maxInAnyWindow } from "../RequestBudget.js"
import * as SlidingWindowStore from "../SlidingWindowStore.js"

export { maxInAnyWindow } from "../RequestBudget.js"

/**
 * What an adapter's sandbox offers the suite. Promise-based so any test server can implement it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConformanceSandbox<Config> {
  /** A config that reaches the sandbox with valid credentials and a budget of `budget`. */
  readonly config: Config
  /** The same config with credentials the sandbox rejects. */
  readonly badCredentials: Config
  /** The budget `config` carries: the suite checks the sandbox never saw more requests in any window. */
  readonly budget: { readonly requests: number; readonly windowSeconds: number }
  /** Every account the sandbox holds, with the status Seatkeeper must map it to. */
  readonly expected: () => Promise<ReadonlyArray<{ readonly externalId: string; readonly status: AccountStatus }>>
  /** Arrival times (ms) of every request the sandbox has received. */
  readonly requestTimes: () => Promise<ReadonlyArray<number>>
  /** An account the suite may suspend and restore (required when the provider declares those capabilities). */
  readonly actionTarget?: string | undefined
  /** The status the sandbox itself holds for an account, mapped to Seatkeeper's statuses. */
  readonly upstreamStatus?: ((externalId: string) => Promise<AccountStatus>) | undefined
  readonly close: () => Promise<void>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ConformanceOptions<Config> {
  readonly provider: ProviderDefinition<Config, any>
  /** Starts a fresh sandbox; called once per test. */
  readonly sandbox: () => Promise<ConformanceSandbox<Config>>
  readonly timeout?: number | undefined
}

const withSandbox = <Config, A, E>(
  options: ConformanceOptions<Config>,
  body: (sandbox: ConformanceSandbox<Config>, connect: (config: Config) => Effect.Effect<ProviderConnection, ProviderError>) => Effect.Effect<A, E>
) => {
  // A sandbox often runs in the test's own process, on a busy machine: a request can reach it later than
  // the production margin (50 ms + 1%) allows for. The wider margin keeps the check about whether the
  // provider paces through its budget at all, not about the machine's load.
  const budget = RequestBudget.layerWith({ margin: { fixed: Duration.millis(250) } }).pipe(
    Layer.provide(RateLimiter.layer),
    Layer.provide(SlidingWindowStore.layerMemory)
  )
  const env = Layer.merge(FetchHttpClient.layer, budget)
  return Effect.acquireUseRelease(
    Effect.promise(options.sandbox),
    (sandbox) => body(sandbox, (config) => options.provider.connect(config).pipe(Effect.provide(env))),
    (sandbox) => Effect.promise(sandbox.close)
  )
}

/**
 * Registers the conformance tests of a provider with vitest.
 *
 * @since 0.1.0
 * @category suites
 */
export const runConformanceSuite = <Config>(options: ConformanceOptions<Config>): void => {
  const timeout = options.timeout ?? 60_000
  const id = options.provider.id
  describe(`${id} provider conformance`, () => {
    it.live("streams every account exactly once, with the statuses it must map to", () =>
      withSandbox(options, (sandbox, connect) =>
        Effect.gen(function*() {
          const connection = yield* connect(sandbox.config)
          const accounts = yield* Stream.runCollect(connection.accounts)
          const expected = yield* Effect.promise(sandbox.expected)
          const ids = [...accounts].map((a) => a.externalId)
          assert.strictEqual(new Set(ids).size, ids.length, "an account was streamed twice")
          assert.deepStrictEqual([...ids].sort(), expected.map((e) => e.externalId).sort())
          const byId = new Map([...accounts].map((a) => [a.externalId, a]))
          for (const e of expected) {
            assert.strictEqual(byId.get(e.externalId)?.status, e.status, `status of ${e.externalId}`)
          }
        })), timeout)

    it.live("keeps within the request budget in every window", () =>
      withSandbox(options, (sandbox, connect) =>
        Effect.gen(function*() {
          const connection = yield* connect(sandbox.config)
          yield* connection.verify
          yield* Stream.runDrain(connection.accounts)
          const times = yield* Effect.promise(sandbox.requestTimes)
          assert.isAbove(times.length, 0, "the sandbox saw no request")
          const max = maxInAnyWindow(times, sandbox.budget.windowSeconds * 1000)
          assert.isAtMost(max, sandbox.budget.requests, `${max} requests in one window`)
        })), timeout)

    it.live("verifies good credentials and fails typed, with a hint, on bad ones", () =>
      withSandbox(options, (sandbox, connect) =>
        Effect.gen(function*() {
          const good = yield* connect(sandbox.config)
          yield* good.verify
          const bad = yield* connect(sandbox.badCredentials)
          const verifyError = yield* Effect.flip(bad.verify)
          assert.instanceOf(verifyError, ProviderError)
          assert.strictEqual(verifyError.reason, "Unauthorized")
          assert.isString(verifyError.hint)
          assert.strictEqual(verifyError.provider, id)
          const listError = yield* Effect.flip(Stream.runDrain(bad.accounts))
          assert.strictEqual(listError.reason, "Unauthorized")
        })), timeout)

    if (options.provider.capabilities.has("suspend")) {
      it.live("suspends and restores an account, and reports an unknown one as NotFound", () =>
        withSandbox(options, (sandbox, connect) =>
          Effect.gen(function*() {
            const target = sandbox.actionTarget
            const upstream = sandbox.upstreamStatus
            assert.isDefined(target, "the sandbox must name an actionTarget for a provider that can suspend")
            assert.isDefined(upstream, "the sandbox must offer upstreamStatus for a provider that can suspend")
            const connection = yield* connect(sandbox.config)
            assert.isDefined(connection.suspend, "the provider declares suspend but the connection has none")
            yield* connection.suspend!(target!, { reason: "conformance suite" })
            assert.strictEqual(yield* Effect.promise(() => upstream!(target!)), "suspended")
            if (options.provider.capabilities.has("restore")) {
              assert.isDefined(connection.restore, "the provider declares restore but the connection has none")
              yield* connection.restore!(target!)
              assert.strictEqual(yield* Effect.promise(() => upstream!(target!)), "active")
            }
            const missing = yield* Effect.flip(connection.suspend!("seatkeeper-conformance-no-such-account"))
            assert.strictEqual(missing.reason, "NotFound")
          })), timeout)
    }
  })
}
