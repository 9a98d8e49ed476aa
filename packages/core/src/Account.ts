/**
 * The domain model every provider maps into: accounts, their product/site entitlements and statuses.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as InstantModule from "./Instant.js"

/**
 * Seatkeeper's own status of an account or entitlement. A source status Seatkeeper does not know maps to
 * `unknown` (and is kept verbatim beside it), never to a guess.
 *
 * @since 0.1.0
 * @category models
 */
export const AccountStatus = Schema.Literal("active", "suspended", "deprovisioned", "unknown")

/**
 * @since 0.1.0
 * @category models
 */
export type AccountStatus = typeof AccountStatus.Type

/**
 * What kind of account this is, as the source says (`atlassian`, `customer`, `app`, ...). Kept open: an
 * unknown kind is stored as it came.
 *
 * @since 0.1.0
 * @category models
 */
export const AccountType = Schema.String.annotations({ title: "Account type" })

/**
 * An ISO-8601 instant, read strictly (see `Instant`).
 *
 * @since 0.1.0
 * @category models
 */
export const Instant = InstantModule.Instant

/**
 * One product on one site that an account can reach, e.g. `Confluence (acme)`. The `key` is stable across
 * syncs and unique per site (product key + the site's full host, invariant 4) and is what reconciliation
 * matches on.
 *
 * @since 0.1.0
 * @category models
 */
export class Entitlement extends Schema.Class<Entitlement>("@seatkeeper/core/Entitlement")({
  key: Schema.NonEmptyString,
  product: Schema.String,
  /** The site's short name, the first label of its host (`acme`). */
  site: Schema.optional(Schema.String),
  /** The site's full host (`acme.atlassian.net`), where the source gives one. */
  siteHost: Schema.optional(Schema.String),
  displayName: Schema.String,
  status: AccountStatus,
  lastActiveAt: Schema.optional(Instant),
  /** Which of the provider's activity sources `lastActiveAt` came from (`ProviderDefinition.activitySources`). */
  activitySource: Schema.optional(Schema.String),
  /** The role the account holds on this product, where the source says (`atlassian/user`, `atlassian/guest`). */
  role: Schema.optional(Schema.String),
  /** `false` when the source does not bill this assignment (a non-billable role); unknown otherwise. */
  billable: Schema.optional(Schema.Boolean)
}) {}

/**
 * An account as a provider reports it, already mapped to Seatkeeper's statuses. `sourceStatus` is the
 * provider's own word for the status, verbatim.
 *
 * `entitlements` absent means the source did not say which products the account holds (a page without
 * `product_access`, a lookup of one profile): the store keeps what it knew. Only an explicit empty list
 * removes them (invariant 2).
 *
 * @since 0.1.0
 * @category models
 */
export class ProviderAccount extends Schema.Class<ProviderAccount>("@seatkeeper/core/ProviderAccount")({
  externalId: Schema.NonEmptyString,
  email: Schema.optional(Schema.String),
  displayName: Schema.String,
  accountType: AccountType,
  status: AccountStatus,
  sourceStatus: Schema.String,
  lastActiveAt: Schema.optional(Instant),
  /** Which activity source `lastActiveAt` came from. */
  activitySource: Schema.optional(Schema.String),
  entitlements: Schema.optional(Schema.Array(Entitlement)),
  /** `false` when the source does not bill this account at all (Atlassian `customer` and `app` accounts). */
  billable: Schema.optional(Schema.Boolean),
  /** Whether the organisation manages the account (Atlassian: a claimed domain); unknown when absent. */
  managed: Schema.optional(Schema.Boolean),
  /** When the account joined the organisation, where the source says. */
  addedAt: Schema.optional(Instant),
  /** Administrative roles (`atlassian/org-admin`, SCIM `roles`), where the source says. */
  roles: Schema.optional(Schema.Array(Schema.String)),
  /** Group names, where the source says. */
  groups: Schema.optional(Schema.Array(Schema.String)),
  /**
   * Provider facts the adapter needs back to act on the account (e.g. its directory), opaque to everything
   * else. Kept with the account and handed back in an `ActionTarget`.
   */
  attributes: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
}) {}

/**
 * The fields of an {@link Entitlement}, as its constructor takes them.
 *
 * @since 0.2.0
 * @category models
 */
export type EntitlementFields = ConstructorParameters<typeof Entitlement>[0]

/**
 * The fields of a {@link ProviderAccount}, as its constructor takes them.
 *
 * @since 0.2.0
 * @category models
 */
export type ProviderAccountFields = ConstructorParameters<typeof ProviderAccount>[0]

/**
 * An entitlement from fields the caller has already checked (an adapter's validated page), without the
 * constructor's copy, default merge and checks: the same prototype, fields and equality as
 * `new Entitlement(fields, { disableValidation: true })`, for a fraction of what that costs a roster of
 * 100,000 accounts. The object given becomes the entitlement (its prototype is set, nothing is copied): pass
 * a fresh object literal and keep no other reference to it.
 *
 * @since 0.2.0
 * @category constructors
 */
