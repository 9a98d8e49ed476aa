/**
 * The rows the stores read, as Schemas from the columns (snake_case, booleans as 0/1, JSON as text, counts
 * as strings on PostgreSQL) to core's domain types. A row that does not decode is `Corrupt`.
 *
 * @internal
 */
import { AccountStatus } from "@seatkeeper/core/Account"
import { ActionKind } from "@seatkeeper/core/Action"
import { AuditOutcome } from "@seatkeeper/core/Audit"
import { StatusCause } from "@seatkeeper/core/Inventory"
import { Edition } from "@seatkeeper/core/License"
import { Excluded, FreedSeat, Money, ReclaimPolicy } from "@seatkeeper/core/Reclaim"
import { ItemPreflight, Journal, PlanItemState, PlanStatus } from "@seatkeeper/core/ReclaimStore"
import { SyncDecision, SyncHold, SyncRunError, SyncRunStatus } from "@seatkeeper/core/SyncRun"
import { Role } from "@seatkeeper/core/User"
import { WebhookEvent } from "@seatkeeper/core/Webhook"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { column, Count, Flag } from "./sql.js"

// The accounts and seats lists decode about a thousand values a page, and decoding was most of what a list
// request allocated. `NullOr` and a literal `Union` build their candidate lists for every value and, for a
// null, fail the string member (a composite issue) before they try `null`; `parseJson` of an array parses,
// then walks the result through a second parser. The leaves below check each value once: the same values
// decode to the same results, and the same values fail (as `Corrupt`: see `corruptRow`).

/** A text column that may be NULL. */
const NullableText = Schema.declare((u: unknown): u is string | null => u === null || Predicate.isString(u), {
  description: "a string or null"
})

const statuses: ReadonlySet<unknown> = new Set(AccountStatus.literals)

/** An account's or entitlement's status, as `AccountStatus` (one set lookup instead of a literal union). */
const Status = Schema.declare((u: unknown): u is AccountStatus => statuses.has(u), {
  description: `one of ${AccountStatus.literals.join(", ")}`
})

/** A `Flag` column that may be NULL (unknown). */
const NullableFlag = Schema.transform(
  Schema.declare(
    (u: unknown): u is 0 | 1 | boolean | null => u === null || u === 0 || u === 1 || typeof u === "boolean",
    {
      description: "0, 1 or null"
    }
  ),
  Schema.declare((u: unknown): u is boolean | null => u === null || typeof u === "boolean", {
    description: "a boolean or null"
  }),
  {
    strict: true,
    decode: (v) => (v === null ? null : v === 1 || v === true),
    encode: (b) => (b === null ? null : b ? 1 : 0)
  }
)

/** A JSON text whose value passes `is`. */
const jsonOf = <A>(what: string, is: (value: unknown) => value is A) =>
  Schema.transformOrFail(Schema.String, Schema.declare(is, { description: what }), {
    strict: true,
    decode: (text, _, ast) => {
      try {
        return ParseResult.succeed(JSON.parse(text) as A)
      } catch {
        return ParseResult.fail(new ParseResult.Type(ast, text, `not JSON text: expected ${what}`))
      }
    },
    encode: (value) => ParseResult.succeed(JSON.stringify(value))
  })

/** A JSON array of strings (roles, groups). */
const Strings = jsonOf(
  "an array of strings",
  (v): v is ReadonlyArray<string> => Array.isArray(v) && v.every(Predicate.isString)
)

/** A JSON object of strings (an account's attributes). */
const Attributes = jsonOf(
  "an object of strings",
  (v): v is { readonly [key: string]: string } =>
    typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every(Predicate.isString)
)

const JsonOrNull = <A, I>(schema: Schema.Schema<A, I>) => Schema.NullOr(Schema.parseJson(schema))

// =============================================================================
// connections
// =============================================================================

/** @internal */
export const ConnectionRow = Schema.Struct({
  id: Schema.String,
  provider: Schema.String,
  name: Schema.String,
  sealed: column(Schema.String, "config_ciphertext"),
  syncIntervalMinutes: column(Count, "sync_interval_minutes"),
  holdThresholdPercent: column(Count, "hold_threshold_percent"),
  maxLookups: column(Count, "max_lookups"),
  deadlineMinutes: column(Count, "deadline_minutes"),
  createdAt: column(Schema.String, "created_at"),
  updatedAt: column(Schema.String, "updated_at")
})

// =============================================================================
// runs
// =============================================================================

