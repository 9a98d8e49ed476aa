/**
 * The __DISPLAY__ provider: maps __DISPLAY__'s users to Seatkeeper's model, looks one user up to confirm it
 * is gone, and suspends and restores users with a receipt that names the method.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { Entitlement, ProviderAccount, readInstant } from "@seatkeeper/core/Account"
import type { AccountStatus, Capability } from "@seatkeeper/core/Account"
import { ActionReceipt } from "@seatkeeper/core/Action"
import * as Provider from "@seatkeeper/core/Provider"
import type { ProviderError } from "@seatkeeper/core/ProviderError"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
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

/**
 * Where `lastActiveAt` comes from, as the API documents it. TODO(__ID__): what the real API counts as
 * activity, and how late it reports it.
 *
 * @since 0.1.0
 * @category models
 */
export const activitySource: Provider.ActivitySource = {
  id: "__ID__-activity",
  label: "__DISPLAY__ activity",
  definition: "the last time __DISPLAY__ saw the user active, as its API reports it"
}

/**
 * One user mapped, with how many of its instants did not read strictly as ISO-8601 and were dropped
 * (invariant 4: never guessed; the caller logs the count once per page).
 *
 * @since 0.1.0
 * @category mapping
 */
export const readUser = (
  user: __NAME__Client.User
): { readonly account: ProviderAccount; readonly dropped: number } => {
  const lastActiveAt = readInstant(user.lastActiveAt)
  const sent = typeof user.lastActiveAt === "string" && user.lastActiveAt !== ""
  const dropped = sent && lastActiveAt === undefined ? 1 : 0
  const account = new ProviderAccount({
    externalId: user.id,
    email: user.email ?? undefined,
    displayName: user.name,
    accountType: "user",
    status: mapStatus(user.status),
    sourceStatus: user.status,
    lastActiveAt,
    activitySource: lastActiveAt === undefined ? undefined : activitySource.id,
    // Absent is not empty (invariant 2): no `products` means the API did not say, and the store keeps what it
    // knew; only an explicit [] removes the user's entitlements.
    entitlements: user.products === undefined
      ? undefined
      : user.products.map((p) =>
        new Entitlement({ key: p.key || "unknown", product: p.key, displayName: p.name || p.key, status: "active" })
      )
  })
  return { account, dropped }
}

/**
 * @since 0.1.0
 * @category mapping
 */
export const toAccount = (user: __NAME__Client.User): ProviderAccount => readUser(user).account

const warnDropped = (dropped: number, operation: string) =>
  dropped === 0
    ? Effect.void
    : Effect.logWarning(`__ID__ ${operation}: ${dropped} timestamp(s) do not read as ISO-8601 and were dropped`)

/**
 * The id of the method suspend and restore use. TODO(__ID__): one id per way the API can suspend a user
 * (Atlassian has two); a restore with `options.method` undoes exactly the suspend that returned it.
 *
 * @since 0.1.0
 * @category constants
 */
export const METHOD = "__ID__-suspend"

/**
 * @since 0.1.0
 * @category models
 */
export const capabilities: ReadonlySet<Capability> = new Set<Capability>([
  "accounts",
  "lastActivity",
  "lookup",
  "suspend",
  "restore"
])

/**
 * Makes a connection from a decoded config.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (
  config: __NAME__Config
): Effect.Effect<Provider.ProviderConnection, ProviderError, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Effect.map(__NAME__Client.make(config), (client) => {
    const act = (suspended: boolean): Provider.AccountAction => (target) =>
      Effect.as(
        client.setSuspended(Provider.targetOf(target).externalId, suspended),
        new ActionReceipt({
          method: METHOD,
          methodLabel: suspended
            ? "Suspend the __DISPLAY__ user (POST /users/{id}/suspend)"
            : "Restore the __DISPLAY__ user (POST /users/{id}/restore)"
        })
      )
    return Provider.makeConnection({
      provider: "__ID__",
      budgetKey: client.budgetKey,
      verify: client.verify,
      pages: Stream.mapEffect(client.usersPages, (page) => {
        const readings = page.users.map(readUser)
        return Effect.as(warnDropped(readings.reduce((n, r) => n + r.dropped, 0), "accounts"), {
          accounts: readings.map((r) => r.account),
          total: page.total ?? undefined
        })
      }),
      requestStats: client.stats,
      incompleteHint: __NAME__Client.hints.incomplete,
      // The sync engine confirms every account a complete listing did not return with this before it
      // deprovisions it (invariant 2): None only when the API says the user is gone.
      lookup: (externalId) =>
        Effect.flatMap(client.findUser(externalId), (found) => {
          if (Option.isNone(found)) return Effect.succeed(Option.none())
          const reading = readUser(found.value)
          return Effect.as(warnDropped(reading.dropped, "lookup"), Option.some(reading.account))
        }),
      suspend: act(true),
      restore: act(false)
    })
  })

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
  activitySources: [activitySource],
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
