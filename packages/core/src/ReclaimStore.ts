/**
 * The storage port of reclaiming: policies (versioned), prices, and plans with their items, which are also
 * the durable job that executes them (a lease per plan, a journal per account) so that an execution
 * resumes after a crash where it stopped and acts on every account exactly once.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { AccountStatus } from "./Account.js"
import { ActionKind } from "./Action.js"
import type { Page } from "./Inventory.js"
import { Excluded, FreedSeat, Money, type Price, ReclaimPolicy } from "./Reclaim.js"
import type { StoreError } from "./StoreError.js"

// =============================================================================
// policies
// =============================================================================

/**
 * A stored policy: every change makes a new version; plans name the version they were made from.
 *
 * @since 0.2.0
 * @category models
 */
export const StoredPolicy = Schema.Struct({
  id: Schema.String,
  connectionId: Schema.String,
  version: Schema.Int,
  policy: ReclaimPolicy,
  createdBy: Schema.String,
  createdAt: Schema.String,
  updatedAt: Schema.String,
  archived: Schema.Boolean
})

/**
 * @since 0.2.0
 * @category models
 */
export interface StoredPolicy extends Schema.Schema.Type<typeof StoredPolicy> {}

// =============================================================================
// plans
// =============================================================================

/**
 * Where an account of a plan is:
 * - `pending`: not acted on yet;
 * - `acting`: its journal is written and the action sent (or about to be): after a crash, the provider is
 *   asked first whether it took effect, so it is never sent twice;
 * - `done`, `refused` (the provider said no, e.g. managed by SCIM), `failed` (an error), `skipped` (nothing
 *   to do: it was already so), `undone` (restored within the grace period).
 *
 * @since 0.2.0
 * @category models
 */
export const PlanItemState = Schema.Literal("pending", "acting", "done", "refused", "failed", "skipped", "undone")

/**
 * @since 0.2.0
 * @category models
 */
export type PlanItemState = typeof PlanItemState.Type

/**
 * What the job wrote before acting on an account, so that undo restores exactly that.
 *
 * @since 0.2.0
 * @category models
 */
export const Journal = Schema.Struct({
  statusBefore: AccountStatus,
  /** The entitlement keys the account held, active, before. */
  productsBefore: Schema.Array(Schema.String),
  /** The provider's method (`lifecycle`, `directory`): undo uses the same. */
  method: Schema.String,
  at: Schema.String
})

/**
 * @since 0.2.0
 * @category models
 */
export interface Journal extends Schema.Schema.Type<typeof Journal> {}

/**
 * The provider's read-only answer for one account of a plan, made when the plan was.
 *
 * @since 0.2.0
 * @category models
 */
export const ItemPreflight = Schema.Struct({
  allowed: Schema.Boolean,
  method: Schema.String,
  methodLabel: Schema.String,
  reason: Schema.NullOr(Schema.String),
  hint: Schema.NullOr(Schema.String)
})

/**
 * One account of a plan: what will be done, the evidence, the provider's preflight, what it frees.
 *
 * @since 0.2.0
 * @category models
 */
export const PlanItem = Schema.Struct({
  planId: Schema.String,
  /** Order of execution within the plan. */
  position: Schema.Int,
  externalId: Schema.String,
  displayName: Schema.String,
  email: Schema.NullOr(Schema.String),
  managed: Schema.NullOr(Schema.Boolean),
  roles: Schema.Array(Schema.String),
  attributes: Schema.Record({ key: Schema.String, value: Schema.String }),
  /** The account's last activity anywhere, as of the plan's data. */
  lastActiveAt: Schema.NullOr(Schema.String),
  /** The seats it frees, each with its product-level last activity and its source. */
  seats: Schema.Array(FreedSeat),
  action: ActionKind,
  preflight: Schema.NullOr(ItemPreflight),
  /** What the seats it frees cost a month, per currency (where prices are set). */
  monthly: Money,
  state: PlanItemState,
  journal: Schema.NullOr(Journal),
  /** What happened, in words (a refusal's reason, an error). */
  result: Schema.NullOr(Schema.String),
  doneAt: Schema.NullOr(Schema.String),
  undoneAt: Schema.NullOr(Schema.String)
})

/**
 * @since 0.2.0
 * @category models
 */
export interface PlanItem extends Schema.Schema.Type<typeof PlanItem> {}

/**
 * Who is in one plan and not in another, by id and name.
 *
 * @since 0.2.0
 * @category models
 */
export interface PlanComparison {
  readonly added: ReadonlyArray<Pick<PlanItem, "externalId" | "displayName">>
  readonly dropped: ReadonlyArray<Pick<PlanItem, "externalId" | "displayName">>
}

