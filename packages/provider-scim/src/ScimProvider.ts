/**
 * The SCIM 2.0 provider: maps the users of any SCIM service (RFC 7643/7644) to Seatkeeper's model, with
 * their groups, roles and entitlements, and suspends and restores them through `active`.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { Entitlement, entitlementName, ProviderAccount } from "@seatkeeper/core/Account"
import type { AccountStatus, Capability } from "@seatkeeper/core/Account"
import * as Provider from "@seatkeeper/core/Provider"
import { ProviderError } from "@seatkeeper/core/ProviderError"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as ScimClient from "./ScimClient.js"
import { DEFAULT_DIALECT, ScimConfig } from "./ScimConfig.js"
import { hints } from "./ScimError.js"
import type { MultiValue, User } from "./ScimSchema.js"

/**
 * A SCIM user's `active` mapped to Seatkeeper's statuses: `true` → `active`, `false` → `suspended`. A user
 * without `active` is `unknown` (the service does not say). A user the service stops returning becomes
 * `deprovisioned` after a complete sync (the engine does that).
 *
 * @since 0.1.0
 * @category mapping
 */
export const mapStatus = (active: User["active"]): AccountStatus =>
  active === true || active === "true" || active === "True"
    ? "active"
    : active === false || active === "false" || active === "False"
    ? "suspended"
    : "unknown"

/**
 * The kinds of SCIM attributes that become entitlements, with the key prefix of each.
 *
 * @since 0.1.0
 * @category mapping
 */
export const entitlementKinds = [
  { attribute: "groups", kind: "group" },
  { attribute: "roles", kind: "role" },
  { attribute: "entitlements", kind: "entitlement" }
] as const

const text = (u: unknown): string | undefined =>
  typeof u === "string" && u.trim() !== "" ? u.trim() : typeof u === "number" || typeof u === "boolean" ? String(u) : undefined

// The fields come from a decoded wire page and are checked here (keys non-empty, instants parse).
const trusted = { disableValidation: true } as const

/**
 * The entitlements of a user: one per group, role and entitlement, keyed `group:<value>`, `role:<value>`,
 * `entitlement:<value>` (stable across syncs; the display text when there is no value) and named
 * `<display> (<kind>)`, e.g. `Engineering (group)`. A value listed twice (a direct and an indirect group) is
 * one entitlement.
 *
 * @since 0.1.0
 * @category mapping
 */
export const toEntitlements = (user: User): ReadonlyArray<Entitlement> => {
  const out = new Map<string, Entitlement>()
  for (const { attribute, kind } of entitlementKinds) {
    const values: ReadonlyArray<MultiValue> = user[attribute] ?? []
    for (const item of values) {
      const id = text(item.value) ?? text(item.display)
      if (id === undefined) continue
      const key = `${kind}:${id}`
      if (out.has(key)) continue
      out.set(
        key,
        new Entitlement({
          key,
          product: kind,
          displayName: entitlementName(text(item.display) ?? id, kind),
          status: "active"
        }, trusted)
      )
    }
  }
  return [...out.values()]
}

const primaryEmail = (user: User): string | undefined => {
  const emails = (user.emails ?? []).filter((e) => text(e.value) !== undefined)
  const chosen = emails.find((e) => e.primary === true) ?? emails.find((e) => e.type === "work") ?? emails[0]
  return chosen === undefined ? undefined : text(chosen.value)
}

const displayNameOf = (user: User): string => {
  const given = text(user.name?.givenName)
  const family = text(user.name?.familyName)
  return text(user.displayName) ?? text(user.name?.formatted) ??
    (given !== undefined || family !== undefined ? [given, family].filter(Boolean).join(" ") : undefined) ??
    text(user.userName) ?? user.id
}

/**
 * Reads an attribute path from a user: `a.b` from the root, or `urn:...:User:a.b` inside an extension
 * (RFC 7644 §3.10: the attribute follows the last colon of the schema URN).
 *
 * @since 0.1.0
 * @category mapping
 */
export const readAttribute = (user: Record<string, unknown>, path: string): unknown => {
  let node: unknown = user
  let rest = path
  if (path.startsWith("urn:")) {
    const colon = path.lastIndexOf(":")
    const urn = path.slice(0, colon)
    rest = path.slice(colon + 1)
    // Services differ in the URN's case; RFC 7643 §2.1 makes attribute names case-insensitive.
    const key = Object.keys(user).find((k) => k.toLowerCase() === urn.toLowerCase())
    node = key === undefined ? undefined : user[key]
  }
  for (const part of rest.split(".")) {
    if (typeof node !== "object" || node === null) return undefined
    const record = node as Record<string, unknown>
    const key = Object.keys(record).find((k) => k.toLowerCase() === part.toLowerCase())
    node = key === undefined ? undefined : record[key]
  }
  return node
}

const instantOf = (u: unknown): string | undefined =>
  typeof u === "string" && u.trim() !== "" && !Number.isNaN(Date.parse(u)) ? u.trim() : undefined

