/**
 * Reclaiming seats: a policy says which idle seats to take back and whom to spare; evaluating it against
 * the inventory of the last applied sync gives the accounts to act on, each with its evidence, and the
 * accounts the policy spares, each with its reason. Pure: the host adds the provider's preflight answers
 * and prices, stores the plan, and executes it (`ReclaimEngine`).
 *
 * Rules that keep a reclaim safe:
 * - only seats (active entitlements of active, billable accounts, as `Seats` defines them) are reclaimed;
 * - a seat is idle when it is unused N days exactly as `Seats.isUnused` says (product-level activity);
 * - a provider that can only suspend a whole account (Atlassian) suspends it only when every seat the
 *   account holds is idle: an account that still uses another product is spared, with that reason;
 * - exclusions (admins, named accounts and groups, new accounts, exemptions until their end date) are
 *   reported, not silently dropped, so a reviewer sees who the policy kept and why.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { Instant } from "./Instant.js"
import type { StoredAccount, StoredEntitlement } from "./Inventory.js"
import * as Seats from "./Seats.js"

// =============================================================================
// policies
// =============================================================================

/**
 * Which seats a policy reclaims: those of some products (product keys such as `jira-software`, or product
 * instance keys), optionally of some plans; or every seat of whole accounts.
 *
 * @since 0.2.0
 * @category policies
 */
export const ReclaimScope = Schema.Union(
  Schema.TaggedStruct("seats", {
    /** Product keys or product instance (entitlement) keys; empty means every product. */
    products: Schema.Array(Schema.String.pipe(Schema.maxLength(200))).pipe(Schema.maxItems(100)),
    /** Plans (verbatim, as the licences say); empty means every plan. */
    plans: Schema.Array(Schema.String.pipe(Schema.maxLength(200))).pipe(Schema.maxItems(100))
  }),
  Schema.TaggedStruct("accounts", {})
)

/**
 * @since 0.2.0
 * @category policies
 */
export type ReclaimScope = typeof ReclaimScope.Type

/**
 * An account spared until a date, with the reason (parental leave, seasonal staff).
 *
 * @since 0.2.0
 * @category policies
 */
export const Exemption = Schema.Struct({
  externalId: Schema.NonEmptyString.pipe(Schema.maxLength(200)),
  reason: Schema.Trim.pipe(
    Schema.nonEmptyString({ message: () => "an exemption needs a reason" }),
    Schema.maxLength(500)
  ),
  /** The exemption ends at the start of this day (UTC) or instant. */
  until: Instant
})

/**
 * @since 0.2.0
 * @category policies
 */
export interface Exemption extends Schema.Schema.Type<typeof Exemption> {}

const Days = (min: number, max: number, what: string) =>
  Schema.Int.pipe(Schema.between(min, max, { message: () => `${what} must be a whole number from ${min} to ${max}` }))

/**
 * Who a policy never reclaims from.
 *
 * @since 0.2.0
 * @category policies
 */
export const Exclusions = Schema.Struct({
  /** Accounts with an administrative role (any role whose name says `admin`). Default true. */
  admins: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** Accounts by external id. */
  accounts: Schema.optionalWith(Schema.Array(Schema.String.pipe(Schema.maxLength(200))).pipe(Schema.maxItems(10_000)), {
    default: () => []
  }),
  /** Members of these groups. */
  groups: Schema.optionalWith(Schema.Array(Schema.String.pipe(Schema.maxLength(200))).pipe(Schema.maxItems(1_000)), {
    default: () => []
  }),
  /** Accounts first seen (or added to the organisation) less than this many days ago. Default 30. */
  newerThanDays: Schema.optionalWith(Days(0, 3650, "newerThanDays"), { default: () => 30 }),
  exemptions: Schema.optionalWith(Schema.Array(Exemption).pipe(Schema.maxItems(10_000)), { default: () => [] })
})

/**
 * A reclaim policy, as an admin writes it (and the store keeps, versioned).
 *
 * @since 0.2.0
 * @category policies
 */
export const ReclaimPolicy = Schema.Struct({
  name: Schema.Trim.pipe(Schema.nonEmptyString({ message: () => "a policy needs a name" }), Schema.maxLength(200)),
  scope: ReclaimScope,
  /** A seat is idle when unused for at least this many days (`Seats.isUnused`). */
  inactiveDays: Days(1, 3650, "inactiveDays"),
  exclude: Schema.optionalWith(Exclusions, { default: () => Schema.decodeSync(Exclusions)({}) }),
  /** A plan may be executed only while its sync data is younger than this. Default 48 hours. */
  maxDataAgeHours: Schema.optionalWith(Days(1, 24 * 30, "maxDataAgeHours"), { default: () => 48 }),
  /**
   * Plans acting on more accounts than this need an approver other than their author (four eyes); 0 means
   * every plan. Default 10.
   */
  fourEyesAbove: Schema.optionalWith(Days(0, 1_000_000, "fourEyesAbove"), { default: () => 10 }),
  /** How long after execution an account (or the whole plan) can be undone. Default 14 days. */
  undoDays: Schema.optionalWith(Days(0, 365, "undoDays"), { default: () => 14 })
})

