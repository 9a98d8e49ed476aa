/**
 * Seat arithmetic, defined once. Every count Seatkeeper shows (dashboard, products, plans, savings) is one
 * of these, and every store computes them exactly so (the store conformance suite compares a store's
 * counts with these functions on the same data).
 *
 * - An **assignment** is an `active` entitlement of an account that is not `deprovisioned`.
 * - A **seat** is an `active` entitlement of an `active`, **billable** account: the account's `billable` is
 *   not `false` (Atlassian: not a `customer` or `app` account) and the entitlement's `billable` is not
 *   `false` (a role the source documents as not billed, such as Atlassian's `atlassian/customer`,
 *   `atlassian/contributor`, `atlassian/basic`, `atlassian/stakeholder`). A suspended account holds no seat.
 * - A seat is **used in the last N days** when its entitlement's own (product-level) last activity is at
 *   most N days old.
 * - A seat is **unused N** when its product-level last activity is older than N days, or absent while the
 *   account has existed for more than N days (since it joined the organisation where the source says, else
 *   since Seatkeeper first saw it). A seat with no activity on an account younger than N days is neither:
 *   too new to judge.
 *
 * @since 0.2.0
 */
import type { StoredAccount, StoredEntitlement } from "./Inventory.js"

/**
 * Milliseconds in a day.
 *
 * @since 0.2.0
 * @category constants
 */
export const DAY_MS = 86_400_000

/**
 * Roles Atlassian documents as not billed (API-NOTES §1.5).
 *
 * @since 0.2.0
 * @category constants
 */
export const nonBillableRoles: ReadonlySet<string> = new Set([
  "atlassian/customer",
  "atlassian/contributor",
  "atlassian/basic",
  "atlassian/stakeholder"
])

type AccountFacts = Pick<StoredAccount, "status" | "billable" | "addedAt" | "firstSeenAt">
type EntitlementFacts = Pick<StoredEntitlement, "status" | "billable" | "lastActiveAt">

/**
 * Whether the source bills the account at all.
 *
 * @since 0.2.0
 * @category predicates
 */
export const isBillableAccount = (account: Pick<StoredAccount, "billable">): boolean => account.billable !== false

/**
 * @since 0.2.0
 * @category predicates
 */
export const isAssignment = (account: Pick<StoredAccount, "status">, entitlement: Pick<StoredEntitlement, "status">) =>
  entitlement.status === "active" && account.status !== "deprovisioned"

/**
 * @since 0.2.0
 * @category predicates
 */
export const isSeat = (account: AccountFacts, entitlement: EntitlementFacts): boolean =>
  entitlement.status === "active" && account.status === "active" && isBillableAccount(account) &&
  entitlement.billable !== false

/**
 * The instant `days` days before `now`, as a stored (ISO) instant: what "older than N days" compares with.
 *
 * @since 0.2.0
 * @category utils
 */
export const cutoff = (now: number, days: number): string => new Date(now - days * DAY_MS).toISOString()

/**
 * @since 0.2.0
 * @category predicates
 */
export const isUsed = (account: AccountFacts, entitlement: EntitlementFacts, days: number, now: number): boolean =>
  isSeat(account, entitlement) && entitlement.lastActiveAt !== null && entitlement.lastActiveAt >= cutoff(now, days)

/**
 * @since 0.2.0
 * @category predicates
 */
export const isUnused = (account: AccountFacts, entitlement: EntitlementFacts, days: number, now: number): boolean => {
  if (!isSeat(account, entitlement)) return false
  const before = cutoff(now, days)
  if (entitlement.lastActiveAt !== null) return entitlement.lastActiveAt < before
  return (account.addedAt ?? account.firstSeenAt) < before
}
