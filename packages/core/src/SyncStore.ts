/**
 * The storage port the sync engine needs: a run's lock, its staging, the confirmation of absent accounts,
 * and the one atomic apply (or hold, or abort). `@seatkeeper/store` implements it over SQLite and
 * PostgreSQL; `@seatkeeper/core/testing` in memory.
 *
 * What a reader of the inventory sees changes only in `apply`, all at once (invariant 1).
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { AccountStatus, ProviderAccount } from "./Account.js"
import type { License } from "./License.js"
import type { StoreError, SyncAlreadyRunning } from "./StoreError.js"
import type { RunCounters, SyncHold, SyncRun, SyncRunError, SyncRunStatus } from "./SyncRun.js"

/**
 * How far a run's staging has got.
 *
 * @since 0.2.0
 * @category models
 */
export interface StageProgress {
  /** Distinct accounts staged so far (an account listed twice counts once). */
  readonly staged: number
}

/**
 * An account the store holds as not deprovisioned that the run's listing did not return.
 *
 * @since 0.2.0
 * @category models
 */
export interface Absentee {
  readonly externalId: string
  readonly status: AccountStatus
  /** Consecutive complete runs before this one that did not list it either. */
  readonly absentRuns: number
}

/**
 * What the run concluded about one absent account.
 *
 * - `gone`: confirmed gone (a lookup found nothing, or two complete absences): deprovisioned on apply.
 * - `present`: a lookup found it: `account` is its reading, applied like a listed one (an absent
 *   `entitlements` keeps the stored ones).
 * - `pending`: absent once from a provider without lookups: its absence is counted, nothing changes.
 * - `unconfirmed`: over the run's lookup cap: the run is held, and applying it treats them as gone.
 *
 * @since 0.2.0
 * @category models
 */
export type AbsenceVerdict =
  | { readonly externalId: string; readonly verdict: "gone" }
  | { readonly externalId: string; readonly verdict: "present"; readonly account: ProviderAccount }
  | { readonly externalId: string; readonly verdict: "pending" | "unconfirmed" }

/**
 * How the absentees left without a verdict are settled in bulk.
 *
 * - `streak`: gone when the previous complete run missed them too, else pending (a provider without lookups).
 * - `pending`: all pending (a shifted roster proves nothing).
 * - `unconfirmed`: all unconfirmed (over the lookup cap).
 *
 * @since 0.2.0
 * @category models
 */
export type SettleRule = "streak" | "pending" | "unconfirmed"

/**
 * What applying a run would do, for the engine's hold decision.
 *
 * @since 0.2.0
 * @category models
 */
export interface RunSummary {
  /** Distinct accounts the listing returned. */
  readonly staged: number
  /** Stored accounts not deprovisioned before the run. */
  readonly accountsBefore: number
  /** Stored active accounts before the run. */
  readonly activeBefore: number
  /** Accounts the apply would deprovision: confirmed gone, or read as deprovisioned (`closed`). */
  readonly wouldDeprovision: number
  /** Absent accounts, whatever their verdict. */
  readonly absent: number
}

/**
 * How long after a lease expired `start` still leaves its run to `recover`. A caller that recovers first and
 * reports what it recovered (the host audits each run's end, invariant 9) then sees every run it ends, even
 * when the lease expires between its `recover` and its `start`: only a caller that never recovers waits this
 * much longer for a dead owner's lock.
 *
 * @since 0.2.0
 * @category constants
 */
export const TAKEOVER_GRACE_MS = 500

/**
 * The storage port of the sync engine.
 *
 * @since 0.2.0
 * @category tags
 */