/**
 * @since 0.2.0
 * @category policies
 */
export interface ReclaimPolicy extends Schema.Schema.Type<typeof ReclaimPolicy> {}

/**
 * @since 0.2.0
 * @category policies
 */
export type ReclaimPolicyInput = Schema.Schema.Encoded<typeof ReclaimPolicy>

// =============================================================================
// evaluation
// =============================================================================

/**
 * One seat a plan frees, with the evidence for it.
 *
 * @since 0.2.0
 * @category plans
 */
export const FreedSeat = Schema.Struct({
  key: Schema.String,
  name: Schema.String,
  product: Schema.String,
  plan: Schema.NullOr(Schema.String),
  lastActiveAt: Schema.NullOr(Schema.String),
  activitySource: Schema.NullOr(Schema.String)
})

/**
 * @since 0.2.0
 * @category plans
 */
export interface FreedSeat extends Schema.Schema.Type<typeof FreedSeat> {}

/**
 * An account a policy selects, before the provider's preflight: its seats (all idle) and the facts the
 * action needs.
 *
 * @since 0.2.0
 * @category plans
 */
export interface Candidate {
  readonly externalId: string
  readonly displayName: string
  readonly email: string | null
  readonly status: StoredAccount["status"]
  readonly managed: boolean | null
  readonly roles: ReadonlyArray<string>
  readonly attributes: Readonly<Record<string, string>>
  readonly lastActiveAt: string | null
  readonly seats: ReadonlyArray<FreedSeat>
}

/**
 * Why a policy spares an account it would otherwise reclaim.
 *
 * @since 0.2.0
 * @category plans
 */
export const ExclusionReason = Schema.Literal("exempt", "listed", "group", "admin", "new", "inUse")

/**
 * @since 0.2.0
 * @category plans
 */
export const Excluded = Schema.Struct({
  externalId: Schema.String,
  displayName: Schema.String,
  reason: ExclusionReason,
  /** In words: `exempt until 2027-03-01: parental leave`, `uses Confluence (acme), last active 2026-11-20`. */
  detail: Schema.String
})

/**
 * @since 0.2.0
 * @category plans
 */
export interface Excluded extends Schema.Schema.Type<typeof Excluded> {}

/**
 * @since 0.2.0
 * @category plans
 */
export interface Evaluation {
  readonly candidates: ReadonlyArray<Candidate>
  readonly excluded: ReadonlyArray<Excluded>
}

const isAdminRole = (role: string) => /admin/i.test(role)

const inScope = (scope: ReclaimScope, e: StoredEntitlement, planOf: (key: string) => string | null): boolean => {
  if (scope._tag === "accounts") return true
  const product = scope.products.length === 0 || scope.products.includes(e.product) || scope.products.includes(e.key)
  const plan = scope.plans.length === 0 || scope.plans.includes(planOf(e.key) ?? "")
  return product && plan
}

const day = (iso: string) => new Date(Date.parse(iso)).toISOString().slice(0, 10)

/**
 * When an account joined: the provider's date when it gives one; otherwise the earliest of when Seatkeeper
 * first saw it and its oldest recorded activity (an account active 100 days ago is not new, even on the
 * day Seatkeeper was installed).
 */
const joinedAt = (account: StoredAccount): { readonly at: string; readonly how: string } => {
  if (account.addedAt !== null) return { at: account.addedAt, how: "joined" }
  let at = account.firstSeenAt
  let how = "first seen"
  for (const seen of [account.lastActiveAt, ...account.entitlements.map((e) => e.lastActiveAt)]) {
    if (seen !== null && Date.parse(seen) < Date.parse(at)) {
      at = seen
      how = "active since at least"
    }
  }
  return { at, how }
}

/**
 * The accounts a policy reclaims from, and those it spares with the reason, at `now`.
 *
 * @since 0.2.0
 * @category plans
 */
