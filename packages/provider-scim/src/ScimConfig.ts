/**
 * The config of a SCIM connection. Its annotations are the settings form the host renders.
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
 * The page size asked for when neither the dialect nor the service sets a smaller one.
 *
 * @since 0.1.0
 * @category defaults
 */
export const DEFAULT_PAGE_SIZE = 100

/**
 * @since 0.1.0
 * @category defaults
 */
export const DEFAULT_DIALECT = { deactivation: "active-false", patchOp: "replace" } as const

/**
 * The SCIM base URL: core's `BaseUrl` rules (https; http only for a loopback host; no credentials, query
 * or fragment), trimmed, and not a pasted `/Users` or `/ServiceProviderConfig` endpoint.
 *
 * @since 0.2.0
 * @category schemas
 */
export const ScimBaseUrl = Schema.compose(Schema.Trim, BaseUrl("https://api.example.com/scim/v2")).pipe(
  Schema.filter((s) =>
    // People paste the Users endpoint; the base is the root that /Users and /ServiceProviderConfig hang off.
    /\/(Users|ServiceProviderConfig)\/*$/i.test(new URL(s).pathname)
      ? "must be the SCIM service root without /Users or /ServiceProviderConfig, e.g. https://api.example.com/scim/v2"
      : true
  )
)

/**
 * @since 0.1.0
 * @category schemas
 */
export const RateLimit = BudgetConfig("this SCIM service")

/**
 * How `active=false` behaves in the app: `active-false` deactivates the user (the SCIM standard), `delete`
 * means the app deletes the user instead (PagerDuty does), so Seatkeeper refuses to suspend. The message
 * overrides the union's own ("Expected ...") so that one issue names both choices.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Deactivation = Schema.Literal("active-false", "delete").annotations({
  message: () => ({
    message: "must be \"active-false\" (the app deactivates the user) or \"delete\" (the app deletes the user instead)",
    override: true
  })
})

/**
 * @since 0.1.0
 * @category models
 */
export type Deactivation = typeof Deactivation.Type

/**
 * The PATCH operation that sets `active`: `replace` (RFC 7644) or `add` (what SailPoint-style services expect).
 *
 * @since 0.1.0
 * @category schemas
 */
export const PatchOp = Schema.Literal("replace", "add").annotations({
  message: () => ({ message: "must be \"replace\" or \"add\"", override: true })
})

/**
 * @since 0.1.0
 * @category models
 */
export type PatchOp = typeof PatchOp.Type

/**
 * The known quirks of one app's SCIM service. Every field is optional; the defaults follow RFC 7644.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Dialect = Schema.Struct({
  pageSizeCap: Schema.optional(
    Schema.Number.pipe(
      Schema.int({ message: () => "must be a whole number of users" }),
      Schema.between(1, 10_000, { message: () => "must be between 1 and 10000 users" })
    ).annotations({
      title: "Page size cap",
      description:
        "The most users to ask for per page. Leave empty for 100 (or less, when the service's ServiceProviderConfig says so). " +
        "Paging is correct whatever the service returns; a cap only avoids asking for more than the app serves.",
      [DefaultValueId]: DEFAULT_PAGE_SIZE
    })
  ),
  deactivation: Schema.optional(Deactivation.annotations({
    title: "What active=false does",
    description:
      "\"active-false\": setting active to false deactivates the user (standard SCIM). \"delete\": the app deletes the " +
      "user instead (PagerDuty does), so Seatkeeper refuses to suspend rather than delete an account.",
    [DefaultValueId]: DEFAULT_DIALECT.deactivation
  })),
  patchOp: Schema.optional(PatchOp.annotations({
    title: "PATCH operation for active",
    description:
      "\"replace\" (RFC 7644, most apps) or \"add\" (apps that only accept add for active, as SailPoint-style services do).",
    [DefaultValueId]: DEFAULT_DIALECT.patchOp
  })),
  lastActivityAttribute: Schema.optional(
    Schema.Trim.pipe(
      Schema.nonEmptyString({ message: () => "must not be empty" }),
      Schema.pattern(/^(urn:[^\s]+:)?[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*)*$/, {
        message: () =>
          "must be a SCIM attribute path such as urn:example:params:scim:schemas:extension:activity:2.0:User:lastLoginAt"
      })
    ).annotations({
      title: "Last activity attribute",
      description:
        "Only if the app documents one: the attribute that holds a user's last sign-in as a date-time, e.g. an " +
        "extension's urn:...:User:lastLoginAt. SCIM has no standard one, so leave it empty otherwise " +
        "(meta.lastModified is when the record changed, not when the user was active)."
    })
  )
})

/**
 * @since 0.1.0
 * @category models
 */
export type Dialect = typeof Dialect.Type

/**
 * The config as the host stores and forms submit it (`bearerToken` a plain string on the wire, `Redacted`
 * in memory).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ScimConfig = Schema.Struct({
  appName: Schema.Trim.pipe(
    Schema.nonEmptyString({ message: () => "must not be empty" }),
    Schema.maxLength(100, { message: () => "must be at most 100 characters" })
  ).annotations({
    title: "App name",
    description: "The name Seatkeeper shows for this app, e.g. Slack, Zoom or Dropbox."
  }),
  baseUrl: ScimBaseUrl.annotations({
    title: "SCIM base URL",
    description:
      "The app's SCIM 2.0 endpoint, the root that /Users and /ServiceProviderConfig hang off, from the app's " +
      "provisioning settings, e.g. https://api.example.com/scim/v2. The bearer token is sent only here: " +
      "changing it asks for the token again.",
    // The token goes to this URL: a new one must come with the token entered again (invariant 12).
    [BindsSecretsId]: true
  }),
  bearerToken: Schema.Redacted(
    Schema.String.pipe(Schema.nonEmptyString({ message: () => "must not be empty" }))
  ).annotations({
    title: "Bearer token",
    description:
      "The SCIM (provisioning) token the app issues in its admin settings, sent as Authorization: Bearer <token>. " +
      "To suspend, it must be allowed to update users."
  }),
  rateLimit: Schema.optional(RateLimit.annotations({
    title: "Request budget",
    description: "Requests per window shared by syncs, suspends and connection tests for this SCIM service.",
    [DefaultValueId]: DEFAULT_RATE_LIMIT
  })),
  dialect: Schema.optional(Dialect.annotations({
    title: "Dialect",
    description: "Known quirks of this app's SCIM service. Leave empty for standard SCIM 2.0.",
    [DefaultValueId]: DEFAULT_DIALECT
  }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type ScimConfig = typeof ScimConfig.Type

/**
 * @since 0.1.0
 * @category models
 */
export type ScimConfigEncoded = typeof ScimConfig.Encoded
