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
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import type { AccountStatus } from "../Account.js"
import type { ProviderConnection, ProviderDefinition } from "../Provider.js"
import { ProviderError } from "../ProviderError.js"

import * as RequestBudget from "../RequestBudget.js"
import { maxInAnyWindow } from "../RequestBudget.js"
import * as SlidingWindowStore from "../SlidingWindowStore.js"

export { maxInAnyWindow } from "../RequestBudget.js"
export * as MemoryStore from "./MemoryStore.js"
export { runStoreConformance } from "./StoreConformance.js"

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
  /**
   * Removes an account from the sandbox (required when the provider declares `lookup`): the suite checks a
   * lookup then reports it gone, as the sync engine relies on.
   */
  readonly removeAccount?: ((externalId: string) => Promise<void>) | undefined
  /** An account whose suspend the provider refuses, with the words its preflight must give (optional). */
  readonly refusedTarget?: { readonly externalId: string; readonly reason: RegExp } | undefined
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
  body: (
    sandbox: ConformanceSandbox<Config>,
    connect: (config: Config) => Effect.Effect<ProviderConnection, ProviderError>
  ) => Effect.Effect<A, E>
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
    it.live(
      "streams every account exactly once, with the statuses it must map to",
      () =>
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
          })),
      timeout
    )

    it.live(
      "keeps within the request budget in every window",
      () =>
        withSandbox(options, (sandbox, connect) =>
          Effect.gen(function*() {
            const connection = yield* connect(sandbox.config)
            yield* connection.verify
            yield* Stream.runDrain(connection.accounts)
            const times = yield* Effect.promise(sandbox.requestTimes)
            assert.isAbove(times.length, 0, "the sandbox saw no request")
            const max = maxInAnyWindow(times, sandbox.budget.windowSeconds * 1000)
            assert.isAtMost(max, sandbox.budget.requests, `${max} requests in one window`)
          })),
      timeout
    )

    it.live(
      "verifies good credentials and fails typed, with a hint, on bad ones",
      () =>
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
          })),
      timeout
    )

    if (options.provider.capabilities.has("lookup")) {
      it.live(
        "looks an account up: Some while it exists, with the listing's status; None once it is gone",
        () =>
          withSandbox(options, (sandbox, connect) =>
            Effect.gen(function*() {
              const connection = yield* connect(sandbox.config)
              assert.isDefined(connection.lookup, "the provider declares lookup but the connection has none")
              assert.isDefined(
                sandbox.removeAccount,
                "the sandbox must offer removeAccount for a provider that can look up"
              )
              const expected = yield* Effect.promise(sandbox.expected)
              const present = expected.find((e) => e.status === "active") ?? expected[0]
              assert.isDefined(present, "the sandbox has no account")
              const found = yield* connection.lookup!(present!.externalId)
              assert.isTrue(Option.isSome(found), `lookup of ${present!.externalId} found nothing`)
              assert.strictEqual(Option.getOrThrow(found).externalId, present!.externalId)
              assert.strictEqual(Option.getOrThrow(found).status, present!.status)
              yield* Effect.promise(() => sandbox.removeAccount!(present!.externalId))
              assert.isTrue(
                Option.isNone(yield* connection.lookup!(present!.externalId)),
                "a removed account was found"
              )
              assert.isTrue(Option.isNone(yield* connection.lookup!("seatkeeper-conformance-no-such-account")))
            })),
        timeout
      )
    }

    if (options.provider.capabilities.has("licenses")) {
      it.live(
        "lists licences: one per product instance, with a key and a product",
        () =>
          withSandbox(options, (sandbox, connect) =>
            Effect.gen(function*() {
              const connection = yield* connect(sandbox.config)
              assert.isDefined(connection.licenses, "the provider declares licenses but the connection has none")
              const licenses = [...(yield* Stream.runCollect(connection.licenses!))]
              assert.isAbove(licenses.length, 0, "no licence listed")
              const keys = licenses.map((l) => l.key)
              assert.strictEqual(new Set(keys).size, keys.length, "a licence key is listed twice")
              for (const l of licenses) assert.isAbove(l.product.length, 0, `licence ${l.key} has no product`)
            })),
        timeout
      )
    }

    if (options.provider.capabilities.has("preflight")) {
      it.live(
        "preflights an action without changing anything, and says why one would be refused",
        () =>
          withSandbox(options, (sandbox, connect) =>
            Effect.gen(function*() {
              const connection = yield* connect(sandbox.config)
              assert.isDefined(connection.preflight, "the provider declares preflight but the connection has none")
              assert.isDefined(
                sandbox.actionTarget,
                "the sandbox must name an actionTarget for a provider that preflights"
              )
              const before = sandbox.upstreamStatus === undefined
                ? undefined
                : yield* Effect.promise(() => sandbox.upstreamStatus!(sandbox.actionTarget!))
              const answer = yield* connection.preflight!(sandbox.actionTarget!, "suspend")
              assert.strictEqual(answer.action, "suspend")
              assert.isTrue(answer.allowed, `the preflight refused the action target: ${answer.reason}`)
              assert.isAbove(answer.methodLabel.length, 0)
              if (before !== undefined) {
                assert.strictEqual(yield* Effect.promise(() => sandbox.upstreamStatus!(sandbox.actionTarget!)), before)
              }
              if (sandbox.refusedTarget !== undefined) {
                const refused = yield* connection.preflight!(sandbox.refusedTarget.externalId, "suspend")
                assert.isFalse(refused.allowed, "the preflight allowed an action the provider refuses")
                assert.match(refused.reason ?? "", sandbox.refusedTarget.reason)
              }
            })),
        timeout
      )
    }

    if (options.provider.capabilities.has("suspend")) {
      it.live(
        "suspends and restores an account, and reports an unknown one as NotFound",
        () =>
          withSandbox(options, (sandbox, connect) =>
            Effect.gen(function*() {
              const target = sandbox.actionTarget
              const upstream = sandbox.upstreamStatus
              assert.isDefined(target, "the sandbox must name an actionTarget for a provider that can suspend")
              assert.isDefined(upstream, "the sandbox must offer upstreamStatus for a provider that can suspend")
              const connection = yield* connect(sandbox.config)
              assert.isDefined(connection.suspend, "the provider declares suspend but the connection has none")
              const receipt = yield* connection.suspend!(target!, { reason: "conformance suite" })
              assert.isAbove(receipt.method.length, 0, "a suspend's receipt names its method")
              assert.strictEqual(yield* Effect.promise(() => upstream!(target!)), "suspended")
              if (options.provider.capabilities.has("restore")) {
                assert.isDefined(connection.restore, "the provider declares restore but the connection has none")
                yield* connection.restore!(target!, { method: receipt.method })
                assert.strictEqual(yield* Effect.promise(() => upstream!(target!)), "active")
              }
              const missing = yield* Effect.flip(connection.suspend!("seatkeeper-conformance-no-such-account"))
              assert.strictEqual(missing.reason, "NotFound")
            })),
        timeout
      )
    }
  })
}
