/**
 * The config of a __DISPLAY__ connection. Its `title`/`description` annotations are the settings form the
 * host renders; the API key is `Redacted`, so the host encrypts it and never shows it.
 *
 * TODO(__ID__): add the fields the real API needs (an organization ID, a region, ...), each with a title, a
 * description that says where to find the value, and a check whose message says what is wrong.
 *
 * @since 0.1.0
 */
import { DefaultValueId } from "@seatkeeper/core/ProviderConfig"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category defaults
 */
export const DEFAULT_RATE_LIMIT = { requests: 100, windowSeconds: 60 } as const

const HttpUrl = Schema.Trim.pipe(
  Schema.filter((s) => {
    let url: URL
    try {
      url = new URL(s)
    } catch {
      return "must be an absolute URL such as https://api.example.com"
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
export const RateLimit = Schema.Struct({
  requests: Schema.Number.pipe(
    Schema.int({ message: () => "must be a whole number of requests" }),
    Schema.between(1, 100_000, { message: () => "must be between 1 and 100000 requests" })
  ).annotations({
    title: "Requests",
    description: "How many requests Seatkeeper may send to __DISPLAY__ in one window."
  }),
  windowSeconds: Schema.Number.pipe(
    Schema.greaterThan(0, { message: () => "must be more than 0 seconds" }),
    Schema.lessThanOrEqualTo(86_400, { message: () => "must be at most 86400 seconds (a day)" })
  ).annotations({
    title: "Window (seconds)",
    description: "The length of the window, in seconds."
  })
})

/**
 * @since 0.1.0
 * @category schemas
 */
export const __NAME__Config = Schema.Struct({
  baseUrl: HttpUrl.annotations({
    title: "API base URL",
    description: "The address of the __DISPLAY__ API, e.g. https://api.example.com."
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