/**
 * How many seats of one product and plan a plan frees.
 *
 * @since 0.2.0
 * @category models
 */
export interface FreedSeatCount {
  readonly product: string
  /** The name of one of them (names differ by site: `Jira (acme)`). */
  readonly name: string
  readonly plan: string | null
  readonly seats: number
}

/**
 * What the accounts a connection's plans acted on cost a month, per currency: `confirmed` where a sync
 * since reads the seats gone, the rest `awaiting` confirmation.
 *
 * @since 0.3.0
 * @category models
 */
export interface ActedCost {
  readonly confirmed: Money
  readonly awaiting: Money
}

/**
 * Sorts by id as `Array#sort` compares strings (UTF-16 code units), whatever the database's collation.
 *
 * @since 0.2.0
 * @category utils
 */
export const byExternalId = (a: { readonly externalId: string }, b: { readonly externalId: string }): number =>
  a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0

/**
 * - `checking`: made, its accounts being checked with the provider (their preflights) by a job that holds its
 *   lease, as executions do; then `review`, or `cancelled` when the provider could not be asked;
 * - `review`: waiting for approval; `approved`: may be executed; `running`: executing (a job holds its
 *   lease); `done`: every account acted on; `stopped`: the job stopped (repeated refusals, credentials
 *   refused, the provider unavailable) and can be resumed; `cancelled`: never executed.
 *
 * @since 0.2.0
 * @category models
 */
export const PlanStatus = Schema.Literal("checking", "review", "approved", "running", "done", "stopped", "cancelled")

/**
 * @since 0.2.0
 * @category models
 */
export type PlanStatus = typeof PlanStatus.Type

/**
 * How far a plan's execution is.
 *
 * @since 0.2.0
 * @category models
 */
export const PlanProgress = Schema.Struct({
  pending: Schema.Int,
  acting: Schema.Int,
  done: Schema.Int,
  refused: Schema.Int,
  failed: Schema.Int,
  skipped: Schema.Int,
  undone: Schema.Int,
  /** Accounts whose preflight is still to be asked while the plan is `checking`; 0 in any other status. */
  unchecked: Schema.Int
})

/**
 * @since 0.2.0
 * @category models
 */
export interface PlanProgress extends Schema.Schema.Type<typeof PlanProgress> {}

/**
 * An immutable plan (its items and evidence never change; only its status and its items' states move).
 *
 * @since 0.2.0
 * @category models
 */
export const Plan = Schema.Struct({
  id: Schema.String,
  connectionId: Schema.String,
  policyId: Schema.String,
  policyVersion: Schema.Int,
  policyName: Schema.String,
  /** The policy as it was when the plan was made. */
  policy: ReclaimPolicy,
  createdBy: Schema.String,
  createdAt: Schema.String,
  /** The applied sync the plan was made from, and when that sync finished. */
  basedOnRunId: Schema.String,
  dataAt: Schema.String,
  /** Why it may not be executed, decided when it was made (a held or failed latest sync); `null` if it may. */
  blockedBecause: Schema.NullOr(Schema.String),
  /** Whether approving it needs someone other than its author. */
  fourEyes: Schema.Boolean,
  status: PlanStatus,
  approvedBy: Schema.NullOr(Schema.String),
  approvedAt: Schema.NullOr(Schema.String),
  /** Who cancelled it (`finishedAt` says when); `null` unless it is `cancelled`. */
  cancelledBy: Schema.NullOr(Schema.String),
  startedAt: Schema.NullOr(Schema.String),
  finishedAt: Schema.NullOr(Schema.String),
  stoppedBecause: Schema.NullOr(Schema.String),
  accounts: Schema.Int,
  seats: Schema.Int,
  /** What the plan frees a month, per currency, and how many freed seats have no price. */
  monthly: Money,
  unpriced: Schema.Int,
  excluded: Schema.Array(Excluded),
  progress: PlanProgress
})

/**
 * @since 0.2.0
 * @category models
 */
export interface Plan extends Schema.Schema.Type<typeof Plan> {}

/**
 * A plan as the host makes it, before the store gives it an id and states.
 *
 * @since 0.2.0
 * @category models
 */
export interface NewPlan {
  readonly connectionId: string
  readonly policy: StoredPolicy
  readonly createdBy: string
  readonly basedOnRunId: string
  readonly dataAt: string
  readonly blockedBecause: string | null
  readonly fourEyes: boolean
  readonly monthly: Money
  readonly unpriced: number
  readonly excluded: ReadonlyArray<Excluded>
  readonly items: ReadonlyArray<
    Omit<PlanItem, "planId" | "position" | "state" | "journal" | "result" | "doneAt" | "undoneAt">
  >
  /**
   * The items' preflights are asked after the plan is saved (by `checkItems`, under the plan's lease): it is
   * made `checking`, its items' `preflight` null until then. Otherwise it is made in `review`.
   */
  readonly checking?: boolean | undefined
}

