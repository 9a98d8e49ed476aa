/**
 * The domain model every provider maps into: accounts, their product/site entitlements and statuses.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

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
 * An ISO-8601 instant, kept as the string the source sent after checking it parses.
 *
 * @since 0.1.0
 * @category models
 */
export const Instant = Schema.String.pipe(
  Schema.filter((s) => !Number.isNaN(Date.parse(s)), { message: () => "expected an ISO-8601 date-time" })
).annotations({ identifier: "Instant" })

/**
 * One product on one site that an account can reach, e.g. `Confluence (acme)`. The `key` is stable across
 * syncs (product key + site) and is what reconciliation matches on.
 *
 * @since 0.1.0
 * @category models
 */
export class Entitlement extends Schema.Class<Entitlement>("@seatkeeper/core/Entitlement")({
  key: Schema.NonEmptyString,
  product: Schema.String,
  site: Schema.optional(Schema.String),
  displayName: Schema.String,
  status: AccountStatus,
  lastActiveAt: Schema.optional(Instant)
}) {}

/**
 * An account as a provider reports it, already mapped to Seatkeeper's statuses. `sourceStatus` is the
 * provider's own word for the status, verbatim.
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
  entitlements: Schema.Array(Entitlement)
}) {}

/**
 * What a provider can do. The host shows actions only for the capabilities a provider declares.
 *
 * @since 0.1.0
 * @category models
 */
export const Capability = Schema.Literal("accounts", "lastActivity", "suspend", "restore")

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