/**
 * Maps one SCIM user. `lastActivityAttribute` is the dialect's attribute path of the last sign-in, when the
 * app documents one; without it there is no last activity (SCIM has no standard attribute for it).
 *
 * @since 0.1.0
 * @category mapping
 */
export const toAccount = (user: User, options?: { readonly lastActivityAttribute?: string | undefined }): ProviderAccount =>
  new ProviderAccount({
    externalId: user.id,
    email: primaryEmail(user),
    displayName: displayNameOf(user),
    accountType: text(user.userType) ?? "user",
    status: mapStatus(user.active),
    sourceStatus: user.active === undefined || user.active === null ? "active unset" : `active=${String(user.active).toLowerCase()}`,
    lastActiveAt: options?.lastActivityAttribute === undefined
      ? undefined
      : instantOf(readAttribute(user, options.lastActivityAttribute)),
    entitlements: toEntitlements(user)
  }, trusted)

/**
 * @since 0.1.0
 * @category models
 */
export const capabilities: ReadonlySet<Capability> = new Set<Capability>(["accounts", "suspend", "restore"])

/**
 * A SCIM connection: a `ProviderConnection` whose suspend and restore are always there (suspend refuses
 * with `Unsupported` when the dialect says the app deletes on `active=false`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ScimConnection extends Provider.ProviderConnection {
  /** Sets `active` to false. */
  readonly suspend: (externalId: string, options?: Provider.ActionOptions) => Effect.Effect<void, ProviderError>
  /** Sets `active` to true. */
  readonly restore: (externalId: string, options?: Provider.ActionOptions) => Effect.Effect<void, ProviderError>
  /** What the service's ServiceProviderConfig offers (read once per connection). */
  readonly serviceFeatures: Effect.Effect<ScimClient.ServiceFeatures, ProviderError>
}

/**
 * Makes a connection from a decoded config.
 *
 * @since 0.1.0
 * @category constructors
 */
export const connect = (
  config: ScimConfig
): Effect.Effect<ScimConnection, ProviderError, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Effect.map(ScimClient.make(config), (client) => {
    const app = config.appName
    const deletes = (config.dialect?.deactivation ?? DEFAULT_DIALECT.deactivation) === "delete"
    const lastActivityAttribute = config.dialect?.lastActivityAttribute
    const suspend = (externalId: string) =>
      deletes
        ? Effect.fail(
          new ProviderError({
            reason: "Unsupported",
            provider: "scim",
            operation: "suspend",
            description:
              `${app} deletes a user when SCIM sets active to false, so Seatkeeper does not suspend through SCIM: ` +
              "that would delete the account and its data",
            hint:
              `Suspend or remove the user in ${app}'s admin console. If ${app} in fact deactivates on active=false, ` +
              "set the connection's dialect \"What active=false does\" to active-false."
          })
        )
        : client.setActive("suspend", externalId, false)
    const restore = (externalId: string) => client.setActive("restore", externalId, true)
    const connection = Provider.makeConnection({
      provider: "scim",
      budgetKey: client.budgetKey,
      verify: client.probe,
      pages: Stream.map(client.usersPages, (page) => ({
        accounts: (page.Resources ?? []).map((user) => toAccount(user, { lastActivityAttribute })),
        total: page.totalResults
      })),
      requestStats: client.stats,
      incompleteHint: hints.incomplete(app),
      suspend,
      restore
    })
    return { ...connection, suspend, restore, serviceFeatures: client.serviceFeatures }
  })

/**
 * The SCIM 2.0 provider definition, for a registry of providers (the host has one line for it).
 *
 * @since 0.1.0
 * @category providers
 */
export const ScimProvider = Provider.define({
  id: "scim",
  displayName: "SCIM 2.0 app",
  description:
    "Any app with a SCIM 2.0 provisioning API (Slack, Zoom, Dropbox, GitHub Enterprise, ...). Lists its users with " +
    "their groups, roles and entitlements, and suspends or restores them through active.",
  configSchema: ScimConfig,
  capabilities,
  connect
})

/**
 * One SCIM connection as a service, for a script that uses the adapter on its own.
 *
 * @since 0.1.0
 * @category tags
 */
export class Scim extends Context.Tag("@seatkeeper/provider-scim/Scim")<Scim, ScimConnection>() {}

/**
 * A layer of one connection with its own in-memory request budget. Needs an `HttpClient`
 * (e.g. `FetchHttpClient.layer` from `@effect/platform`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (config: ScimConfig): Layer.Layer<Scim, ProviderError, HttpClient.HttpClient> =>
  Layer.effect(Scim, connect(config)).pipe(Layer.provide(RequestBudget.layerMemory))

/**
 * Like `layer`, reading the config from `Config` values (so the caller picks the environment variables).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<ScimConfig>
): Layer.Layer<Scim, ProviderError | ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(Effect.map(Config.unwrap(config), layer))
