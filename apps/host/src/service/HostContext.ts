/**
 * What the host's operations share: the store, the providers, a way to connect to a stored connection's
 * upstream, and the audit log.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type { AuditEvent, ConnectionRecord, StoreError } from "@seatkeeper/core/LicenseStore"
import { LicenseStore } from "@seatkeeper/core/LicenseStore"
import type { ProviderConnection, ProviderDefinition } from "@seatkeeper/core/Provider"
import { ProviderError } from "@seatkeeper/core/ProviderError"
import type { RequestBudget } from "@seatkeeper/core/RequestBudget"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { NotFound } from "../errors.js"
import { providerById, ProviderRegistry } from "../ProviderRegistry.js"

/**
 * Who asked for an operation, as the audit log records it.
 *
 * @since 0.1.0
 * @category models
 */
export type Actor = "admin" | "scheduler"

/**
 * @since 0.1.0
 * @category models
 */
export interface HostContext {
  readonly store: LicenseStore["Type"]
  readonly registry: ProviderRegistry["Type"]
  readonly requireConnection: (id: string) => Effect.Effect<ConnectionRecord, NotFound | StoreError>
  /** The provider of a stored connection; a connection whose provider is no longer registered cannot be used. */
  readonly providerOf: (record: ConnectionRecord) => Effect.Effect<ProviderDefinition, ProviderError>
  /** Connects to a stored connection's upstream, drawing on the shared request budget. */
  readonly connect: (record: ConnectionRecord) => Effect.Effect<ProviderConnection, ProviderError>
  /** Connects with a config that is not stored (a connection test before saving), already decoded. */
  readonly connectWith: (provider: ProviderDefinition, config: unknown) => Effect.Effect<ProviderConnection, ProviderError>
  readonly audit: (event: Omit<AuditEvent, "id" | "at">) => Effect.Effect<void, StoreError>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const makeHostContext: Effect.Effect<
  HostContext,
  never,
  LicenseStore | ProviderRegistry | HttpClient.HttpClient | RequestBudget
> = Effect.gen(function*() {
  const store = yield* LicenseStore
  const registry = yield* ProviderRegistry
  const upstream = yield* Effect.context<HttpClient.HttpClient | RequestBudget>()

  const requireConnection = (id: string) =>
    store.getConnection(id).pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.fail(new NotFound({ resource: "connection", id })),
        onSome: Effect.succeed
      }))
    )

  const providerOf = (record: ConnectionRecord) => {
    const provider = providerById(registry, record.provider)
    return provider === undefined
      ? Effect.fail(
        new ProviderError({
          reason: "Unsupported",
          provider: record.provider,
          operation: "connect",
          description: `this host has no provider "${record.provider}"`,
          hint: `register it in apps/host/src/registry.ts, or delete the connection`
        })
      )
      : Effect.succeed(provider)
  }

  const connectWith = (provider: ProviderDefinition, config: unknown) =>
    provider.connect(config).pipe(Effect.provide(upstream))

  const connect = (record: ConnectionRecord) =>
    Effect.gen(function*() {
      const provider = yield* providerOf(record)
      // A stored config that no longer decodes (a provider upgrade tightened its schema) needs an edit.
      const config = yield* Schema.decodeUnknown(provider.configSchema)(record.config).pipe(
        Effect.mapError((e) =>
          new ProviderError({
            reason: "InvalidConfig",
            provider: provider.id,
            operation: "connect",
            // Only the fields' names: a formatter would echo the values, secrets included.
            description: `the stored configuration is not valid (check ${
              [...new Set(ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => i.path.join(".") || "config"))].join(", ")
            })`,
            hint: "edit the connection and save its settings again"
          })
        )
      )
      return yield* connectWith(provider, config)
    })

  const audit = (event: Omit<AuditEvent, "id" | "at">) => Effect.asVoid(store.appendAudit(event))

  return { store, registry, requireConnection, providerOf, connect, connectWith, audit }
})