/**
 * The plan a store's `createPlan` keeps for `plan`, given its id and time: in review (or checking), nothing decided or done
 * yet, its counts taken from its items. Its progress is counted from the items' states by the store.
 *
 * @since 0.2.0
 * @category constructors
 */
export const newPlan = (plan: NewPlan, id: string, createdAt: string): Omit<Plan, "progress"> => ({
  id,
  connectionId: plan.connectionId,
  policyId: plan.policy.id,
  policyVersion: plan.policy.version,
  policyName: plan.policy.policy.name,
  policy: plan.policy.policy,
  createdBy: plan.createdBy,
  createdAt,
  basedOnRunId: plan.basedOnRunId,
  dataAt: plan.dataAt,
  blockedBecause: plan.blockedBecause,
  fourEyes: plan.fourEyes,
  status: plan.checking === true ? "checking" : "review",
  approvedBy: null,
  approvedAt: null,
  cancelledBy: null,
  startedAt: null,
  finishedAt: null,
  stoppedBecause: null,
  accounts: plan.items.length,
  seats: plan.items.reduce((n, i) => n + i.seats.length, 0),
  monthly: plan.monthly,
  unpriced: plan.unpriced,
  excluded: plan.excluded
})

/**
 * How an item's action ended.
 *
 * @since 0.2.0
 * @category models
 */
export type ItemOutcome =
  | { readonly state: "done" | "skipped"; readonly result: string | null }
  | { readonly state: "refused" | "failed"; readonly result: string }

// =============================================================================
// the port
// =============================================================================

/**
 * @since 0.2.0
 * @category tags
 */
export class ReclaimStore extends Context.Tag("@seatkeeper/core/ReclaimStore")<ReclaimStore, {
  /** How long a plan's execution lease lives without renewal; the engine renews well within it. */
  readonly leaseDuration?: Duration.Duration | undefined
  readonly createPolicy: (
    connectionId: string,
    policy: ReclaimPolicy,
    actor: string
  ) => Effect.Effect<StoredPolicy, StoreError>
  /** A new version of the policy; earlier plans keep naming theirs. */
  readonly updatePolicy: (
    id: string,
    policy: ReclaimPolicy,
    actor: string
  ) => Effect.Effect<Option.Option<StoredPolicy>, StoreError>
  readonly archivePolicy: (id: string) => Effect.Effect<boolean, StoreError>
  /** The latest version, or the given one. */
  readonly getPolicy: (id: string, version?: number) => Effect.Effect<Option.Option<StoredPolicy>, StoreError>
  readonly listPolicies: (connectionId: string) => Effect.Effect<ReadonlyArray<StoredPolicy>, StoreError>

  readonly setPrices: (connectionId: string, prices: ReadonlyArray<Price>) => Effect.Effect<void, StoreError>
  readonly listPrices: (connectionId: string) => Effect.Effect<ReadonlyArray<Price>, StoreError>

  readonly createPlan: (plan: NewPlan) => Effect.Effect<Plan, StoreError>
  readonly getPlan: (id: string) => Effect.Effect<Option.Option<Plan>, StoreError>
  /**
   * Newest first (by `createdAt`, then `id`), at most 1,000. `before` lists the plans after that one in this
   * order, so a caller can walk every plan, or ask for the newest plan made before a given one.
   */
  readonly listPlans: (query: {
    readonly connectionId?: string | undefined
    readonly policyId?: string | undefined
    readonly before?: Pick<Plan, "createdAt" | "id"> | undefined
    readonly limit: number
  }) => Effect.Effect<ReadonlyArray<Plan>, StoreError>
  /** A plan's items in execution order, paged. */
  readonly listItems: (query: {
    readonly planId: string
    readonly state?: PlanItemState | undefined
    readonly limit: number
    readonly cursor?: string | undefined
  }) => Effect.Effect<Page<PlanItem>, StoreError>
  readonly getItem: (planId: string, externalId: string) => Effect.Effect<Option.Option<PlanItem>, StoreError>
  /**
   * How plan `planId`'s accounts differ from plan `otherId`'s: the ones only in the first (`added`) and the
   * ones only in the other (`dropped`), each sorted by id, without reading either plan whole. With no other
   * plan (`null`: the policy's first), every account of the plan is added.
   */
  readonly compareItems: (planId: string, otherId: string | null) => Effect.Effect<PlanComparison, StoreError>
  /** The seats a plan frees, counted per product and plan (with one of the seats' names), without reading it whole. */
  readonly freedSeats: (planId: string) => Effect.Effect<ReadonlyArray<FreedSeatCount>, StoreError>
  /**
   * What the done actions of the connection's plans cost a month, in one read however many plans and
   * accounts there are. An account counts once, by its newest done action (an account restored outside a
   * plan and reclaimed again is one seat, not two). It is `confirmed` when the action was done before
   * `confirmedBy` (the start of the latest applied sync, `null` when there is none) and the account is not
   * stored as `active` (or no longer stored); otherwise `awaiting`. Undone actions count for nothing.
   * Amounts are rounded to cents.
   */
  readonly actedCost: (connectionId: string, confirmedBy: string | null) => Effect.Effect<ActedCost, StoreError>

