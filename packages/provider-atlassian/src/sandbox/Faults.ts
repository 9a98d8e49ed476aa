/**
 * Faults a sandbox can inject, and the queue that hands them to matching requests in order.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { decode, required, UserInput, withMessage } from "./Bodies.js"
import type { SandboxUserInput } from "./SandboxUser.js"

/**
 * The error-body shapes of the Atlassian admin APIs (API-NOTES §4.2) plus the two non-JSON cases:
 *
 * - `org`: Org API `ApplicationError` `{errors:[{id,status:"500",code:"ADMIN-500-1",title,detail}]}`
 * - `gateway`: gateway `ProxyError` `{code:502,message}` (`code` is a number)
 * - `noperms`: 403 `NoPermsError` `{timestamp,path,status,error,message,requestId}`
 * - `user`: user-management `{key:"..."}`, e.g. `{key:"forbidden.action",context:{allowed:false,reason:{key}}}`
 * - `html`: a `text/html` error page
 * - `empty`: no body at all (still labelled `application/json`, as gateways do)
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxErrorShape = "org" | "gateway" | "noperms" | "user" | "html" | "empty"

/**
 * @since 0.1.0
 * @category models
 */
export type SandboxFaultStatus = 400 | 401 | 403 | 404 | 409 | 429 | 500 | 502 | 503 | 504

/**
 * A fault to inject. Each is reproducible:
 *
 * - `status`: answer `status` with a body of `shape`. For `user`, `key` overrides the key (defaults:
 *   400 `bodyParseFailure`, 401 `unauthorized`, 403 `forbidden` or `forbidden.action` when `reason` is
 *   set, 404 `accountNotFound`, others `internalServerError`); `reason` is the restriction reason
 *   (e.g. `externalDirectory.scim`). For `org`, `code` overrides the ADMIN code.
 * - `rateLimited`: gateway 429 `{code:429,message}` with `X-RateLimit-Limit/Remaining/Reset`. The reset
 *   is the current window's end when a rate limit is set, else `resetAfterSeconds` (default
 *   `retryAfterSeconds`, else 60) from now, written per `resetFormat` (default: the rate limit's, else
 *   `minutes`: ISO-8601 without seconds, rounded up). `X-RateLimit-Limit` is the rate limit's, else 100.
 *   `Retry-After` is sent only with `retryAfterSeconds`.
 * - `reset`: destroy the connection without answering (`partial: true`: after sending the headers and
 *   part of a body).
 * - `slow`: wait `delayMs`, then answer normally.
 * - `malformed`: 200 with a JSON body cut off mid-way.
 * - `echoHeaders` (0.2.0): answer `status` (default 500) with an Atlassian-like error body that quotes the
 *   request's headers, `Authorization: Bearer <key>` included, as a careless upstream would: `shape`
 *   `org` (default; in `errors[0].detail`), `user` (`{key, context:{message}}`), `gateway`
 *   (`{code, message}`) or `text` (text/plain); `encoding` `plain` (default, `Name: value` lines), `url`
 *   (URL-encoded), `base64`, or `json` (the headers as a JSON object inside the string, quotes escaped).
 *   For tests of secret scrubbing.
 *
 * Page faults shape one page of a listing (`on: "users"`, the default, for v1; `on: "directoryUsers"`
 * for the v2 search):
 *
 * - `missingFields`: a page whose users lack `fields` (default `account_id` and `account_status`; on v2,
 *   camelCase names such as `productAccess`).
 * - `truncate`: the page that holds the last `drop` users of the listing leaves them out and has no
 *   next link, while `meta.total` (v1) still counts them: the roster comes back short.
 * - `repeatCursor`: a page requested with a cursor whose `links.next` repeats that same cursor.
 * - `foreignNext` (v1 only): a users page whose `links.next` points at `origin` instead of the sandbox.
 *
 * A scenario (0.2.0) changes the roster while a listing is under way:
 *
 * - `rosterChange`: right after page `afterPage` (1-based: the page at offset `(afterPage - 1) * size`)
 *   of the listing is served, removes `remove` users (a number: the last ones that page served; or ids)
 *   and appends `add` users (a number of generated ones, or partial users). The next page is shifted
 *   like an offset cursor is: accounts are skipped (or repeated). The request log records what changed.
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxFault =
  | {
    readonly kind: "status"
    readonly status: SandboxFaultStatus
    readonly shape: SandboxErrorShape
    readonly key?: string
    readonly reason?: string
    readonly code?: string
    readonly message?: string
  }
  | {
    readonly kind: "rateLimited"
    readonly retryAfterSeconds?: number
    readonly resetAfterSeconds?: number
    readonly resetFormat?: "seconds" | "minutes"
  }
  | { readonly kind: "reset"; readonly partial?: boolean }
  | { readonly kind: "slow"; readonly delayMs: number }
  | { readonly kind: "malformed" }
  | {
    readonly kind: "echoHeaders"
    readonly status?: SandboxFaultStatus
    readonly shape?: "org" | "user" | "gateway" | "text"
    readonly encoding?: "plain" | "url" | "base64" | "json"
  }
  | { readonly kind: "missingFields"; readonly fields?: ReadonlyArray<string> }
  | { readonly kind: "truncate"; readonly drop: number }
  | { readonly kind: "repeatCursor" }
  | { readonly kind: "foreignNext"; readonly origin: string }
  | {
    readonly kind: "rosterChange"
    readonly afterPage: number
    readonly remove?: number | ReadonlyArray<string>
    readonly add?: number | ReadonlyArray<SandboxUserInput>
  }

/**
 * Which requests a fault may hit. `users`: `GET /admin/v1/orgs/{orgId}/users`; `org`:
 * `GET /admin/v1/orgs[/{orgId}]`; `lifecycle`: `POST /users/{id}/manage/lifecycle/*`; `profile`:
 * `GET /users/{id}/manage/profile`; `manage`: `GET /users/{id}/manage`; `lastActive`:
 * `GET /admin/v1/orgs/{orgId}/directory/users/{id}/last-active-dates`; `directories`:
 * `GET /admin/v2/orgs/{orgId}/directories`; `directoryUsers`: `POST .../directories/{id}/users/search`;
 * `directorySuspend`: `POST .../users/{id}/suspend` and `/restore`; `workspaces`:
 * `POST /admin/v2/orgs/{orgId}/workspaces`; `any`: every request except the `/__sandbox/` control API.
 * Page faults and scenarios only ever hit listing pages (`users`, or `directoryUsers` when asked).
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxFaultTarget = Exclude<SandboxRoute, "other"> | "any"

/**
 * @since 0.1.0
 * @category models
 */
