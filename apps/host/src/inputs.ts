/**
 * The inputs of the host's operations as schemas: query strings (filters, paging) and request bodies.
 * The API and the web pages decode with the same schemas, so both reject the same nonsense with the
 * same field messages.
 *
 * @since 0.1.0
 */
import { AccountStatus } from "@seatkeeper/core/Account"
import { AccountSort } from "@seatkeeper/core/Inventory"
import type { StoreError } from "@seatkeeper/core/StoreError"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { InvalidInput } from "./errors.js"

/**
 * A whole number in a query string, written in decimal digits (`10`, not `1e1` or `0x0a`, which
 * `Number` would read), from `min` to `max`; every refusal names the parameter and what to send.
 *
 * @since 0.2.0
 * @category queries
 */
export const IntFromString = (min: number, max: number, what: string) =>
  Schema.String.pipe(
    // A minus sign passes, so that a negative number is told the range rather than how to write it.
    Schema.pattern(/^-?\d{1,15}$/, {
      message: () => `${what} must be a whole number from ${min} to ${max}, in digits`
    }),
    Schema.compose(Schema.NumberFromString),
    Schema.between(min, max, { message: () => `${what} must be from ${min} to ${max}` })
  )

const statuses: ReadonlyArray<string> = AccountStatus.literals

// One message for a bad status, instead of one "Expected ..." per literal.
const Status = Schema.String.pipe(
  Schema.filter((s): s is AccountStatus => statuses.includes(s), {
    message: () => `status must be one of ${statuses.join(", ")}`
  })
)

const Limit = Schema.optionalWith(IntFromString(1, 500, "limit"), { default: () => 50 })

const sorts: ReadonlyArray<string> = AccountSort.literals

const Sort = Schema.String.pipe(
  Schema.filter((s): s is AccountSort => sorts.includes(s), {
    message: () => `sort must be one of ${sorts.join(", ")}`
  })
)

const Order = Schema.String.pipe(
  Schema.filter((s): s is "asc" | "desc" => s === "asc" || s === "desc", { message: () => "order must be asc or desc" })
)

const BooleanFromString = (what: string) =>
  Schema.transform(
    Schema.String.pipe(
      Schema.filter((s) => s === "true" || s === "false", { message: () => `${what} must be true or false` })
    ),
    Schema.Boolean,
    { strict: true, decode: (s) => s === "true", encode: (b) => (b ? "true" : "false") }
  )

/**
 * `?limit=&cursor=`.
 *
 * @since 0.1.0
 * @category queries
 */
