/**
 * The SCIM 2.0 provider: maps the users of any SCIM service (RFC 7643/7644) to Seatkeeper's model, with
 * their groups, roles and entitlements, looks one user up to confirm it is gone (`GET /Users/{id}`), and
 * suspends and restores them through `active`, with a receipt naming the method.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import { Entitlement, entitlementName, ProviderAccount, readInstant } from "@seatkeeper/core/Account"
import type { AccountStatus, Capability } from "@seatkeeper/core/Account"
import { type ActionKind, ActionPreflight, ActionReceipt, type ActionTarget } from "@seatkeeper/core/Action"
import * as Provider from "@seatkeeper/core/Provider"
import { ProviderError } from "@seatkeeper/core/ProviderError"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
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
  typeof u === "string" && u.trim() !== ""
    ? u.trim()
    : typeof u === "number" || typeof u === "boolean"
    ? String(u)
    : undefined

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

/**
 * The activity source of `lastActiveAt`: the attribute the connection's dialect names
 * (`lastActivityAttribute`). SCIM itself has none.
 *
 * @since 0.2.0
 * @category models
 */
export const lastSignInSource: Provider.ActivitySource = {
  id: "scim-last-sign-in",
  label: "Last sign-in (app's SCIM attribute)",
  definition:
    "the date-time the app reports in the attribute named by the connection's dialect (lastActivityAttribute); " +
    "apps differ in what they count as a sign-in"
}

/**
 * What mapping one user read, and the attribute paths of the instants it left out because they do not read
 * strictly as ISO-8601 (invariant 4: dropped, never guessed).
 *
 * @since 0.2.0
 * @category models
 */
export interface UserReading {
  readonly account: ProviderAccount
  readonly droppedInstants: ReadonlyArray<string>
}

/**
 * @since 0.2.0
 * @category models
 */
export interface MappingOptions {
  /** The dialect's attribute path of the last sign-in (`lastActivityAttribute`). */
  readonly lastActivityAttribute?: string | undefined
}

const carries = (user: User, attribute: (typeof entitlementKinds)[number]["attribute"]): boolean =>
  user[attribute] !== undefined && user[attribute] !== null

const namesOf = (
  values: ReadonlyArray<MultiValue> | null | undefined,
  pick: (item: MultiValue) => string | undefined
): ReadonlyArray<string> | undefined =>
  values === undefined || values === null
    ? undefined
    : [...new Set(values.map(pick).filter((name): name is string => name !== undefined))]

/**
 * Maps one SCIM user and names the instants it had to drop.
 *
 * - `entitlements`: `undefined` when the user carries none of `groups`, `roles` and `entitlements` (the
 *   service did not say, so the store keeps what it knew: invariant 2); otherwise one per value of those it
 *   carries, so explicit empty lists give `[]`. One left out beside one that is sent counts as unassigned,
 *   which is what RFC 7643 §2.5 makes an omitted attribute.
 * - `groups` (display names) and `roles` (values): `undefined` when the attribute is absent.
 * - `lastActiveAt`: the dialect's `lastActivityAttribute` only; `addedAt`: `meta.created`. Both are read
 *   with core's strict `readInstant`; a value that does not read is dropped and named in `droppedInstants`.
 *   `meta.lastModified` is when the record changed, not activity, and is not read.
 *
 * @since 0.2.0
 * @category mapping
 */
export const readUser = (user: User, options?: MappingOptions): UserReading => {
  const dropped: Array<string> = []
  const instant = (path: string): string | undefined => {
    const value = readAttribute(user, path)
    if (value === undefined || value === null || value === "") return undefined
    const read = typeof value === "string" ? readInstant(value) : undefined
    if (read === undefined) dropped.push(path)
    return read
  }
  const attribute = options?.lastActivityAttribute
  const lastActiveAt = attribute === undefined ? undefined : instant(attribute)
  const said = entitlementKinds.some((kind) => carries(user, kind.attribute))
  const account = new ProviderAccount({
    externalId: user.id,
    email: primaryEmail(user),
    displayName: displayNameOf(user),
    accountType: text(user.userType) ?? "user",
    status: mapStatus(user.active),
    sourceStatus: user.active === undefined || user.active === null
      ? "active unset"
      : `active=${String(user.active).toLowerCase()}`,
    lastActiveAt,
    activitySource: lastActiveAt === undefined ? undefined : lastSignInSource.id,
    addedAt: instant("meta.created"),
    entitlements: said ? toEntitlements(user) : undefined,
    groups: namesOf(user.groups, (g) => text(g.display) ?? text(g.value)),
    roles: namesOf(user.roles, (r) => text(r.value) ?? text(r.display))
  }, trusted)
  return { account, droppedInstants: dropped }
}