export interface SandboxFaultOptions {
  /** How many matching requests the fault hits (default 1; `Infinity` for every one). */
  readonly times?: number
  /** Which requests it may hit (default `any`). */
  readonly on?: SandboxFaultTarget
  /** Let this many matching requests through first (default 0). */
  readonly afterRequests?: number
}

/**
 * The route class of a request, as faults see it.
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxRoute =
  | "users"
  | "org"
  | "lifecycle"
  | "profile"
  | "manage"
  | "lastActive"
  | "directories"
  | "directoryUsers"
  | "directorySuspend"
  | "workspaces"
  | "other"

/**
 * Every route class but `other`.
 *
 * @since 0.2.0
 * @category constants
 */
export const SANDBOX_ROUTES: ReadonlyArray<Exclude<SandboxRoute, "other">> = [
  "users",
  "org",
  "lifecycle",
  "profile",
  "manage",
  "lastActive",
  "directories",
  "directoryUsers",
  "directorySuspend",
  "workspaces"
]

/**
 * A fault still waiting in the queue.
 *
 * @since 0.1.0
 * @category models
 */
export interface PendingFault {
  readonly fault: SandboxFault
  readonly on: SandboxFaultTarget
  readonly remaining: number
  readonly waitFor: number
}

/**
 * What a page fault needs to know about the page being served to decide whether it applies.
 *
 * @since 0.1.0
 * @category models
 */
export interface PageContext {
  readonly offset: number
  readonly end: number
  readonly total: number
  readonly hasCursor: boolean
  readonly hasNext: boolean
  /** The listing's page size (0.2.0); the page number is `floor(offset / size) + 1`. */
  readonly size?: number
}

const PAGE_KINDS: ReadonlySet<SandboxFault["kind"]> = new Set([
  "missingFields",
  "truncate",
  "repeatCursor",
  "foreignNext"
])

/**
 * Whether a fault shapes a listing page (applied by the listing handler) rather than replacing the response.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isPageFault = (fault: SandboxFault): boolean => PAGE_KINDS.has(fault.kind)

/**
 * Whether a fault is a scenario (applied after a listing page is served).
 *
 * @since 0.2.0
 * @category predicates
 */
export const isScenario = (fault: SandboxFault): boolean => fault.kind === "rosterChange"

const pageFaultApplies = (fault: SandboxFault, page: PageContext): boolean => {
  switch (fault.kind) {
    case "truncate":
      // Only the page that holds part of the dropped tail: earlier pages stay whole.
      return page.offset < page.total && page.end > page.total - fault.drop
    case "repeatCursor":
      return page.hasCursor
    case "foreignNext":
      return page.hasNext
    case "rosterChange":
      return Math.floor(page.offset / Math.max(1, page.size ?? 1)) + 1 === fault.afterPage
    default:
      return true
  }
}

interface Entry {
  readonly fault: SandboxFault
  readonly on: SandboxFaultTarget
  remaining: number
  waitFor: number
}

