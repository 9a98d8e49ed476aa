/**
 * The config of an Atlassian connection. Its annotations are the settings form the host renders.
 *
 * @since 0.1.0
 */
import { BaseUrl, BindsSecretsId, BudgetConfig, DefaultValueId } from "@seatkeeper/core/ProviderConfig"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category defaults
 */
export const DEFAULT_BASE_URL = "https://api.atlassian.com"

/**
 * @since 0.1.0
 * @category defaults
 */
export const DEFAULT_RATE_LIMIT = { requests: 100, windowSeconds: 60 } as const

/**
 * @since 0.1.0
 * @category schemas
 */
export const RateLimit = BudgetConfig("this organization")

/**
 * The config as the host stores and forms submit it (`apiKey` a plain string on the wire, `Redacted` in
 * memory).
 *
 * @since 0.1.0
 * @category schemas
 */
export const AtlassianConfig = Schema.Struct({
  organizationId: Schema.Trim.pipe(
    Schema.nonEmptyString({ message: () => "must not be empty" }),
    Schema.pattern(/^[A-Za-z0-9._:-]{1,128}$/, {
      message: () =>
        "must be the organization ID from admin.atlassian.com/o/<organization ID>/ (letters, digits, dashes)"
    })
  ).annotations({
    title: "Organization ID",
    description:
      "In admin.atlassian.com, the ID in the address bar after /o/ (also under Settings → API keys when you " +
      "create a key).",
    [BindsSecretsId]: true
  }),
  apiKey: Schema.Redacted(
    Schema.String.pipe(Schema.nonEmptyString({ message: () => "must not be empty" }))
  ).annotations({
    title: "API key",
    description:
      "An organization API key: admin.atlassian.com → Settings → API keys → Create API key. Create it without " +
      "scopes if you want to suspend accounts."
  }),
  adminEmail: Schema.Trim.pipe(
    Schema.pattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, {
      message: () => "must be an email address such as admin@example.com"
    })
  ).annotations({
    title: "Admin email",
    description: "The email of the organization admin who created the API key."
  }),
  baseUrl: Schema.optional(
    BaseUrl("https://api.atlassian.com").annotations({
      title: "API base URL",
      description: "Leave empty for Atlassian Cloud. Set it only for a proxy or a simulated organization " +
        "(http:// only on this machine).",
      [DefaultValueId]: DEFAULT_BASE_URL,
      [BindsSecretsId]: true
    })
  ),
  includeUnmanaged: Schema.optional(Schema.Boolean.annotations({
    title: "Include unmanaged accounts",
    description: "List every user of the organization through the directory API, not only managed accounts (on " +
      "your verified domains): unmanaged and external accounts hold seats too. Unmanaged accounts are suspended " +
      "in the directory (not billed, reversible) rather than deactivated.",
    [DefaultValueId]: false
  })),
  rateLimit: Schema.optional(RateLimit.annotations({
    title: "Request budget",
    description: "Requests per window shared by syncs, suspends and connection tests for this organization.",
    [DefaultValueId]: DEFAULT_RATE_LIMIT
  }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type AtlassianConfig = typeof AtlassianConfig.Type

/**
 * @since 0.1.0
 * @category models
 */
export type AtlassianConfigEncoded = typeof AtlassianConfig.Encoded