export const unsafeEntitlement = (fields: EntitlementFields): Entitlement =>
  Object.setPrototypeOf(fields, Entitlement.prototype)

/**
 * An account from fields the caller has already checked, like {@link unsafeEntitlement}: the object given
 * becomes the account.
 *
 * @since 0.2.0
 * @category constructors
 */
export const unsafeProviderAccount = (fields: ProviderAccountFields): ProviderAccount =>
  Object.setPrototypeOf(fields, ProviderAccount.prototype)

/**
 * What a provider can do. The host shows actions only for the capabilities a provider declares.
 *
 * @since 0.1.0
 * @category models
 */
export const Capability = Schema.Literal(
  "accounts",
  "lastActivity",
  "suspend",
  "restore",
  "lookup",
  "licenses",
  "preflight"
)

/**
 * @since 0.1.0
 * @category models
 */
export type Capability = typeof Capability.Type

/**
 * Builds an entitlement's display name the way DESIGN.md invariant 4 fixes it: `<product> (<site>)`,
 * where the site is the first label of the product URL's host (`https://acme.atlassian.net` → `acme`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const entitlementName = (product: string, site: string | undefined): string =>
  site === undefined || site === "" ? product : `${product} (${site})`

/**
 * The first label of a URL's host, or `undefined` when the value is not a URL with a host.
 *
 * @since 0.1.0
 * @category constructors
 */
export const siteOfUrl = (url: string | undefined): string | undefined => {
  if (url === undefined || url === "") return undefined
  try {
    const host = new URL(url).hostname
    const label = host.split(".")[0]
    return label === undefined || label === "" ? undefined : label
  } catch {
    return undefined
  }
}

/**
 * The first label and the full host of a URL (`https://acme.atlassian.net/wiki` → `acme`, `acme.atlassian.net`),
 * or `undefined` when the value is not a URL with a host.
 *
 * @since 0.2.0
 * @category constructors
 */
export const siteOf = (url: string | undefined): { readonly site: string; readonly host: string } | undefined => {
  if (url === undefined || url === "") return undefined
  const known = sites.get(url)
  if (known !== undefined || sites.has(url)) return known
  let site: { readonly site: string; readonly host: string } | undefined
  try {
    const host = new URL(url).hostname.toLowerCase()
    const label = host.split(".")[0]
    site = label === undefined || label === "" ? undefined : { site: label, host }
  } catch {
    site = undefined
  }
  // A roster names a handful of sites on every page: parsing each URL once is enough.
  if (sites.size >= MAX_SITES) sites.clear()
  sites.set(url, site)
  return site
}

const MAX_SITES = 1024
const sites = new Map<string, { readonly site: string; readonly host: string } | undefined>()

/**
 * An entitlement key as invariant 4 fixes it: the product key and the site's full host
 * (`confluence:acme.atlassian.net`); the product key alone for a product without a site.
 *
 * @since 0.2.0
 * @category constructors
 */
export const entitlementKey = (product: string, host: string | undefined): string =>
  host === undefined || host === "" ? (product || "unknown") : `${product || "unknown"}:${host}`

/**
 * An instant from upstream in Seatkeeper's stored form, or `undefined` when it is absent or does not read
 * strictly as ISO-8601 (invariant 4: dropped, never guessed; the caller counts and logs the drop).
 *
 * @since 0.2.0
 * @category constructors
 */
export const readInstant = (value: string | null | undefined): string | undefined =>
  value === null || value === undefined || value === ""
    ? undefined
    : isStoredForm(value)
    ? value
    : Option.getOrUndefined(InstantModule.normalize(value))

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

const digitsAt = (value: string, at: number, count: number): number => {
  let n = 0
  for (let i = at; i < at + count; i++) {
    const c = value.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}

/**
 * Whether a value is already in the stored form (`2026-08-03T12:00:07.123Z`, what `Date#toISOString` writes
 * for the years 1000 to 9999), with fields in range: then it normalises to itself, so upstream instants in
 * that form (nearly all of them) are checked without a regular expression or a `Date`.
 */
const isStoredForm = (value: string): boolean => {
  if (
    value.length !== 24 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45 ||
    value.charCodeAt(10) !== 84 || value.charCodeAt(13) !== 58 || value.charCodeAt(16) !== 58 ||
    value.charCodeAt(19) !== 46 || value.charCodeAt(23) !== 90
  ) return false
  const year = digitsAt(value, 0, 4)
  const month = digitsAt(value, 5, 2)
  const day = digitsAt(value, 8, 2)
  const hour = digitsAt(value, 11, 2)
  const minute = digitsAt(value, 14, 2)
  const second = digitsAt(value, 17, 2)
  if (year < 1000 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) {
    return false
  }
  if (second < 0 || second > 59 || digitsAt(value, 20, 3) < 0) return false
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  return day <= DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)
}

// C0 and C1 control characters and DEL: nothing a name, email or status needs, and PostgreSQL cannot store a NUL.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]+/g