export const evaluate = (
  policy: ReclaimPolicy,
  accounts: Iterable<StoredAccount>,
  options: {
    readonly now: number
    /** The plan of a product instance (entitlement key), when a licence says. */
    readonly planOf?: ((key: string) => string | null) | undefined
  }
): Evaluation => {
  const planOf = options.planOf ?? (() => null)
  const now = options.now
  const candidates: Array<Candidate> = []
  const excluded: Array<Excluded> = []
  for (const account of accounts) {
    const seats = account.entitlements.filter((e) => Seats.isSeat(account, e))
    const scoped = seats.filter((e) => inScope(policy.scope, e, planOf))
    if (scoped.length === 0) continue
    // Every scoped seat must be idle; a seat in use keeps the account out of the plan, unlisted.
    if (!scoped.every((e) => Seats.isUnused(account, e, policy.inactiveDays, now))) continue
    const spare = (reason: Excluded["reason"], detail: string) =>
      excluded.push({ externalId: account.externalId, displayName: account.displayName, reason, detail })
    // Instants keep the offset they were typed with: compare them as times, never as text.
    const exemption = policy.exclude.exemptions.find((x) =>
      x.externalId === account.externalId && Date.parse(x.until) > now
    )
    if (exemption !== undefined) {
      spare("exempt", `exempt until ${day(exemption.until)}: ${exemption.reason}`)
      continue
    }
    if (policy.exclude.accounts.includes(account.externalId)) {
      spare("listed", "excluded by name in the policy")
      continue
    }
    const group = account.groups.find((g) => policy.exclude.groups.includes(g))
    if (group !== undefined) {
      spare("group", `member of ${group}, which the policy excludes`)
      continue
    }
    const role = account.roles.find(isAdminRole)
    if (policy.exclude.admins && role !== undefined) {
      spare("admin", `holds the administrative role ${role}`)
      continue
    }
    const joined = joinedAt(account)
    if (Date.parse(joined.at) > Date.parse(Seats.cutoff(now, policy.exclude.newerThanDays))) {
      spare("new", `${joined.how} ${day(joined.at)}, less than ${policy.exclude.newerThanDays} days ago`)
      continue
    }
    // Suspending the account takes every seat it holds: it must not still use one of them.
    const used = seats.find((e) => !Seats.isUnused(account, e, policy.inactiveDays, now))
    if (used !== undefined) {
      spare(
        "inUse",
        `uses ${used.name}${used.lastActiveAt === null ? "" : `, last active ${day(used.lastActiveAt)}`}; ` +
          "suspending the account would take that seat too"
      )
      continue
    }
    candidates.push({
      externalId: account.externalId,
      displayName: account.displayName,
      email: account.email,
      status: account.status,
      managed: account.managed,
      roles: account.roles,
      attributes: account.attributes,
      lastActiveAt: account.lastActiveAt,
      seats: seats.map((e) => ({
        key: e.key,
        name: e.name,
        product: e.product,
        plan: planOf(e.key),
        lastActiveAt: e.lastActiveAt,
        activitySource: e.activitySource
      }))
    })
  }
  const byName = (a: { readonly displayName: string; readonly externalId: string }, b: typeof a) =>
    a.displayName.localeCompare(b.displayName) || (a.externalId < b.externalId ? -1 : 1)
  return { candidates: candidates.sort(byName), excluded: excluded.sort(byName) }
}

// =============================================================================
// prices and savings
// =============================================================================

/**
 * What one seat of a product (and plan) costs, as an admin entered it.
 *
 * @since 0.2.0
 * @category prices
 */
export const Price = Schema.Struct({
  product: Schema.NonEmptyString.pipe(Schema.maxLength(200)),
  /** A plan (verbatim); absent: every plan of the product without its own price. */
  plan: Schema.optional(Schema.String.pipe(Schema.maxLength(200))),
  amount: Schema.Number.pipe(
    Schema.nonNegative({ message: () => "amount must be 0 or more" }),
    Schema.lessThan(1_000_000_000)
  ),
  /** ISO 4217, e.g. `EUR`. */
  currency: Schema.String.pipe(
    Schema.pattern(/^[A-Z]{3}$/, { message: () => "currency must be an ISO 4217 code such as EUR" })
  ),
  period: Schema.Literal("monthly", "annual")
})

/**
 * @since 0.2.0
 * @category prices
 */
export interface Price extends Schema.Schema.Type<typeof Price> {}

/**
 * The monthly cost of one seat of `product` on `plan`, from the most specific price (product and plan,
 * else product), or `undefined` when no price is set.
 *
 * @since 0.2.0
 * @category prices
 */
export const monthlyCost = (
  prices: ReadonlyArray<Price>,
  product: string,
  plan: string | null
): { readonly amount: number; readonly currency: string } | undefined => {
  const price = prices.find((p) => p.product === product && p.plan !== undefined && p.plan === plan) ??
    prices.find((p) => p.product === product && p.plan === undefined)
  if (price === undefined) return undefined
  return { amount: price.period === "annual" ? price.amount / 12 : price.amount, currency: price.currency }
}

/**
 * Money per currency (plans can mix products priced in several currencies; they are never added up).
 *
 * @since 0.2.0
 * @category prices
 */
export const Money = Schema.Record({ key: Schema.String, value: Schema.Number })

/**
 * @since 0.2.0
 * @category prices
 */
export type Money = typeof Money.Type

/**
 * The monthly cost of seats, per currency; seats without a price are counted apart.
 *
 * @since 0.2.0
 * @category prices
 */
export const costOf = (
  prices: ReadonlyArray<Price>,
  seats: Iterable<{ readonly product: string; readonly plan: string | null }>
): { readonly monthly: Money; readonly unpriced: number } => {
  const monthly: Record<string, number> = {}
  let unpriced = 0
  for (const seat of seats) {
    const cost = monthlyCost(prices, seat.product, seat.plan)
    if (cost === undefined) unpriced++
    else monthly[cost.currency] = Math.round(((monthly[cost.currency] ?? 0) + cost.amount) * 100) / 100
  }
  return { monthly, unpriced }
}
