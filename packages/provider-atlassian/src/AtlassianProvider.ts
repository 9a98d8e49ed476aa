/**
 * The Atlassian Cloud provider: maps managed accounts and their product access to Seatkeeper's model, and
 * suspends (deactivates) and restores accounts.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { Entitlement, entitlementName, ProviderAccount, siteOfUrl } from "@seatkeeper/core/Account"
import type { AccountStatus, Capability } from "@seatkeeper/core/Account"
import * as Provider from "@seatkeeper/core/Provider"
import type { ProviderError } from "@seatkeeper/core/ProviderError"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as AtlassianClient from "./AtlassianClient.js"
import { AtlassianConfig } from "./AtlassianConfig.js"
import { hints } from "./AtlassianError.js"
import type { ProductAccess, User } from "./AtlassianSchema.js"

/**
 * Atlassian's account statuses mapped as DESIGN.md invariant 3 fixes them. Anything else is `unknown`.
 *
 * @since 0.1.0
 * @category mapping
 */
export const mapStatus = (accountStatus: string): AccountStatus => {
  switch (accountStatus) {
    case "active":
      return "active"
    case "inactive":
      return "suspended"
    case "closed":
      return "deprovisioned"
    default:
      return "unknown"
  }
}

/**
 * Product names for the documented product keys, used when Atlassian sends an empty `name`.
 *
 * @since 0.1.0
 * @category mapping
 */
export const productNames: Readonly<Record<string, string>> = {
  "jira-software": "Jira Software",
  "jira-service-desk": "Jira Service Management",
  "jira-core": "Jira Work Management",
  "jira-ops": "Jira Ops",
  "stride": "Stride",
  "hipchat": "Hipchat",
  "confluence": "Confluence",
  "bitbucket": "Bitbucket",
  "trello": "Trello",
  "opsgenie": "Opsgenie",
  "statuspage": "Statuspage"
}

// The fields come from a decoded wire page and are checked here (instants parse, keys are non-empty), so
// the domain classes skip their own validation: it cost more than everything else a page needs.
const trusted = { disableValidation: true } as const

const validInstant = (s: string | null | undefined): string | undefined =>
  s === null || s === undefined || s === "" || Number.isNaN(Date.parse(s)) ? undefined : s

/**
 * One product on one site. The key (`confluence:acme`) is stable across syncs; the name is
 * `<product> (<site>)` with the site the first label of the product URL's host (invariant 4).
 *
 * @since 0.1.0
 * @category mapping
 */
export const toEntitlement = (product: ProductAccess): Entitlement => {
  const site = siteOfUrl(product.url ?? undefined)
  const name = product.name.trim() !== "" ? product.name : (productNames[product.key] ?? product.key)
  return new Entitlement({
    key: site === undefined ? (product.key || "unknown") : `${product.key || "unknown"}:${site}`,
    product: product.key,
    site,
    displayName: entitlementName(name, site),
    status: "active",
    lastActiveAt: validInstant(product.last_active)
  }, trusted)
}

/**
 * @since 0.1.0
 * @category mapping
 */
export const toAccount = (user: User): ProviderAccount =>
  new ProviderAccount({
    externalId: user.account_id,
    email: user.email ?? undefined,
    displayName: user.name,
    accountType: user.account_type,
    status: mapStatus(user.account_status),
    sourceStatus: user.account_status,
    lastActiveAt: validInstant(user.last_active),
    entitlements: (user.product_access ?? []).map(toEntitlement)
  }, trusted)

/**
 * @since 0.1.0
 * @category models
 */
export const capabilities: ReadonlySet<Capability> = new Set<Capability>(["accounts", "lastActivity", "suspend", "restore"])

/**
 * An Atlassian connection: a `ProviderConnection` whose suspend and restore are always there.
 *
 * @since 0.1.0
 * @category models
 */
export interface AtlassianConnection extends Provider.ProviderConnection {
  /** Deactivates the account (`lifecycle/disable`), with `reason` as Atlassian's block message. */
  readonly suspend: (externalId: string, options?: Provider.ActionOptions) => Effect.Effect<void, ProviderError>
  /** Reactivates the account (`lifecycle/enable`). */
  readonly restore: (externalId: string, options?: Provider.ActionOptions) => Effect.Effect<void, ProviderError>
}

/**
 * Makes a connection from a decoded config.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (
  config: AtlassianConfig
): Effect.Effect<AtlassianConnection, ProviderError, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Effect.map(AtlassianClient.make(config), (client) => {
    const suspend = (externalId: string, options?: Provider.ActionOptions) => client.disable(externalId, options?.reason)
    const restore = (externalId: string) => client.enable(externalId)
    const connection = Provider.makeConnection({
      provider: "atlassian",
      budgetKey: client.budgetKey,
      verify: Effect.asVoid(client.getOrg),
      pages: Stream.map(client.usersPages, (page) => ({
        accounts: page.data.map(toAccount),
        total: page.meta?.total ?? undefined
      })),
      requestStats: client.stats,
      incompleteHint: hints.incomplete,
      suspend,
      restore
    })
    return { ...connection, suspend, restore }
  })

/**
 * The Atlassian Cloud provider definition, for a registry of providers (the host has one line for it).
 *
 * @since 0.1.0
 * @category providers
 */
export const AtlassianProvider = Provider.define({
  id: "atlassian",
  displayName: "Atlassian Cloud",
  description:
    "Jira, Confluence, Jira Service Management and the other Atlassian Cloud products of one organization. " +
    "Lists managed accounts (on the organization's verified domains) with their product access and last activity.",
  configSchema: AtlassianConfig,
  capabilities,
  connect
})

/**
 * One Atlassian connection as a service, for a script that uses the adapter on its own.
 *
 * @since 0.1.0
 * @category tags
 */
export class Atlassian extends Context.Tag("@seatkeeper/provider-atlassian/Atlassian")<
  Atlassian,
  AtlassianConnection
>() {}

/**
 * A layer of one connection with its own in-memory request budget. Needs an `HttpClient`
 * (e.g. `FetchHttpClient.layer` from `@effect/platform`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: AtlassianConfig): Layer.Layer<Atlassian, ProviderError, HttpClient.HttpClient> =>
  Layer.effect(Atlassian, connect(config)).pipe(Layer.provide(RequestBudget.layerMemory))

/**
 * Like `layer`, reading the config from `Config` values (so the caller picks the environment variables).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<AtlassianConfig>
): Layer.Layer<Atlassian, ProviderError | ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
