/**
 * The storage port: what the sync engine and the host need from storage. `@seatkeeper/store` implements it
 * over SQLite and PostgreSQL; core imports no driver.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { AccountStatus, ProviderAccount } from "./Account.js"
import type { RequestStats } from "./Provider.js"

/**
 * A storage failure (driver error, constraint violation, corrupt row). Its message never holds a secret.
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreError extends Schema.TaggedError<StoreError>("@seatkeeper/core/StoreError")("StoreError", {
  reason: Schema.Literal("Unavailable", "Conflict", "NotFound", "Corrupt", "Internal"),
  description: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `store ${this.reason}: ${this.description}`
  }
}

/**
 * A sync was asked for while another runs for the same connection (invariant 8).
 *
 * @since 0.1.0
 * @category errors
 */
export class SyncAlreadyRunning extends Schema.TaggedError<SyncAlreadyRunning>("@seatkeeper/core/SyncAlreadyRunning")(
  "SyncAlreadyRunning",
  { connectionId: Schema.String, runId: Schema.String }
) {
  override get message(): string {
    return `a sync of connection ${this.connectionId} is already running (run ${this.runId})`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ConnectionRecord {
  readonly id: string
  readonly provider: string
  readonly name: string
  /** The provider config in its encoded (JSON) form, secrets included: the store keeps it encrypted at rest. */
  readonly config: unknown
  readonly syncIntervalMinutes: number
  readonly createdAt: string
  readonly updatedAt: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface StoredEntitlement {
  readonly key: string
  readonly name: string
  readonly product: string
  readonly site: string | null
  readonly status: AccountStatus
  readonly lastActiveAt: string | null
  readonly firstSeenAt: string
  readonly lastSeenAt: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface StoredAccount {
  readonly connectionId: string
  readonly externalId: string
  readonly email: string | null
  readonly displayName: string
  readonly accountType: string
  readonly status: AccountStatus
  readonly sourceStatus: string
  readonly lastActiveAt: string | null
  readonly firstSeenAt: string
  readonly lastSeenAt: string
  readonly entitlements: ReadonlyArray<StoredEntitlement>
}

/**
 * Why a status changed.
 *
 * @since 0.1.0
 * @category models
 */
export type StatusCause = "sync" | "suspend" | "restore"

/**
 * One status change of an account or of one of its entitlements.
 *
 * @since 0.1.0
 * @category models
 */
export interface StatusEvent {
  readonly at: string
  readonly externalId: string
  /** `null` for the account itself, else the entitlement key. */
  readonly entitlementKey: string | null
  readonly from: AccountStatus | null
  readonly to: AccountStatus
  readonly cause: StatusCause
  readonly runId: string | null
}

/**
 * @since 0.1.0
 * @category models
 */
export type SyncRunStatus = "running" | "succeeded" | "failed" | "interrupted"

/**
 * @since 0.1.0
 * @category models
 */
export interface SyncStats extends RequestStats {
  readonly accounts: number
  readonly created: number
  readonly updated: number
  readonly deprovisioned: number
  readonly entitlementsDeprovisioned: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SyncRunError {
  readonly reason: string
  readonly message: string
  readonly hint?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SyncRun {
  readonly id: string
  readonly connectionId: string
  readonly status: SyncRunStatus
  readonly startedAt: string
  readonly finishedAt: string | null
  readonly stats: SyncStats
  readonly error: SyncRunError | null
}

/**
 * @since 0.1.0
 * @category models
 */
export interface AuditEvent {
  readonly id: string
  readonly at: string
  /** Who did it: `admin` (token holder), `scheduler`, `system`. */
  readonly actor: string
  /** e.g. `connection.create`, `connection.update`, `connection.delete`, `connection.verify`, `sync.start`, `sync.finish`, `account.suspend`, `account.restore` */
  readonly action: string
  readonly connectionId: string | null
  readonly target: string | null
  /** The input, with secrets removed by the caller. */
  readonly input: unknown
  readonly outcome: "ok" | "error" | "dry-run"
  readonly detail: string | null
}

/**
 * @since 0.1.0
 * @category models
 */
export interface AccountQuery {
  readonly connectionId: string
  readonly status?: AccountStatus | undefined
  /** An entitlement key (`confluence:acme`) or a product key (`confluence`): accounts holding it, active. */
  readonly product?: string | undefined
  /** Accounts not active for at least this many days (never active counts as inactive). */
  readonly inactiveDays?: number | undefined
  /** Case-insensitive substring of email, display name or external id. */
  readonly q?: string | undefined
  readonly limit: number
  /** Opaque cursor from a previous page; the store rejects a forged one with `StoreError` reason `Corrupt`. */
  readonly cursor?: string | undefined
  /** "now" for inactivity, ISO-8601; defaults to the current time. */
  readonly now?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Page<A> {
  readonly data: ReadonlyArray<A>
  readonly nextCursor: string | null
  readonly total: number
}

/**
 * One product on one site, with assignment counts (DESIGN: the seed's per-product "apps").
 *
 * @since 0.1.0
 * @category models
 */
export interface AppSummary {
  readonly key: string
  readonly name: string
  readonly product: string
  readonly site: string | null
  readonly active: number
  readonly deprovisioned: number
  readonly inactive30: number
  readonly inactive60: number
  readonly inactive90: number
  readonly lastActiveAt: string | null
}

/**
 * The storage service.
 *
 * @since 0.1.0
 * @category tags
 */
export class LicenseStore extends Context.Tag("@seatkeeper/core/LicenseStore")<LicenseStore, {
  readonly createConnection: (input: {
    readonly provider: string
    readonly name: string
    readonly config: unknown
    readonly syncIntervalMinutes: number
  }) => Effect.Effect<ConnectionRecord, StoreError>
  readonly getConnection: (id: string) => Effect.Effect<Option.Option<ConnectionRecord>, StoreError>
  readonly listConnections: Effect.Effect<ReadonlyArray<ConnectionRecord>, StoreError>
  readonly updateConnection: (id: string, patch: {
    readonly name?: string | undefined
    readonly config?: unknown
    readonly syncIntervalMinutes?: number | undefined
  }) => Effect.Effect<Option.Option<ConnectionRecord>, StoreError>
  /** Deletes the connection and everything synced under it. Fails `Conflict` while a sync runs. */
  readonly deleteConnection: (id: string) => Effect.Effect<boolean, StoreError>

  /**
   * Takes the connection's sync lock (across every process sharing the store) and records a `running` run.
   * `owner` names the process (`host:pid:boot`), so a run whose owner died can be recognised.
   */
  readonly startRun: (connectionId: string, owner: string) => Effect.Effect<SyncRun, StoreError | SyncAlreadyRunning>
  /** Keeps the run's lock alive; a lock not renewed within its lease may be taken over. */
  readonly heartbeat: (runId: string) => Effect.Effect<void, StoreError>
  /** Stages streamed accounts under the run; nothing a reader sees changes. */
  readonly stage: (runId: string, accounts: ReadonlyArray<ProviderAccount>) => Effect.Effect<void, StoreError>
  /**
   * Applies the staged snapshot in one transaction (upserts, status events, deprovisioning of what the
   * source no longer returns), marks the run `succeeded`, releases the lock and drops the staging rows.
   */
  readonly commitRun: (runId: string, requestStats: RequestStats) => Effect.Effect<SyncRun, StoreError>
  /** Drops the staging rows, marks the run `failed` or `interrupted` and releases the lock. Changes nothing else. */
  readonly abortRun: (
    runId: string,
    status: "failed" | "interrupted",
    error: SyncRunError,
    requestStats: RequestStats
  ) => Effect.Effect<SyncRun, StoreError>
  /** Marks runs whose owner is gone (dead local pid, or an expired lease) `interrupted` and frees their locks. */
  readonly recoverAbandonedRuns: Effect.Effect<ReadonlyArray<SyncRun>, StoreError>
  readonly getRun: (id: string) => Effect.Effect<Option.Option<SyncRun>, StoreError>
  readonly listRuns: (connectionId: string, limit: number) => Effect.Effect<ReadonlyArray<SyncRun>, StoreError>

  readonly listAccounts: (query: AccountQuery) => Effect.Effect<Page<StoredAccount>, StoreError>
  readonly getAccount: (
    connectionId: string,
    externalId: string
  ) => Effect.Effect<Option.Option<{ readonly account: StoredAccount; readonly history: ReadonlyArray<StatusEvent> }>, StoreError>
  /** Records a local status change after a suspend/restore succeeded upstream; the next sync confirms it. */
  readonly setAccountStatus: (
    connectionId: string,
    externalId: string,
    status: AccountStatus,
    cause: StatusCause
  ) => Effect.Effect<Option.Option<StoredAccount>, StoreError>
  readonly listApps: (connectionId: string, now?: string) => Effect.Effect<ReadonlyArray<AppSummary>, StoreError>
  /** Accounts holding an entitlement key, with the same filters and paging as `listAccounts`. */
  readonly listAppAccounts: (
    query: AccountQuery & { readonly entitlementKey: string }
  ) => Effect.Effect<Page<StoredAccount>, StoreError>

  readonly appendAudit: (event: Omit<AuditEvent, "id" | "at">) => Effect.Effect<AuditEvent, StoreError>
  readonly listAudit: (query: {
    readonly connectionId?: string | undefined
    readonly limit: number
    readonly cursor?: string | undefined
  }) => Effect.Effect<Page<AuditEvent>, StoreError>
}>() {}
