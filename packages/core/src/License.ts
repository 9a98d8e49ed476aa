/**
 * Licences: what an organisation pays for, one row per product instance (site), as a provider reports it.
 * Seats are counted from entitlements (`Seats`); a licence adds what only the source knows: the plan and
 * how many seats were bought.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"

/**
 * The editions Seatkeeper recognises in a plan name. A plan it does not recognise is kept verbatim in
 * `License.plan` with no edition: never dropped, never guessed.
 *
 * @since 0.2.0
 * @category models
 */
export const Edition = Schema.Literal("free", "standard", "premium", "enterprise")

/**
 * @since 0.2.0
 * @category models
 */
export type Edition = typeof Edition.Type

/**
 * The edition a plan name or key names (`"Premium"`, `"confluence.ondemand.premium"`, `"STANDARD"`), if any.
 *
 * @since 0.2.0
 * @category constructors
 */
export const editionOf = (plan: string | undefined): Edition | undefined => {
  if (plan === undefined) return undefined
  const words = plan.toLowerCase().split(/[^a-z]+/)
  for (const edition of Edition.literals) if (words.includes(edition)) return edition
  return undefined
}

/**
 * One product instance: a product on a site, its plan and seat capacity where the source says. `key`
 * matches the `Entitlement.key` of the seats it licenses (product key + the site's full host), so seats
 * and licences join.
 *
 * @since 0.2.0
 * @category models
 */
export class License extends Schema.Class<License>("@seatkeeper/core/License")({
  key: Schema.NonEmptyString,
  /** The product key (`jira-software`), verbatim: an unknown product is kept as it came. */
  product: Schema.String,
  /** The product's name as the source shows it (`Jira Software`). */
  productName: Schema.String,
  /** The site's short name (`acme`) and full host (`acme.atlassian.net`), where there is a site. */
  site: Schema.optional(Schema.String),
  siteHost: Schema.optional(Schema.String),
  /** The plan, verbatim (`Premium`, `confluence.ondemand.premium`, a plan Seatkeeper does not know). */
  plan: Schema.optional(Schema.String),
  /** The edition the plan names, when Seatkeeper recognises it. */
  edition: Schema.optional(Edition),
  /** Seats bought (the source's capacity), where it says. */
  seatsPurchased: Schema.optional(Schema.NonNegativeInt),
  /** Seats in use as the source counts them (its own rules), where it says. */
  seatsUsedBySource: Schema.optional(Schema.NonNegativeInt),
  /** The source's status of the instance (`online`, `offline`, `deprecated`), verbatim. */
  status: Schema.optional(Schema.String),
  /** The source's own id of the instance (an ARI, a workspace id). */
  sourceId: Schema.optional(Schema.String)
}) {}