/**
 * Upstream text without control characters: tabs and line breaks become one space, the rest is removed.
 *
 * @since 0.2.0
 * @category constructors
 */
export const cleanText = (text: string): string =>
  CONTROL.test(text) ? text.replace(CONTROL_ALL, (run) => (/[\t\n\r]/.test(run) ? " " : "")).trim() : text

const cleanOptional = (
  text: string | undefined
): string | undefined => (text === undefined ? undefined : cleanText(text))

const hasControlIn = (texts: ReadonlyArray<string> | undefined): boolean => {
  if (texts === undefined) return false
  for (let i = 0; i < texts.length; i++) if (CONTROL.test(texts[i]!)) return true
  return false
}

const hasControl = (account: ProviderAccount): boolean => {
  if (CONTROL.test(account.externalId) || CONTROL.test(account.displayName) || CONTROL.test(account.sourceStatus)) {
    return true
  }
  if (CONTROL.test(account.accountType) || (account.email !== undefined && CONTROL.test(account.email))) return true
  if (hasControlIn(account.roles) || hasControlIn(account.groups)) return true
  const entitlements = account.entitlements
  if (entitlements === undefined) return false
  for (let i = 0; i < entitlements.length; i++) {
    const e = entitlements[i]!
    if (CONTROL.test(e.key) || CONTROL.test(e.displayName) || CONTROL.test(e.product)) return true
    if ((e.site !== undefined && CONTROL.test(e.site)) || (e.role !== undefined && CONTROL.test(e.role))) return true
  }
  return false
}

const trusted = { disableValidation: true } as const

/**
 * The account with control characters removed from every text field (upstream data is input like any
 * other). Returns the same object when there is nothing to clean, which is nearly always.
 *
 * @since 0.2.0
 * @category constructors
 */
export const sanitizeAccount = (account: ProviderAccount): ProviderAccount => {
  if (!hasControl(account)) return account
  const externalId = cleanText(account.externalId)
  return new ProviderAccount({
    ...account,
    externalId: externalId === "" ? "invalid-id" : externalId,
    email: cleanOptional(account.email),
    displayName: cleanText(account.displayName),
    accountType: cleanText(account.accountType),
    sourceStatus: cleanText(account.sourceStatus),
    roles: account.roles?.map(cleanText),
    groups: account.groups?.map(cleanText),
    entitlements: account.entitlements?.map((e) =>
      new Entitlement({
        ...e,
        key: cleanText(e.key) || "unknown",
        displayName: cleanText(e.displayName),
        product: cleanText(e.product),
        site: cleanOptional(e.site),
        role: cleanOptional(e.role)
      }, trusted)
    )
  }, trusted)
}

// No attributes and unknown attributes digest alike: an adapter that starts saying `{}` where it said
// nothing (Atlassian's v1 listing, once it knows an account is not suspended in the directory) does not
// make every stored account look changed; a record that empties still does.
const sortedRecord = (record: Readonly<Record<string, string>> | undefined) => {
  if (record === undefined) return null
  const keys = Object.keys(record)
  return keys.length === 0 ? null : keys.sort().map((k) => [k, record[k]])
}

const byKey = (a: Entitlement, b: Entitlement) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)

const isSortedByKey = (entitlements: ReadonlyArray<Entitlement>): boolean => {
  for (let i = 1; i < entitlements.length; i++) if (entitlements[i - 1]!.key > entitlements[i]!.key) return false
  return true
}

const entitlementFields = (e: Entitlement) => [
  e.key,
  e.product,
  e.site ?? null,
  e.siteHost ?? null,
  e.displayName,
  e.status,
  e.lastActiveAt ?? null,
  e.activitySource ?? null,
  e.role ?? null,
  e.billable ?? null
]

/**
 * A digest of everything a reading of an account says (its fields and its entitlements, in a fixed order),
 * so a store can tell an unchanged account from a changed one without comparing field by field: a
 * steady-state resync then writes almost nothing. Equal readings have equal digests, whatever order the
 * adapter built them in. Stored digests depend on its exact output: SHA-1 (base64url) of the JSON of the
 * fields below, in this order.
 *
 * @since 0.2.0
 * @category utils
 */
export const digest = (account: ProviderAccount): string => {
  const listed = account.entitlements
  const entitlements = listed === undefined
    ? null
    : (isSortedByKey(listed) ? listed : [...listed].sort(byKey)).map(entitlementFields)
  const fields = [
    account.externalId,
    account.email ?? null,
    account.displayName,
    account.accountType,
    account.status,
    account.sourceStatus,
    account.lastActiveAt ?? null,
    account.activitySource ?? null,
    account.billable ?? null,
    account.managed ?? null,
    account.addedAt ?? null,
    account.roles ?? null,
    account.groups ?? null,
    sortedRecord(account.attributes),
    entitlements
  ]
  return Crypto.hash("sha1", JSON.stringify(fields), "base64url")
}
