/**
 * The host's one runtime: the store chosen by the environment, the request budget (in memory, or Redis
 * when several hosts share it), the providers, the application service and the scheduler, with JSON log
 * lines. Built once at start-up; disposing it interrupts running syncs and closes the store.
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as ProviderHttp from "@seatkeeper/core/ProviderHttp"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as RedisBudgetStore from "@seatkeeper/store/RedisBudgetStore"
import * as SqlStore from "@seatkeeper/store/SqlStore"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Path from "node:path"
import type { HostConfig } from "./config.js"
import { type AppOptions, makeApp } from "./http/app.js"
import type { Host, HostServices } from "./http/Host.js"
import { ProviderRegistry } from "./ProviderRegistry.js"
import * as Scheduler from "./scheduler.js"
import { Accounts } from "./services/Accounts.js"
import { AuditLog } from "./services/AuditLog.js"
import { Connections } from "./services/Connections.js"
import { Metrics } from "./services/Metrics.js"
import { Reclaim } from "./services/Reclaim.js"
import { Syncs } from "./services/Syncs.js"
import { Upstream } from "./services/Upstream.js"
import { Users } from "./services/Users.js"
import { Webhooks } from "./services/Webhooks.js"

/**
 * The store: PostgreSQL when `DATABASE_URL` is set, else one SQLite file in the data directory.
 *
 * @since 0.1.0
 * @category layers
 */
export const storeLayer = (config: HostConfig) => {
  const leaseDuration = Option.getOrUndefined(Option.map(config.leaseMs ?? Option.none(), Duration.millis))
  return Option.match(config.databaseUrl, {
    onNone: () =>
      SqlStore.layerSqlite({
        filename: Path.join(config.dataDir, "seatkeeper.db"),
        secretKey: config.secretKey,
        leaseDuration
      }),
    onSome: (url) => SqlStore.layerPg({ url, secretKey: config.secretKey, leaseDuration })
  })
}

/**
 * The request budget: shared through Redis when `REDIS_URL` is set (several hosts, one budget per
 * upstream organisation), else in this process.
 *
 * @since 0.1.0
 * @category layers
 */
export const budgetLayer = (config: HostConfig) =>
  Option.match(config.redisUrl, {
    onNone: () => RequestBudget.layerMemory,
    onSome: (url) =>
      RequestBudget.layer.pipe(
        Layer.provide(RateLimiter.layer),
        Layer.provide(RedisBudgetStore.layer({ url: Redacted.value(url) }))
      )
  })

/**
 * The provider HTTP defaults this host overrides (tests shorten the per-attempt timeout and the retry
 * delay through the environment); without overrides adapters keep their built-in defaults.
 *
 * @since 0.1.0
 * @category layers
 */
export const providerHttpLayer = (config: HostConfig) => {
  const timeout = Option.getOrUndefined(Option.flatten(Option.fromNullable(config.providerHttp?.timeoutMs)))
  const baseDelay = Option.getOrUndefined(Option.flatten(Option.fromNullable(config.providerHttp?.retryDelayMs)))
  return timeout === undefined && baseDelay === undefined
    ? Layer.empty
    : Layer.succeed(ProviderHttp.ProviderHttpDefaults, {
      timeout: timeout === undefined ? undefined : Duration.millis(timeout),
      retry: baseDelay === undefined ? undefined : { baseDelay: Duration.millis(baseDelay) }
    })
}

/**
 * What runs once the services stand, before anything is served: runs a stopped process left behind are
 * recovered (and audited), every connection's request budget is declared, and a configuration whose
 * budgets cannot be shared is named.
 */
const startupLayer = (config: HostConfig) =>
  Layer.effectDiscard(
    Effect.gen(function*() {
      yield* Syncs.recover
      yield* Connections.declareBudgets
      // Plans whose execution stopped with the process that ran them carry on, exactly once per account.
      yield* Reclaim.resume
      if (Option.isSome(config.databaseUrl) && Option.isNone(config.redisUrl)) {
        yield* Effect.logWarning(
          "DATABASE_URL is set but REDIS_URL is not: request budgets are kept per process, so several hosts on this " +
            "database each spend an organisation's whole budget. Set REDIS_URL to share one budget per organisation."
        )
      }
    })
  )

/**
 * @since 0.1.0
 * @category models
 */
export interface HostLayerOptions {
  /** Run scheduled syncs. Default true; tests that drive time themselves turn it off. */
  readonly scheduler?: boolean | undefined
  /** The least log level written. Default Info. */
  readonly logLevel?: LogLevel.LogLevel | undefined
}

/**
 * Every service of the host, from its configuration.
 *
 * @since 0.1.0
 * @category layers
 */
export const hostLayer = (config: HostConfig, options: HostLayerOptions = {}) => {
  const base = Layer.mergeAll(
    storeLayer(config),
    budgetLayer(config),
    // Provider calls over undici itself, not `fetch` on top of it: a 1,000-page listing's request path took
    // about a fifth less time (neither follows redirects, see ProviderHttp).
    NodeHttpClient.layerUndici,
    ProviderRegistry.layer,
    providerHttpLayer(config)
  )
  const ports = Layer.mergeAll(Upstream.Default, AuditLog.Default, Metrics.Default).pipe(Layer.provideMerge(base))
  const people = Layer.mergeAll(Users.Default, Webhooks.Default).pipe(Layer.provideMerge(ports))
  const services = Layer.mergeAll(Connections.Default, Syncs.Default, Accounts.Default, Reclaim.Default).pipe(
    Layer.provideMerge(people)
  )
  const started = Layer.merge(services, startupLayer(config).pipe(Layer.provide(services)))
  const withScheduler = options.scheduler === false
    ? started
    : Layer.merge(started, Scheduler.layer.pipe(Layer.provide(started)))
  // provideMerge: the loggers apply while the layers build and stay in the runtime's fiber refs after.
  return withScheduler.pipe(
    Layer.provideMerge(Layer.merge(Logger.json, Logger.minimumLogLevel(options.logLevel ?? LogLevel.Info)))
  )
}

/**
 * A running host: its runtime, its HTTP app and how to stop it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunningHost extends Host {
  readonly config: HostConfig
  readonly app: ReturnType<typeof makeApp>
  /** Interrupts running syncs (marked `interrupted`, nothing applied), stops the scheduler, closes the store. */
  readonly dispose: () => Promise<void>
}

/**
 * Builds the runtime (fails if the store cannot open) and the HTTP app on it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const startHost = async (
  config: HostConfig,
  options: HostLayerOptions & AppOptions = {}
): Promise<RunningHost> => {
  const runtime: ManagedRuntime.ManagedRuntime<HostServices, unknown> = ManagedRuntime.make(hostLayer(config, options))
  try {
    await runtime.runtime()
  } catch (e) {
    await runtime.dispose()
    throw e
  }
  const host: Host = {
    runtime,
    adminToken: config.adminToken,
    metricsToken: Option.getOrUndefined(config.metricsToken ?? Option.none())
  }
  return { ...host, config, app: makeApp(host, options), dispose: () => runtime.dispose() }
}
