/**
 * The JSON shapes of the HTTP API, as Schemas (the OpenAPI document is generated from them, and tests
 * validate real responses against it), made from store records. Kept stable: the UI, tests, the CLI and
 * scripts rely on them.
 *
 * @since 0.1.0
 */
import { AccountStatus } from "@seatkeeper/core/Account"
import type { ConnectionRecord } from "@seatkeeper/core/Connection"
import { StatusEvent, type StoredAccount, type StoredEntitlement } from "@seatkeeper/core/Inventory"
import { ProductSnapshot, ProductSummary } from "@seatkeeper/core/Inventory"
import type { ActivitySource, ProviderDefinition } from "@seatkeeper/core/Provider"
import { isBillableAccount } from "@seatkeeper/core/Seats"
import { SyncRun } from "@seatkeeper/core/SyncRun"
import * as Schema from "effect/Schema"
import { maskConfig } from "./connectionConfig.js"

const Nullable = <S extends Schema.Schema.Any>(s: S) => Schema.NullOr(s)

/**
 * @since 0.1.0
 * @category views
 */
export const EntitlementView = Schema.Struct({
  key: Schema.String,
  name: Schema.String,
  product: Schema.String,
  site: Nullable(Schema.String),
  siteHost: Nullable(Schema.String),
  status: AccountStatus,
  lastActiveAt: Nullable(Schema.String),
  activitySource: Nullable(Schema.String),
  role: Nullable(Schema.String),
  /** Whether this assignment is billed (`false` for a role the source does not bill). */
  billable: Schema.Boolean,
  firstSeenAt: Schema.String,
  lastSeenAt: Schema.String
}).annotations({ identifier: "Entitlement" })

/**
 * @since 0.1.0
 * @category views
 */
export interface EntitlementView extends Schema.Schema.Type<typeof EntitlementView> {}

/**
 * @since 0.1.0
 * @category views
 */
export const AccountView = Schema.Struct({
  externalId: Schema.String,
  email: Nullable(Schema.String),
  displayName: Schema.String,
  accountType: Schema.String,
  status: AccountStatus,
  sourceStatus: Schema.String,
  lastActiveAt: Nullable(Schema.String),
  activitySource: Nullable(Schema.String),
  /** Whether the source bills the account at all (Atlassian: not a customer or app account). */
  billable: Schema.Boolean,
  /** Whether the organisation manages the account; `null` when the source does not say. */
  managed: Nullable(Schema.Boolean),
  addedAt: Nullable(Schema.String),
  roles: Schema.Array(Schema.String),
  groups: Schema.Array(Schema.String),
  firstSeenAt: Schema.String,
  lastSeenAt: Schema.String,
  adminActionAt: Nullable(Schema.String),
  entitlements: Schema.Array(EntitlementView)
}).annotations({ identifier: "Account" })

/**
 * @since 0.1.0
 * @category views
 */
export interface AccountView extends Schema.Schema.Type<typeof AccountView> {}

/**
 * Where a last-activity value comes from and how fresh the source says it is.
 *
 * @since 0.2.0
 * @category views
 */
export const ActivitySourceView = Schema.Struct({
  id: Schema.String,
  label: Schema.String,
  definition: Schema.String,
  maxLagHours: Nullable(Schema.Number)
}).annotations({ identifier: "ActivitySource" })

/**
 * @since 0.1.0
 * @category views
 */
export const AccountDetailView = Schema.Struct({
  ...AccountView.fields,
  history: Schema.Array(StatusEvent),
  /** The sources its last-activity values came from. */
  activitySources: Schema.Array(ActivitySourceView)
}).annotations({ identifier: "AccountDetail" })

/**
 * @since 0.1.0
 * @category views
 */
export interface AccountDetailView extends Schema.Schema.Type<typeof AccountDetailView> {}

const entitlementView = (e: StoredEntitlement): EntitlementView => ({
  key: e.key,
  name: e.name,
  product: e.product,
  site: e.site,
  siteHost: e.siteHost,
  status: e.status,
  lastActiveAt: e.lastActiveAt,
  activitySource: e.activitySource,
  role: e.role,
  billable: e.billable !== false,
  firstSeenAt: e.firstSeenAt,
  lastSeenAt: e.lastSeenAt
})

/**
 * @since 0.1.0
 * @category views
 */