export class SyncStore extends Context.Tag("@seatkeeper/core/SyncStore")<SyncStore, {
  /**
   * Takes the connection's sync lock (across every process sharing the store) and records a `running` run.
   * `owner` names the process (a random id per process). Runs of this connection left behind by a dead
   * owner are recovered first, once their lease expired more than `TAKEOVER_GRACE_MS` ago (until then the
   * lock is still held, for `recover` to free); a held run of the connection is superseded.
   */
  readonly start: (connectionId: string, owner: string) => Effect.Effect<SyncRun, StoreError | SyncAlreadyRunning>
  /** How long a lock lives without a heartbeat; the engine beats well within it. */
  readonly leaseDuration?: Duration.Duration | undefined
  /** Keeps the run's lock alive; fails `Conflict` when the run lost it (a lease that was taken over). */
  readonly heartbeat: (runId: string) => Effect.Effect<void, StoreError>
  /** Stages a chunk of listed accounts under the run; nothing a reader sees changes. */
  readonly stage: (runId: string, accounts: ReadonlyArray<ProviderAccount>) => Effect.Effect<StageProgress, StoreError>
  /** Stages licences read by the run; a run that stages none leaves the stored licences as they are. */
  readonly stageLicenses: (runId: string, licenses: ReadonlyArray<License>) => Effect.Effect<void, StoreError>
  /** The accounts the listing did not return: how many, and the first `limit` of them. */
  readonly absentees: (
    runId: string,
    limit: number
  ) => Effect.Effect<{ readonly total: number; readonly first: ReadonlyArray<Absentee> }, StoreError>
  /** Records verdicts on absent accounts. */
  readonly confirm: (runId: string, verdicts: ReadonlyArray<AbsenceVerdict>) => Effect.Effect<void, StoreError>
  /** Settles every absentee still without a verdict by `rule`. */
  readonly settle: (runId: string, rule: SettleRule) => Effect.Effect<void, StoreError>
  /** What `apply` would do, without doing it. */
  readonly summarize: (runId: string) => Effect.Effect<RunSummary, StoreError>
  /**
   * Applies the run in one transaction: listed and present-confirmed readings upserted (an admin's suspend
   * or restore newer than the run's start keeps its status, invariant 11), gone ones deprovisioned, pending
   * absences counted, licences replaced when the run read any, status events written. Marks it
   * `succeeded`, releases the lock, drops the staging.
   */
  readonly apply: (runId: string, counters: RunCounters) => Effect.Effect<SyncRun, StoreError>
  /** Ends a complete run `held` with `hold`: nothing applied, staging kept, lock released. */
  readonly hold: (runId: string, hold: SyncHold, counters: RunCounters) => Effect.Effect<SyncRun, StoreError>
  /**
   * Takes the connection's lock again for a held run, to apply it (status `running` again, the decision
   * recorded with `actor`). Fails `Conflict` when it is not held (or was superseded), `SyncAlreadyRunning`
   * while another run holds the lock.
   */
  readonly reopen: (
    runId: string,
    owner: string,
    actor: string
  ) => Effect.Effect<SyncRun, StoreError | SyncAlreadyRunning>
  /** Ends a held run `discarded`: its staging is dropped; nothing changes. */
  readonly discard: (runId: string, actor: string) => Effect.Effect<SyncRun, StoreError>
  /** Drops the staging, marks the run `failed` or `interrupted`, releases the lock. Changes nothing else. */
  readonly abort: (
    runId: string,
    status: "failed" | "interrupted",
    error: SyncRunError,
    counters: RunCounters
  ) => Effect.Effect<SyncRun, StoreError>
  /** Marks runs whose lease expired `interrupted` and frees their locks; returns them (to be audited). */
  readonly recover: Effect.Effect<ReadonlyArray<SyncRun>, StoreError>
  readonly get: (id: string) => Effect.Effect<Option.Option<SyncRun>, StoreError>
  /**
   * Newest first (by `startedAt`, then `id`). With `status`, only runs with that status: the last applied
   * one, however many failed since. With `before`, only the runs after that one in this order: the next
   * page of a history longer than one `limit`.
   */
  readonly list: (
    connectionId: string,
    limit: number,
    options?: {
      readonly status?: SyncRunStatus | undefined
      readonly before?: { readonly startedAt: string; readonly id: string } | undefined
    }
  ) => Effect.Effect<ReadonlyArray<SyncRun>, StoreError>
}>() {}
