/**
 * The Atlassian Cloud provider: maps accounts (managed ones from the v1 listing, or every user from the v2
 * directory API) and their product access to Seatkeeper's model; lists the organization's product
 * instances with their plans and seats; confirms absent accounts one by one; and suspends and restores
 * accounts with the method that fits each (lifecycle for a managed account, the directory for an
 * unmanaged one), after a read-only preflight where Atlassian offers one.
 *
 * ## Statuses
 *
 * | v1 `account_status` (managed accounts) | Seatkeeper |
 * |---|---|
 * | `active` | `active` |
 * | `inactive` (deactivated) | `suspended` |
 * | `closed` | `deprovisioned` |
 * | anything else | `unknown`, kept verbatim |
 *
 * The v2 composite `status` is made of `accountStatus` and `membershipStatus` (API-NOTES §1.4). The first
 * row wins: v2 reads a closed account as `deactivated`, so only `accountStatus` tells it is gone.
 *
 * | v2 (every user) | Seatkeeper | why |
 * |---|---|---|
 * | `accountStatus` `closed` (whatever `status` says) | `deprovisioned` | as v1 `closed`: the account can't be used |
 * | `active` (account and membership active) | `active` | |
 * | `suspended` (membership suspended) | `suspended` | not billed, reversible (directory restore) |
 * | `deactivated` (`accountStatus` `inactive`) | `suspended` | as v1 `inactive` (lifecycle enable) |
 * | `not_invited` (no membership) | `suspended` | the account exists but reaches no product: holds no seat |
 * | `for_deletion` (scheduled for deletion) | `suspended` | deactivated until deleted, reversible (cancel-delete) |
 * | no `status`, an `accountStatus` | as the v1 table | |
 * | anything else | `unknown`, kept verbatim | |
 *
 * A scheduled deletion is not gone yet: v1 reads such an account `inactive`, and it is `closed` (gone) once deleted.
 * The raw v2 `status` is the `sourceStatus`; `accountStatus`, `membershipStatus` and `claimStatus` are kept in
 * `attributes`.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import {
  type Entitlement,
  entitlementKey,
  entitlementName,
  ProviderAccount,
  readInstant,
  siteOf,
  unsafeEntitlement,
  unsafeProviderAccount
} from "@seatkeeper/core/Account"
import type { AccountStatus, Capability } from "@seatkeeper/core/Account"
import { type ActionKind, ActionPreflight, ActionReceipt, type ActionTarget } from "@seatkeeper/core/Action"
import { editionOf, License } from "@seatkeeper/core/License"
import * as Provider from "@seatkeeper/core/Provider"
import { ProviderError } from "@seatkeeper/core/ProviderError"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as AtlassianClient from "./AtlassianClient.js"
import { AtlassianConfig } from "./AtlassianConfig.js"
import { hints, restrictionHint, restrictionReasons } from "./AtlassianError.js"
import type { ProductAccess, User, V2User, Workspace } from "./AtlassianSchema.js"
import { WorkspaceEntitlement } from "./AtlassianSchema.js"

// =============================================================================
// statuses and names
// =============================================================================

/**
 * Atlassian's v1 account statuses mapped as DESIGN.md invariant 3 fixes them. Anything else is `unknown`.
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
 * The v2 composite status (and `accountStatus`) mapped as the table in this module's documentation says.
 *
 * @since 0.2.0
 * @category mapping
 */
