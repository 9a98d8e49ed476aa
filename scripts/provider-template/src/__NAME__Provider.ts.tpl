/**
 * The __DISPLAY__ provider: maps __DISPLAY__'s users to Seatkeeper's model, and suspends and restores them.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { Entitlement, ProviderAccount } from "@seatkeeper/core/Account"
import type { AccountStatus, Capability } from "@seatkeeper/core/Account"
import * as Provider from "@seatkeeper/core/Provider"
import type { ProviderError } from "@seatkeeper/core/ProviderError"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as __NAME__Client from "./__NAME__Client.js"
import { __NAME__Config } from "./__NAME__Config.js"

/**
 * __DISPLAY__'s statuses mapped to Seatkeeper's. Anything else is `unknown` (kept verbatim as
 * `sourceStatus`), never a guess. TODO(__ID__): the real API's statuses.
 *
 * @since 0.1.0
 * @category mapping
 */
export const mapStatus = (status: string): AccountStatus => {
  switch (status) {
    case "active":
      return "active"
    case "suspended":
      return "suspended"
    case "deleted":
      return "deprovisioned"
    default:
      return "unknown"
  }
}

const instant = (s: string | null | undefined): string | undefined =>
  s === null || s === undefined || Number.isNaN(Date.parse(s)) ? undefined : s

/**
 * @since 0.1.0
 * @category mapping
 */
export const toAccount = (user: __NAME__Client.User): ProviderAccount =>
  new ProviderAccount({
    externalId: user.id,
    email: user.email ?? undefined,
    displayName: user.name,
    accountType: "user",
    status: mapStatus(user.status),
    sourceStatus: user.status,
    lastActiveAt: instant(user.lastActiveAt),
    entitlements: (user.products ?? []).map((p) =>
      new Entitlement({ key: p.key || "unknown", product: p.key, displayName: p.name || p.key, status: "active" })
    )
  })

/**
 * @since 0.1.0
 * @category models
 */
export const capabilities: ReadonlySet<Capability> = new Set<Capability>(["accounts", "lastActivity", "suspend", "restore"])

/**
 * Makes a connection from a decoded config.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (
  config: __NAME__Config
): Effect.Effect<Provider.ProviderConnection, ProviderError, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Effect.map(__NAME__Client.make(config), (client) =>
    Provider.makeConnection({
      provider: "__ID__",
      budgetKey: client.budgetKey,
      verify: client.verify,
      pages: Stream.map(client.usersPages, (page) => ({ accounts: page.users.map(toAccount), total: page.total ?? undefined })),
      requestStats: client.stats,
      incompleteHint: __NAME__Client.hints.incomplete,
      suspend: (externalId) => client.setSuspended(externalId, true),
      restore: (externalId) => client.setSuspended(externalId, false)
    }))

/**
 * The __DISPLAY__ provider definition: one line in the host's registry.
 *
 * @since 0.1.0
 * @category providers
 */
export const __NAME__Provider = Provider.define({
  id: "__ID__",
  displayName: "__DISPLAY__",
  description: "The users of one __DISPLAY__ account, with their products and last activity.",
  configSchema: __NAME__Config,
  capabilities,
  connect
})

/**
 * One __DISPLAY__ connection as a service, for a script that uses the adapter on its own.
 *
 * @since 0.1.0
 * @category tags
 */
export class __NAME__ extends Context.Tag("@seatkeeper/provider-__ID__/__NAME__")<__NAME__, Provider.ProviderConnection>() {}

/**
 * A layer of one connection with its own in-memory request budget. Needs an `HttpClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: __NAME__Config): Layer.Layer<__NAME__, ProviderError, HttpClient.HttpClient> =>
  Layer.effect(__NAME__, connect(config)).pipe(Layer.provide(RequestBudget.layerMemory))
