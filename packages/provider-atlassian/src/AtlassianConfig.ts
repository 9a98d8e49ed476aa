/**
 * The config of an Atlassian connection. Its annotations are the settings form the host renders.
 *
 * @since 0.1.0
 */
import { BudgetConfig, DefaultValueId } from "@seatkeeper/core/ProviderConfig"
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

const HttpUrl = Schema.String.pipe(
  Schema.filter((s) => {
    let url: URL
    try {
      url = new URL(s)
    } catch {
      return "must be an absolute URL such as https://api.atlassian.com"
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return `must use http or https, not ${url.protocol.replace(/:$/, "")}`
    }
    if (url.username !== "" || url.password !== "") return "must not carry credentials"
    if (url.search !== "" || url.hash !== "") return "must not have a query string or fragment"
    return true
  })
)

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
      message: () => "must be the organization ID from admin.atlassian.com/o/<organization ID>/ (letters, digits, dashes)"
    })
  ).annotations({
    title: "Organization ID",
    description:
      "In admin.atlassian.com, the ID in the address bar after /o/ (also under Settings → API keys when you create a key)."
  }),
  apiKey: Schema.Redacted(
    Schema.String.pipe(Schema.nonEmptyString({ message: () => "must not be empty" }))
  ).annotations({
    title: "API key",
    description:
      "An organization API key: admin.atlassian.com → Settings → API keys → Create API key. Create it without scopes if you want to suspend accounts."
  }),
  adminEmail: Schema.Trim.pipe(
    Schema.pattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { message: () => "must be an email address such as admin@example.com" })
  ).annotations({
    title: "Admin email",
    description: "The email of the organization admin who created the API key."
  }),
  baseUrl: Schema.optional(HttpUrl.annotations({
    title: "API base URL",
    description: "Leave empty for Atlassian Cloud. Set it only for a proxy or a simulated organization.",
    [DefaultValueId]: DEFAULT_BASE_URL
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