/** @internal */
export const RunRow = Schema.Struct({
  id: Schema.String,
  connectionId: column(Schema.String, "connection_id"),
  status: SyncRunStatus,
  startedAt: column(Schema.String, "started_at"),
  finishedAt: column(NullableText, "finished_at"),
  accounts: Count,
  created: Count,
  updated: Count,
  unchanged: Count,
  deprovisioned: Count,
  entitlementsDeprovisioned: column(Count, "entitlements_deprovisioned"),
  absentConfirmed: column(Count, "absent_confirmed"),
  absentButPresent: column(Count, "absent_but_present"),
  absentPending: column(Count, "absent_pending"),
  lookups: Count,
  adminActionsKept: column(Count, "admin_actions_kept"),
  totalAtStart: column(Schema.NullOr(Count), "total_at_start"),
  totalAtEnd: column(Schema.NullOr(Count), "total_at_end"),
  rosterShifted: column(Flag, "roster_shifted"),
  licenses: Count,
  requests: Count,
  retries: Count,
  rateLimited: column(Count, "rate_limited"),
  error: JsonOrNull(SyncRunError),
  hold: JsonOrNull(SyncHold),
  decision: JsonOrNull(SyncDecision)
})

/** @internal */
export type RunRow = typeof RunRow.Type

/** The columns `RunRow` reads. */
export const runColumns = `id, connection_id, status, started_at, finished_at, accounts, created, updated, unchanged,
  deprovisioned, entitlements_deprovisioned, absent_confirmed, absent_but_present, absent_pending, lookups,
  admin_actions_kept, total_at_start, total_at_end, roster_shifted, licenses, requests, retries, rate_limited,
  error, hold, decision`

/** @internal */
export const LockRow = Schema.Struct({
  connectionId: column(Schema.String, "connection_id"),
  runId: column(Schema.String, "run_id"),
  leaseExpiresAt: column(Schema.String, "lease_expires_at")
})

// =============================================================================
// accounts and entitlements
// =============================================================================

/**
 * An entitlement as the inventory reads it: a JSON object of its columns under the domain's names (built in
 * SQL, see `SqlInventoryStore`), so that decoding renames nothing. A page of accounts carries their
 * entitlements as one JSON array each (`AccountFields.entitlements`): one row per account, one statement.
 *
 * @internal
 */
export const EntitlementFields = Schema.Struct({
  key: Schema.String,
  name: Schema.String,
  product: Schema.String,
  site: NullableText,
  siteHost: NullableText,
  status: Status,
  lastActiveAt: NullableText,
  activitySource: NullableText,
  role: NullableText,
  billable: NullableFlag,
  firstSeenAt: Schema.String,
  lastSeenAt: Schema.String
}).annotations({ identifier: "Entitlement" })

/**
 * An account's columns selected under the domain's names (`AS "externalId"`, see `SqlInventoryStore`), so
 * that decoding renames nothing.
 *
 * @internal
 */
export const AccountFields = Schema.Struct({
  connectionId: Schema.String,
  externalId: Schema.String,
  email: NullableText,
  displayName: Schema.String,
  accountType: Schema.String,
  status: Status,
  sourceStatus: Schema.String,
  lastActiveAt: NullableText,
  activitySource: NullableText,
  billable: NullableFlag,
  managed: NullableFlag,
  addedAt: NullableText,
  roles: Strings,
  groups: Strings,
  attributes: Attributes,
  firstSeenAt: Schema.String,
  lastSeenAt: Schema.String,
  adminActionAt: NullableText
})

/**
 * A row of the accounts list: an account, its entitlements (a JSON array of `EntitlementFields`) and the
 * value its sort orders by (for the cursor).
 *
 * @internal
 */
export const AccountListRow = Schema.Struct({
  ...AccountFields.fields,
  entitlements: Schema.parseJson(Schema.Array(EntitlementFields)),
  sortValue: Schema.String
}).annotations({ identifier: "AccountListRow" })

/**
 * A row of the seats list: an account, one of its entitlements (a JSON object of `EntitlementFields`) and
 * the sort value.
 *
 * @internal
 */
export const SeatListRow = Schema.Struct({
  ...AccountFields.fields,
  entitlement: Schema.parseJson(EntitlementFields),
  sortValue: Schema.String
}).annotations({ identifier: "SeatListRow" })

/**
 * A count as of a version of the database (`stamp`: see `SqlInventoryStore`'s count cache); no stamp when
 * the connection does not exist.
 *
 * @internal
 */
export const StampedCountRow = Schema.Struct({ stamp: Schema.NullOr(Schema.String), n: Count })

