/**
 * The audit trail: who did what, when, with which input and outcome (invariant 9). `AuditStore` is its
 * storage port.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { Page } from "./Inventory.js"
import type { StoreError } from "./StoreError.js"

/**
 * @since 0.2.0
 * @category models
 */
export const AuditOutcome = Schema.Literal("ok", "error", "dry-run", "held")

/**
 * One audited event. `input` never holds a secret: callers mask configs before they audit.
 *
 * @since 0.1.0
 * @category models
 */
export const AuditEvent = Schema.Struct({
  id: Schema.String,
  at: Schema.String,
  /** Who did it: a user's name, `admin` (the bootstrap token), `scheduler`, `system`. */
  actor: Schema.String,
  /** e.g. `connection.create`, `sync.start`, `sync.finish`, `sync.apply`, `sync.discard`, `account.suspend` */
  action: Schema.String,
  connectionId: Schema.NullOr(Schema.String),
  target: Schema.NullOr(Schema.String),
  input: Schema.Unknown,
  outcome: AuditOutcome,
  detail: Schema.NullOr(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface AuditEvent extends Schema.Schema.Type<typeof AuditEvent> {}

/**
 * @since 0.2.0
 * @category models
 */
export interface AuditQuery {
  readonly connectionId?: string | undefined
  readonly action?: string | undefined
  readonly limit: number
  readonly cursor?: string | undefined
}

/**
 * The storage port of the audit trail. Newest first.
 *
 * @since 0.2.0
 * @category tags
 */
export class AuditStore extends Context.Tag("@seatkeeper/core/AuditStore")<AuditStore, {
  readonly append: (event: Omit<AuditEvent, "id" | "at">) => Effect.Effect<AuditEvent, StoreError>
  readonly list: (query: AuditQuery) => Effect.Effect<Page<AuditEvent>, StoreError>
}>() {}