/**
 * The queue of injected faults. A request takes the first ready entry that matches it; every entry that
 * matches but is still waiting (`afterRequests`) counts the request down.
 *
 * @since 0.1.0
 * @category models
 */
export class FaultQueue {
  private entries: Array<Entry> = []

  add(fault: SandboxFault, options: SandboxFaultOptions = {}): void {
    const checked = validateFault(fault)
    const times = options.times ?? 1
    if (!(times >= 1) || (Number.isFinite(times) && !Number.isInteger(times))) {
      throw new RangeError(`injectFault: times must be a whole number >= 1 or Infinity, got ${times}`)
    }
    const waitFor = options.afterRequests ?? 0
    if (!Number.isInteger(waitFor) || waitFor < 0) {
      throw new RangeError(`injectFault: afterRequests must be a whole number >= 0, got ${waitFor}`)
    }
    const on = options.on ?? "any"
    if (on !== "any" && !SANDBOX_ROUTES.includes(on)) {
      throw new RangeError(
        `injectFault: on must be one of ${SANDBOX_ROUTES.join(", ")} or any, got ${JSON.stringify(on)}`
      )
    }
    const listing = isPageFault(checked) || isScenario(checked)
    if (listing && on === "directoryUsers" && checked.kind === "foreignNext") {
      throw new RangeError("injectFault: foreignNext applies to the v1 listing only (v2 next links are bare cursors)")
    }
    // Page faults and scenarios hit listing pages only: v1 unless the v2 search is named.
    const target = listing ? (on === "directoryUsers" ? "directoryUsers" : "users") : on
    this.entries.push({ fault: checked, on: target, remaining: times, waitFor })
  }

  clear(): void {
    this.entries = []
  }

  pending(): ReadonlyArray<PendingFault> {
    return this.entries.map((e) => ({ fault: e.fault, on: e.on, remaining: e.remaining, waitFor: e.waitFor }))
  }

  /** The response-replacing fault for a request, if any. */
  takeResponseFault(route: SandboxRoute): SandboxFault | undefined {
    return this.take(route, (fault) => !isPageFault(fault) && !isScenario(fault))
  }

  /** The page-shaping fault for a listing page about to be served, if any. */
  takePageFault(page: PageContext, route: "users" | "directoryUsers" = "users"): SandboxFault | undefined {
    return this.take(route, isPageFault, (fault) => pageFaultApplies(fault, page))
  }

  /** The scenario to apply after a listing page was served, if any. */
  takeScenario(page: PageContext, route: "users" | "directoryUsers"): SandboxFault | undefined {
    return this.take(route, isScenario, (fault) => pageFaultApplies(fault, page))
  }

  private take(
    route: SandboxRoute,
    family: (fault: SandboxFault) => boolean,
    applies: (fault: SandboxFault) => boolean = () => true
  ): SandboxFault | undefined {
    if (this.entries.length === 0) return undefined
    let chosen: Entry | undefined
    for (const entry of this.entries) {
      if (!family(entry.fault) || !(entry.on === "any" || entry.on === route)) continue
      if (entry.waitFor > 0) {
        entry.waitFor--
        continue
      }
      if (chosen === undefined && applies(entry.fault)) chosen = entry
    }
    if (chosen === undefined) return undefined
    chosen.remaining--
    if (chosen.remaining <= 0) this.entries = this.entries.filter((e) => e !== chosen)
    return chosen.fault
  }
}

const STATUSES = [400, 401, 403, 404, 409, 429, 500, 502, 503, 504] as const
const SHAPES = ["org", "gateway", "noperms", "user", "html", "empty"] as const
const KINDS = [
  "status",
  "rateLimited",
  "reset",
  "slow",
  "malformed",
  "echoHeaders",
  "missingFields",
  "truncate",
  "repeatCursor",
  "foreignNext",
  "rosterChange"
] as const

const optional = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(schema, { exact: true })
const show = (v: unknown): string => JSON.stringify(v) ?? String(v)
const Status = withMessage(
  Schema.Literal(...STATUSES),
  (v) => `status must be one of ${STATUSES.join(", ")}, got ${show(v)}`
)
const nonNegative = (kind: string, field: string) =>
  withMessage(
    Schema.Number.pipe(Schema.finite(), Schema.greaterThanOrEqualTo(0)),
    (v) => `${kind} needs ${field} as a number >= 0, got ${show(v)}`
  )
const ResetFormat = withMessage(
  Schema.Literal("seconds", "minutes"),
  (v) => `resetFormat must be "seconds" or "minutes", got ${show(v)}`
)
const text = (field: string) => optional(withMessage(Schema.String, () => `${field} must be a string`))

const Origin = Schema.transform(
  Schema.String,
  Schema.String.pipe(Schema.filter((o) => o !== "null")),
  {
    strict: true,
    decode: (url) => {
      try {
        return new URL(url).origin
      } catch {
        return "null"
      }
    },
    encode: (origin) => origin
  }
)