export const PageQuery = Schema.Struct({
  limit: Limit,
  cursor: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category queries
 */
export type PageQuery = typeof PageQuery.Type

/**
 * `?status=&product=&inactiveDays=&q=&limit=&cursor=` of the accounts lists.
 *
 * @since 0.1.0
 * @category queries
 */
export const AccountFilters = Schema.Struct({
  status: Schema.optional(Status),
  product: Schema.optional(Schema.String),
  inactiveDays: Schema.optional(IntFromString(0, 36_500, "inactiveDays")),
  q: Schema.optional(Schema.String.pipe(Schema.maxLength(200, { message: () => "q must be at most 200 characters" }))),
  accountType: Schema.optional(
    Schema.String.pipe(Schema.maxLength(100, { message: () => "accountType must be at most 100 characters" }))
  ),
  billable: Schema.optional(BooleanFromString("billable")),
  managed: Schema.optional(BooleanFromString("managed")),
  sort: Schema.optional(Sort),
  order: Schema.optional(Order),
  limit: Limit,
  cursor: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category queries
 */
export type AccountFilters = typeof AccountFilters.Type

/**
 * `?license=&product=&plan=&unusedDays=&usedDays=&q=&sort=&order=&limit=&cursor=` of the seats list: exactly
 * the seats `Seats` defines (every dashboard and products-page count links here with its filters).
 *
 * @since 0.2.0
 * @category queries
 */
export const SeatFilters = Schema.Struct({
  license: Schema.optional(Schema.String),
  product: Schema.optional(Schema.String),
  plan: Schema.optional(Schema.String),
  unusedDays: Schema.optional(IntFromString(0, 36_500, "unusedDays")),
  usedDays: Schema.optional(IntFromString(0, 36_500, "usedDays")),
  q: Schema.optional(Schema.String.pipe(Schema.maxLength(200, { message: () => "q must be at most 200 characters" }))),
  sort: Schema.optional(Sort),
  order: Schema.optional(Order),
  limit: Limit,
  cursor: Schema.optional(Schema.String)
})

/**
 * @since 0.2.0
 * @category queries
 */
export type SeatFilters = typeof SeatFilters.Type

/**
 * `?connectionId=&limit=&cursor=` of the audit log.
 *
 * @since 0.1.0
 * @category queries
 */
export const AuditQuery = Schema.Struct({
  connectionId: Schema.optional(Schema.String),
  action: Schema.optional(Schema.String.pipe(Schema.maxLength(100))),
  limit: Limit,
  cursor: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category queries
 */
export type AuditQuery = typeof AuditQuery.Type

// One message for a fraction and for a number out of range: Schema's own ("Expected an integer, actual 1.5")
// says neither the field nor the range.
const wholeNumber = (min: number, max: number, message: string) =>
  Schema.Number.pipe(Schema.int({ message: () => message }), Schema.between(min, max, { message: () => message }))

const SyncInterval = wholeNumber(
  0,
  43_200,
  "syncIntervalMinutes must be a whole number of minutes from 0 (manual only) to 43200 (30 days)"
)

const HoldThreshold = Schema.Number.pipe(
  Schema.between(0, 100, {
    message: () =>
      "holdThresholdPercent must be from 0 to 100 (the share of active accounts a sync may deprovision unreviewed)"
  })
)

const MaxLookups = wholeNumber(0, 100_000, "maxLookups must be a whole number from 0 to 100000")

const DeadlineMinutes = wholeNumber(
  1,
  1_440,
  "deadlineMinutes must be a whole number of minutes from 1 to 1440 (a day)"
)

const SyncSettingsFields = {
  holdThresholdPercent: Schema.optional(HoldThreshold),
  maxLookups: Schema.optional(MaxLookups),
  deadlineMinutes: Schema.optional(DeadlineMinutes)
}

const Name = Schema.Trim.pipe(
  Schema.nonEmptyString({ message: () => "name must not be empty" }),
  Schema.maxLength(200, { message: () => "name must be at most 200 characters" })
)

/**
 * The body of `POST /api/connections`. `config` is checked against the provider's own schema after this.
 *
 * @since 0.1.0
 * @category bodies
 */
export const CreateConnection = Schema.Struct({
  provider: Schema.String,
  name: Name,
  config: Schema.Unknown,
  syncIntervalMinutes: Schema.optionalWith(SyncInterval, { default: () => 0 }),
  ...SyncSettingsFields
})

/**
 * @since 0.1.0
 * @category bodies
 */
export type CreateConnection = typeof CreateConnection.Type

/**
 * A connection test before saving: `{provider, config}`.
 *
 * @since 0.1.0
 * @category bodies
 */
export const VerifyConfig = Schema.Struct({
  provider: Schema.String,
  config: Schema.Unknown
})

/**
 * The body of `PATCH /api/connections/:id`: every field optional; `config` merges into the stored one.
 *
 * @since 0.1.0
 * @category bodies
 */
export const UpdateConnection = Schema.Struct({
  name: Schema.optional(Name),
  config: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  syncIntervalMinutes: Schema.optional(SyncInterval),
  ...SyncSettingsFields
})

/**
 * @since 0.1.0
 * @category bodies
 */
export type UpdateConnection = typeof UpdateConnection.Type

/**
 * The body of a suspend or restore.
 *
 * @since 0.1.0
 * @category bodies
 */
export const AccountAction = Schema.Struct({
  reason: Schema.optional(
    Schema.String.pipe(Schema.maxLength(500, { message: () => "reason must be at most 500 characters" }))
  ),
  dryRun: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** The provider's method to use (e.g. the one a suspend used, to restore exactly); default: the provider picks. */
  method: Schema.optional(
    Schema.String.pipe(Schema.maxLength(50, { message: () => "method must be at most 50 characters" }))
  )
})

/**
 * @since 0.1.0
 * @category bodies
 */
export type AccountAction = typeof AccountAction.Type

/**
 * Decodes a request body, reporting every problem and any field the schema does not know.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeBody = <A, I>(schema: Schema.Schema<A, I>, body: unknown): Effect.Effect<A, InvalidInput> => {
  const problem = bodyProblem(body)
  if (problem !== undefined) return Effect.fail(InvalidInput.fromIssues([problem]))
  return Schema.decodeUnknown(schema, { errors: "all", onExcessProperty: "error" })(body).pipe(
    Effect.mapError((e) => InvalidInput.fromIssues(InvalidInput.fromParseError(e)))
  )
}

/**
 * How deep a body may nest. Settings are two or three levels deep; a deeper body is refused before a
 * schema (whose messages print the value recursively) or the store sees it.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_BODY_DEPTH = 32

const NUL = "\u0000"

const kindOf = (u: unknown) => (u === null ? "null" : Array.isArray(u) ? "an array" : `a ${typeof u}`)

/**
 * What no body may be, whatever its schema: something other than an object, nested deeper than
 * {@link MAX_BODY_DEPTH}, holding a NUL character (PostgreSQL cannot store one, and no name, reason or
 * setting needs one), or a `__proto__` field. Walks the value without recursion, so any depth is safe.
 */
const bodyProblem = (
  body: unknown
): { readonly path: ReadonlyArray<string | number>; readonly message: string } | undefined => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { path: [], message: `the body must be a JSON object, not ${kindOf(body)}` }
  }
  const stack: Array<readonly [unknown, ReadonlyArray<string | number>]> = [[body, []]]
  while (stack.length > 0) {
    const [value, path] = stack.pop()!
    if (typeof value === "string") {
      if (value.includes(NUL)) return { path, message: "must not contain a NUL character (\\u0000)" }
      continue
    }
    if (typeof value !== "object" || value === null) continue
    if (path.length >= MAX_BODY_DEPTH) {
      return { path: path.slice(0, 3), message: `is nested more than ${MAX_BODY_DEPTH} levels deep` }
    }
    for (const [key, child] of Array.isArray(value) ? value.entries() : Object.entries(value)) {
      if (typeof key === "string" && key.includes(NUL)) {
        return { path, message: "must not have a field name with a NUL character (\\u0000)" }
      }
      // Decoding copies fields with `out[key] = value`, which for this key sets the copy's prototype:
      // the field would vanish instead of being reported as unknown.
      if (key === "__proto__") return { path: [...path, key], message: "is not a field of this request" }
      stack.push([child, [...path, key]])
    }
  }
  return undefined
}

/**
 * A paging cursor that is not one the list gave: a 400 naming `cursor`, with what to do instead.
 *
 * @since 0.2.0
 * @category decoding
 */
export const invalidCursor = (): InvalidInput =>
  InvalidInput.fromIssues([{
    path: ["cursor"],
    message: "cursor is not one this list returned; start again without it"
  }])

/**
 * The store rejects a cursor it did not make with `Corrupt`: that is the caller's input, so a 400 (any other
 * store error stays what it is).
 *
 * @since 0.2.0
 * @category decoding
 */
export const badCursor =
  (cursor: string | undefined) => (e: StoreError): Effect.Effect<never, InvalidInput | StoreError> =>
    Effect.fail(cursor !== undefined && e.reason === "Corrupt" ? invalidCursor() : e)

/**
 * Decodes a query string. Empty parameters (`?status=` from a form left blank) mean "not given"; unknown
 * parameters are ignored, as links and forms often carry extra ones; given `all`, a parameter that appears
 * twice is refused.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeQuery = <A, I>(
  schema: Schema.Schema<A, I>,
  query: Record<string, string | undefined>,
  /** Every value of every parameter (`c.req.queries()`): a parameter given twice is refused, not half-read. */
  all?: Record<string, ReadonlyArray<string>>
): Effect.Effect<A, InvalidInput> => {
  const repeated = Object.entries(all ?? {}).filter(([, values]) => values.length > 1)
  if (repeated.length > 0) {
    return Effect.fail(
      InvalidInput.fromIssues(
        repeated.map(([k, values]) => ({
          path: [k],
          message: `${k} is given ${values.length} times; give it once (one value per filter)`
        }))
      )
    )
  }
  const given: Record<string, string> = {}
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") given[k] = v
  const withNul = Object.keys(given).filter((k) => given[k]!.includes(NUL))
  if (withNul.length > 0) {
    return Effect.fail(
      InvalidInput.fromIssues(
        withNul.map((k) => ({ path: [k], message: `${k} must not contain a NUL character (%00)` }))
      )
    )
  }
  return Schema.decodeUnknown(schema, { errors: "all" })(given).pipe(
    Effect.mapError((e) => InvalidInput.fromIssues(InvalidInput.fromParseError(e)))
  )
}
