/**
 * The inventory as the last applied sync left it: accounts, their product entitlements and seats,
 * licences, and the status history; and the one write admins make to it (a suspend or restore done
 * upstream). `InventoryStore` is its storage port.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { AccountStatus } from "./Account.js"
import { Edition } from "./License.js"
import type { StoreError } from "./StoreError.js"

/**
 * @since 0.1.0
 * @category models
 */
export const StoredEntitlement = Schema.Struct({
  key: Schema.String,
  name: Schema.String,
  product: Schema.String,
  site: Schema.NullOr(Schema.String),
  siteHost: Schema.NullOr(Schema.String),
  status: AccountStatus,
  lastActiveAt: Schema.NullOr(Schema.String),
  activitySource: Schema.NullOr(Schema.String),
  role: Schema.NullOr(Schema.String),
  billable: Schema.NullOr(Schema.Boolean),
  firstSeenAt: Schema.String,
  lastSeenAt: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export interface StoredEntitlement extends Schema.Schema.Type<typeof StoredEntitlement> {}

/**
 * @since 0.1.0
 * @category models
 */
export const StoredAccount = Schema.Struct({
  connectionId: Schema.String,
  externalId: Schema.String,
  email: Schema.NullOr(Schema.String),
  displayName: Schema.String,
  accountType: Schema.String,
  status: AccountStatus,
  sourceStatus: Schema.String,
  lastActiveAt: Schema.NullOr(Schema.String),
  activitySource: Schema.NullOr(Schema.String),
  /** `false` when the source does not bill the account; `null` when it does not say (counted as billable). */
  billable: Schema.NullOr(Schema.Boolean),
  managed: Schema.NullOr(Schema.Boolean),
  addedAt: Schema.NullOr(Schema.String),
  roles: Schema.Array(Schema.String),
  groups: Schema.Array(Schema.String),
  attributes: Schema.Record({ key: Schema.String, value: Schema.String }),
  firstSeenAt: Schema.String,
  /** When a listing last returned it (for an account still listed: the last applied run). */
  lastSeenAt: Schema.String,
  /** The last suspend or restore an admin made, if any. */
  adminActionAt: Schema.NullOr(Schema.String),
  entitlements: Schema.Array(StoredEntitlement)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface StoredAccount extends Schema.Schema.Type<typeof StoredAccount> {}

/**
 * Why a status changed.
 *
 * @since 0.1.0
 * @category models
 */
export const StatusCause = Schema.Literal("sync", "suspend", "restore")

/**
 * @since 0.1.0
 * @category models
 */
export type StatusCause = typeof StatusCause.Type

/**
 * One status change of an account or of one of its entitlements.
 *
 * @since 0.1.0
 * @category models
 */
export const StatusEvent = Schema.Struct({
  at: Schema.String,
  externalId: Schema.String,
  /** `null` for the account itself, else the entitlement key. */
  entitlementKey: Schema.NullOr(Schema.String),
  from: Schema.NullOr(AccountStatus),
  to: AccountStatus,
  cause: StatusCause,
  runId: Schema.NullOr(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface StatusEvent extends Schema.Schema.Type<typeof StatusEvent> {}

/**
 * A page of a list. `total` counts every row the filters match, on every page (unless the query asked for
 * no count, `withTotal: false`: then it is `-1`); `prevCursor` and `nextCursor` are `null` at the ends.
 *
 * @since 0.1.0
 * @category models
 */
export interface Page<A> {
  readonly data: ReadonlyArray<A>
  readonly nextCursor: string | null
  readonly prevCursor: string | null
  readonly total: number
}

/**
 * How a list of accounts is ordered. `lastActive` puts accounts never active first in ascending order
 * (the ones to look at), last in descending.
 *
 * @since 0.2.0
 * @category models
 */
export const AccountSort = Schema.Literal("name", "email", "lastActive", "status", "firstSeen")

/**
 * @since 0.2.0
 * @category models
 */
export type AccountSort = typeof AccountSort.Type

/**
 * @since 0.1.0
 * @category models
 */
export interface AccountQuery {
  readonly connectionId: string
  readonly status?: AccountStatus | undefined
  /** An entitlement key (`confluence:acme.atlassian.net`) or a product key (`confluence`): accounts holding it, active. */
  readonly product?: string | undefined
  /** Accounts not active for at least this many days (account-level activity; never active counts). */
  readonly inactiveDays?: number | undefined
  /** Case-insensitive substring of email, display name or external id. */
  readonly q?: string | undefined
  readonly accountType?: string | undefined
  /** `true`: billable accounts only (see `Seats`); `false`: the ones the source does not bill. */
  readonly billable?: boolean | undefined
  readonly managed?: boolean | undefined
  readonly sort?: AccountSort | undefined
  readonly order?: "asc" | "desc" | undefined
  readonly limit: number
  /**
   * Opaque cursor from a previous page (`nextCursor` or `prevCursor`, which carry their direction); the
   * store rejects a forged one, or one of another list, with `StoreError` reason `Corrupt`.
   */
  readonly cursor?: string | undefined
  /** "now" for inactivity, ISO-8601; defaults to the current time. */
  readonly now?: string | undefined
  /**
   * `false`: the page's `total` is not counted (it is `-1`). A walk over every page (an export) needs no count,
   * and counting on each of its pages costs it time in proportion to the whole list, page after page.
   * Default `true`.
   *
   * @since 0.2.0
   */
  readonly withTotal?: boolean | undefined
}

/**
 * One seat (see `Seats`): an account and one entitlement of it.
 *
 * @since 0.2.0
 * @category models
 */
export interface Seat {
  readonly account: Omit<StoredAccount, "entitlements">
  readonly entitlement: StoredEntitlement
}

/**
 * Which seats to list: those of one product instance (`license`, an entitlement key) or of one product on
 * every site (`product`), of one plan, and `unusedDays` / `usedDays` exactly as `Seats` defines them.
 *
 * @since 0.2.0
 * @category models
 */
export interface SeatQuery {
  readonly connectionId: string
  readonly license?: string | undefined
  readonly product?: string | undefined
  /** The licence's plan, verbatim (seats of instances on that plan). */
  readonly plan?: string | undefined
  readonly unusedDays?: number | undefined
  readonly usedDays?: number | undefined
  readonly q?: string | undefined
  readonly sort?: AccountSort | undefined
  readonly order?: "asc" | "desc" | undefined
  readonly limit: number
  readonly cursor?: string | undefined
  readonly now?: string | undefined
  /** As `AccountQuery`'s: `false` skips the count (`total` is `-1`). */
  readonly withTotal?: boolean | undefined
}

/**
 * One product instance (a product on a site) with its seat counts as `Seats` defines them, and the licence
 * the source reported for it, if any.
 *
 * @since 0.2.0
 * @category models
 */
export const ProductSummary = Schema.Struct({
  /** The entitlement key (`jira-software:acme.atlassian.net`). */
  key: Schema.String,
  name: Schema.String,
  product: Schema.String,
  site: Schema.NullOr(Schema.String),
  siteHost: Schema.NullOr(Schema.String),
  plan: Schema.NullOr(Schema.String),
  edition: Schema.NullOr(Edition),
  seatsPurchased: Schema.NullOr(Schema.NonNegativeInt),
  seatsUsedBySource: Schema.NullOr(Schema.NonNegativeInt),
  /** Active entitlements of accounts that are not deprovisioned. */
  assigned: Schema.NonNegativeInt,
  /** Billable seats. */
  seats: Schema.NonNegativeInt,
  used30: Schema.NonNegativeInt,
  used60: Schema.NonNegativeInt,
  used90: Schema.NonNegativeInt,
  unused30: Schema.NonNegativeInt,
  unused60: Schema.NonNegativeInt,
  unused90: Schema.NonNegativeInt,
  deprovisioned: Schema.NonNegativeInt,
  lastActiveAt: Schema.NullOr(Schema.String),
  /** Whether the source reported a licence for this instance (false: seats seen, licence unknown). */
  licensed: Schema.Boolean
})

/**
 * @since 0.2.0
 * @category models
 */
export interface ProductSummary extends Schema.Schema.Type<typeof ProductSummary> {}

/**
 * A product instance's counts as one applied run left them, for trends.
 *
 * @since 0.2.0
 * @category models
 */
export const ProductSnapshot = Schema.Struct({
  runId: Schema.String,
  at: Schema.String,
  key: Schema.String,
  seatsPurchased: Schema.NullOr(Schema.NonNegativeInt),
  assigned: Schema.NonNegativeInt,
  seats: Schema.NonNegativeInt,
  used30: Schema.NonNegativeInt,
  unused90: Schema.NonNegativeInt
})

/**
 * @since 0.2.0
 * @category models
 */
export interface ProductSnapshot extends Schema.Schema.Type<typeof ProductSnapshot> {}

/**
 * Account counts by status and seat counts, for a dashboard. Every number equals the `total` of the list
 * its filters give (`listAccounts` / `listSeats`).
 *
 * @since 0.2.0
 * @category models
 */
export interface InventoryTotals {
  readonly accounts: number
  readonly byStatus: Readonly<Record<AccountStatus, number>>
  readonly billableAccounts: number
  readonly seats: number
  readonly unused30: number
  readonly unused60: number
  readonly unused90: number
}

/**
 * The storage port of the inventory.
 *
 * @since 0.2.0
 * @category tags
 */
export class InventoryStore extends Context.Tag("@seatkeeper/core/InventoryStore")<InventoryStore, {
  readonly listAccounts: (query: AccountQuery) => Effect.Effect<Page<StoredAccount>, StoreError>
  readonly getAccount: (
    connectionId: string,
    externalId: string
  ) => Effect.Effect<
    Option.Option<{ readonly account: StoredAccount; readonly history: ReadonlyArray<StatusEvent> }>,
    StoreError
  >
  /**
   * Records a status an admin's suspend or restore set upstream: the account's status, a status event, and
   * the time of the action, which the next applies of runs started before it respect (invariant 11).
   */
  readonly recordAction: (
    connectionId: string,
    externalId: string,
    status: AccountStatus,
    cause: Exclude<StatusCause, "sync">
  ) => Effect.Effect<Option.Option<StoredAccount>, StoreError>
  readonly listSeats: (query: SeatQuery) => Effect.Effect<Page<Seat>, StoreError>
  /** Every product instance with seats or a licence, by name. */
  readonly listProducts: (
    connectionId: string,
    now?: string
  ) => Effect.Effect<ReadonlyArray<ProductSummary>, StoreError>
  /** Product snapshots of the last `runs` applied runs, oldest first. */
  readonly productTrend: (
    connectionId: string,
    runs: number
  ) => Effect.Effect<ReadonlyArray<ProductSnapshot>, StoreError>
  readonly totals: (connectionId: string, now?: string) => Effect.Effect<InventoryTotals, StoreError>
}>() {}