const faultSchemas = {
  status: Schema.Struct({
    kind: Schema.Literal("status"),
    status: required(Status, (v) => `status must be one of ${STATUSES.join(", ")}, got ${show(v)}`),
    shape: required(
      Schema.Literal(...SHAPES),
      (v) => `shape must be one of ${SHAPES.join(", ")}, got ${show(v)}`
    ),
    key: text("key"),
    reason: text("reason"),
    code: text("code"),
    message: text("message")
  }),
  rateLimited: Schema.Struct({
    kind: Schema.Literal("rateLimited"),
    retryAfterSeconds: optional(nonNegative("rateLimited", "retryAfterSeconds")),
    resetAfterSeconds: optional(nonNegative("rateLimited", "resetAfterSeconds")),
    resetFormat: optional(ResetFormat)
  }),
  reset: Schema.Struct({
    kind: Schema.Literal("reset"),
    partial: optional(withMessage(Schema.Boolean, () => "partial must be a boolean"))
  }),
  slow: Schema.Struct({
    kind: Schema.Literal("slow"),
    delayMs: required(nonNegative("slow", "delayMs"), (v) => `slow needs delayMs as a number >= 0, got ${show(v)}`)
  }),
  malformed: Schema.Struct({ kind: Schema.Literal("malformed") }),
  echoHeaders: Schema.Struct({
    kind: Schema.Literal("echoHeaders"),
    status: optional(Status),
    shape: optional(withMessage(
      Schema.Literal("org", "user", "gateway", "text"),
      (v) => `echoHeaders shape must be org, user, gateway or text, got ${show(v)}`
    )),
    encoding: optional(withMessage(
      Schema.Literal("plain", "url", "base64", "json"),
      (v) => `echoHeaders encoding must be plain, url, base64 or json, got ${show(v)}`
    ))
  }),
  missingFields: Schema.Struct({
    kind: Schema.Literal("missingFields"),
    fields: optional(withMessage(Schema.Array(Schema.String), () => "fields must be an array of field names"))
  }),
  truncate: Schema.Struct({
    kind: Schema.Literal("truncate"),
    drop: required(
      Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)),
      (v) => `truncate needs drop as a whole number >= 1, got ${show(v)}`
    )
  }),
  repeatCursor: Schema.Struct({ kind: Schema.Literal("repeatCursor") }),
  foreignNext: Schema.Struct({
    kind: Schema.Literal("foreignNext"),
    origin: required(
      Origin,
      (v) => `foreignNext needs origin as an absolute URL such as "https://elsewhere.example", got ${show(v)}`
    )
  }),
  rosterChange: Schema.Struct({
    kind: Schema.Literal("rosterChange"),
    afterPage: required(
      Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)),
      (v) => `rosterChange needs afterPage as a whole number >= 1, got ${show(v)}`
    ),
    remove: optional(withMessage(
      Schema.Union(Schema.Int.pipe(Schema.greaterThanOrEqualTo(0)), Schema.Array(Schema.String)),
      (v) => `rosterChange remove must be a number of users or an array of account ids, got ${show(v)}`
    )),
    add: optional(withMessage(
      Schema.Union(Schema.Int.pipe(Schema.greaterThanOrEqualTo(0)), Schema.Array(UserInput)),
      (v) => `rosterChange add must be a number of users or an array of partial users, got ${show(v)}`
    ))
  })
}

const FaultKind = Schema.Struct({ kind: Schema.Literal(...KINDS) })

// One union, discriminated by `kind`, so decoding tries only the member the kind names.
const FaultSchema = Schema.Union(
  faultSchemas.status,
  faultSchemas.rateLimited,
  faultSchemas.reset,
  faultSchemas.slow,
  faultSchemas.malformed,
  faultSchemas.echoHeaders,
  faultSchemas.missingFields,
  faultSchemas.truncate,
  faultSchemas.repeatCursor,
  faultSchemas.foreignNext,
  faultSchemas.rosterChange
)

/**
 * Checks a fault (from TypeScript or from JSON over the control API) and returns it, or throws a
 * `TypeError` saying what is wrong.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateFault = (input: unknown): SandboxFault => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError("injectFault: a fault must be an object with a kind")
  }
  const kind = decode(FaultKind, input)
  if (Either.isLeft(kind)) {
    throw new TypeError(
      `injectFault: unknown fault kind ${show((input as { readonly kind?: unknown }).kind)}; expected ${
        KINDS.join(", ")
      }`
    )
  }
  const fault: Either.Either<SandboxFault, string> = decode(FaultSchema, input)
  if (Either.isLeft(fault)) throw new TypeError(`injectFault: ${fault.left}`)
  return fault.right
}