/** @internal */
export const EventRow = Schema.Struct({
  at: Schema.String,
  externalId: column(Schema.String, "external_id"),
  entitlementKey: column(NullableText, "entitlement_key"),
  from: column(Schema.NullOr(AccountStatus), "from_status"),
  to: column(AccountStatus, "to_status"),
  cause: StatusCause,
  runId: column(NullableText, "run_id")
})

// =============================================================================
// products
// =============================================================================

/** @internal */
export const ProductRow = Schema.Struct({
  key: Schema.String,
  name: Schema.String,
  product: Schema.String,
  site: NullableText,
  siteHost: column(NullableText, "site_host"),
  plan: NullableText,
  edition: Schema.NullOr(Edition),
  seatsPurchased: column(Schema.NullOr(Count), "seats_purchased"),
  seatsUsedBySource: column(Schema.NullOr(Count), "seats_used_by_source"),
  assigned: Count,
  seats: Count,
  used30: Count,
  used60: Count,
  used90: Count,
  unused30: Count,
  unused60: Count,
  unused90: Count,
  deprovisioned: Count,
  lastActiveAt: column(NullableText, "last_active_at"),
  licensed: Flag
})

/** @internal */
export const SnapshotRow = Schema.Struct({
  runId: column(Schema.String, "run_id"),
  at: Schema.String,
  key: Schema.String,
  seatsPurchased: column(Schema.NullOr(Count), "seats_purchased"),
  assigned: Count,
  seats: Count,
  used30: Count,
  unused90: Count
})

/** @internal */
export const TotalsRow = Schema.Struct({
  accounts: Count,
  active: Count,
  suspended: Count,
  deprovisioned: Count,
  unknown: Count,
  billable: Count
})

/** @internal */
export const SeatTotalsRow = Schema.Struct({
  seats: Count,
  unused30: Count,
  unused60: Count,
  unused90: Count
})

// =============================================================================
// audit
// =============================================================================

/** @internal */
export const AuditRow = Schema.Struct({
  id: Schema.Union(Schema.Number, Schema.String).pipe(
    Schema.transform(Schema.String, { strict: true, decode: String, encode: (s) => s })
  ),
  at: Schema.String,
  actor: Schema.String,
  action: Schema.String,
  connectionId: column(NullableText, "connection_id"),
  target: NullableText,
  input: Schema.NullOr(Schema.parseJson(Schema.Unknown)),
  outcome: AuditOutcome,
  detail: NullableText
})

/** @internal */
export const CountRow = Schema.Struct({ n: Count })

// =============================================================================
// reclaim
// =============================================================================

/**
 * A stored policy: its identity (`p.`) and one of its versions (`v.`), see `policyColumns`.
 *
 * @internal
 */
export const PolicyRow = Schema.Struct({
  id: Schema.String,
  connectionId: column(Schema.String, "connection_id"),
  version: Count,
  policy: column(Schema.parseJson(ReclaimPolicy), "policy_json"),
  createdBy: column(Schema.String, "created_by"),
  createdAt: column(Schema.String, "created_at"),
  updatedAt: column(Schema.String, "updated_at"),
  archived: Flag
})

/** @internal */
export const policyColumns = `p.id, p.connection_id, v.version, v.policy_json, v.created_by, p.created_at,
  v.updated_at, v.archived`

/**
 * A price; a price for every plan of a product has no `plan`.
 *
 * @internal
 */
export const PriceRow = Schema.Struct({
  product: Schema.String,
  plan: Schema.optionalWith(Schema.String, { nullable: true }),
  amount: Count,
  currency: Schema.String,
  period: Schema.Literal("monthly", "annual")
})

/**
 * A plan's row: every field of a `Plan` but its progress (counted from its items).
 *
 * @internal
 */
export const PlanRow = Schema.Struct({
  id: Schema.String,
  connectionId: column(Schema.String, "connection_id"),
  policyId: column(Schema.String, "policy_id"),
  policyVersion: column(Count, "policy_version"),
  policyName: column(Schema.String, "policy_name"),
  policy: column(Schema.parseJson(ReclaimPolicy), "policy_json"),
  createdBy: column(Schema.String, "created_by"),
  createdAt: column(Schema.String, "created_at"),
  basedOnRunId: column(Schema.String, "based_on_run_id"),
  dataAt: column(Schema.String, "data_at"),
  blockedBecause: column(NullableText, "blocked_because"),
  fourEyes: column(Flag, "four_eyes"),
  status: PlanStatus,
  approvedBy: column(NullableText, "approved_by"),
  approvedAt: column(NullableText, "approved_at"),
  cancelledBy: column(NullableText, "cancelled_by"),
  startedAt: column(NullableText, "started_at"),
  finishedAt: column(NullableText, "finished_at"),
  stoppedBecause: column(NullableText, "stopped_because"),
  accounts: Count,
  seats: Count,
  monthly: column(Schema.parseJson(Money), "monthly_json"),
  unpriced: Count,
  excluded: column(Schema.parseJson(Schema.Array(Excluded)), "excluded_json")
})

