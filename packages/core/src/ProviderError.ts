/**
 * The one error family every provider fails with. A `reason` literal says what went wrong; `hint` says
 * what the user can do about it.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category models
 */
export const ProviderErrorReason = Schema.Literal(
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "RateLimited",
  "Unavailable",
  "InvalidResponse",
  "InvalidConfig",
  "Incomplete",
  "Unsupported"
)

/**
 * @since 0.1.0
 * @category models
 */
export type ProviderErrorReason = typeof ProviderErrorReason.Type

/**
 * A failure of a provider operation. It names the provider (`atlassian`), the operation (`accounts`,
 * `suspend`, ...), the HTTP status when there was a response, and carries a hint for the user. Its
 * message never contains a secret: adapters build it from status codes and the provider's own error text.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProviderError extends Schema.TaggedError<ProviderError>("@seatkeeper/core/ProviderError")(
  "ProviderError",
  {
    reason: ProviderErrorReason,
    provider: Schema.String,
    operation: Schema.String,
    status: Schema.optional(Schema.Number),
    description: Schema.String,
    hint: Schema.optional(Schema.String),
    /** The provider's own error code, e.g. `ADMIN-404-2` or `forbidden.action`. */
    code: Schema.optional(Schema.String)
  }
) {
  override get message(): string {
    const status = this.status === undefined ? "" : ` (HTTP ${this.status})`
    return `${this.provider} ${this.operation} failed: ${this.reason}${status}: ${this.description}`
  }

  /**
   * Whether retrying the same call may succeed. Permanent failures (401, 403, 404, bad config, bad data,
   * a truncated roster) are not retried: retrying them only burns the request budget.
   */
  get isTransient(): boolean {
    return this.reason === "RateLimited" || this.reason === "Unavailable"
  }
}
