/**
 * The config of a __DISPLAY__ connection. Its `title`/`description` annotations are the settings form the
 * host renders; the API key is `Redacted`, so the host encrypts it and never shows it.
 *
 * TODO(__ID__): add the fields the real API needs (an organization ID, a region, ...), each with a title, a
 * description that says where to find the value, and a check whose message says what is wrong. A field that
 * says where the key is sent (an organization, a region's host) gets `[BindsSecretsId]: true`, like `baseUrl`.
 *
 * @since 0.1.0
 */
import { BaseUrl, BindsSecretsId, BudgetConfig, DefaultValueId } from "@seatkeeper/core/ProviderConfig"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category defaults
 */
export const DEFAULT_RATE_LIMIT = { requests: 100, windowSeconds: 60 } as const

/**
 * @since 0.1.0
 * @category schemas
 */
export const RateLimit = BudgetConfig("__DISPLAY__")

/**
 * @since 0.1.0
 * @category schemas
 */
export const __NAME__Config = Schema.Struct({
  // Core's rules: https, http only for a loopback host (the sandbox), no credentials, query or fragment.
  baseUrl: Schema.compose(Schema.Trim, BaseUrl("https://api.example.com")).annotations({
    title: "API base URL",
    description: "The address of the __DISPLAY__ API, e.g. https://api.example.com. The API key is sent only here: " +
      "changing it asks for the key again.",
    // The key goes to this URL: a new one must come with the key entered again (invariant 12).
    [BindsSecretsId]: true
  }),
  apiKey: Schema.Redacted(
    Schema.String.pipe(Schema.nonEmptyString({ message: () => "must not be empty" }))
  ).annotations({
    title: "API key",
    description: "An admin API key of __DISPLAY__, sent as Authorization: Bearer <key>."
  }),
  rateLimit: Schema.optional(RateLimit.annotations({
    title: "Request budget",
    description: "Requests per window shared by syncs, suspends and connection tests for this __DISPLAY__ account.",
    [DefaultValueId]: DEFAULT_RATE_LIMIT
  }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type __NAME__Config = typeof __NAME__Config.Type