/**
 * Maps one SCIM user (see `readUser`, which also names the instants it dropped).
 *
 * @since 0.1.0
 * @category mapping
 */
export const toAccount = (user: User, options?: MappingOptions): ProviderAccount => readUser(user, options).account

/**
 * One warning for a page (or a lookup) that had to drop instants: how many and which attributes, never the
 * values, which are upstream text.
 *
 * @since 0.2.0
 * @category mapping
 */
export const warnDropped = (
  readings: ReadonlyArray<UserReading>,
  options: { readonly operation: string; readonly app: string }
): Effect.Effect<void> => {
  const paths = readings.flatMap((r) => r.droppedInstants)
  return paths.length === 0
    ? Effect.void
    : Effect.logWarning(
      `scim ${options.operation}: ${paths.length} timestamp(s) from ${options.app} do not read as ISO-8601 ` +
        "and were dropped"
    ).pipe(Effect.annotateLogs({
      provider: "scim",
      operation: options.operation,
      dropped: paths.length,
      attributes: [...new Set(paths)].join(", ")
    }))
}

/**
 * The id of the one method the SCIM adapter acts with: setting the user's `active`.
 *
 * @since 0.2.0
 * @category constants
 */
export const ACTIVE_METHOD = "scim-active"

/**
 * What the method is called for a person: `Set active=false over SCIM (PATCH)`, or `(GET + PUT of the whole
 * user)` where the service does not support PATCH; without the transport when it is not known.
 *
 * @since 0.2.0
 * @category utils
 */
export const methodLabel = (active: boolean, transport?: ScimClient.Transport | undefined): string =>
  `Set active=${active} over SCIM` +
  (transport === undefined ? "" : transport === "patch" ? " (PATCH)" : " (GET + PUT of the whole user)")

/**
 * @since 0.1.0
 * @category models
 */
export const capabilities: ReadonlySet<Capability> = new Set<Capability>([
  "accounts",
  "lookup",
  "preflight",
  "suspend",
  "restore"
])

