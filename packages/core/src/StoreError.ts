/**
 * The errors of Seatkeeper's storage ports.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"

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
