/**
 * The providers this host offers and the way to reach a stored connection's upstream organisation: its
 * provider, its decoded config, a live connection drawing on the shared request budget.
 *
 * @since 0.2.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type { ConnectionRecord } from "@seatkeeper/core/Connection"
import type { ProviderConnection, ProviderDefinition } from "@seatkeeper/core/Provider"
import { ProviderError } from "@seatkeeper/core/ProviderError"
import type { RequestBudget } from "@seatkeeper/core/RequestBudget"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { providerById, ProviderRegistry } from "../ProviderRegistry.js"

/**
 * @since 0.2.0
 * @category services
 */
export class Upstream extends Effect.Service<Upstream>()("app/Upstream", {
  effect: Effect.gen(function*() {
    const registry = yield* ProviderRegistry
    const context = yield* Effect.context<HttpClient.HttpClient | RequestBudget>()

    /** The provider of a stored connection; a connection whose provider is no longer registered cannot be used. */
    const providerOf = (record: Pick<ConnectionRecord, "provider">) => {
      const provider = providerById(registry, record.provider)
      return provider === undefined
        ? Effect.fail(
          new ProviderError({
            reason: "Unsupported",
            provider: record.provider,
            operation: "connect",
            description: `this host has no provider "${record.provider}"`,
            hint: "register it in apps/host/src/registry.ts, or delete the connection"
          })
        )
        : Effect.succeed(provider)
    }

    /** Connects with a config that is already decoded (a connection test before saving). */
    const connectWith = (
      provider: ProviderDefinition,
      config: unknown
    ): Effect.Effect<ProviderConnection, ProviderError> => provider.connect(config).pipe(Effect.provide(context))

    /** Connects to a stored connection's upstream; building the connection sends nothing. */
    const connect = Effect.fn("Upstream.connect")(function*(record: ConnectionRecord) {
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
              [...new Set(ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => i.path.join(".") || "config"))].join(
                ", "
              )
            })`,
            hint: "edit the connection and save its settings again"
          })
        )
      )
      return yield* connectWith(provider, config)
    })

    return { registry, providerOf, connect, connectWith } as const
  })
}) {}