/**
 * A SCIM connection: a `ProviderConnection` whose lookup, preflight, suspend and restore are always there
 * (suspend refuses with `Unsupported`, and preflight says it would, when the dialect says the app deletes on
 * `active=false`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ScimConnection extends Provider.ProviderConnection {
  /** `GET /Users/{id}`: `None` on the service's 404 (the user is gone), else the user mapped as in a listing. */
  readonly lookup: (externalId: string) => Effect.Effect<Option.Option<ProviderAccount>, ProviderError>
  /**
   * What a suspend or restore would do, changing nothing: the dialect's refusal, else a `GET` of the user
   * (`NotFound` when there is none) and the transport (PATCH or PUT) that would be used.
   */
  readonly preflight: (
    target: string | ActionTarget,
    action: ActionKind
  ) => Effect.Effect<ActionPreflight, ProviderError>
  /** Sets `active` to false; the receipt's method is `scim-active`. */
  readonly suspend: Provider.AccountAction
  /** Sets `active` to true; `options.method`, when given, must be `scim-active`. */
  readonly restore: Provider.AccountAction
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
    const mapping: MappingOptions = { lastActivityAttribute: config.dialect?.lastActivityAttribute }

    const refusal = new ProviderError({
      reason: "Unsupported",
      provider: "scim",
      operation: "suspend",
      description: `${app} deletes a user when SCIM sets active to false, so Seatkeeper does not suspend ` +
        "through SCIM: that would delete the account and its data",
      hint: hints.deletes(app),
      code: "deactivation-deletes"
    })

    // One method only: an action that names another one (made by something else) is not guessed at.
    const checkMethod = (operation: ActionKind, options: Provider.ActionOptions | undefined) =>
      options?.method === undefined || options.method === ACTIVE_METHOD
        ? Effect.void
        : Effect.fail(
          new ProviderError({
            reason: "Unsupported",
            provider: "scim",
            operation,
            description: `the SCIM adapter has no ${operation} method "${options.method}"`,
            hint: hints.unknownMethod(options.method)
          })
        )

    const setActive = (operation: ActionKind, active: boolean): Provider.AccountAction => (target, options) =>
      checkMethod(operation, options).pipe(
        Effect.zipRight(
          operation === "suspend" && deletes
            ? Effect.fail(refusal)
            : client.setActive(operation, Provider.targetOf(target).externalId, active)
        ),
        Effect.map((transport) =>
          new ActionReceipt({ method: ACTIVE_METHOD, methodLabel: methodLabel(active, transport) })
        )
      )

    const lookup = (externalId: string): Effect.Effect<Option.Option<ProviderAccount>, ProviderError> =>
      Effect.flatMap(client.findUser("lookup", externalId), (found) => {
        if (Option.isNone(found)) return Effect.succeed(Option.none())
        const reading = readUser(found.value, mapping)
        return Effect.as(warnDropped([reading], { operation: "lookup", app }), Option.some(reading.account))
      })

    const preflight = (
      target: string | ActionTarget,
      action: ActionKind
    ): Effect.Effect<ActionPreflight, ProviderError> =>
      Effect.gen(function*() {
        const active = action === "restore"
        if (action === "suspend" && deletes) {
          // Known without asking: the dialect says what active=false does in this app.
          return new ActionPreflight({
            action,
            method: ACTIVE_METHOD,
            methodLabel: methodLabel(active),
            allowed: false,
            reason: `${app} deletes users on active=false, so Seatkeeper does not suspend them`,
            code: "deactivation-deletes",
            hint: hints.deletes(app)
          })
        }
        const externalId = Provider.targetOf(target).externalId
        const user = yield* client.findUser("preflight", externalId)
        if (Option.isNone(user)) {
          return yield* new ProviderError({
            reason: "NotFound",
            provider: "scim",
            operation: "preflight",
            status: 404,
            description: `${app} has no user ${externalId}`,
            hint: hints.accountNotFound(app)
          })
        }
        const transport = yield* client.transport("preflight")
        const status = mapStatus(user.value.active)
        const already = active ? status === "active" : status === "suspended"
        return new ActionPreflight({
          action,
          method: ACTIVE_METHOD,
          methodLabel: methodLabel(active, transport),
          allowed: true,
          hint: already
            ? `The user is already active=${active} in ${app}: setting it again changes nothing.`
            : undefined
        })
      })

    const suspend = setActive("suspend", false)
    const restore = setActive("restore", true)
    const connection = Provider.makeConnection({
      provider: "scim",
      budgetKey: client.budgetKey,
      verify: client.probe,
      pages: Stream.mapEffect(client.usersPages, (page) => {
        const readings = (page.Resources ?? []).map((user) => readUser(user, mapping))
        return Effect.as(warnDropped(readings, { operation: "accounts", app }), {
          accounts: readings.map((r) => r.account),
          total: page.totalResults
        })
      }),
      requestStats: client.stats,
      incompleteHint: hints.incomplete(app),
      lookup,
      preflight,
      suspend,
      restore
    })
    return {
      ...connection,
      // makeConnection's lookup cleans text of control characters, as the roster's.
      lookup: connection.lookup ?? lookup,
      preflight,
      suspend,
      restore,
      serviceFeatures: client.serviceFeatures
    }
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
    "their groups, roles and entitlements, confirms a user is gone with GET /Users/{id}, and suspends or restores " +
    "users through active.",
  configSchema: ScimConfig,
  capabilities,
  activitySources: [lastSignInSource],
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