export const accountView = (
  a: Omit<StoredAccount, "entitlements"> & { readonly entitlements?: StoredAccount["entitlements"] }
): AccountView => ({
  externalId: a.externalId,
  email: a.email,
  displayName: a.displayName,
  accountType: a.accountType,
  status: a.status,
  sourceStatus: a.sourceStatus,
  lastActiveAt: a.lastActiveAt,
  activitySource: a.activitySource,
  billable: isBillableAccount(a),
  managed: a.managed,
  addedAt: a.addedAt,
  roles: a.roles,
  groups: a.groups,
  firstSeenAt: a.firstSeenAt,
  lastSeenAt: a.lastSeenAt,
  adminActionAt: a.adminActionAt,
  entitlements: (a.entitlements ?? []).map(entitlementView)
})

/**
 * The sources an account's activity values name, as the provider documents them.
 *
 * @since 0.2.0
 * @category views
 */
export const activitySourcesOf = (
  account: StoredAccount,
  provider: ProviderDefinition | undefined
): ReadonlyArray<typeof ActivitySourceView.Type> => {
  const used = new Set([account.activitySource, ...account.entitlements.map((e) => e.activitySource)])
  return (provider?.activitySources ?? [])
    .filter((s: ActivitySource) => used.has(s.id))
    .map((s) => ({ id: s.id, label: s.label, definition: s.definition, maxLagHours: s.maxLagHours ?? null }))
}

/**
 * One seat: the account (without its other entitlements) and the entitlement that is the seat.
 *
 * @since 0.2.0
 * @category views
 */
export const SeatView = Schema.Struct({
  account: AccountView.pipe(Schema.omit("entitlements")),
  entitlement: EntitlementView
}).annotations({ identifier: "Seat" })

/**
 * @since 0.2.0
 * @category views
 */
export interface SeatView extends Schema.Schema.Type<typeof SeatView> {}

/**
 * A sync run as the API shows it: the store's record.
 *
 * @since 0.1.0
 * @category views
 */
export const SyncView = SyncRun.annotations({ identifier: "SyncRun" })

/**
 * @since 0.1.0
 * @category views
 */
export interface SyncView extends Schema.Schema.Type<typeof SyncView> {}

/**
 * A connection as shown: its config without secrets, its sync settings and its latest sync.
 *
 * @since 0.1.0
 * @category views
 */
export const ConnectionView = Schema.Struct({
  id: Schema.String,
  provider: Schema.String,
  name: Schema.String,
  config: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  syncIntervalMinutes: Schema.Number,
  holdThresholdPercent: Schema.Number,
  maxLookups: Schema.Number,
  deadlineMinutes: Schema.Number,
  createdAt: Schema.String,
  updatedAt: Schema.String,
  lastSync: Schema.NullOr(SyncView)
}).annotations({ identifier: "Connection" })

/**
 * @since 0.1.0
 * @category views
 */
export interface ConnectionView extends Schema.Schema.Type<typeof ConnectionView> {}

/**
 * @since 0.1.0
 * @category views
 */
export const connectionView = (
  c: ConnectionRecord,
  provider: ProviderDefinition | undefined,
  lastSync: SyncView | undefined
): ConnectionView => ({
  id: c.id,
  provider: c.provider,
  name: c.name,
  config: maskConfig(provider, c.config),
  syncIntervalMinutes: c.syncIntervalMinutes,
  holdThresholdPercent: c.holdThresholdPercent,
  maxLookups: c.maxLookups,
  deadlineMinutes: c.deadlineMinutes,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
  lastSync: lastSync ?? null
})

/**
 * A product instance with its seat counts.
 *
 * @since 0.2.0
 * @category views
 */
export const ProductView = ProductSummary.annotations({ identifier: "Product" })

/**
 * @since 0.2.0
 * @category views
 */
export const ProductTrendView = ProductSnapshot.annotations({ identifier: "ProductSnapshot" })

/**
 * A page of a list.
 *
 * @since 0.2.0
 * @category views
 */
export const PageView = <S extends Schema.Schema.Any>(item: S) =>
  Schema.Struct({
    data: Schema.Array(item),
    nextCursor: Schema.NullOr(Schema.String),
    prevCursor: Schema.NullOr(Schema.String),
    total: Schema.Number
  })

/**
 * A list without paging.
 *
 * @since 0.2.0
 * @category views
 */
export const ListView = <S extends Schema.Schema.Any>(item: S) => Schema.Struct({ data: Schema.Array(item) })