export const mapDirectoryStatus = (status: string | undefined, accountStatus: string | undefined): AccountStatus => {
  // A closed account reads `deactivated`, like an inactive one: `accountStatus` tells them apart.
  if (accountStatus === "closed") return "deprovisioned"
  switch (status) {
    case "active":
      return "active"
    case "suspended":
    case "deactivated":
    case "not_invited":
    // Scheduling a deletion deactivates the account, and cancelling it restores the account: not gone yet.
    case "for_deletion":
      return "suspended"
    case undefined:
      return accountStatus === undefined ? "unknown" : mapStatus(accountStatus)
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

const productName = (key: string, name: string | null | undefined) =>
  name !== null && name !== undefined && name.trim() !== ""
    ? name
    : (Object.hasOwn(productNames, key) ? productNames[key]! : key)

/**
 * The account types Atlassian never bills: Jira Service Management portal customers and apps (bots).
 *
 * @since 0.2.0
 * @category mapping
 */
export const nonBillableAccountTypes: ReadonlySet<string> = new Set(["customer", "app"])

/**
 * Where Atlassian's activity values come from, as it documents them.
 *
 * @since 0.2.0
 * @category mapping
 */
export const activitySources = [
  {
    id: "atlassian.product",
    label: "Atlassian product activity",
    definition: "the last page view of 2 s or more in this product, as Atlassian records it",
    maxLagHours: 24
  },
  {
    id: "atlassian.account",
    label: "Atlassian account activity",
    definition: "the last activity in any Atlassian product, as the organization's user list reports it",
    maxLagHours: 24
  }
] as const satisfies ReadonlyArray<Provider.ActivitySource>

// The fields come from a decoded wire page and are checked here (instants read strictly, keys non-empty),
// so the domain classes skip their own validation (and, on the listing's path, their constructors): it cost
// more than everything else a page needs.
const trusted = { disableValidation: true } as const

/** Counts instants that do not read, so a page logs one warning instead of a line per value. */
interface Dropped {
  count: number
}

const instantOf = (value: string | null | undefined, dropped: Dropped): string | undefined => {
  const read = readInstant(value)
  if (read === undefined && value !== null && value !== undefined && value !== "") dropped.count++
  return read
}

const warnDropped = (dropped: Dropped, where: string) =>
  dropped.count === 0
    ? Effect.void
    : Effect.logWarning(`dropped ${dropped.count} timestamps that are not ISO-8601 instants (${where}); never guessed`)

// =============================================================================
// v1 mapping
// =============================================================================

/** What an entitlement's product, name and URL make of it, the same for every account on that site. */
interface Place {
  readonly key: string
  readonly site: string | undefined
  readonly siteHost: string | undefined
  readonly displayName: string
}

// A roster names a handful of products and sites: each is worked out once (and its strings shared by
// every account), by URL, then product key, then name. Bounded, in case a source names a site per user.
const places = new Map<string, Map<string, Map<string, Place>>>()
let placeCount = 0

const placeOf = (product: ProductAccess): Place => {
  const url = product.url ?? ""
  let byKey = places.get(url)
  if (byKey === undefined) {
    if (placeCount >= 4096) {
      places.clear()
      placeCount = 0
    }
    byKey = new Map()
    places.set(url, byKey)
  }
  let byName = byKey.get(product.key)
  if (byName === undefined) {
    byName = new Map()
    byKey.set(product.key, byName)
  }
  let place = byName.get(product.name)
  if (place === undefined) {
    const site = siteOf(url)
    place = {
      key: entitlementKey(product.key, site?.host),
      site: site?.site,
      siteHost: site?.host,
      displayName: entitlementName(productName(product.key, product.name), site?.site)
    }
    byName.set(product.name, place)
    placeCount++
  }
  return place
}

/**
 * One product on one site. The key (`confluence:acme.atlassian.net`) is stable across syncs and unique per
 * site (the full host); the name is `<product> (<site>)` with the site the host's first label (invariant 4).
 *
 * @since 0.1.0
 * @category mapping
 */
export const toEntitlement = (product: ProductAccess, dropped: Dropped = { count: 0 }): Entitlement => {
  const place = placeOf(product)
  const lastActiveAt = instantOf(product.last_active, dropped)
  return unsafeEntitlement({
    key: place.key,
    product: product.key,
    site: place.site,
    siteHost: place.siteHost,
    displayName: place.displayName,
    status: "active",
    lastActiveAt,
    // A source names where a value came from: no value, no source.
    activitySource: lastActiveAt === undefined ? undefined : "atlassian.product"
  })
}

/**
 * A managed account of the v1 listing. A user without `product_access` keeps the products the store knew
 * (the field is absent, not empty: invariant 2).
 *
 * @since 0.1.0
 * @category mapping
 */
export const toAccount = (
  user: User,
  dropped: Dropped = { count: 0 },
  /**
   * The ids the directory search names as suspended in the directory (the v1 listing still says `active`
   * for them); `undefined` when the search could not be read, so nothing is known either way.
   */
  suspendedInDirectory?: ReadonlySet<string> | undefined
): ProviderAccount => {
  const lastActiveAt = instantOf(user.last_active, dropped)
  const directorySuspended = suspendedInDirectory?.has(user.account_id) === true && user.account_status === "active"
  const products = user.product_access
  let entitlements: Array<Entitlement> | undefined
  if (products !== undefined && products !== null) {
    entitlements = new Array(products.length)
    for (let i = 0; i < products.length; i++) entitlements[i] = toEntitlement(products[i]!, dropped)
  }
  return unsafeProviderAccount({
    externalId: user.account_id,
    email: user.email ?? undefined,
    displayName: user.name,
    accountType: user.account_type,
    // v2's composite status: an active account whose directory access is suspended is `suspended`.
    status: directorySuspended ? "suspended" : mapStatus(user.account_status),
    sourceStatus: directorySuspended ? "suspended" : user.account_status,
    lastActiveAt,
    activitySource: lastActiveAt === undefined ? undefined : "atlassian.account",
    entitlements,
    billable: !nonBillableAccountTypes.has(user.account_type),
    // The v1 listing returns managed accounts only.
    managed: true,
    // What a restore reads to undo a directory suspend with the directory's restore. Known not suspended:
    // none, so a suspension lifted since the last sync does not linger; unknown: what the store knew.
    attributes: directorySuspended
      ? { membershipStatus: "suspended" }
      : suspendedInDirectory === undefined
      ? undefined
      : {}
  })
}

// =============================================================================
// v2 mapping
// =============================================================================

/**
 * A product instance (a workspace): its product key, its site, and the key its seats and its licence share.
 *
 * @since 0.2.0
 * @category models
 */
export interface ProductInstance {
  readonly product: string
  readonly host: string | undefined
  readonly site: string | undefined
  /** Product key + the site's full host; + the workspace id for a workspace without a host. */
  readonly key: string
}

// `hostUrl` has no scheme (`acme.atlassian.net`, `bitbucket.org/acme`).
const hostOf = (hostUrl: string | null | undefined): { readonly site: string; readonly host: string } | undefined => {
  if (hostUrl === null || hostUrl === undefined || hostUrl === "") return undefined
  return siteOf(/^[a-z][a-z0-9+.-]*:\/\//i.test(hostUrl) ? hostUrl : `https://${hostUrl}`)
}

// A workspace id is the product's ARI, `ari:cloud:<product key>::site/<id>`.
const productOfAri = (id: string): string | undefined => /^ari:cloud:([^:]+)::/.exec(id)?.[1]

/**
 * The product instance a workspace is. An unknown product key (`compass`) is kept as it came.
 *
 * @since 0.2.0
 * @category mapping
 */
export const toProductInstance = (workspace: Workspace): ProductInstance => {
  const product = workspace.attributes?.typeKey || workspace.attributes?.type || productOfAri(workspace.id) || "unknown"
  const site = hostOf(workspace.attributes?.hostUrl)
  return {
    product,
    host: site?.host,
    site: site?.site,
    key: entitlementKey(product, site?.host ?? workspace.id)
  }
}

/**
 * A v2 user, with its product access keyed like the v1 listing's (product key + the site's full host) by
 * the product instances (workspaces) its resource ids point to.
 *
 * @since 0.2.0
 * @category mapping
 */
export const toDirectoryAccount = (
  user: V2User,
  instances: ReadonlyMap<string, ProductInstance>,
  dropped: Dropped = { count: 0 }
): ProviderAccount => {
  const entitlements = user.productAccess === undefined || user.productAccess === null
    ? undefined
    : user.productAccess.map((access) => {
      const instance = access.id === null || access.id === undefined ? undefined : instances.get(access.id)
      const product = instance?.product ?? access.key ?? "unknown"
      // A resource no workspace names keeps its id in the key, so two unknown sites never merge.
      const key = instance === undefined ? entitlementKey(product, access.id ?? undefined) : instance.key
      const lastActiveAt = instantOf(access.lastActiveTimestamp, dropped)
      return unsafeEntitlement({
        key,
        product,
        site: instance?.site,
        siteHost: instance?.host,
        displayName: entitlementName(productName(product, undefined), instance?.site),
        status: "active",
        lastActiveAt,
        activitySource: lastActiveAt === undefined ? undefined : "atlassian.product"
      })
    })
  const latest = entitlements?.reduce<string | undefined>(
    (max, e) => (e.lastActiveAt !== undefined && (max === undefined || e.lastActiveAt > max) ? e.lastActiveAt : max),
    undefined
  )
  const accountType = user.accountType ?? "atlassian"
  const attributes: Record<string, string> = {}
  if (user.directoryId) attributes.directoryId = user.directoryId
  if (user.accountStatus) attributes.accountStatus = user.accountStatus
  if (user.membershipStatus) attributes.membershipStatus = user.membershipStatus
  if (user.claimStatus) attributes.claimStatus = user.claimStatus
  return unsafeProviderAccount({
    externalId: user.accountId,
    email: user.email ?? undefined,
    displayName: user.name ?? user.nickname ?? user.email ?? user.accountId,
    accountType,
    status: mapDirectoryStatus(user.status ?? undefined, user.accountStatus ?? undefined),
    sourceStatus: user.status ?? user.accountStatus ?? "unknown",
    lastActiveAt: latest,
    activitySource: latest === undefined ? undefined : "atlassian.product",
    entitlements,
    billable: !nonBillableAccountTypes.has(accountType),
    managed: user.claimStatus === "managed" ? true : user.claimStatus === "unmanaged" ? false : undefined,
    addedAt: instantOf(user.addedToOrg, dropped),
    roles: user.platformRoles ?? undefined,
    groups: user.groups === undefined || user.groups === null
      ? undefined
      : user.groups.map((g) => g.name ?? g.id ?? "").filter((g) => g !== ""),
    attributes
  })
}

// =============================================================================
// licences
// =============================================================================

const decodeEntitlement = Schema.decodeUnknownOption(WorkspaceEntitlement)

// A workspace's plan is on the entitlement among its relationships (`relationships.entitlements`).
const planOf = (workspace: Workspace): string | undefined => {
  for (const related of Object.values(workspace.relationships ?? {})) {
    if (!Array.isArray(related)) continue
    for (const item of related) {
      const entitlement = Option.getOrUndefined(decodeEntitlement(item))
      const other = entitlement?.type != null && !entitlement.type.startsWith("entitlement")
      if (entitlement === undefined || other) continue
      const plan = entitlement.attributes?.plan ?? entitlement.attributes?.planKey
      if (plan !== null && plan !== undefined && plan !== "") return plan
    }
  }
  return undefined
}

/**
 * A workspace as a licence: the product instance, its plan (verbatim, with the edition Seatkeeper
 * recognises) and its seats. The key joins the seats of the instance (product key + the site's full host).
 *
 * @since 0.2.0
 * @category mapping
 */
export const toLicense = (workspace: Workspace): License => {
  const instance = toProductInstance(workspace)
  const plan = planOf(workspace)
  const capacity = workspace.attributes?.capacity
  const usage = workspace.attributes?.usage
  const count = (n: number | null | undefined) =>
    n === null || n === undefined || !Number.isInteger(n) || n < 0 ? undefined : n
  return new License({
    key: instance.key,
    product: instance.product,
    productName: productName(instance.product, undefined),
    site: instance.site,
    siteHost: instance.host,
    plan,
    edition: editionOf(plan),
    seatsPurchased: count(capacity),
    seatsUsedBySource: count(usage),
    status: workspace.attributes?.status ?? undefined,
    sourceId: workspace.id
  }, trusted)
}

// =============================================================================
// the connection
// =============================================================================

/**
 * @since 0.1.0
 * @category models
 */
export const capabilities: ReadonlySet<Capability> = new Set<Capability>([
  "accounts",
  "lastActivity",
  "suspend",
  "restore",
  "lookup",
  "licenses",
  "preflight"
])

/**
 * The methods an Atlassian action can use.
 *
 * @since 0.2.0
 * @category models
 */
export const methods = {
  lifecycle: {
    suspend: "Deactivate the Atlassian account (lifecycle disable)",
    restore: "Reactivate the Atlassian account (lifecycle enable)"
  },
  directory: {
    suspend: "Suspend access in the organization's directory (not billed, reversible; keeps roles and groups)",
    restore: "Restore access in the organization's directory"
  }
} as const

/**
 * @since 0.2.0
 * @category models
 */
export type Method = keyof typeof methods

/**
 * Whether a string names one of the Atlassian methods.
 *
 * @since 0.2.0
 * @category mapping
 */
export const isMethod = (method: string | undefined): method is Method =>
  method === "lifecycle" || method === "directory"

/**
 * Which method fits an account: the one asked for (a restore names its suspend's), else directory for an
 * unmanaged account or one whose directory access is suspended (its restore undoes that), and lifecycle
 * for a managed one (Atlassian deactivates only those).
 *
 * @since 0.2.0
 * @category mapping
 */
export const methodFor = (target: ActionTarget, requested: string | undefined): Method =>
  isMethod(requested)
    ? requested
    : target.managed === false || target.attributes?.membershipStatus === "suspended"
    ? "directory"
    : "lifecycle"

/**
 * An Atlassian connection: a `ProviderConnection` whose optional parts are always there.
 *
 * @since 0.1.0
 * @category models
 */
export interface AtlassianConnection extends Provider.ProviderConnection {
  readonly lookup: NonNullable<Provider.ProviderConnection["lookup"]>
  readonly licenses: NonNullable<Provider.ProviderConnection["licenses"]>
  readonly preflight: NonNullable<Provider.ProviderConnection["preflight"]>
  /** Deactivates (managed) or suspends in the directory (unmanaged), with `reason` as Atlassian's block message. */
  readonly suspend: Provider.AccountAction
  /** Undoes a suspend with the same method (`options.method` from its receipt). */
  readonly restore: Provider.AccountAction
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
  Effect.gen(function*() {
    const client = yield* AtlassianClient.make(config)
    const directoryMode = config.includeUnmanaged === true

    // The product instances by resource id, read once per connection: v2 users name their products by
    // resource id only, and a connection lives for one sync.
    const instances = yield* Effect.cached(
      Stream.runFold(client.workspacesPages, new Map<string, ProductInstance>(), (map, page) => {
        for (const w of page.data) map.set(w.id, toProductInstance(w))
        return map
      })
    )

    // The v1 listing says `active` for an account whose directory access is suspended: the directory
    // search names those first. A key that may not read the directory keeps the v1 statuses, with a warning.
    const suspendedMembers = client.suspendedMemberIds.pipe(
      Effect.catchIf(
        (e) => e.reason === "Forbidden",
        (e) =>
          Effect.as(
            Effect.logWarning(
              "Atlassian: the directory search was refused, so accounts suspended in the directory read as " +
                "active; give the API key read access to directories (read:directories:admin)"
            ).pipe(Effect.annotateLogs({ reason: e.reason })),
            undefined
          )
      )
    )
    const v1Pages = Stream.unwrap(
      Effect.map(suspendedMembers, (suspended) =>
        Stream.mapEffect(client.usersPages, (page) => {
          const dropped = { count: 0 }
          const accounts = page.data.map((user) => toAccount(user, dropped, suspended))
          return Effect.as(warnDropped(dropped, "the v1 user listing"), {
            accounts,
            total: page.meta?.total ?? undefined
          })
        }))
    )

    const v2Pages = Stream.unwrap(
      Effect.map(instances, (map) =>
        Stream.mapEffect(client.directoryUsersPages, (page) => {
          const dropped = { count: 0 }
          const accounts = page.data.map((user) => toDirectoryAccount(user, map, dropped))
          // The directory search reports no total; the sync engine confirms every absence one by one.
          return Effect.as(warnDropped(dropped, "the directory user search"), { accounts, total: undefined })
        }))
    )

    // Invariant 2: gone is a 404 or `closed`, nothing else (an inactive or for_deletion account is there).
    const lookupV1 = (id: string) =>
      client.profile(id).pipe(
        Effect.map(Option.flatMap(({ account }) =>
          account.account_status === "closed"
            ? Option.none()
            : Option.some(
              // A profile has no products: `entitlements` stays undefined, so the store keeps what it knew.
              new ProviderAccount({
                externalId: account.account_id,
                email: account.email ?? undefined,
                displayName: account.name,
                accountType: account.account_type,
                status: mapStatus(account.account_status),
                sourceStatus: account.account_status,
                billable: !nonBillableAccountTypes.has(account.account_type),
                managed: true
              }, trusted)
            )
        ))
      )

    const lookupV2 = (id: string) =>
      Effect.flatMap(instances, (map) =>
        client.directoryUser(id).pipe(
          Effect.map(
            Option.flatMap((user) =>
              user.accountStatus === "closed" ? Option.none() : Option.some(toDirectoryAccount(user, map))
            )
          )
        ))

    const licenses: Stream.Stream<License, ProviderError> = Stream.flatMap(
      client.workspacesPages,
      (page) => Stream.fromIterable(page.data.map(toLicense))
    )

    const unknownAccount = (operation: string, id: string) =>
      new ProviderError({
        reason: "NotFound",
        provider: "atlassian",
        operation,
        description: `no directory of the organization has the account ${JSON.stringify(id.slice(0, 128))}`,
        hint: hints.accountNotFound
      })

    // What the method choice needs and the caller did not say, read from the directory: in directory mode
    // a bare id may be an unmanaged account, which only the directory method reaches.
    const resolve = (target: ActionTarget, operation: string, needRoles: boolean) => {
      const known = target.managed === true || (target.managed === false && (!needRoles || target.roles !== undefined))
      if (known || (!directoryMode && target.managed === undefined)) return Effect.succeed(target)
      return client.directoryUser(target.externalId, operation).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(unknownAccount(operation, target.externalId)),
          onSome: (user): Effect.Effect<ActionTarget> =>
            Effect.succeed({
              ...target,
              managed: user.claimStatus === "managed"
                ? true
                : user.claimStatus === "unmanaged"
                ? false
                : target.managed,
              roles: user.platformRoles ?? target.roles
            })
        }))
      )
    }

    const unknownMethod = (operation: string, requested: string) =>
      new ProviderError({
        reason: "Unsupported",
        provider: "atlassian",
        operation,
        description: `unknown method ${JSON.stringify(requested.slice(0, 40))}; Atlassian's methods are ` +
          `${Object.keys(methods).join(" and ")}`
      })

    const preflight = (
      input: string | ActionTarget,
      action: ActionKind,
      options?: { readonly method?: string | undefined }
    ) =>
      Effect.gen(function*() {
        const requested = options?.method
        // A preview of another method than the one asked for would answer the wrong question.
        if (requested !== undefined && !isMethod(requested)) {
          return yield* Effect.fail(unknownMethod("preflight", requested))
        }
        const target = yield* resolve(Provider.targetOf(input), "preflight", action === "suspend")
        const method = methodFor(target, requested)
        const methodLabel = methods[method][action]
        if (method === "directory") {
          // Atlassian has no read-only check for a directory suspend, and refuses to suspend an org admin.
          const admin = action === "suspend" && (target.roles?.includes("atlassian/org-admin") ?? false)
          return new ActionPreflight({
            action,
            method,
            methodLabel,
            allowed: !admin,
            ...(admin
              ? {
                reason: "an organization admin: Atlassian does not suspend an admin's access",
                code: "ADMIN-UAM-403-2",
                hint: hints.directorySuspend
              }
              : {})
          })
        }
        const answer = yield* client.manage(target.externalId)
        const rule = answer["lifecycle.enablement"]
        if (rule === undefined || rule.allowed) {
          return new ActionPreflight({ action, method, methodLabel, allowed: true })
        }
        const key = rule.reason?.key ?? "unknown"
        return new ActionPreflight({
          action,
          method,
          methodLabel,
          allowed: false,
          reason: Object.hasOwn(restrictionReasons, key) ? restrictionReasons[key]! : key,
          code: key,
          hint: restrictionHint(key)
        })
      })

    const act = (action: ActionKind): Provider.AccountAction => (input, options) =>
      Effect.gen(function*() {
        const requested = options?.method
        // Guessing another method would not undo what was done: refuse instead.
        if (requested !== undefined && !isMethod(requested)) return yield* Effect.fail(unknownMethod(action, requested))
        const target = requested === undefined
          ? yield* resolve(Provider.targetOf(input), action, false)
          : Provider.targetOf(input)
        const method = methodFor(target, requested)
        // `-` reaches every directory the key may manage, for a target whose directory the caller does not know.
        const directoryId = target.attributes?.directoryId ?? "-"
        const id = target.externalId
        yield* method === "lifecycle"
          ? (action === "suspend" ? client.disable(id, options?.reason) : client.enable(id))
          : (action === "suspend" ? client.directorySuspend(directoryId, id) : client.directoryRestore(directoryId, id))
        return new ActionReceipt({ method, methodLabel: methods[method][action] })
      })

    const lookup = directoryMode ? lookupV2 : lookupV1
    const suspend = act("suspend")
    const restore = act("restore")
    const connection = Provider.makeConnection({
      provider: "atlassian",
      budgetKey: client.budgetKey,
      verify: Effect.asVoid(client.getOrg),
      pages: directoryMode ? v2Pages : v1Pages,
      requestStats: client.stats,
      incompleteHint: hints.incomplete,
      lookup,
      licenses,
      preflight,
      suspend,
      restore
    })
    return {
      ...connection,
      lookup: connection.lookup!,
      licenses,
      preflight,
      suspend,
      restore
    } satisfies AtlassianConnection
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
    "Jira, Confluence, Jira Service Management and the other Atlassian Cloud products of one organization: " +
    "accounts with their product access and last activity, the product instances with their plans and seats, " +
    "and suspend/restore. Lists managed accounts, or every user with \"Include unmanaged accounts\".",
  configSchema: AtlassianConfig,
  capabilities,
  activitySources,
  actionMethods: Object.keys(methods),
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
