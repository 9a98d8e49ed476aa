/**
 * The host's one runtime: the store chosen by the environment, the request budget (in memory, or Redis
 * when several hosts share it), the providers, the application service and the scheduler, with JSON log
 * lines. Built once at start-up; disposing it interrupts running syncs and closes the store.
 *
 * @since 0.1.0
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { LicenseStore } from "@seatkeeper/core/LicenseStore"
import * as ProviderHttp from "@seatkeeper/core/ProviderHttp"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as SqlLicenseStore from "@seatkeeper/store/SqlLicenseStore"
import * as RedisBudgetStore from "@seatkeeper/store/RedisBudgetStore"
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
import { makeApp, type AppOptions } from "./http/app.js"
import type { Host, HostServices } from "./http/Host.js"
import { ProviderRegistry } from "./ProviderRegistry.js"
import * as Scheduler from "./scheduler.js"
import * as Seatkeeper from "./Seatkeeper.js"

/**
 * The store: PostgreSQL when `DATABASE_URL` is set, else one SQLite file in the data directory.
 *
 * @since 0.1.0
 * @category layers
 */
export const storeLayer = (config: HostConfig) =>
  Option.match(config.databaseUrl, {
    onNone: () =>
      SqlLicenseStore.layerSqlite({ filename: Path.join(config.dataDir, "seatkeeper.db"), secretKey: config.secretKey }),
    onSome: (url) => SqlLicenseStore.layerPg({ url, secretKey: config.secretKey })
  })

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
 * Marks runs left `running` by a process that died as `interrupted`, before anything starts a new one.
 */
const recoverLayer = Layer.effectDiscard(
  Effect.flatMap(LicenseStore, (store) => store.recoverAbandonedRuns).pipe(
    Effect.tap((runs) =>
      runs.length === 0
        ? Effect.void
        : Effect.logWarning("marked runs of a stopped process as interrupted").pipe(
          Effect.annotateLogs({ runIds: runs.map((r) => r.id) })
        )
    )
  )
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
    FetchHttpClient.layer,
    ProviderRegistry.layer,
    providerHttpLayer(config)
  )
  const services = Seatkeeper.layer.pipe(Layer.provide(recoverLayer), Layer.provide(base))
  const withScheduler = options.scheduler === false
    ? services
    : Layer.merge(services, Scheduler.layer.pipe(Layer.provide(services)))
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
  const host: Host = { runtime, adminToken: config.adminToken }
  return { ...host, config, app: makeApp(host, options), dispose: () => runtime.dispose() }
}
