/**
 * Connections: one upstream organisation reached through one provider with one config, and how its syncs
 * run. `ConnectionStore` is the storage port for them.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { StoreError } from "./StoreError.js"

/**
 * How a connection's syncs run, beside the provider's own config.
 *
 * @since 0.2.0
 * @category models
 */
export const SyncSettings = Schema.Struct({
  /** Minutes between scheduled syncs, counted from the start of the last; 0 for manual syncs only. */
  syncIntervalMinutes: Schema.Int.pipe(Schema.between(0, 43_200)),
  /**
   * A complete run that would deprovision more than this share of the active accounts is held for an admin
   * instead of applied (invariant 10). 100 holds only an emptied roster.
   */
  holdThresholdPercent: Schema.Number.pipe(Schema.between(0, 100)),
  /** The most absent accounts a run confirms one by one; a run with more is held (invariant 2). */
  maxLookups: Schema.Int.pipe(Schema.between(0, 100_000)),
  /** How long a run may take, 429 waits included, before it fails with nothing applied (invariant 5). */
  deadlineMinutes: Schema.Int.pipe(Schema.between(1, 24 * 60))
})

/**
 * @since 0.2.0
 * @category models
 */
export interface SyncSettings extends Schema.Schema.Type<typeof SyncSettings> {}

/**
 * The settings of a connection that does not set them.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultSyncSettings: SyncSettings = {
  syncIntervalMinutes: 0,
  holdThresholdPercent: 10,
  maxLookups: 1_000,
  deadlineMinutes: 30
}

/**
 * A stored connection. `config` is the provider config in its encoded (JSON) form, secrets included: the
 * store keeps it encrypted at rest and nothing shows it.
 *
 * @since 0.1.0
 * @category models
 */
export const ConnectionRecord = Schema.Struct({
  id: Schema.String,
  provider: Schema.String,
  name: Schema.String,
  config: Schema.Unknown,
  ...SyncSettings.fields,
  createdAt: Schema.String,
  updatedAt: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export interface ConnectionRecord extends Schema.Schema.Type<typeof ConnectionRecord> {}

/**
 * What a connection is created with.
 *
 * @since 0.2.0
 * @category models
 */
export interface NewConnection extends Partial<SyncSettings> {
  readonly provider: string
  readonly name: string
  readonly config: unknown
}

/**
 * A change to a connection: every field optional.
 *
 * @since 0.2.0
 * @category models
 */
export interface ConnectionPatch extends Partial<SyncSettings> {
  readonly name?: string | undefined
  readonly config?: unknown
}

/**
 * The storage port of connections.
 *
 * @since 0.2.0
 * @category tags
 */
export class ConnectionStore extends Context.Tag("@seatkeeper/core/ConnectionStore")<ConnectionStore, {
  readonly create: (input: NewConnection) => Effect.Effect<ConnectionRecord, StoreError>
  readonly get: (id: string) => Effect.Effect<Option.Option<ConnectionRecord>, StoreError>
  readonly list: Effect.Effect<ReadonlyArray<ConnectionRecord>, StoreError>
  readonly update: (id: string, patch: ConnectionPatch) => Effect.Effect<Option.Option<ConnectionRecord>, StoreError>
  /** Deletes the connection and everything synced under it. Fails `Conflict` while a sync runs. */
  readonly remove: (id: string) => Effect.Effect<boolean, StoreError>
}>() {}