/** @internal */
export type PlanRow = typeof PlanRow.Type

/** @internal */
export const planColumns = `p.id, p.connection_id, p.policy_id, p.policy_version, p.policy_name, p.policy_json,
  p.created_by, p.created_at, p.based_on_run_id, p.data_at, p.blocked_because, p.four_eyes, p.status, p.approved_by,
  p.approved_at, p.cancelled_by, p.started_at, p.finished_at, p.stopped_because, p.accounts, p.seats, p.monthly_json,
  p.unpriced, p.excluded_json`

/**
 * How many items of a plan are in a state.
 *
 * @internal
 */
export const StateCountRow = Schema.Struct({
  planId: column(Schema.String, "plan_id"),
  state: PlanItemState,
  n: Count
})

/**
 * A plan's item, both ways: decoded from its row, and encoded into one (`itemColumns` order).
 *
 * @internal
 */
export const PlanItemRow = Schema.Struct({
  planId: column(Schema.String, "plan_id"),
  position: Count,
  externalId: column(Schema.String, "external_id"),
  displayName: column(Schema.String, "display_name"),
  email: NullableText,
  managed: NullableFlag,
  roles: column(Strings, "roles_json"),
  attributes: column(Attributes, "attributes_json"),
  lastActiveAt: column(NullableText, "last_active_at"),
  seats: column(Schema.parseJson(Schema.Array(FreedSeat)), "seats_json"),
  action: ActionKind,
  preflight: column(JsonOrNull(ItemPreflight), "preflight_json"),
  monthly: column(Schema.parseJson(Money), "monthly_json"),
  state: PlanItemState,
  journal: column(JsonOrNull(Journal), "journal_json"),
  result: NullableText,
  doneAt: column(NullableText, "done_at"),
  undoneAt: column(NullableText, "undone_at")
})

/**
 * The columns of `PlanItemRow`, in the order items are inserted, with their types (for PostgreSQL's arrays).
 *
 * @internal
 */
export const itemColumns: ReadonlyArray<{ readonly name: string; readonly type: "text" | "int" }> = [
  { name: "plan_id", type: "text" },
  { name: "position", type: "int" },
  { name: "external_id", type: "text" },
  { name: "display_name", type: "text" },
  { name: "email", type: "text" },
  { name: "managed", type: "int" },
  { name: "roles_json", type: "text" },
  { name: "attributes_json", type: "text" },
  { name: "last_active_at", type: "text" },
  { name: "seats_json", type: "text" },
  { name: "action", type: "text" },
  { name: "preflight_json", type: "text" },
  { name: "monthly_json", type: "text" },
  { name: "state", type: "text" },
  { name: "journal_json", type: "text" },
  { name: "result", type: "text" },
  { name: "done_at", type: "text" },
  { name: "undone_at", type: "text" }
]

// =============================================================================
// users and webhooks
// =============================================================================

/** @internal */
export const UserRow = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  role: Role,
  createdBy: column(Schema.String, "created_by"),
  createdAt: column(Schema.String, "created_at"),
  disabledAt: column(NullableText, "disabled_at")
})

/** @internal */
export const WebhookRow = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  events: column(Schema.parseJson(Schema.Array(WebhookEvent)), "events_json"),
  createdBy: column(Schema.String, "created_by"),
  createdAt: column(Schema.String, "created_at")
})

/** A webhook with its sealed secret, for the sender. */
export const WebhookTargetRow = Schema.Struct({
  ...WebhookRow.fields,
  sealed: column(Schema.String, "secret_ciphertext")
})

/** @internal */
export const DeliveryRow = Schema.Struct({
  id: Schema.Union(Schema.Number, Schema.String).pipe(
    Schema.transform(Schema.String, { strict: true, decode: String, encode: (s) => s })
  ),
  webhookId: column(Schema.String, "webhook_id"),
  event: WebhookEvent,
  at: Schema.String,
  attempts: Count,
  status: Schema.Literal("delivered", "failed"),
  detail: Schema.String
})