  /** `review` → `approved`, recording who. Fails `Conflict` in any other status. */
  readonly approve: (planId: string, actor: string) => Effect.Effect<Plan, StoreError>
  /**
   * `checking`, `review` or `approved` → `cancelled`, recording who (a checking plan's lease goes with it).
   * Fails `Conflict` in any other status.
   */
  readonly cancel: (planId: string, actor: string) => Effect.Effect<Plan, StoreError>

  /**
   * Takes a `checking` plan's lease for the job that asks its preflights: when the lease is free, expired or
   * `owner`'s. Fails `Conflict` while another job holds it, or when the plan is not `checking`.
   */
  readonly claimChecking: (planId: string, owner: string) => Effect.Effect<Plan, StoreError>
  /** The first `limit` items of a `checking` plan whose preflight is still to be asked, in order. */
  readonly uncheckedItems: (planId: string, limit: number) => Effect.Effect<ReadonlyArray<PlanItem>, StoreError>
  /**
   * Records the preflights of items of a `checking` plan, all or none. Fenced by the lease as `journal` is:
   * fails `Conflict`, writing nothing, unless `owner` holds the plan's unexpired lease and it is still
   * `checking`; `NotFound` when the plan has no such account.
   */
  readonly checkItems: (
    planId: string,
    owner: string,
    checked: ReadonlyArray<{ readonly externalId: string; readonly preflight: PlanItem["preflight"] }>
  ) => Effect.Effect<void, StoreError>
  /**
   * Ends the checking: `review` (every item checked: fails `Conflict` while one is not), or `cancelled` with
   * why (the provider could not be asked); releases the lease. Fails `Conflict` unless `owner` holds it.
   */
  readonly finishChecking: (
    planId: string,
    owner: string,
    outcome: { readonly status: "review" } | { readonly status: "cancelled"; readonly reason: string }
  ) => Effect.Effect<Plan, StoreError>

  /**
   * Takes the plan's execution lease (across processes): `approved` or `stopped` → `running`, or a
   * `running` plan whose lease expired (its process died). Fails `Conflict` while another job holds it or
   * when the plan is not executable.
   */
  readonly claim: (planId: string, owner: string) => Effect.Effect<Plan, StoreError>
  /** Renews the lease; fails `Conflict` when it was lost. */
  readonly renew: (planId: string, owner: string) => Effect.Effect<void, StoreError>
  /** The next items to work on (`acting` first, then `pending`), in order. */
  readonly nextItems: (planId: string, limit: number) => Effect.Effect<ReadonlyArray<PlanItem>, StoreError>
  /**
   * Writes the journal and moves the item to `acting`, before the action is sent. Fenced by the lease: fails
   * `Conflict`, writing nothing, unless `owner` holds the plan's unexpired lease (a job that paused past its
   * lease never writes while another job runs the plan); `NotFound` when the plan has no such account.
   */
  readonly journal: (
    planId: string,
    owner: string,
    externalId: string,
    journal: Journal
  ) => Effect.Effect<void, StoreError>
  /** Records how the item's action ended; fenced by the lease as `journal` is. */
  readonly finishItem: (
    planId: string,
    owner: string,
    externalId: string,
    outcome: ItemOutcome
  ) => Effect.Effect<void, StoreError>
  /** Ends the execution (`done`, or `stopped` with why) and releases the lease. */
  readonly finishPlan: (
    planId: string,
    owner: string,
    outcome: { readonly status: "done" } | { readonly status: "stopped"; readonly reason: string }
  ) => Effect.Effect<Plan, StoreError>
  /** Plans left `running` or `checking` without an unexpired lease (their job's process died): to resume. */
  readonly abandonedPlans: Effect.Effect<ReadonlyArray<Plan>, StoreError>
  /**
   * Marks a done item `undone`. Fails `Conflict` when it is not done. Not fenced: undo runs outside any
   * execution (on a plan's done items), and the state condition alone makes it happen once.
   */
  readonly markUndone: (planId: string, externalId: string) => Effect.Effect<void, StoreError>
}>() {}
