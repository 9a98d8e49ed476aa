/**
 * Sync runs: one reading of a connection's roster, from its start to applied, held, failed or interrupted.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"

/**
 * - `running`: paging, confirming or applying; holds the connection's sync lock.
 * - `succeeded`: applied (invariant 1: all of it, at once).
 * - `failed`, `interrupted`: nothing applied.
 * - `held`: complete, but it would change too much at once (invariant 10); nothing applied until an admin
 *   applies (then `succeeded`) or discards it (`discarded`). The next run supersedes it (`superseded`).
 *
 * @since 0.1.0
 * @category models
 */
export const SyncRunStatus = Schema.Literal(
  "running",
  "succeeded",
  "failed",
  "interrupted",
  "held",
  "discarded",
  "superseded"
)

/**
 * @since 0.1.0
 * @category models
 */
export type SyncRunStatus = typeof SyncRunStatus.Type

const Count = Schema.NonNegativeInt

/**
 * What a run read and did. The request counters come from the connection; the rest from the store.
 *
 * @since 0.1.0
 * @category models
 */
export const SyncStats = Schema.Struct({
  /** Distinct accounts the listing returned. */
  accounts: Count,
  created: Count,
  updated: Count,
  /** Listed accounts whose reading had not changed since the last applied run. */
  unchanged: Count,
  deprovisioned: Count,
  entitlementsDeprovisioned: Count,
  /** Accounts the listing did not return, confirmed gone by a lookup (or by two complete absences). */
  absentConfirmed: Count,
  /** Accounts the listing did not return that a lookup found still there: they keep their state. */
  absentButPresent: Count,
  /** Accounts absent once from a provider without lookups: deprovisioned only if absent again. */
  absentPending: Count,
  lookups: Count,
  /** Accounts whose status an admin changed after the run started: the run left their status alone. */
  adminActionsKept: Count,
  /** The source's total on the first and on the last page (a total that moved means a shifted roster). */
  totalAtStart: Schema.NullOr(Count),
  totalAtEnd: Schema.NullOr(Count),
  rosterShifted: Schema.Boolean,
  /** Product instances (licences) the run read. */
  licenses: Count,
  requests: Count,
  retries: Count,
  rateLimited: Count
})

/**
 * @since 0.1.0
 * @category models
 */
export interface SyncStats extends Schema.Schema.Type<typeof SyncStats> {}

/**
 * Stats with every count zero.
 *
 * @since 0.2.0
 * @category constants
 */
export const emptyStats: SyncStats = {
  accounts: 0,
  created: 0,
  updated: 0,
  unchanged: 0,
  deprovisioned: 0,
  entitlementsDeprovisioned: 0,
  absentConfirmed: 0,
  absentButPresent: 0,
  absentPending: 0,
  lookups: 0,
  adminActionsKept: 0,
  totalAtStart: null,
  totalAtEnd: null,
  rosterShifted: false,
  licenses: 0,
  requests: 0,
  retries: 0,
  rateLimited: 0
}

/**
 * What the sync engine learned that the store cannot count itself.
 *
 * @since 0.2.0
 * @category models
 */
export interface RunCounters {
  readonly requests: number
  readonly retries: number
  readonly rateLimited: number
  readonly lookups: number
  readonly totalAtStart: number | null
  readonly totalAtEnd: number | null
  readonly rosterShifted: boolean
  readonly licenses: number
}

/**
 * Counters of a run that made no request.
 *
 * @since 0.2.0
 * @category constants
 */
export const noCounters: RunCounters = {
  requests: 0,
  retries: 0,
  rateLimited: 0,
  lookups: 0,
  totalAtStart: null,
  totalAtEnd: null,
  rosterShifted: false,
  licenses: 0
}

/**
 * Why a run failed, in words for the admin: the provider's reason, message and hint.
 *
 * @since 0.1.0
 * @category models
 */
export const SyncRunError = Schema.Struct({
  reason: Schema.String,
  message: Schema.String,
  hint: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface SyncRunError extends Schema.Schema.Type<typeof SyncRunError> {}

/**
 * Why a complete run was held instead of applied.
 *
 * - `threshold`: it would deprovision more than the connection's share of active accounts.
 * - `emptyRoster`: the listing came back empty after a non-empty one.
 * - `lookupCap`: more accounts were absent than a run confirms one by one.
 *
 * @since 0.2.0
 * @category models
 */
export const HoldReason = Schema.Literal("threshold", "emptyRoster", "lookupCap")

/**
 * @since 0.2.0
 * @category models
 */
export type HoldReason = typeof HoldReason.Type

/**
 * The numbers an admin decides a held run on.
 *
 * @since 0.2.0
 * @category models
 */
export const SyncHold = Schema.Struct({
  reason: HoldReason,
  /** Accounts that applying would deprovision. */
  wouldDeprovision: Count,
  /** Accounts absent from the listing (confirmed or not). */
  absent: Count,
  /** Active accounts before the run. */
  activeAccounts: Count,
  thresholdPercent: Schema.Number,
  /** The same in a sentence, for the dashboard. */
  message: Schema.String
})

/**
 * @since 0.2.0
 * @category models
 */
export interface SyncHold extends Schema.Schema.Type<typeof SyncHold> {}

/**
 * Who decided a held run, and how.
 *
 * @since 0.2.0
 * @category models
 */
export const SyncDecision = Schema.Struct({
  decision: Schema.Literal("apply", "discard", "supersede"),
  actor: Schema.String,
  at: Schema.String
})

/**
 * @since 0.2.0
 * @category models
 */
export interface SyncDecision extends Schema.Schema.Type<typeof SyncDecision> {}

/**
 * @since 0.1.0
 * @category models
 */
export const SyncRun = Schema.Struct({
  id: Schema.String,
  connectionId: Schema.String,
  status: SyncRunStatus,
  startedAt: Schema.String,
  finishedAt: Schema.NullOr(Schema.String),
  stats: SyncStats,
  error: Schema.NullOr(SyncRunError),
  hold: Schema.NullOr(SyncHold),
  decision: Schema.NullOr(SyncDecision)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface SyncRun extends Schema.Schema.Type<typeof SyncRun> {}
